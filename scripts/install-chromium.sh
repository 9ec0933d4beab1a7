#!/usr/bin/env bash
# The report's browser test drives Debian's Chromium (/usr/bin/chromium); install it when missing.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium

// Preloaded with `node --import` by the benchmark: writes the process's peak RSS (bytes) to the
// file named by TRAILMAP_PEAK_RSS_FILE when the process exits, so a child's peak can be read back.
import { writeFileSync } from 'node:fs';
import process from 'node:process';

const target = process.env.TRAILMAP_PEAK_RSS_FILE;
if (target) {
  process.on('exit', () => writeFileSync(target, String(process.resourceUsage().maxRSS * 1024)));
}

-- name: console-logins-without-mfa
-- description: Console sessions that signed in without MFA.
SELECT start_time, principal_arn, source_ips, user_agents, account_id, signal_count, summary
FROM sessions
WHERE mfa_used = false
ORDER BY start_time DESC

-- name: risky-signals
-- description: Medium, high and critical console actions since a time, newest first.
-- param: since time Earliest first_event_time (ISO-8601; on the command line also 24h, 7d)
SELECT first_event_time, risk, label, summary, principal_arn, source_ip, account_id, region, session_id
FROM signals
WHERE risk IN ('medium', 'high', 'critical') AND first_event_time >= ?
ORDER BY first_event_time DESC

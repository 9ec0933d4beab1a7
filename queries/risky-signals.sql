-- name: risky-signals
-- description: Medium, high and critical console actions, newest first (parameter: earliest ISO time, e.g. 2026-03-01T00:00:00Z).
SELECT first_event_time, risk, label, summary, principal_arn, source_ip, account_id, region, session_id
FROM signals
WHERE risk IN ('medium', 'high', 'critical') AND first_event_time >= ?
ORDER BY first_event_time DESC

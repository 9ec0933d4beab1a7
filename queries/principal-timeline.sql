-- name: principal-timeline
-- description: Every console action of one principal, in time order.
-- param: principal text The principal's ARN (signals.principal_arn)
SELECT first_event_time, label, summary, risk, region, source_ip, session_id, event_count
FROM signals
WHERE principal_arn = ?
ORDER BY first_event_time

-- name: new-source-ip-sessions
-- description: Sessions that came from a source IP the principal had never used before (principals with earlier activity only).
WITH seen AS (
  SELECT principal_arn, source_ip, session_id, min(first_event_time) AS first_seen
  FROM signals
  WHERE source_ip IS NOT NULL AND source_ip <> 'AWS Internal' AND source_ip NOT LIKE '%.amazonaws.com'
  GROUP BY principal_arn, source_ip, session_id
),
first_use AS (
  SELECT principal_arn, source_ip, min(first_seen) AS first_seen FROM seen GROUP BY principal_arn, source_ip
)
SELECT s.session_id, s.principal_arn, s.source_ip, s.first_seen
FROM seen s
JOIN first_use f ON f.principal_arn = s.principal_arn AND f.source_ip = s.source_ip AND f.first_seen = s.first_seen
WHERE EXISTS (
  SELECT 1 FROM signals earlier
  WHERE earlier.principal_arn = s.principal_arn AND earlier.first_event_time < s.first_seen
)
ORDER BY s.first_seen DESC

-- name: failed-console-logins
-- description: Failed console sign-ins by source IP and user name, most frequent first.
SELECT s.source_ip, s.principal_arn, count(*) AS failures, min(s.first_event_time) AS first_failure,
       max(s.first_event_time) AS last_failure
FROM signals s
JOIN sessions x ON x.id = s.session_id
WHERE s.label = 'ConsoleLogin' AND x.login_result = 'Failure'
GROUP BY s.source_ip, s.principal_arn
ORDER BY failures DESC, last_failure DESC

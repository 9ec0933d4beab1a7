-- name: s3-object-activity
-- description: One principal's S3 object reads, writes and deletes, by bucket, action and source IP.
-- param: principal text The principal's ARN (useridentity.arn)
-- param: since time Earliest event time (ISO-8601; on the command line also 24h, 7d)
SELECT eventname, sourceipaddress, count(*) AS calls, min(eventtime) AS first_call, max(eventtime) AS last_call
FROM cloudtrail
WHERE eventsource = 's3.amazonaws.com'
  AND eventname IN ('GetObject', 'PutObject', 'DeleteObject', 'DeleteObjects', 'CopyObject', 'RestoreObject')
  AND useridentity.arn = ?
  AND eventtime >= ?
GROUP BY eventname, sourceipaddress
ORDER BY calls DESC

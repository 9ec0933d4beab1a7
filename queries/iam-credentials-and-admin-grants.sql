-- name: iam-credentials-and-admin-grants
-- description: Who created IAM users, access keys or console passwords, and who attached an administrator policy (console or not).
-- param: since time Earliest event time (ISO-8601; on the command line also 24h, 7d)
SELECT eventtime, eventname, useridentity.arn AS actor, sourceipaddress, useragent, errorcode, requestparameters
FROM cloudtrail
WHERE eventsource = 'iam.amazonaws.com'
  AND eventtime >= ?
  AND (
    eventname IN ('CreateUser', 'CreateAccessKey', 'CreateLoginProfile', 'UpdateLoginProfile')
    OR (eventname IN ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')
        AND requestparameters LIKE '%/AdministratorAccess%')
  )
ORDER BY eventtime

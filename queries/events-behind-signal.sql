-- name: events-behind-signal
-- description: Every raw CloudTrail record behind one signal (event_signals joined to cloudtrail).
-- param: signal text The signal id (signals.id)
SELECT c.eventtime, c.eventsource, c.eventname, c.awsregion, c.sourceipaddress, c.errorcode, c.requestparameters
FROM event_signals e
JOIN cloudtrail c ON c.eventid = e.event_id
WHERE e.signal_id = ?
ORDER BY c.eventtime

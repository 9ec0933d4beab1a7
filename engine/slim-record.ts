/**
 * What `bodies: 'console'` keeps of a record no console session can contain: its name and time,
 * and who made it (so it still reads as a programmatic call of that principal, not as an
 * identity-less event). One definition for the reader and the threads that pass such records on.
 */
import { principalOf } from './sessionize.ts';
import type { CloudTrailRecord, TrailEvent } from './types.ts';

export function slimRecord(event: TrailEvent): CloudTrailRecord {
  const { eventTime, eventSource, eventName, userIdentity } = event.record;
  return {
    eventID: event.id,
    eventTime,
    eventSource,
    eventName,
    userIdentity: { type: userIdentity?.type, arn: principalOf(event.record) ?? undefined },
  };
}

/** Whether a record has exactly the slim shape (a record that has only those fields is the same). */
export function isSlimRecord(record: CloudTrailRecord): boolean {
  return (
    Object.keys(record).join() === 'eventID,eventTime,eventSource,eventName,userIdentity' &&
    Object.keys(record.userIdentity ?? {}).join() === 'type,arn'
  );
}

/**
 * What `bodies: 'console'` keeps of a record no console session can contain: its name and time,
 * and who made it (so it still reads as a programmatic call of that principal, not as an
 * identity-less event). One definition for the reader and the threads that pass such records on.
 */
import { principalOf } from './sessionize.ts';
import type { CloudTrailRecord, TrailEvent } from './types.ts';

/** A record made by `slimRecord`: a class, so telling one from a full record is one instanceof. */
class SlimRecord implements CloudTrailRecord {
  [field: string]: unknown;
  constructor(
    readonly eventID: string,
    readonly eventTime: string | undefined,
    readonly eventSource: string | undefined,
    readonly eventName: string | undefined,
    readonly userIdentity: { type: string | undefined; arn: string | undefined },
  ) {}
}

export function slimRecord(event: TrailEvent): CloudTrailRecord {
  const { eventTime, eventSource, eventName, userIdentity } = event.record;
  return slimRecordOf(event.id, eventTime, eventSource, eventName, {
    type: userIdentity?.type,
    arn: principalOf(event.record) ?? undefined,
  });
}

export function slimRecordOf(
  eventID: string,
  eventTime: string | undefined,
  eventSource: string | undefined,
  eventName: string | undefined,
  userIdentity: { type: string | undefined; arn: string | undefined },
): CloudTrailRecord {
  return new SlimRecord(eventID, eventTime, eventSource, eventName, userIdentity);
}

export const isSlimRecord = (record: CloudTrailRecord): boolean => record instanceof SlimRecord;

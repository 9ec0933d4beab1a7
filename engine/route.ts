/**
 * Which records the cloud pipeline buffers, and under which partition.
 *
 * Sessionizing only ever links records of one principal key (`principalKeyOf`: an IAM user's
 * console calls, its sign-in and its CheckMfa share one although only some name its ARN), so
 * mapping a principal's buffered records gives exactly the sessions and signals that mapping the
 * whole trail gives. The partition is therefore the principal key; the records kept are those that
 * can belong to a console session: console records, and calls AWS makes for a session (they join
 * it when their creationDate or key is that session's).
 */
import { isConsoleEvent, joinsConsoleSession, principalKeyOf } from './sessionize.ts';
import type { CloudTrailRecord } from './types.ts';

/** The buffer partition of a record, or null when it can never be part of a console session. */
export function bufferPartitionOf(record: CloudTrailRecord): string | null {
  const principal = principalKeyOf(record);
  if (!principal) return null;
  if (isConsoleEvent(record) || joinsConsoleSession(record)) return principal;
  return null;
}

/** Records a console session can contain, and identity-less ones (`enrich` makes file sessions of them). */
export function mayBeInSession(record: CloudTrailRecord): boolean {
  return bufferPartitionOf(record) !== null || principalKeyOf(record) === null;
}

/**
 * Which of `count` threads enriches a record: all of a principal's records go to one (sessions
 * never span principal keys, as above), identity-less ones by input file (they form one session per
 * file). FNV-1a of that key, so every thread places a record alike.
 */
export function threadOf(record: CloudTrailRecord, source: string, count: number): number {
  const key = principalKeyOf(record) ?? `file:${source}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % count;
}

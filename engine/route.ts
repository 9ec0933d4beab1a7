/**
 * Which records the cloud pipeline buffers, and under which partition.
 *
 * Sessionizing only ever links records of one principal (same access key, same principal's
 * sign-in, same principal's token), so mapping a principal's buffered records gives exactly the
 * sessions and signals that mapping the whole trail gives. The partition is therefore the
 * principal; the records kept are those that can belong to a console session: console records
 * and calls made with temporary keys by AWS on the caller's behalf (they join a console session
 * when their key is that session's).
 */
import { isConsoleEvent, joinsConsoleSessionByKey, principalOf } from './sessionize.ts';
import type { CloudTrailRecord } from './types.ts';

/** The buffer partition of a record, or null when it can never be part of a console session. */
export function bufferPartitionOf(record: CloudTrailRecord): string | null {
  const principal = principalOf(record);
  if (!principal) return null;
  if (isConsoleEvent(record) || joinsConsoleSessionByKey(record)) return principal;
  return null;
}

/** Records a console session can contain, and identity-less ones (`enrich` makes file sessions of them). */
export function mayJoinConsoleSession(record: CloudTrailRecord): boolean {
  return bufferPartitionOf(record) !== null || principalOf(record) === null;
}

/**
 * Which of `count` threads enriches a record: all of a principal's records go to one (sessions
 * never span principals, as above), identity-less ones by input file (they form one session per
 * file). FNV-1a of that key, so every thread places a record alike.
 */
export function threadOf(record: CloudTrailRecord, source: string, count: number): number {
  const key = principalOf(record) ?? `file:${source}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % count;
}

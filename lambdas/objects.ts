/**
 * Reading CloudTrail objects from S3: which keys to skip, streaming gunzip with a size ceiling,
 * and turning the document into records, with a precise reason for every object or record refused.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { decodeInput, skipReason } from '../engine/read.ts';
import type { CloudTrailRecord } from '../engine/types.ts';

/** CloudTrail's own limit for one event; anything bigger is not a CloudTrail record. */
export const MAX_RECORD_BYTES = 256 * 1024;

/** A problem with the object's content: retrying cannot fix it, so it is logged, not retried. */
export class BadObjectError extends Error {}

/** Why an object is not read at all, or null. */
export function objectSkipReason(key: string, size: number | undefined): string | null {
  const byPath = skipReason(key);
  if (byPath) return byPath;
  if (size === 0) return 'zero-byte object (marker, no events)';
  if (!/\.json(\.gz)?$/i.test(key)) return 'not a CloudTrail log object (.json.gz)';
  return null;
}

/**
 * Downloads an object (refusing more than `maxBytes` on the wire) and decompresses it (refusing
 * more than `maxBytes` decompressed), with the engine's decoder so local files and S3 objects agree.
 */
export async function readObjectText(
  s3: S3Client,
  bucket: string,
  key: string,
  maxBytes: number,
): Promise<string> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!response.Body) throw new Error('empty response body');
  const parts: Buffer[] = [];
  let total = 0;
  for await (const part of response.Body as AsyncIterable<Uint8Array>) {
    total += part.length;
    if (total > maxBytes) throw new BadObjectError(`object size exceeds the ${maxBytes}-byte limit`);
    parts.push(Buffer.from(part));
  }
  try {
    return decodeInput(Buffer.concat(parts), maxBytes);
  } catch (error) {
    throw new BadObjectError((error as Error).message);
  }
}

/** The records of a CloudTrail log document; BadObjectError when it is not one. */
export function parseLogDocument(text: string): unknown[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new BadObjectError(`not valid JSON (${(error as Error).message})`);
  }
  const records = (document as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records)) throw new BadObjectError('not a CloudTrail log document (no "Records" array)');
  return records;
}

/** Checks one record; returns the reason it is refused, or null. */
export function recordProblem(record: unknown): string | null {
  if (!record || typeof record !== 'object' || Array.isArray(record)) return 'record is not a JSON object';
  const r = record as CloudTrailRecord;
  const missing = (['eventID', 'eventTime', 'eventSource', 'eventName'] as const).filter(
    (field) => typeof r[field] !== 'string' || r[field] === '',
  );
  if (missing.length > 0) return `record is missing ${missing.join(', ')}`;
  if (Number.isNaN(Date.parse(r.eventTime as string)))
    return `record eventTime ${JSON.stringify(r.eventTime)} is not a time`;
  const size = Buffer.byteLength(JSON.stringify(record));
  if (size > MAX_RECORD_BYTES)
    return `record is ${size} bytes, over CloudTrail's ${MAX_RECORD_BYTES}-byte event limit`;
  return null;
}

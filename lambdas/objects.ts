/**
 * Reading CloudTrail objects from S3: which keys to skip, streaming gunzip with a size ceiling,
 * and the document's records one at a time, with a precise reason for every object or record refused.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { skipReason } from '../engine/read.ts';
import { LogDocumentError, type StreamedRecord, streamLogRecords } from '../engine/record-stream.ts';
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

/** Decompressed bytes of a body: gunzipped when it starts with the gzip magic, capped at `maxBytes`. */
async function* decompressed(body: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Buffer> {
  const iterator = body[Symbol.asyncIterator]();
  // The gzip magic is two bytes; the network may hand over one at first.
  let head = Buffer.alloc(0);
  while (head.length < 2) {
    const next = await iterator.next();
    if (next.done) break;
    head = Buffer.concat([head, Buffer.from(next.value)]);
  }
  if (head.length === 0) return;
  async function* wire(): AsyncGenerator<Buffer> {
    let total = head.length;
    yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      total += next.value.length;
      if (total > maxBytes) throw new BadObjectError(`object size exceeds the ${maxBytes}-byte limit`);
      yield Buffer.from(next.value);
    }
  }
  const gzipped = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  let source: AsyncIterable<Buffer> = wire();
  if (gzipped) {
    const gunzip = createGunzip();
    const input = Readable.from(wire());
    input.on('error', (error) => gunzip.destroy(error));
    source = input.pipe(gunzip);
  }
  let total = 0;
  try {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > maxBytes) throw new BadObjectError(`decompressed size exceeds the ${maxBytes}-byte limit`);
      yield chunk;
    }
  } catch (error) {
    // zlib errors carry a code like Z_DATA_ERROR / Z_BUF_ERROR: the content is bad, not the service.
    const code = (error as { code?: string }).code ?? '';
    if (gzipped && /^Z_/.test(code))
      throw new BadObjectError(`not a valid gzip stream (${(error as Error).message})`);
    if (gzipped && /unexpected end of file/i.test((error as Error).message)) {
      throw new BadObjectError(`not a valid gzip stream (${(error as Error).message})`);
    }
    throw error;
  }
}

/**
 * Streams an object's records (refusing more than `maxBytes` on the wire or decompressed): the
 * object is never held whole, so its size is bounded by time, not memory. Throws BadObjectError
 * when the object is not a CloudTrail log document; S3 and network errors pass through (retried).
 */
export async function* streamObjectRecords(
  s3: S3Client,
  bucket: string,
  key: string,
  maxBytes: number,
): AsyncGenerator<StreamedRecord> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!response.Body) throw new Error('empty response body');
  try {
    yield* streamLogRecords(
      decompressed(response.Body as AsyncIterable<Uint8Array>, maxBytes),
      MAX_RECORD_BYTES,
    );
  } catch (error) {
    if (error instanceof LogDocumentError) throw new BadObjectError(error.message);
    throw error;
  }
}

/** Checks what ingest needs beyond the engine's shape checks: an eventID (idempotent buffering). */
export function recordProblem(record: unknown): string | null {
  if (!record || typeof record !== 'object' || Array.isArray(record)) return 'record is not a JSON object';
  const id = (record as CloudTrailRecord).eventID;
  if (typeof id !== 'string' || id === '') return 'record is missing eventID';
  return null;
}

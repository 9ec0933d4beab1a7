/**
 * Reading every input shape people have: CloudTrail log objects, JSON arrays, NDJSON,
 * `aws cloudtrail lookup-events` output, gzip or not, files, folders and stdin.
 * A problem with one input is reported with its source and reason; the others still run.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readInWorkers } from './read-parallel.ts';
import { mayJoinConsoleSession } from './route.ts';
import { slimRecord } from './slim-record.ts';
import type { CloudTrailRecord, InputProblem, TrailEvent } from './types.ts';

/** Default ceiling on one input's decompressed size; CloudTrail objects are ≤ 50 MB compressed. */
export const DEFAULT_MAX_INPUT_BYTES = 1024 * 1024 * 1024;

export interface ReadResult {
  events: TrailEvent[];
  problems: InputProblem[];
  /** Inputs read, in the order read (folders expanded). */
  sources: string[];
  /** Inputs skipped on purpose (digests, Insights), with why. */
  skipped: InputProblem[];
}

export interface ReadOptions {
  maxInputBytes?: number;
  /** Reads stdin when an input is `-`; injectable for tests. */
  readStdin?: () => Promise<Buffer>;
  /** Called after each input file is read. */
  onProgress?: (done: number, total: number) => void;
  /**
   * `console` keeps the bodies of records a console session can contain; the others keep only
   * eventID, eventTime, eventSource and eventName. Enriching a big trail needs no more, and the
   * rest is most of the memory (and garbage-collection time). @default 'all'
   */
  bodies?: 'all' | 'console';
  /** Worker threads that read and parse files in parallel (1: in this thread). @default 1 */
  workers?: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Why a path is skipped without reading it, or null when it should be read. */
export function skipReason(path: string): string | null {
  const normalized = path.replaceAll('\\', '/');
  if (/(^|\/)CloudTrail-Digest\//.test(normalized) || /_CloudTrail-Digest_/.test(normalized)) {
    return 'CloudTrail digest file (integrity hashes, not events)';
  }
  if (/(^|\/)CloudTrail-Insight\//.test(normalized)) return 'CloudTrail Insights file (not API events)';
  return null;
}

function isEventFile(name: string): boolean {
  return /\.(json|jsonl|ndjson|json\.gz|jsonl\.gz|ndjson\.gz|gz)$/i.test(name);
}

async function expandInput(input: string, out: string[], skipped: InputProblem[]): Promise<void> {
  if (input === '-') {
    out.push(input);
    return;
  }
  const info = await stat(input);
  if (!info.isDirectory()) {
    const reason = skipReason(input);
    if (reason) skipped.push({ source: input, reason });
    else out.push(input);
    return;
  }
  const entries = await readdir(input, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(input, entry.name);
    const reason = skipReason(entry.isDirectory() ? `${path}/` : path);
    if (reason) {
      skipped.push({ source: path, reason });
    } else if (entry.isDirectory()) {
      await expandInput(path, out, skipped);
    } else if (entry.isFile() && isEventFile(entry.name)) {
      out.push(path);
    }
  }
}

/**
 * An output buffer as big as the gzip trailer says the data is (its size mod 2^32, a hint only: the
 * ceiling is still enforced), so one buffer is filled instead of many small ones joined: a third
 * faster on CloudTrail objects. Bounded, so a lying trailer costs at most 64 MiB.
 */
function outputChunkSize(bytes: Buffer, maxBytes: number): number {
  const stated = bytes.length >= 18 ? bytes.readUInt32LE(bytes.length - 4) : 0;
  return Math.max(64 * 1024, Math.min(stated + 1, 64 * 1024 * 1024, maxBytes + 1));
}

/** Turns raw bytes (gzip or not) into text, enforcing the size ceiling. */
export function decodeInput(bytes: Buffer, maxBytes = DEFAULT_MAX_INPUT_BYTES): string {
  let data = bytes;
  if (bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
    try {
      data = gunzipSync(bytes, { maxOutputLength: maxBytes, chunkSize: outputChunkSize(bytes, maxBytes) });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE' || /maxOutputLength|Cannot create a Buffer/.test(String(error))) {
        throw new Error(`decompressed size exceeds the ${maxBytes}-byte limit`, { cause: error });
      }
      throw new Error(`not a valid gzip stream (${(error as Error).message})`, { cause: error });
    }
  }
  if (data.length > maxBytes) throw new Error(`size ${data.length} bytes exceeds the ${maxBytes}-byte limit`);
  return data.toString('utf8');
}

function asRecordList(value: unknown): unknown[] | null {
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if (Array.isArray(object.Records)) return object.Records;
    if (Array.isArray(object.Events)) return object.Events; // lookup-events output
    if (typeof object.eventName === 'string' || typeof object.CloudTrailEvent === 'string') return [object];
  }
  return null;
}

/** Unwraps a lookup-events entry (`CloudTrailEvent` holds the record as a JSON string). */
function unwrapRecord(item: unknown): CloudTrailRecord {
  if (!item || typeof item !== 'object' || Array.isArray(item))
    throw new Error('record is not a JSON object');
  const object = item as Record<string, unknown>;
  if (typeof object.CloudTrailEvent === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(object.CloudTrailEvent);
    } catch (error) {
      throw new Error(`CloudTrailEvent is not valid JSON (${(error as Error).message})`, { cause: error });
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('CloudTrailEvent is not a JSON object');
    }
    return parsed as CloudTrailRecord;
  }
  return object as CloudTrailRecord;
}

/** Parses one input's text into raw items: a JSON document, or NDJSON when that fails. */
export function parseItems(text: string): {
  items: unknown[];
  lineProblems: { index: number; reason: string }[];
} {
  const trimmed = text.trim();
  if (trimmed === '') return { items: [], lineProblems: [] };
  try {
    const list = asRecordList(JSON.parse(trimmed));
    if (!list)
      throw new Error('JSON document is neither {"Records":[…]}, {"Events":[…]}, an array nor an event');
    return { items: list, lineProblems: [] };
  } catch (documentError) {
    const lines = trimmed.split(/\r?\n/);
    if (lines.length < 2) throw documentError;
    const items: unknown[] = [];
    const lineProblems: { index: number; reason: string }[] = [];
    lines.forEach((line, lineIndex) => {
      if (line.trim() === '') return;
      try {
        const list = asRecordList(JSON.parse(line));
        if (list) items.push(...list);
        else lineProblems.push({ index: lineIndex + 1, reason: 'line is not a CloudTrail event' });
      } catch (error) {
        lineProblems.push({
          index: lineIndex + 1,
          reason: `line is not valid JSON (${(error as Error).message})`,
        });
      }
    });
    if (items.length === 0 && lineProblems.length > 0) throw documentError;
    return { items, lineProblems };
  }
}

export function serviceOf(eventSource: string): string {
  return eventSource.replace(/\.amazonaws\.com$/, '');
}

const kindOf = (value: unknown) =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'object'
        ? 'an object'
        : `a ${typeof value}`;

/** Fields the engine reads as text: a record with anything else there is refused, not guessed at. */
const TEXT_FIELDS = [
  'eventID',
  'awsRegion',
  'sourceIPAddress',
  'userAgent',
  'sessionCredentialFromConsole',
] as const;
const IDENTITY_TEXT_FIELDS = [
  'type',
  'arn',
  'accountId',
  'accessKeyId',
  'userName',
  'principalId',
  'invokedBy',
] as const;

const CORE_FIELDS = ['eventTime', 'eventSource', 'eventName'] as const;
const hasText = (value: unknown) => typeof value === 'string' && value !== '';

/** Why a record's shape cannot be read (wrong types where the engine expects text), or null. */
export function recordShapeProblem(record: CloudTrailRecord): string | null {
  // Checked on every record: no array is built unless something is wrong.
  if (!hasText(record.eventTime) || !hasText(record.eventSource) || !hasText(record.eventName)) {
    const missing = CORE_FIELDS.filter(
      (field) => record[field] === undefined || record[field] === null || record[field] === '',
    );
    if (missing.length > 0) return `missing ${missing.join(', ')}`;
    for (const field of CORE_FIELDS) {
      if (typeof record[field] !== 'string')
        return `${field} is ${kindOf(record[field])} (expected a string)`;
    }
  }
  for (const field of TEXT_FIELDS) {
    const value = record[field];
    if (value !== undefined && value !== null && typeof value !== 'string')
      return `${field} is ${kindOf(value)} (expected a string)`;
  }
  const identity = record.userIdentity as unknown;
  if (identity === undefined || identity === null) return null;
  if (typeof identity !== 'object' || Array.isArray(identity))
    return `userIdentity is ${kindOf(identity)} (expected an object)`;
  const fields = identity as Record<string, unknown>;
  for (const field of IDENTITY_TEXT_FIELDS) {
    const value = fields[field];
    if (value !== undefined && value !== null && typeof value !== 'string')
      return `userIdentity.${field} is ${kindOf(value)} (expected a string)`;
  }
  const context = fields.sessionContext as Record<string, unknown> | undefined | null;
  if (context !== undefined && context !== null) {
    if (typeof context !== 'object' || Array.isArray(context))
      return `userIdentity.sessionContext is ${kindOf(context)} (expected an object)`;
    const issuer = context.sessionIssuer as Record<string, unknown> | undefined | null;
    if (issuer !== undefined && issuer !== null) {
      if (typeof issuer !== 'object' || Array.isArray(issuer))
        return `userIdentity.sessionContext.sessionIssuer is ${kindOf(issuer)} (expected an object)`;
      for (const field of ['arn', 'userName', 'type', 'principalId', 'accountId']) {
        const value = issuer[field];
        if (value !== undefined && value !== null && typeof value !== 'string')
          return `userIdentity.sessionContext.sessionIssuer.${field} is ${kindOf(value)} (expected a string)`;
      }
    }
  }
  return null;
}

/** Validates one record's core fields; a record without eventID gets a content-derived one. */
export function toTrailEvent(record: CloudTrailRecord, source: string, index: number): TrailEvent {
  const problem = recordShapeProblem(record);
  if (problem) throw new Error(problem);
  const time = Date.parse(record.eventTime as string);
  if (Number.isNaN(time)) throw new Error(`eventTime ${JSON.stringify(record.eventTime)} is not a timestamp`);
  let id = record.eventID as string | undefined;
  if (!id) {
    let text: string;
    try {
      text = JSON.stringify(record);
    } catch {
      throw new Error('record is nested too deeply to read');
    }
    id = `synthetic-${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
  }
  return {
    id,
    time,
    ref: refOf(record.eventSource as string, record.eventName as string),
    record,
    origin: { source, index },
  };
}

/**
 * `service:EventName`, one string per distinct pair: a trail repeats a few thousand kinds of call,
 * and the same string for every event of a kind saves a regex and an allocation per record.
 */
export function refOf(eventSource: string, eventName: string): string {
  let byName = refs.get(eventSource);
  if (!byName) {
    if (refs.size >= REFS_MAX) refs.clear();
    refs.set(eventSource, (byName = new Map()));
  }
  let ref = byName.get(eventName);
  if (ref === undefined) {
    if (byName.size >= REFS_MAX) byName.clear();
    byName.set(eventName, (ref = `${serviceOf(eventSource)}:${eventName}`));
  }
  return ref;
}

const refs = new Map<string, Map<string, string>>();
/** Bounds the memo, so hostile input with endless distinct names cannot grow it without end. */
const REFS_MAX = 10_000;

/** Parses one input's bytes; record-level problems are collected, not thrown. */
export function readEventsFromBytes(
  bytes: Buffer,
  source: string,
  maxBytes = DEFAULT_MAX_INPUT_BYTES,
  bodies: 'all' | 'console' = 'all',
): { events: TrailEvent[]; problems: InputProblem[] } {
  const { items, lineProblems } = parseItems(decodeInput(bytes, maxBytes));
  const problems: InputProblem[] = lineProblems.map((p) => ({ source, index: p.index, reason: p.reason }));
  const events: TrailEvent[] = [];
  items.forEach((item, index) => {
    try {
      const event = toTrailEvent(unwrapRecord(item), source, index);
      if (bodies === 'console' && !mayJoinConsoleSession(event.record)) event.record = slimRecord(event);
      events.push(event);
    } catch (error) {
      problems.push({ source, index, reason: (error as Error).message });
    }
  });
  return { events, problems };
}

async function readAllStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** One file read: its events and problems, or why it could not be read at all. */
export interface FileRead {
  events: TrailEvent[];
  problems: InputProblem[];
  read: boolean;
}

export async function readOneFile(
  file: string,
  maxBytes: number,
  bodies: 'all' | 'console',
  readStdin: () => Promise<Buffer> = readAllStdin,
): Promise<FileRead> {
  try {
    const bytes = file === '-' ? await readStdin() : readSized(file, maxBytes);
    return { ...readEventsFromBytes(bytes, file, maxBytes, bodies), read: true };
  } catch (error) {
    return { events: [], problems: [{ source: file, reason: describeFsError(error) }], read: false };
  }
}

/** The files the inputs name (folders expanded, in order), the inputs that cannot be listed, and those skipped. */
export async function listInputFiles(
  inputs: string[],
): Promise<{ files: string[]; problems: InputProblem[]; skipped: InputProblem[] }> {
  const files: string[] = [];
  const problems: InputProblem[] = [];
  const skipped: InputProblem[] = [];
  for (const input of inputs) {
    try {
      await expandInput(input, files, skipped);
    } catch (error) {
      problems.push({ source: input, reason: describeFsError(error) });
    }
  }
  return { files, problems, skipped };
}

/** Reads every input; never throws for a bad input, reports it instead. */
export async function readInputs(inputs: string[], options: ReadOptions = {}): Promise<ReadResult> {
  const maxBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const bodies = options.bodies ?? 'all';
  const { files, problems, skipped } = await listInputFiles(inputs);
  const result: ReadResult = { events: [], problems, sources: [], skipped };
  const workers = Math.min(options.workers ?? 1, Math.floor(files.length / 4));
  const reads =
    workers > 1 && !files.includes('-')
      ? await readInWorkers(files, { maxBytes, bodies, workers, onProgress: options.onProgress })
      : await readHere(files, maxBytes, bodies, options);
  reads.forEach((read, position) => {
    for (const event of read.events) result.events.push(event);
    result.problems.push(...read.problems);
    if (read.read) result.sources.push(files[position]);
  });
  return result;
}

async function readHere(
  files: string[],
  maxBytes: number,
  bodies: 'all' | 'console',
  options: ReadOptions,
): Promise<FileRead[]> {
  const reads: FileRead[] = [];
  for (const [position, file] of files.entries()) {
    reads.push(await readOneFile(file, maxBytes, bodies, options.readStdin));
    options.onProgress?.(position + 1, files.length);
  }
  return reads;
}

/**
 * Reads a file no bigger than `maxBytes`: one open for the size check and the read, synchronously
 * (reader threads do nothing else meanwhile, and a thread-pool round trip per file costs more).
 */
function readSized(file: string, maxBytes: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const { size } = fstatSync(fd);
    if (size > maxBytes) throw new Error(`size ${size} bytes exceeds the ${maxBytes}-byte limit`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

function describeFsError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder';
  return (error as Error).message ?? String(error);
}

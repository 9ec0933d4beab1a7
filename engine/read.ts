/**
 * Reading every input shape people have: CloudTrail log objects, JSON arrays, NDJSON,
 * `aws cloudtrail lookup-events` output, gzip or not, files, folders and stdin.
 * A problem with one input is reported with its source and reason; the others still run.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readInWorkers } from './read-parallel.ts';
import { mayBeInSession } from './route.ts';
import { slimRecord } from './slim-record.ts';
import type { CloudTrailRecord, InputProblem, TrailEvent } from './types.ts';
import { append } from './arrays.ts';

/** Default ceiling on one input's decompressed size; CloudTrail objects are ≤ 50 MB compressed. */
export const DEFAULT_MAX_INPUT_BYTES = 1024 * 1024 * 1024;

export interface ReadResult {
  events: TrailEvent[];
  problems: InputProblem[];
  /** Inputs read, in the order read (folders expanded). */
  sources: string[];
  /** Inputs skipped on purpose (digests, Insights files, files in folders that are not CloudTrail), with why. */
  skipped: InputProblem[];
  /** Insights records (`eventCategory: "Insight"`) met inside the inputs: skipped, not events. */
  insightsSkipped: number;
  /** The inputs (as given) that yielded no event, with why; not in `problems`. */
  empty: InputProblem[];
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
  /** The time (epoch ms) eventTimes may not be more than a day after. @default Date.now() */
  now?: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Why a path is skipped without reading it, or null when it should be read. */
export function skipReason(path: string): string | null {
  const normalized = path.replaceAll('\\', '/');
  if (/(^|\/)CloudTrail-Digest\//.test(normalized) || /_CloudTrail-Digest_/.test(normalized)) {
    return 'CloudTrail digest file (integrity hashes, not events)';
  }
  if (/(^|\/)CloudTrail-Insight\//.test(normalized) || /_CloudTrail-Insight_/.test(normalized))
    return 'CloudTrail Insights file (not API events)';
  return null;
}

/** Files in a folder named like log files are read as such; the others only if their content is CloudTrail. */
function isEventFile(name: string): boolean {
  return /\.(json|jsonl|ndjson|json\.gz|jsonl\.gz|ndjson\.gz|gz)$/i.test(name);
}

/** What reading inputs starts from: the files they name (folders expanded, in order). */
export interface InputFiles {
  files: string[];
  /**
   * Per file: read only when its content is CloudTrail, and skipped otherwise (files in folders not
   * named like log files, e.g. `*.json.cloudtrail` or no extension); the others are read as logs.
   */
  byContent: boolean[];
  /** Per file: the input (its index among the inputs) it was found under. */
  inputOf: number[];
  /** Inputs that cannot be listed. */
  problems: InputProblem[];
  /** Files and folders skipped without reading them, with why. */
  skipped: InputProblem[];
  /** Per input: how many files and folders under it were skipped without reading. */
  skippedOf: number[];
}

const SNIFF_BYTES = 64;

/**
 * Why a file named unlike a log file is not CloudTrail, from its first bytes: CloudTrail content
 * is gzip or JSON (a document, an array or NDJSON), so it starts with the gzip magic, `{` or `[`.
 */
function sniffProblem(file: string): string | null {
  const head = Buffer.alloc(SNIFF_BYTES);
  const fd = openSync(file, 'r');
  let length: number;
  try {
    length = readSync(fd, head, 0, SNIFF_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  if (length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]) return null;
  const text = head
    .subarray(0, length)
    .toString('utf8')
    .replace(/^\ufeff/, '')
    .trimStart();
  if (text === '') return length < SNIFF_BYTES ? 'empty file, not CloudTrail content' : null;
  return text.startsWith('{') || text.startsWith('[')
    ? null
    : 'not CloudTrail content (neither gzip nor JSON)';
}

async function expandInput(input: string, at: number, out: InputFiles): Promise<void> {
  const skip = (source: string, reason: string) => {
    out.skipped.push({ source, reason });
    out.skippedOf[at]++;
  };
  const add = (file: string, byContent: boolean) => {
    out.files.push(file);
    out.byContent.push(byContent);
    out.inputOf.push(at);
  };
  if (input === '-') return add(input, false);
  const info = await stat(input);
  if (!info.isDirectory()) {
    const reason = skipReason(input);
    if (reason) skip(input, reason);
    else add(input, false);
    return;
  }
  const entries = await readdir(input, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(input, entry.name);
    const reason = skipReason(entry.isDirectory() ? `${path}/` : path);
    if (reason) {
      skip(path, reason);
    } else if (entry.isDirectory()) {
      await expandInput(path, at, out);
    } else if (entry.isFile()) {
      if (isEventFile(entry.name)) add(path, false);
      else {
        let problem: string | null;
        try {
          problem = sniffProblem(path);
        } catch (error) {
          problem = `cannot be read (${describeFsError(error)})`;
        }
        if (problem) skip(path, problem);
        else add(path, true);
      }
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
        if (list) append(items, list);
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

/** CloudTrail began recording in November 2013: an earlier eventTime is not a CloudTrail record's. */
export const EARLIEST_EVENT_TIME = Date.UTC(2013, 0, 1);
/** How far past "now" an eventTime may be (clocks differ a little; a record never comes from the future). */
export const EVENT_TIME_LEEWAY_MS = 24 * 60 * 60 * 1000;
/** ISO-8601 UTC as CloudTrail writes it: `YYYY-MM-DDTHH:MM:SSZ`, fractions of a second allowed. */
const EVENT_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z$/;
const digits = (text: string, from: number, count: number) => {
  let n = 0;
  for (let i = from; i < from + count; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
};
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

/** Whether text of the EVENT_TIME shape names a real date and time (Date.parse rolls 02-30 over to March). */
function realDateTime(text: string): boolean {
  const month = digits(text, 5, 2);
  if (month < 1 || month > 12) return false;
  const day = digits(text, 8, 2);
  const days = month === 2 && isLeapYear(digits(text, 0, 4)) ? 29 : DAYS_IN_MONTH[month - 1];
  return (
    day >= 1 &&
    day <= days &&
    digits(text, 11, 2) <= 23 &&
    digits(text, 14, 2) <= 59 &&
    digits(text, 17, 2) <= 59
  );
}

/**
 * An eventTime's epoch milliseconds, or why it is refused: ISO-8601 UTC with a real date and time
 * (not "0", "March 7", 2024-02-30 or 24:00, which Date.parse would take) and, given the time the
 * record is read at (`now`), between 2013-01-01 and a day after `now`.
 */
export function checkEventTime(text: string, now?: number): number | string {
  const time = EVENT_TIME.test(text) && realDateTime(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(time)) {
    return `eventTime ${JSON.stringify(text)} is not a timestamp in ISO-8601 UTC (YYYY-MM-DDTHH:MM:SS[.fff]Z)`;
  }
  if (now === undefined) return time;
  if (time < EARLIEST_EVENT_TIME)
    return `eventTime ${JSON.stringify(text)} is before 2013-01-01, when CloudTrail began`;
  if (time > now + EVENT_TIME_LEEWAY_MS) {
    return `eventTime ${JSON.stringify(text)} is more than a day after now (${new Date(now).toISOString()})`;
  }
  return time;
}

/**
 * Validates one record's core fields and time; a record without eventID gets a content-derived one.
 * Throws with the reason a record is refused. Readers give `now`, the time they read at: a record
 * timed before 2013 or more than a day after it is refused too (`readRecord` always checks so).
 */
export function toTrailEvent(
  record: CloudTrailRecord,
  source: string,
  index: number,
  now?: number,
): TrailEvent {
  const problem = recordShapeProblem(record);
  if (problem) throw new Error(problem);
  const time = checkEventTime(record.eventTime as string, now);
  if (typeof time === 'string') throw new Error(time);
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

/** An Insights record (`eventCategory: "Insight"`): a statistic about API call rates, not an API event. */
export function isInsightsRecord(record: object): boolean {
  const fields = record as CloudTrailRecord;
  return fields.eventCategory === 'Insight' || fields.eventType === 'AwsCloudTrailInsight';
}

/** What a reader makes of one record: an event, an Insights record (skipped and counted), or a refusal. */
export type RecordOutcome = { event: TrailEvent } | { insight: true } | { problem: string };

/**
 * One record as the file reader and the ingest Lambda both take it: Insights records apart, then
 * the shape and time checks of `toTrailEvent`, so both refuse the same records for the same reason.
 */
export function readRecord(record: unknown, source: string, index: number, now: number): RecordOutcome {
  if (!record || typeof record !== 'object' || Array.isArray(record))
    return { problem: 'record is not a JSON object' };
  if (isInsightsRecord(record)) return { insight: true };
  try {
    return { event: toTrailEvent(record as CloudTrailRecord, source, index, now) };
  } catch (error) {
    return { problem: (error as Error).message };
  }
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

/** Parses one input's bytes; record-level problems are collected, not thrown, and Insights records counted. */
export function readEventsFromBytes(
  bytes: Buffer,
  source: string,
  maxBytes = DEFAULT_MAX_INPUT_BYTES,
  bodies: 'all' | 'console' = 'all',
  now = Date.now(),
): { events: TrailEvent[]; problems: InputProblem[]; insights: number } {
  const { items, lineProblems } = parseItems(decodeInput(bytes, maxBytes));
  const problems: InputProblem[] = lineProblems.map((p) => ({ source, index: p.index, reason: p.reason }));
  const events: TrailEvent[] = [];
  let insights = 0;
  items.forEach((item, index) => {
    let outcome: RecordOutcome;
    try {
      outcome = readRecord(unwrapRecord(item), source, index, now);
    } catch (error) {
      outcome = { problem: (error as Error).message };
    }
    if ('event' in outcome) {
      const event = outcome.event;
      if (bodies === 'console' && !mayBeInSession(event.record)) event.record = slimRecord(event);
      events.push(event);
    } else if ('insight' in outcome) insights++;
    else problems.push({ source, index, reason: outcome.problem });
  });
  return { events, problems, insights };
}

async function readAllStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** One file read: its events and problems, or why it could not be read at all, or why it was skipped. */
export interface FileRead {
  events: TrailEvent[];
  problems: InputProblem[];
  read: boolean;
  /** Insights records skipped. */
  insights: number;
  /** Why the file was skipped: read by content (`byContent`), and not CloudTrail. */
  skipped?: string;
}

export interface FileReadOptions {
  maxBytes: number;
  bodies: 'all' | 'console';
  /** Read only if the content is CloudTrail, else skip it (a file in a folder, not named like a log). */
  byContent?: boolean;
  /** @default Date.now() */
  now?: number;
  readStdin?: () => Promise<Buffer>;
}

const isSizeLimit = (error: unknown) => /exceeds the \d+-byte limit/.test((error as Error).message);

export async function readOneFile(file: string, options: FileReadOptions): Promise<FileRead> {
  const { maxBytes, bodies, byContent = false, now = Date.now() } = options;
  let bytes: Buffer;
  try {
    bytes = file === '-' ? await (options.readStdin ?? readAllStdin)() : readSized(file, maxBytes);
  } catch (error) {
    return failed(file, describeFsError(error));
  }
  let read: ReturnType<typeof readEventsFromBytes>;
  try {
    read = readEventsFromBytes(bytes, file, maxBytes, bodies, now);
  } catch (error) {
    if (byContent && !isSizeLimit(error))
      return skippedRead(`not CloudTrail content (${(error as Error).message})`);
    return failed(file, describeFsError(error));
  }
  if (byContent && read.events.length === 0 && read.insights === 0 && read.problems.length > 0) {
    const first = read.problems[0];
    return skippedRead(`not CloudTrail content (record ${first.index}: ${first.reason})`);
  }
  return { ...read, read: true };
}

const failed = (source: string, reason: string): FileRead => ({
  events: [],
  problems: [{ source, reason }],
  read: false,
  insights: 0,
});
const skippedRead = (reason: string): FileRead => ({
  events: [],
  problems: [],
  read: false,
  insights: 0,
  skipped: reason,
});

/** The files the inputs name (folders expanded, in order), the inputs that cannot be listed, and those skipped. */
export async function listInputFiles(inputs: string[]): Promise<InputFiles> {
  const listed: InputFiles = {
    files: [],
    byContent: [],
    inputOf: [],
    problems: [],
    skipped: [],
    skippedOf: inputs.map(() => 0),
  };
  for (const [at, input] of inputs.entries()) {
    try {
      await expandInput(input, at, listed);
    } catch (error) {
      listed.problems.push({ source: input, reason: describeFsError(error) });
    }
  }
  return listed;
}

/** What reading one file gave, as far as saying whether its input yielded events goes. */
export interface FileOutcome {
  read: boolean;
  /** Events read (before any filter). */
  events: number;
  insights: number;
  skipped?: string;
}

export const outcomeOf = (read: FileRead): FileOutcome => ({
  read: read.read,
  events: read.events.length,
  insights: read.insights,
  skipped: read.skipped,
});

/**
 * The inputs that yielded no event, each with what was found instead. Inputs that could not be
 * listed, and single files that could not be read, are problems already and not repeated here.
 */
export function inputsWithoutEvents(
  inputs: readonly string[],
  listed: InputFiles,
  outcomes: readonly FileOutcome[],
): InputProblem[] {
  const events = inputs.map(() => 0);
  const files = inputs.map(() => 0);
  const unreadable = inputs.map(() => 0);
  const skipped = [...listed.skippedOf];
  const insights = inputs.map(() => 0);
  outcomes.forEach((outcome, position) => {
    const at = listed.inputOf[position];
    events[at] += outcome.events;
    insights[at] += outcome.insights;
    if (outcome.read) files[at]++;
    else if (outcome.skipped !== undefined) skipped[at]++;
    else unreadable[at]++;
  });
  const unlisted = new Set(listed.problems.map((p) => p.source));
  const fileInputs = new Set<number>();
  listed.files.forEach((file, position) => {
    if (file === inputs[listed.inputOf[position]]) fileInputs.add(listed.inputOf[position]);
  });
  const empty: InputProblem[] = [];
  inputs.forEach((input, at) => {
    if (events[at] > 0 || unlisted.has(input)) return;
    // A file named as an input that cannot be read is a problem already.
    if (unreadable[at] > 0 && files[at] + skipped[at] === 0 && fileInputs.has(at)) return;
    const found = [
      files[at] > 0 ? `${files[at]} ${files[at] === 1 ? 'file' : 'files'} read` : '',
      unreadable[at] > 0 ? `${unreadable[at]} unreadable` : '',
      skipped[at] > 0 ? `${skipped[at]} skipped` : '',
      insights[at] > 0 ? `${insights[at]} Insights records skipped` : '',
    ].filter(Boolean);
    const what = files[at] + unreadable[at] + skipped[at] === 0 ? 'nothing to read in it' : found.join(', ');
    empty.push({ source: input, reason: `no events (${what})` });
  });
  return empty;
}

/** Reads every input; never throws for a bad input, reports it instead. */
export async function readInputs(inputs: string[], options: ReadOptions = {}): Promise<ReadResult> {
  const maxBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const bodies = options.bodies ?? 'all';
  const now = options.now ?? Date.now();
  const listed = await listInputFiles(inputs);
  const { files, byContent } = listed;
  const result: ReadResult = {
    events: [],
    problems: [...listed.problems],
    sources: [],
    skipped: [...listed.skipped],
    insightsSkipped: 0,
    empty: [],
  };
  const workers = Math.min(options.workers ?? 1, Math.floor(files.length / 4));
  const reads =
    workers > 1 && !files.includes('-')
      ? await readInWorkers(files, {
          maxBytes,
          bodies,
          workers,
          byContent,
          now,
          onProgress: options.onProgress,
        })
      : await readHere(listed, { maxBytes, bodies, now, readStdin: options.readStdin }, options.onProgress);
  reads.forEach((read, position) => {
    for (const event of read.events) result.events.push(event);
    append(result.problems, read.problems);
    result.insightsSkipped += read.insights;
    if (read.read) result.sources.push(files[position]);
    if (read.skipped !== undefined) result.skipped.push({ source: files[position], reason: read.skipped });
  });
  result.empty = inputsWithoutEvents(inputs, listed, reads.map(outcomeOf));
  return result;
}

async function readHere(
  listed: InputFiles,
  options: FileReadOptions,
  onProgress: ReadOptions['onProgress'],
): Promise<FileRead[]> {
  const reads: FileRead[] = [];
  for (const [position, file] of listed.files.entries()) {
    reads.push(await readOneFile(file, { ...options, byContent: listed.byContent[position] }));
    onProgress?.(position + 1, listed.files.length);
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

/**
 * The malformed input corpus: every kind of broken input people (or attackers) hand Trailmap, built
 * here in code. Each bad input is read together with a known-good one in the same call, by the
 * reader (`readInputs`) and, for the inputs that make sense as S3 objects, by the ingest Lambda
 * (one SQS batch, the bad object beside a good one, on s3rver + dynalite). For every case:
 * - nothing throws: a bad file is a problem naming the file with a clear reason, a bad record is a
 *   problem (reader) or a `record rejected` log (ingest) naming its index;
 * - nothing good is lost: the good file's events, and the good records inside a partly bad file,
 *   are still read (reader) or buffered (ingest), and ingest reports no batch item failure (bad
 *   data is acknowledged and logged, never retried).
 * Inputs a reader legitimately accepts say so in their name and assert what is accepted. A record
 * with a field of the wrong type where the engine reads text (or an object) is refused, naming the
 * field, by both readers: it is never guessed at.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip, createGzip, gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInputs } from '../../engine/read.ts';
import { bufferPartitionOf } from '../../engine/route.ts';
import type { CloudTrailRecord, TrailEvent } from '../../engine/types.ts';
import { SessionBuffer } from '../../lambdas/buffer.ts';
import { createIngestHandler } from '../../lambdas/ingest.ts';
import { type LocalAws, startLocalAws } from '../../lambdas/local/emulators.ts';
import { MemoryLogger } from '../../lambdas/log.ts';
import { ACCOUNT, consoleRecord, s3Message, sqsEvent, trailKey, userArn } from '../pipeline/helpers.ts';

const MINUTE = 60_000;
const MiB = 1024 * 1024;
const T0 = Date.parse('2026-03-02T09:00:00Z');
const BUCKET = 'trail-malformed';
const TABLE = 'buffer-malformed';
/** The ingest handler's ceiling on one object, on the wire and decompressed. */
const MAX_OBJECT_BYTES = 64 * MiB;

// ---------------------------------------------------------------------------------------------
// Building blocks

let tick = 0;
/** A valid console record of alice (buffered by ingest under her ARN). */
const alice = (id: string, extra: Record<string, unknown> = {}): CloudTrailRecord =>
  consoleRecord({
    user: 'alice',
    accessKeyId: 'ASIAALICE0000000001',
    time: T0 + ++tick * 1000,
    signedInAt: T0,
    id,
    extra,
  });

const bytes = (text: string) => Buffer.from(text, 'utf8');
const json = (value: unknown) => bytes(JSON.stringify(value));
const logDocument = (records: unknown[]) => json({ Records: records });
/**
 * A record's JSON with raw members spliced in first (for what JSON.stringify cannot write); a member
 * the record already has is overridden by the record's own (the last duplicate key wins).
 */
const withRawMembers = (record: CloudTrailRecord, raw: string) =>
  JSON.stringify(record).replace(/^\{/, `{${raw},`);
const recordsJson = (parts: string[]) => bytes(`{"Records":[${parts.join(',')}]}`);

/** Deterministic pseudo-random bytes (xorshift32), so the corpus is the same on every run. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state = (state ^ (state << 13)) >>> 0;
    state = (state ^ (state >>> 17)) >>> 0;
    state = (state ^ (state << 5)) >>> 0;
    out[i] = state & 0xff;
  }
  return out;
}

function* repeated(buffer: Buffer, times: number): Generator<Buffer> {
  for (let i = 0; i < times; i++) yield buffer;
}

/** Gzips a stream of buffers without ever holding the uncompressed data. */
async function gzipStream(chunks: Iterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of Readable.from(chunks).pipe(createGzip({ level: 9 }))) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Bytes `gzipped` decompresses to (streamed, nothing kept), stopping once past `stopAfter`. */
async function decompressedSize(gzipped: Buffer, stopAfter = Infinity): Promise<number> {
  let size = 0;
  for await (const part of Readable.from([gzipped]).pipe(createGunzip())) {
    size += (part as Buffer).length;
    if (size > stopAfter) break;
  }
  return size;
}

const BOMB_MEMBER_BYTES = 64 * MiB;
const BOMB_MEMBERS = 32;
let bombMember: Promise<Buffer> | undefined;
/** 64 MiB of 'A' gzipped from a repeated 1 MiB buffer (about 64 KB), built once. */
const bombMemberOnce = () => (bombMember ??= gzipStream(repeated(Buffer.alloc(MiB, 0x41), 64)));
/**
 * A gzip bomb: `{"Records":[{"padding":"` then 2 GiB of 'A' (32 gzip members of 64 MiB each, which
 * every gunzip reads as one stream), about 2 MB on disk.
 */
async function gzipBomb(): Promise<Buffer> {
  const member = await bombMemberOnce();
  return Buffer.concat([gzipSync('{"Records":[{"padding":"'), ...repeated(member, BOMB_MEMBERS)]);
}

/** A value nested `depth` levels deep: `{"a":{"a":…1…}}` or `[[…1…]]`. */
const nestedObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const nestedArray = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
/**
 * A log document (with `before` spliced in ahead of "Records") holding a flat record, then records
 * nested exactly 256 and 257 levels deep, counting the record's own object as the first level.
 */
const depthBoundaryDocument = (before: string) =>
  bytes(
    `{${before}"Records":[${[
      JSON.stringify(alice('depth-ok')),
      withRawMembers(alice('depth-256'), `"additionalEventData":${nestedArray(255)}`),
      withRawMembers(alice('depth-257'), `"additionalEventData":${nestedArray(256)}`),
    ].join(',')}]}`,
  );

// ---------------------------------------------------------------------------------------------
// The corpus

interface RecordProblem {
  index: number;
  reason: RegExp;
}

type ReadExpectation =
  /** The whole file is refused: one problem naming it, no index, nothing read from it. */
  | { problem: RegExp }
  /** The file is skipped on purpose (not an error). */
  | { skipped: RegExp }
  /** The file is read: these events (ids in file order), these record problems. */
  | { ids: (string | RegExp)[]; problems?: RecordProblem[]; check?: (events: TrailEvent[]) => void };

type IngestExpectation =
  /** `object rejected` logged with the key and reason; nothing of it buffered. */
  | { rejected: RegExp }
  /** `object skipped` logged (info) with the key and reason. */
  | { skipped: RegExp }
  /**
   * The object is read: exactly these eventIDs of it are buffered under alice, and exactly these
   * records are refused (`record rejected` with the index).
   */
  | { buffered: string[]; problems?: RecordProblem[] };

interface Case {
  name: string;
  /** File name for the reader (default `bad.json`). */
  file?: string;
  build: () => Buffer | Promise<Buffer>;
  read: ReadExpectation;
  maxInputBytes?: number;
  /** Also delivered to ingest as an S3 object (default key: a CloudTrail object key). */
  ingest?: IngestExpectation;
  s3Key?: string;
}

const HUGE_BYTES = 50 * MiB;
let huge: Buffer | undefined;
/** A log object whose second record carries a 50 MiB string, gzipped (about 50 KB), built once. */
function hugeObject(): Buffer {
  huge ??= gzipSync(
    recordsJson([
      JSON.stringify(alice('huge-ok')),
      withRawMembers(alice('huge-1'), `"additionalEventData":{"blob":"${'A'.repeat(HUGE_BYTES)}"}`),
    ]),
  );
  return huge;
}

const digestName = `${ACCOUNT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20260302T090000Z.json.gz`;
const digestDocument = {
  awsAccountId: ACCOUNT,
  digestStartTime: '2026-03-02T08:00:00Z',
  digestEndTime: '2026-03-02T09:00:00Z',
  digestS3Bucket: BUCKET,
  logFiles: [{ s3Bucket: BUCKET, s3Object: 'x.json.gz', hashValue: 'ab', hashAlgorithm: 'SHA-256' }],
};

/** Top-level fields the engine does not read as text, each of another type than CloudTrail's. */
const wrongUnreadTypes = {
  requestParameters: [1, 2, 3],
  responseElements: 'created',
  errorCode: { code: 'AccessDenied' },
  errorMessage: ['denied'],
  eventType: 7,
  eventVersion: 1.08,
  readOnly: 'yes',
  resources: 'arn:aws:s3:::bucket',
  recipientAccountId: 111122223333,
  additionalEventData: 'none',
  managementEvent: 'true',
  eventCategory: null,
  requestID: 5,
  tlsDetails: [],
};

/** `record` with the member at a dotted `path` set to `value` (missing objects on the way created). */
function withMember(record: CloudTrailRecord, path: string, value: unknown): CloudTrailRecord {
  const copy = structuredClone(record) as Record<string, unknown>;
  const keys = path.split('.');
  let at = copy;
  for (const key of keys.slice(0, -1)) {
    at[key] ??= {};
    at = at[key] as Record<string, unknown>;
  }
  at[keys[keys.length - 1]] = value;
  return copy as CloudTrailRecord;
}

/**
 * More fields the engine reads as text (or as an object holding text), each of a wrong type: the
 * record is refused by the reader and by ingest, naming the field and the type found (`kind` is a
 * regex fragment). Ingest checks the eventID first, so an eventID that is not a string is "missing".
 */
const wrongTypes: { path: string; value: unknown; kind: string; expected: 'a string' | 'an object' }[] = [
  { path: 'eventID', value: 42, kind: 'a number', expected: 'a string' },
  { path: 'awsRegion', value: true, kind: 'a boolean', expected: 'a string' },
  { path: 'sourceIPAddress', value: { ip: '198.51.100.10' }, kind: 'an object', expected: 'a string' },
  { path: 'userAgent', value: 42, kind: 'a number', expected: 'a string' },
  { path: 'sessionCredentialFromConsole', value: 1, kind: 'a number', expected: 'a string' },
  { path: 'userIdentity', value: 'alice', kind: 'a string', expected: 'an object' },
  { path: 'userIdentity', value: [userArn('alice')], kind: 'an array', expected: 'an object' },
  { path: 'userIdentity.type', value: 7, kind: 'a number', expected: 'a string' },
  { path: 'userIdentity.accountId', value: 111122223333, kind: 'a number', expected: 'a string' },
  { path: 'userIdentity.principalId', value: ['AIDAALICE'], kind: 'an array', expected: 'a string' },
  { path: 'userIdentity.invokedBy', value: false, kind: 'a boolean', expected: 'a string' },
  { path: 'userIdentity.sessionContext', value: 'console', kind: 'a string', expected: 'an object' },
  { path: 'userIdentity.sessionContext.sessionIssuer', value: [], kind: 'an array', expected: 'an object' },
  { path: 'userIdentity.sessionContext.sessionIssuer.arn', value: 1, kind: 'a number', expected: 'a string' },
  {
    path: 'userIdentity.sessionContext.sessionIssuer.userName',
    value: {},
    kind: 'an object',
    expected: 'a string',
  },
  {
    path: 'userIdentity.sessionContext.sessionIssuer.type',
    value: true,
    kind: 'a boolean',
    expected: 'a string',
  },
  {
    path: 'userIdentity.sessionContext.sessionIssuer.principalId',
    value: 5,
    kind: 'a number',
    expected: 'a string',
  },
  {
    path: 'userIdentity.sessionContext.sessionIssuer.accountId',
    value: 1,
    kind: 'a number',
    expected: 'a string',
  },
];

function wrongTypeCases(): Case[] {
  return wrongTypes.map(({ path, value, kind, expected }, n) => {
    const reason = `${path.replace(/\./g, '\\.')} is ${kind} \\(expected ${expected}\\)`;
    return {
      name: `a console record whose ${path} is ${JSON.stringify(value)} (refused, naming the field)`,
      build: () => logDocument([alice(`wrong-${n}-ok`), withMember(alice(`wrong-${n}`), path, value)]),
      read: { ids: [`wrong-${n}-ok`], problems: [{ index: 1, reason: new RegExp(`^${reason}$`) }] },
      ingest: {
        buffered: [`wrong-${n}-ok`],
        problems: [
          {
            index: 1,
            reason: new RegExp(`^record ${reason}$`),
          },
        ],
      },
    };
  });
}

const cases: Case[] = [
  {
    name: 'random binary bytes',
    build: () => pseudoRandomBytes(4096, 0x5eed),
    read: { problem: /JSON/ },
    ingest: { rejected: /JSON/ },
  },
  {
    name: 'NUL bytes only',
    build: () => Buffer.alloc(1024),
    read: { problem: /JSON/ },
    ingest: { rejected: /JSON/ },
  },
  {
    name: 'empty file (accepted: a zero-byte marker has no events)',
    build: () => Buffer.alloc(0),
    read: { ids: [] },
    ingest: { skipped: /zero-byte/ },
  },
  {
    name: 'whitespace only (reader: no events; ingest: an empty document)',
    build: () => bytes(' \n\t\r\n  '),
    read: { ids: [] },
    ingest: { rejected: /empty/ },
  },
  {
    name: 'truncated gzip',
    file: 'bad.json.gz',
    build: () => {
      const whole = gzipSync(logDocument([alice('trunc-1'), alice('trunc-2'), alice('trunc-3')]));
      return whole.subarray(0, Math.floor(whole.length / 2));
    },
    read: { problem: /not a valid gzip stream/ },
    ingest: { rejected: /gzip/ },
  },
  {
    name: 'gzip magic followed by garbage',
    file: 'bad.json.gz',
    build: () => Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), pseudoRandomBytes(300, 7)]),
    read: { problem: /not a valid gzip stream/ },
    ingest: { rejected: /gzip/ },
  },
  {
    name: 'gzip of text that is not JSON',
    file: 'bad.json.gz',
    build: () => gzipSync('hello, this is not JSON\nnor is this second line\n'),
    read: { problem: /JSON/ },
    ingest: { rejected: /JSON/ },
  },
  {
    name: 'gzip bomb (2 GiB of one string, about 2 MB compressed)',
    file: 'bad.json.gz',
    build: gzipBomb,
    maxInputBytes: 4 * MiB,
    read: { problem: new RegExp(`decompressed size exceeds the ${4 * MiB}-byte limit`) },
    ingest: { rejected: new RegExp(`exceeds the ${MAX_OBJECT_BYTES}-byte limit`) },
  },
  {
    name: 'plain file larger than maxInputBytes',
    build: () => bytes(`{"Records":[${' '.repeat(MiB)}]}`),
    maxInputBytes: MiB,
    read: { problem: new RegExp(`size ${MiB + 14} bytes exceeds the ${MiB}-byte limit`) },
  },
  {
    name: 'JSON arrays nested 100,000 deep',
    build: () => bytes(nestedArray(100_000)),
    read: { ids: [], problems: [{ index: 0, reason: /not a JSON object/ }] },
    ingest: { rejected: /Records/ },
  },
  {
    name: 'JSON objects nested 100,000 deep',
    build: () => bytes(nestedObject(100_000)),
    read: { problem: /neither/ },
    ingest: { rejected: /Records/ },
  },
  {
    name: 'a record with a member nested 100,000 deep (reader: accepted, it has an eventID; ingest: nested deeper than 256 levels)',
    build: () =>
      recordsJson([
        JSON.stringify(alice('deep-ok-1')),
        withRawMembers(alice('deep-100k'), `"additionalEventData":${nestedObject(100_000)}`),
        JSON.stringify(alice('deep-ok-2')),
      ]),
    read: { ids: ['deep-ok-1', 'deep-100k', 'deep-ok-2'] },
    ingest: {
      buffered: ['deep-ok-1', 'deep-ok-2'],
      problems: [{ index: 1, reason: /^record is nested deeper than 256 levels$/ }],
    },
  },
  {
    name: 'a console record with a member nested 10,000 deep, 20 KB (reader: accepted, it has an eventID; ingest: nested deeper than 256 levels)',
    build: () =>
      recordsJson([
        JSON.stringify(alice('deep10k-ok-1')),
        withRawMembers(alice('deep10k'), `"additionalEventData":${nestedArray(10_000)}`),
        JSON.stringify(alice('deep10k-ok-2')),
      ]),
    read: {
      ids: ['deep10k-ok-1', 'deep10k', 'deep10k-ok-2'],
      check: (events) => expect(events[1].record.eventID).toBe('deep10k'),
    },
    ingest: {
      buffered: ['deep10k-ok-1', 'deep10k-ok-2'],
      problems: [{ index: 1, reason: /^record is nested deeper than 256 levels$/ }],
    },
  },
  {
    name: 'a record without eventID nested 10,000 deep (reader: too deep for a content-derived id; ingest: nested deeper than 256 levels)',
    build: () => {
      const deep = alice('unused');
      delete deep.eventID;
      return recordsJson([
        JSON.stringify(alice('deepnoid-ok')),
        withRawMembers(deep, `"additionalEventData":${nestedArray(10_000)}`),
      ]);
    },
    read: { ids: ['deepnoid-ok'], problems: [{ index: 1, reason: /^record is nested too deeply to read$/ }] },
    ingest: {
      buffered: ['deepnoid-ok'],
      problems: [{ index: 1, reason: /^record is nested deeper than 256 levels$/ }],
    },
  },
  {
    name: 'a record without eventID nested 300 deep (reader: accepted with a content-derived id; ingest: nested deeper than 256 levels)',
    build: () => {
      const deep = alice('unused');
      delete deep.eventID;
      return recordsJson([
        JSON.stringify(alice('deep300-ok')),
        withRawMembers(deep, `"additionalEventData":${nestedArray(300)}`),
      ]);
    },
    read: { ids: ['deep300-ok', /^synthetic-[0-9a-f]+$/] },
    ingest: {
      buffered: ['deep300-ok'],
      problems: [{ index: 1, reason: /^record is nested deeper than 256 levels$/ }],
    },
  },
  {
    name: 'records nested exactly 256 and 257 levels (ingest: 256 buffered, 257 refused; reader: both accepted)',
    build: () => depthBoundaryDocument(''),
    read: { ids: ['depth-ok', 'depth-256', 'depth-257'] },
    ingest: {
      buffered: ['depth-ok', 'depth-256'],
      problems: [{ index: 2, reason: /^record is nested deeper than 256 levels$/ }],
    },
  },
  {
    name: 'records nested exactly 256 and 257 levels after another key before "Records" (ingest reads the whole document: 256 buffered, 257 refused)',
    build: () => depthBoundaryDocument('"eventVersion":"1.08",'),
    read: { ids: ['depth-ok', 'depth-256', 'depth-257'] },
    ingest: {
      buffered: ['depth-ok', 'depth-256'],
      problems: [{ index: 2, reason: /^record is nested deeper than 256 levels$/ }],
    },
  },
  {
    name: 'Records is an object',
    build: () => json({ Records: { 0: alice('obj-1') } }),
    read: { problem: /neither/ },
    ingest: { rejected: /Records/ },
  },
  {
    name: 'Records is null',
    build: () => json({ Records: null }),
    read: { problem: /neither/ },
    ingest: { rejected: /Records/ },
  },
  {
    name: 'Records is a string',
    build: () => json({ Records: '[{"eventID":"x"}]' }),
    read: { problem: /neither/ },
    ingest: { rejected: /Records/ },
  },
  {
    name: 'Records holding numbers, strings, null, booleans, arrays and an empty object among good records',
    build: () =>
      logDocument([
        alice('scalars-1'),
        42,
        'a string',
        null,
        true,
        [alice('nested')],
        {},
        alice('scalars-2'),
      ]),
    read: {
      ids: ['scalars-1', 'scalars-2'],
      problems: [
        { index: 1, reason: /not a JSON object/ },
        { index: 2, reason: /not a JSON object/ },
        { index: 3, reason: /not a JSON object/ },
        { index: 4, reason: /not a JSON object/ },
        { index: 5, reason: /not a JSON object/ },
        { index: 6, reason: /^missing eventTime, eventSource, eventName$/ },
      ],
    },
    ingest: {
      buffered: ['scalars-1', 'scalars-2'],
      problems: [
        { index: 1, reason: /not a JSON object/ },
        { index: 2, reason: /not a JSON object/ },
        { index: 3, reason: /not a JSON object/ },
        { index: 4, reason: /not a JSON object/ },
        { index: 5, reason: /not a JSON object/ },
        { index: 6, reason: /^record missing eventTime, eventSource, eventName$/ },
      ],
    },
  },
  {
    name: 'a record missing eventTime',
    build: () => {
      const bad = alice('notime');
      delete bad.eventTime;
      return logDocument([alice('notime-ok'), bad]);
    },
    read: { ids: ['notime-ok'], problems: [{ index: 1, reason: /missing eventTime/ }] },
    ingest: { buffered: ['notime-ok'], problems: [{ index: 1, reason: /missing eventTime/ }] },
  },
  {
    name: 'a record missing eventID (reader: accepted with a content-derived id; ingest: refused)',
    build: () => {
      const bad = alice('unused');
      delete bad.eventID;
      return logDocument([alice('noid-ok'), bad]);
    },
    read: { ids: ['noid-ok', /^synthetic-[0-9a-f]+$/] },
    ingest: { buffered: ['noid-ok'], problems: [{ index: 1, reason: /missing eventID/ }] },
  },
  {
    name: 'eventTime "NaN"',
    build: () => logDocument([alice('nan-time', { eventTime: 'NaN' }), alice('nan-time-ok')]),
    read: { ids: ['nan-time-ok'], problems: [{ index: 0, reason: /eventTime "NaN" is not a time/ }] },
    ingest: { buffered: ['nan-time-ok'], problems: [{ index: 0, reason: /eventTime "NaN" is not a time/ }] },
  },
  {
    name: 'eventTime "2024-13-45T99:99:99Z"',
    build: () =>
      logDocument([alice('bad-date-ok'), alice('bad-date', { eventTime: '2024-13-45T99:99:99Z' })]),
    read: {
      ids: ['bad-date-ok'],
      problems: [{ index: 1, reason: /eventTime "2024-13-45T99:99:99Z" is not a time/ }],
    },
    ingest: {
      buffered: ['bad-date-ok'],
      problems: [{ index: 1, reason: /eventTime "2024-13-45T99:99:99Z" is not a time/ }],
    },
  },
  ...(
    [
      ['"0"', '0', /is not a timestamp in ISO-8601 UTC/],
      ['"March 7"', 'March 7', /is not a timestamp in ISO-8601 UTC/],
      ['of year 275760', '+275760-09-13T00:00:00.000Z', /is not a timestamp in ISO-8601 UTC/],
      ['with an offset', '2026-03-02T10:00:00+01:00', /is not a timestamp in ISO-8601 UTC/],
      ['February 30th', '2024-02-30T10:00:00Z', /is not a timestamp in ISO-8601 UTC/],
      ['before CloudTrail', '2012-12-31T23:59:59Z', /is before 2013-01-01/],
      ['in the future', '2099-01-01T00:00:00Z', /is more than a day after now/],
    ] as const
  ).map(([label, time, reason], n): Case => {
    const quoted = new RegExp(`^eventTime ${JSON.stringify(time).replace(/[+.]/g, '\\$&')} ${reason.source}`);
    return {
      name: `eventTime ${label} (refused, naming the time: it is not a CloudTrail record's)`,
      build: () => logDocument([alice(`time-${n}-ok`), alice(`time-${n}`, { eventTime: time })]),
      read: { ids: [`time-${n}-ok`], problems: [{ index: 1, reason: quoted }] },
      ingest: {
        buffered: [`time-${n}-ok`],
        problems: [{ index: 1, reason: new RegExp(`^record ${quoted.source.slice(1)}`) }],
      },
    };
  }),
  {
    name: 'an Insights record among API records (skipped and counted, not refused)',
    build: () =>
      logDocument([
        alice('insight-ok-1'),
        {
          eventVersion: '1.08',
          eventTime: '2026-03-02T09:00:00Z',
          awsRegion: 'us-east-1',
          eventID: 'insight-1',
          eventType: 'AwsCloudTrailInsight',
          recipientAccountId: ACCOUNT,
          sharedEventID: 'insight-shared-1',
          insightDetails: {
            state: 'Start',
            eventSource: 'iam.amazonaws.com',
            eventName: 'ListUsers',
            insightType: 'ApiCallRateInsight',
            insightContext: {
              statistics: { baseline: { average: 0.01 }, insight: { average: 5 }, insightDuration: 1 },
            },
          },
          eventCategory: 'Insight',
        },
        alice('insight-ok-2'),
      ]),
    read: { ids: ['insight-ok-1', 'insight-ok-2'] },
    ingest: { buffered: ['insight-ok-1', 'insight-ok-2'], problems: [] },
  },
  {
    name: 'a CloudTrail Insights file (skipped by name, not an error)',
    file: `${ACCOUNT}_CloudTrail-Insight_us-east-1_20260302T0900Z_abcdefghijklmnop.json.gz`,
    build: () => logDocument([alice('insights-file-1')]),
    read: { skipped: /insights/i },
    s3Key: `AWSLogs/${ACCOUNT}/CloudTrail-Insight/us-east-1/2026/03/02/${ACCOUNT}_CloudTrail-Insight_us-east-1_20260302T0900Z_abcdefghijklmnop.json.gz`,
    ingest: { skipped: /insights/i },
  },
  {
    name: 'eventTime a number (refused: not a string)',
    build: () => logDocument([alice('num-time', { eventTime: 1714557600000 }), alice('num-time-ok')]),
    read: {
      ids: ['num-time-ok'],
      problems: [{ index: 0, reason: /^eventTime is a number \(expected a string\)$/ }],
    },
    ingest: {
      buffered: ['num-time-ok'],
      problems: [{ index: 0, reason: /^record eventTime is a number \(expected a string\)$/ }],
    },
  },
  {
    name: 'eventSource a number (refused: not a string)',
    build: () => logDocument([alice('source-ok'), alice('source-number', { eventSource: 53 })]),
    read: {
      ids: ['source-ok'],
      problems: [{ index: 1, reason: /^eventSource is a number \(expected a string\)$/ }],
    },
    ingest: {
      buffered: ['source-ok'],
      problems: [{ index: 1, reason: /^record eventSource is a number \(expected a string\)$/ }],
    },
  },
  {
    name: 'eventSource a number and eventName null (refused: the missing field is named first)',
    build: () => logDocument([alice('core-ok'), alice('core-types', { eventSource: 53, eventName: null })]),
    read: { ids: ['core-ok'], problems: [{ index: 1, reason: /^missing eventName$/ }] },
    ingest: { buffered: ['core-ok'], problems: [{ index: 1, reason: /^record missing eventName$/ }] },
  },
  {
    name: 'every top-level field the engine does not read as text of another type (accepted as is)',
    build: () => logDocument([alice('types-ok'), alice('types', wrongUnreadTypes)]),
    read: {
      ids: ['types-ok', 'types'],
      check: (events) => expect(events[1].record).toMatchObject(wrongUnreadTypes),
    },
    ingest: { buffered: ['types-ok', 'types'], problems: [] },
  },
  {
    name: 'a console record whose userIdentity.arn is a number (refused, naming the field)',
    build: () => {
      const bad = alice('arn-number');
      bad.userIdentity = { ...bad.userIdentity, arn: 12345 as unknown as string };
      return logDocument([alice('arn-ok'), bad]);
    },
    read: {
      ids: ['arn-ok'],
      problems: [{ index: 1, reason: /^userIdentity\.arn is a number \(expected a string\)$/ }],
    },
    ingest: {
      buffered: ['arn-ok'],
      problems: [{ index: 1, reason: /^record userIdentity\.arn is a number \(expected a string\)$/ }],
    },
  },
  {
    name: 'a non-console call whose userIdentity.accessKeyId is a number (refused, naming the field)',
    build: () => {
      const bad = alice('key-number', {
        sessionCredentialFromConsole: undefined,
        userAgent: 'custom-agent/1.0',
      });
      bad.userIdentity = { ...bad.userIdentity, accessKeyId: 42 as unknown as string };
      return logDocument([alice('key-ok'), bad]);
    },
    read: {
      ids: ['key-ok'],
      problems: [{ index: 1, reason: /^userIdentity\.accessKeyId is a number \(expected a string\)$/ }],
    },
    ingest: {
      buffered: ['key-ok'],
      problems: [
        { index: 1, reason: /^record userIdentity\.accessKeyId is a number \(expected a string\)$/ },
      ],
    },
  },
  {
    name: 'a console record whose userIdentity.userName is an object with a "toString" member (refused, naming the field)',
    build: () => {
      const bad = alice('name-object');
      bad.userIdentity = {
        type: 'IAMUser',
        accountId: ACCOUNT,
        userName: { toString: 1 } as unknown as string,
      };
      return logDocument([alice('name-ok'), bad]);
    },
    read: {
      ids: ['name-ok'],
      problems: [{ index: 1, reason: /^userIdentity\.userName is an object \(expected a string\)$/ }],
    },
    ingest: {
      buffered: ['name-ok'],
      problems: [{ index: 1, reason: /^record userIdentity\.userName is an object \(expected a string\)$/ }],
    },
  },
  {
    name: 'a non-console call whose userAgent is an object with a "toString" member (refused, naming the field)',
    build: () => {
      const bad = alice('agent-object', {
        sessionCredentialFromConsole: undefined,
        userAgent: { toString: 'Mozilla/5.0' },
      });
      return logDocument([alice('agent-ok'), bad]);
    },
    read: {
      ids: ['agent-ok'],
      problems: [{ index: 1, reason: /^userAgent is an object \(expected a string\)$/ }],
    },
    ingest: {
      buffered: ['agent-ok'],
      problems: [{ index: 1, reason: /^record userAgent is an object \(expected a string\)$/ }],
    },
  },
  ...wrongTypeCases(),
  {
    name: 'a 50 MiB string in one record (reader: accepted; ingest: over the record size limit)',
    file: 'bad.json.gz',
    build: hugeObject,
    read: {
      ids: ['huge-ok', 'huge-1'],
      check: (events) =>
        expect((events[1].record.additionalEventData as { blob: string }).blob).toHaveLength(HUGE_BYTES),
    },
    ingest: { buffered: ['huge-ok'], problems: [{ index: 1, reason: /\d+ bytes/ }] },
  },
  {
    name: 'a 300 KB eventName (reader: accepted; ingest: over the record size limit)',
    build: () =>
      logDocument([alice('long-name', { eventName: `List${'X'.repeat(300_000)}` }), alice('long-ok')]),
    read: {
      ids: ['long-name', 'long-ok'],
      check: (events) => expect(events[0].ref).toBe(`iam:List${'X'.repeat(300_000)}`),
    },
    ingest: { buffered: ['long-ok'], problems: [{ index: 0, reason: /\d+ bytes/ }] },
  },
  {
    name: 'invalid UTF-8 bytes inside a string value (accepted: decoded as U+FFFD)',
    build: () => {
      const [head, tail] = JSON.stringify(alice('utf8', { userAgent: 'Mozilla/5.0 @@' })).split('@@');
      return Buffer.concat([
        bytes('{"Records":['),
        bytes(head),
        Buffer.from([0xff, 0xfe, 0xc3]),
        bytes(tail),
        bytes(']}'),
      ]);
    },
    read: {
      ids: ['utf8'],
      check: (events) => expect(events[0].record.userAgent).toBe('Mozilla/5.0 \ufffd\ufffd\ufffd'),
    },
    ingest: { buffered: ['utf8'], problems: [] },
  },
  {
    name: 'invalid UTF-8 bytes between records (reader: the document is refused; ingest: that element is refused)',
    build: () =>
      Buffer.concat([
        bytes(`{"Records":[${JSON.stringify(alice('between-1'))},`),
        Buffer.from([0xff, 0xfe]),
        bytes(`,${JSON.stringify(alice('between-2'))}]}`),
      ]),
    read: { problem: /JSON/ },
    ingest: { buffered: ['between-1', 'between-2'], problems: [{ index: 1, reason: /not valid JSON/ }] },
  },
  {
    name: 'UTF-8 byte order mark (accepted)',
    build: () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), logDocument([alice('bom-1')])]),
    read: { ids: ['bom-1'] },
    ingest: { buffered: ['bom-1'], problems: [] },
  },
  {
    name: 'UTF-16LE text with its byte order mark',
    build: () =>
      Buffer.concat([
        Buffer.from([0xff, 0xfe]),
        Buffer.from(JSON.stringify({ Records: [alice('utf16')] }), 'utf16le'),
      ]),
    read: { problem: /JSON/ },
    ingest: { rejected: /JSON/ },
  },
  {
    name: 'duplicate keys in a record (accepted: the last value wins, as in JSON.parse)',
    build: () => recordsJson([withRawMembers(alice('dup-last'), '"eventID":"dup-first"')]),
    read: { ids: ['dup-last'] },
    ingest: { buffered: ['dup-last'], problems: [] },
  },
  {
    name: 'duplicate "Records" keys, "Records" first (reader: the last wins; ingest: refused, content after the first Records array)',
    build: () =>
      bytes(`{"Records":[${JSON.stringify(alice('dup-a'))}],"Records":[${JSON.stringify(alice('dup-b'))}]}`),
    read: { ids: ['dup-b'] },
    ingest: { rejected: /^unexpected content after the Records array$/ },
  },
  {
    name: 'duplicate "Records" keys after another key (accepted: the last wins in both readers, as in JSON.parse)',
    build: () =>
      bytes(
        `{"eventVersion":"1.08","Records":[${JSON.stringify(alice('dup-late-a'))}],"Records":[${JSON.stringify(alice('dup-late-b'))}]}`,
      ),
    read: { ids: ['dup-late-b'] },
    ingest: { buffered: ['dup-late-b'], problems: [] },
  },
  {
    name: 'NaN and Infinity literals (reader: the document is refused; ingest: that record is refused)',
    build: () =>
      recordsJson([
        JSON.stringify(alice('nan-ok-1')),
        withRawMembers(alice('nan-literal'), '"score":NaN,"limit":Infinity,"floor":-Infinity'),
        JSON.stringify(alice('nan-ok-2')),
      ]),
    read: { problem: /JSON/ },
    ingest: { buffered: ['nan-ok-1', 'nan-ok-2'], problems: [{ index: 1, reason: /not valid JSON/ }] },
  },
  {
    name: 'a trailing comma after the last record, pretty-printed (reader: the document is refused; ingest: tolerated)',
    build: () => {
      const text = JSON.stringify({ Records: [alice('comma-1'), alice('comma-2')] }, null, 2);
      const end = text.lastIndexOf('}\n  ]');
      return bytes(`${text.slice(0, end)}},\n  ]\n}`);
    },
    read: { problem: /JSON/ },
    ingest: { buffered: ['comma-1', 'comma-2'], problems: [] },
  },
  {
    name: 'a trailing comma inside a record (reader: the document is refused; ingest: that record is refused)',
    build: () =>
      recordsJson([
        JSON.stringify(alice('comma-ok-1')),
        JSON.stringify(alice('comma-in')).replace(/\}$/, ',}'),
        JSON.stringify(alice('comma-ok-2')),
      ]),
    read: { problem: /JSON/ },
    ingest: { buffered: ['comma-ok-1', 'comma-ok-2'], problems: [{ index: 1, reason: /not valid JSON/ }] },
  },
  {
    name: 'NDJSON with one bad line among good ones (reader: the line is named; ingest: not one JSON document)',
    file: 'bad.jsonl',
    build: () =>
      bytes(
        [JSON.stringify(alice('nd-1')), '{"eventID": "nd-2", oops', JSON.stringify(alice('nd-3')), ''].join(
          '\n',
        ),
      ),
    read: { ids: ['nd-1', 'nd-3'], problems: [{ index: 2, reason: /line is not valid JSON/ }] },
    ingest: { rejected: /^not valid JSON \(/ },
  },
  {
    name: 'NDJSON with a line that is JSON but not an event',
    file: 'bad.jsonl',
    build: () => bytes([JSON.stringify(alice('ndx-1')), '{"hello":"world"}', '42'].join('\r\n')),
    read: {
      ids: ['ndx-1'],
      problems: [
        { index: 2, reason: /line is not a CloudTrail event/ },
        { index: 3, reason: /line is not a CloudTrail event/ },
      ],
    },
  },
  {
    name: 'a CloudTrail digest file (skipped by name, not an error)',
    file: digestName,
    build: () => gzipSync(JSON.stringify(digestDocument)),
    read: { skipped: /digest/i },
    s3Key: `AWSLogs/${ACCOUNT}/CloudTrail-Digest/us-east-1/2026/03/02/${digestName}`,
    ingest: { skipped: /digest/i },
  },
  {
    name: 'digest content under an ordinary log name',
    file: 'bad.json.gz',
    build: () => gzipSync(JSON.stringify(digestDocument)),
    read: { problem: /neither/ },
    ingest: { rejected: /Records/ },
  },
  {
    name: 'lookup-events output with an unparsable CloudTrailEvent string',
    build: () =>
      json({
        Events: [
          { EventId: 'look-1', EventName: 'ListUsers', CloudTrailEvent: JSON.stringify(alice('look-1')) },
          { EventId: 'look-2', EventName: 'ListUsers', CloudTrailEvent: '{"eventID": "look-2", broken' },
          { EventId: 'look-3', EventName: 'ListUsers', CloudTrailEvent: JSON.stringify(alice('look-3')) },
          { EventId: 'look-4', EventName: 'ListUsers', CloudTrailEvent: 'null' },
        ],
      }),
    read: {
      ids: ['look-1', 'look-3'],
      problems: [
        { index: 1, reason: /CloudTrailEvent is not valid JSON/ },
        { index: 3, reason: /CloudTrailEvent is not a JSON object/ },
      ],
    },
  },
  {
    name: 'lookup-events output whose Events is not an array',
    build: () => json({ Events: { EventId: 'x' }, NextToken: 'abc' }),
    read: { problem: /neither/ },
  },
  {
    name: 'a JSON array mixing good and bad records (ingest: not a log document)',
    build: () =>
      json([
        alice('mix-1'),
        { eventID: 'mix-x', eventName: 'ListUsers' },
        alice('mix-2'),
        'junk',
        alice('mix-y', { eventTime: 'yesterday' }),
        alice('mix-3'),
      ]),
    read: {
      ids: ['mix-1', 'mix-2', 'mix-3'],
      problems: [
        { index: 1, reason: /missing eventTime, eventSource/ },
        { index: 3, reason: /not a JSON object/ },
        { index: 4, reason: /not a time/ },
      ],
    },
    ingest: { rejected: /Records/ },
  },
  {
    name: 'a single event object missing fields',
    build: () => json({ eventName: 'ListUsers', eventID: 'lonely' }),
    read: { ids: [], problems: [{ index: 0, reason: /missing eventTime, eventSource/ }] },
  },
  {
    name: 'a top-level JSON null',
    build: () => bytes('null'),
    read: { problem: /neither/ },
    ingest: { rejected: /Records/ },
  },
  {
    name: 'another key before "Records" (accepted: ingest reads such a document whole)',
    build: () =>
      bytes(
        `{"eventVersion":"1.08","Records":[${JSON.stringify(alice('late-records-1'))},${JSON.stringify(alice('late-records-2'))}]}`,
      ),
    read: { ids: ['late-records-1', 'late-records-2'] },
    ingest: { buffered: ['late-records-1', 'late-records-2'], problems: [] },
  },
  {
    name: 'another key before "Records", with a bad record among good ones (the bad one is refused by index)',
    build: () =>
      bytes(
        `{"digest":{"Records":"not these"},"Records":[${[
          JSON.stringify(alice('late-ok-1')),
          '{"eventName":"ListUsers"}',
          JSON.stringify(alice('late-ok-2')),
        ].join(',')}]}`,
      ),
    read: {
      ids: ['late-ok-1', 'late-ok-2'],
      problems: [{ index: 1, reason: /^missing eventTime, eventSource$/ }],
    },
    ingest: {
      buffered: ['late-ok-1', 'late-ok-2'],
      problems: [{ index: 1, reason: /^record missing eventTime, eventSource$/ }],
    },
  },
  {
    name: 'another key before "Records" that is not valid JSON (ingest: the document is refused)',
    build: () => bytes(`{"eventVersion":1.08.1,"Records":[${JSON.stringify(alice('late-bad'))}]}`),
    read: { problem: /JSON/ },
    ingest: { rejected: /^not valid JSON \(/ },
  },
  {
    name: 'another key and no "Records" array (ingest: not a log document)',
    build: () => json({ eventVersion: '1.08', records: [alice('lowercase')] }),
    read: { problem: /neither/ },
    ingest: { rejected: /^not a CloudTrail log document \(no "Records" array\)$/ },
  },
  {
    name: 'another key after the "Records" array (reader: accepted; ingest: refused, content after the Records array)',
    build: () => bytes(`{"Records":[${JSON.stringify(alice('trailing-key'))}],"eventVersion":"1.08"}`),
    read: { ids: ['trailing-key'] },
    ingest: { rejected: /^unexpected content after the Records array$/ },
  },
  {
    name: '__proto__ and constructor.prototype keys (accepted; Object.prototype is not polluted)',
    build: () =>
      bytes(
        `{"Records":[${withRawMembers(
          alice('proto-1', {
            userIdentity: JSON.parse(
              `{"__proto__":{"polluted":"identity"},${JSON.stringify(alice('x').userIdentity).slice(1)}`,
            ) as CloudTrailRecord['userIdentity'],
          }),
          '"__proto__":{"polluted":"record"},"constructor":{"prototype":{"polluted":"ctor"}}',
        )}]}`,
      ),
    read: {
      ids: ['proto-1'],
      check: (events) => {
        const record = events[0].record;
        expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
        expect(Object.hasOwn(record, '__proto__')).toBe(true);
        expect(record.userIdentity?.arn).toBe(userArn('alice'));
      },
    },
    ingest: { buffered: ['proto-1'], problems: [] },
  },
];

// ---------------------------------------------------------------------------------------------
// Running a case

const built = new Map<Case, Promise<Buffer>>();
const bytesOf = (c: Case) => {
  if (!built.has(c)) built.set(c, Promise.resolve(c.build()));
  return built.get(c)!;
};

/** A reason a person can act on: a non-empty message, not a stringified nothing. */
function expectClearReason(reason: unknown): void {
  expect(typeof reason).toBe('string');
  expect((reason as string).trim()).not.toBe('');
  expect(reason).not.toMatch(/^(undefined|null|\[object \w+\])$/);
}

function expectNotPolluted(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailmap-malformed-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('has at least 25 cases, 12 of them delivered to ingest, with unique names', () => {
  expect(cases.length).toBeGreaterThanOrEqual(25);
  expect(cases.filter((c) => c.ingest).length).toBeGreaterThanOrEqual(12);
  expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
});

it('the gzip bomb is what it claims: 2 GiB in 32 members of 64 MiB read as one stream, about 2 MB compressed', async () => {
  const member = await bombMemberOnce();
  expect(await decompressedSize(member)).toBe(BOMB_MEMBER_BYTES);
  const bomb = await gzipBomb();
  expect(bomb.length).toBeLessThan(4 * MiB);
  expect(bomb.length - gzipSync('{"Records":[{"padding":"').length).toBe(BOMB_MEMBERS * member.length);
  expect(BOMB_MEMBERS * BOMB_MEMBER_BYTES).toBe(2 * 1024 * MiB);
  // gunzip goes on past the first members (checked up to 160 MiB, streamed).
  expect(await decompressedSize(bomb, 160 * MiB)).toBeGreaterThan(160 * MiB);
});

describe('readInputs: each malformed input read beside a good file', () => {
  cases.forEach((c, n) => {
    it(c.name, async () => {
      const caseDir = join(dir, `read-${n}`);
      await mkdir(caseDir, { recursive: true });
      const bad = join(caseDir, c.file ?? 'bad.json');
      const good = join(caseDir, 'good.json');
      const goodIds = [`good-${n}-a`, `good-${n}-b`];
      await writeFile(bad, await bytesOf(c));
      await writeFile(good, logDocument(goodIds.map((id) => alice(id))));

      const result = await readInputs([bad, good], { maxInputBytes: c.maxInputBytes });

      // No collateral loss: the good file is read in full, and has no problem.
      expect(result.events.filter((e) => e.origin.source === good).map((e) => e.id)).toEqual(goodIds);
      // Every problem is about the bad file, with a clear reason.
      for (const problem of result.problems) {
        expect(problem.source).toBe(bad);
        expectClearReason(problem.reason);
      }
      const fromBad = result.events.filter((e) => e.origin.source === bad);
      const expectation = c.read;
      if ('problem' in expectation) {
        expect(result.problems).toHaveLength(1);
        expect(result.problems[0].index).toBeUndefined();
        expect(result.problems[0].reason).toMatch(expectation.problem);
        expect(fromBad).toEqual([]);
        expect(result.sources).toEqual([good]);
      } else if ('skipped' in expectation) {
        expect(result.problems).toEqual([]);
        expect(result.skipped).toHaveLength(1);
        expect(result.skipped[0].source).toBe(bad);
        expect(result.skipped[0].reason).toMatch(expectation.skipped);
        expect(result.sources).toEqual([good]);
      } else {
        expect(result.sources).toEqual([bad, good]);
        expect(result.skipped).toEqual([]);
        expect(fromBad.map((e) => e.id)).toEqual(
          expectation.ids.map((id) => (typeof id === 'string' ? id : expect.stringMatching(id))),
        );
        const problems = [...result.problems].sort((a, b) => (a.index ?? -1) - (b.index ?? -1));
        expect(problems.map((p) => p.index)).toEqual((expectation.problems ?? []).map((p) => p.index));
        problems.forEach((problem, i) => expect(problem.reason).toMatch(expectation.problems![i].reason));
        expectation.check?.(fromBad);
      }
      expectNotPolluted();
    });
  });
});

describe('ingest: each malformed object delivered in one SQS batch beside a good object (s3rver + dynalite)', () => {
  let aws: LocalAws;
  let buffer: SessionBuffer;

  beforeAll(async () => {
    aws = await startLocalAws({ buckets: [BUCKET], tableName: TABLE });
    buffer = new SessionBuffer(aws.ddb, {
      tableName: TABLE,
      dueShards: 4,
      sleep: async () => {},
      now: () => T0 + 20 * MINUTE,
    });
  });

  afterAll(async () => {
    await aws?.close();
  });

  cases.forEach((c, n) => {
    const expectation = c.ingest;
    if (!expectation) return;
    it(c.name, async () => {
      const suffix = String(n).padStart(12, '0');
      const goodKey = trailKey(T0, `Good${suffix}`);
      const badKey = c.s3Key ?? trailKey(T0, `Bad0${suffix}`);
      const goodIds = [`s3-good-${n}-a`, `s3-good-${n}-b`];
      const goodBody = gzipSync(logDocument(goodIds.map((id) => alice(id))));
      const badBody = await bytesOf(c);
      await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: goodKey, Body: goodBody }));
      await aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: badKey, Body: badBody }));
      const logger = new MemoryLogger();
      const handler = createIngestHandler({
        s3: aws.s3,
        buffer,
        config: { maxObjectBytes: MAX_OBJECT_BYTES, settleDelayMs: 15 * MINUTE, bufferTtlMs: 7 * 86_400_000 },
        logger,
        now: () => T0 + 20 * MINUTE,
      });

      const response = await handler(
        sqsEvent([
          s3Message(`good-${n}`, BUCKET, goodKey, goodBody.length),
          s3Message(`bad-${n}`, BUCKET, badKey, badBody.length),
        ]),
      );

      // Bad data is acknowledged (logged), never retried; the good object is buffered in full.
      expect(response.batchItemFailures).toEqual([]);
      const chunks = await buffer.readPartition(bufferPartitionOf(alice('partition'))!);
      const bufferedIds = (key: string) =>
        chunks
          .filter((chunk) => chunk.objectKey === key)
          .flatMap((chunk) => chunk.records.map((r) => r.eventID));
      expect(bufferedIds(goodKey)).toEqual(goodIds);
      const errors = logger.entries.filter((e) => e.level === 'error');
      for (const error of errors) {
        expect(error.fields.key).toBe(badKey);
        expect(error.fields.bucket).toBe(BUCKET);
        expectClearReason(error.fields.reason);
      }
      const objectRejected = errors.filter((e) => e.message === 'object rejected');
      const recordRejected = errors.filter((e) => e.message === 'record rejected');
      expect(errors).toHaveLength(objectRejected.length + recordRejected.length);

      if ('rejected' in expectation) {
        expect(objectRejected).toHaveLength(1);
        expect(objectRejected[0].fields.reason).toMatch(expectation.rejected);
        expect(bufferedIds(badKey)).toEqual([]);
      } else if ('skipped' in expectation) {
        expect(errors).toEqual([]);
        const skipped = logger.entries.filter((e) => e.message === 'object skipped');
        expect(skipped).toHaveLength(1);
        expect(skipped[0].fields.key).toBe(badKey);
        expect(skipped[0].fields.reason).toMatch(expectation.skipped);
        expect(bufferedIds(badKey)).toEqual([]);
      } else {
        expect(objectRejected).toEqual([]);
        const problems = expectation.problems ?? [];
        expect(recordRejected.map((e) => e.fields.index)).toEqual(problems.map((p) => p.index));
        recordRejected.forEach((e, i) => expect(e.fields.reason).toMatch(problems[i].reason));
        expect(bufferedIds(badKey)).toEqual(expectation.buffered);
      }
      expectNotPolluted();
    });
  });
});

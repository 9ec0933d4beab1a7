/**
 * Property tests (fast-check, fixed seeds) of the reader and of the ingest handler on arbitrary
 * input: arbitrary bytes (plain and gzipped, and mutations of a valid log), arbitrary JSON values
 * as a whole document, as `Records`, and as one record among good ones. Whatever the input:
 * nothing throws, a bad file or record is reported with its source (and index), and the good
 * input read beside it, or around it in the same document, is never lost. The ingest handler
 * acknowledges bad data (logged) and never reports it as a batch item failure.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, type GetObjectCommandInput, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ReadResult, readInputs } from '../../engine/read.ts';
import type { CloudTrailRecord } from '../../engine/types.ts';
import { decodeChunk, SessionBuffer } from '../../lambdas/buffer.ts';
import { createIngestHandler } from '../../lambdas/ingest.ts';
import { MemoryLogger } from '../../lambdas/log.ts';
import { pushTo } from '../../engine/arrays.ts';
import { consoleRecord, s3Message, sqsEvent, trailKey, userArn } from '../pipeline/helpers.ts';

const SEED = 20260302;
const MINUTE = 60_000;
const T0 = Date.parse('2026-03-02T09:00:00Z');

let tick = 0;
const alice = (id: string): CloudTrailRecord =>
  consoleRecord({
    user: 'alice',
    accessKeyId: 'ASIAALICE0000000001',
    time: T0 + ++tick * 1000,
    signedInAt: T0,
    id,
  });

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Any JSON value, with strings of any code point (quotes, backslashes, brackets, emoji…). */
const anyJson = fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' });

/** Cuts `bytes` at the given offsets (S3 bodies arrive in chunks of any size, 1 byte included). */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const offsets = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let at = 0;
  for (const offset of offsets) {
    if (offset > at) parts.push(bytes.subarray(at, offset));
    at = offset;
  }
  if (at < bytes.length || parts.length === 0) parts.push(bytes.subarray(at));
  return parts;
}

/** A valid log document, then truncated and/or with some bytes overwritten. */
const mutatedLog = fc
  .record({
    gzipped: fc.boolean(),
    cut: fc.option(fc.nat(), { nil: undefined }),
    writes: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
  })
  .map(({ gzipped, cut, writes }) => {
    const text = Buffer.from(JSON.stringify({ Records: [alice('m-1'), alice('m-2'), alice('m-3')] }));
    const bytes = Buffer.from(gzipped ? gzipSync(text) : text);
    for (const [at, value] of writes) bytes[at % bytes.length] = value;
    return cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
  });

const anyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)),
  mutatedLog,
  fc.json({ maxDepth: 3, stringUnit: 'binary' }).map((text) => Buffer.from(text)),
);

const agents = [
  'Mozilla/5.0 (X11; Linux x86_64) Chrome/122.0',
  'aws-cli/2.15.30 Python/3.11.8',
  'AWS Internal',
  'signin.amazonaws.com',
  'aws-sdk-js/3.500.0',
];
const someString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', 'true', 'ASIAFUZZ0000001'),
);
/** Usually `good`, sometimes any JSON value: `odds` to 1 (so fields are mostly right, sometimes of any type). */
const maybe = <T>(good: fc.Arbitrary<T>, odds: number) =>
  fc.oneof({ arbitrary: good, weight: odds }, { arbitrary: anyJson, weight: 1 });

/** A userIdentity: usually shaped like CloudTrail's, each part of any type at `odds` to 1 against. */
const identity = (odds: number) =>
  fc.oneof(
    { arbitrary: anyJson, weight: 1 },
    {
      weight: odds + 1,
      arbitrary: fc.record(
        {
          type: maybe(fc.constantFrom('IAMUser', 'AssumedRole', 'Root'), odds),
          arn: maybe(fc.constantFrom(userArn('fuzz'), ''), odds),
          accessKeyId: maybe(fc.constantFrom('ASIAFUZZ0000001', 'AKIAFUZZ0000001'), odds),
          userName: maybe(someString, odds),
          principalId: maybe(someString, odds),
          accountId: maybe(fc.constantFrom('111122223333'), odds),
          invokedBy: maybe(fc.constantFrom('cloudtrail.amazonaws.com'), odds),
          sessionContext: maybe(
            fc.record(
              {
                sessionIssuer: maybe(
                  fc.record(
                    {
                      arn: maybe(someString, odds),
                      type: maybe(fc.constantFrom('Role', 'IAMUser'), odds),
                      userName: maybe(someString, odds),
                      principalId: maybe(someString, odds),
                      accountId: maybe(fc.constantFrom('111122223333'), odds),
                    },
                    { requiredKeys: [] },
                  ),
                  odds,
                ),
                attributes: maybe(
                  fc.record({
                    creationDate: maybe(fc.constant('2026-03-02T08:59:00Z'), odds),
                    mfaAuthenticated: anyJson,
                  }),
                  odds,
                ),
              },
              { requiredKeys: [] },
            ),
            odds,
          ),
        },
        { requiredKeys: [] },
      ),
    },
  );

/**
 * A record with every field CloudTrail has, each sometimes of any type (`odds` to 1 against; the
 * core fields four times less often).
 */
const recordShaped = (odds: number) =>
  fc
    .record(
      {
        eventID: maybe(fc.uuid(), 4 * odds),
        eventTime: maybe(
          fc.oneof(
            {
              arbitrary: fc.constantFrom('2026-03-02T09:00:00Z', '2026-03-02T09:00:00.123Z'),
              weight: 8,
            },
            {
              // Not ISO-8601 UTC, not a real date, before CloudTrail, or in the future.
              arbitrary: fc.constantFrom(
                'NaN',
                '2024-13-45T99:99:99Z',
                '',
                '0',
                'March 7',
                '2026-03-02',
                '2026-03-02T09:00:00.123+01:00',
                '2024-02-30T10:00:00Z',
                '2024-05-01T24:00:00Z',
                '+275760-09-13T00:00:00.000Z',
                '2012-12-31T23:59:59Z',
                '2099-01-01T00:00:00Z',
              ),
              weight: 2,
            },
          ),
          4 * odds,
        ),
        eventSource: maybe(
          fc.constantFrom('iam.amazonaws.com', 'signin.amazonaws.com', 's3.amazonaws.com', ''),
          4 * odds,
        ),
        eventName: maybe(fc.constantFrom('ListUsers', 'ConsoleLogin', 'GetSigninToken', ''), 4 * odds),
        eventType: maybe(fc.constantFrom('AwsApiCall', 'AwsConsoleSignIn', 'AwsServiceEvent'), odds),
        eventCategory: maybe(fc.constantFrom('Management', 'Data', 'Insight'), odds),
        awsRegion: maybe(fc.constantFrom('us-east-1', 'eu-west-3'), odds),
        userIdentity: identity(odds),
        userAgent: maybe(fc.constantFrom(...agents), odds),
        sessionCredentialFromConsole: maybe(fc.constant('true'), odds),
        sourceIPAddress: maybe(fc.constantFrom('198.51.100.7', 'AWS Internal'), odds),
        requestParameters: anyJson,
        responseElements: anyJson,
        errorCode: anyJson,
      },
      { requiredKeys: ['eventID', 'eventTime', 'eventSource', 'eventName', 'userIdentity'] },
    )
    .chain((record) =>
      fc
        .dictionary(fc.string({ unit: 'binary', maxLength: 8 }), anyJson, { maxKeys: 3 })
        .map((extra) => ({ ...extra, ...record }) as Record<string, unknown>),
    )
    .filter((record) => !('CloudTrailEvent' in record));

/** Record-shaped values: noisy ones (mostly refused) and nearly clean ones (mostly read). */
const recordLike = fc.oneof(
  { arbitrary: recordShaped(3), weight: 1 },
  { arbitrary: recordShaped(40), weight: 2 },
);

/** One record's worth of anything: mostly record-shaped, sometimes any JSON value. */
const oneRecord = fc.oneof({ arbitrary: anyJson, weight: 1 }, { arbitrary: recordLike, weight: 3 });

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Absent, null, or text: what a field the engine reads as text may hold. */
const textOrNothing = (value: unknown) => value === undefined || value === null || typeof value === 'string';
/** Absent, null, or a plain object whose `fields` are each absent, null or text. */
const objectOfText = (value: unknown, fields: string[]) =>
  value === undefined ||
  value === null ||
  (isPlainObject(value) && fields.every((field) => textOrNothing(value[field])));

/**
 * Whether an eventTime is one a CloudTrail record can have, per the documented rule (not the
 * product's code): ISO-8601 UTC `YYYY-MM-DDTHH:MM:SS[.fff]Z` naming a real date and time, from
 * 2013-01-01 to a day after `now`.
 */
function plausibleTime(text: string, now: number): boolean {
  const parts = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$/.exec(text);
  if (!parts) return false;
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const real =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60;
  const time = Date.parse(text);
  return real && time >= Date.UTC(2013, 0, 1) && time <= now + 86_400_000;
}

/** An Insights record: skipped (and counted) by both readers, neither an event nor a problem. */
const isInsights = (value: unknown) =>
  isPlainObject(value) && (value.eventCategory === 'Insight' || value.eventType === 'AwsCloudTrailInsight');

/**
 * Whether a record's shape can be read, per the documented rules (not the product's code): the
 * core fields are non-empty strings and eventTime a plausible time (see above); the fields read as
 * text are absent, null or strings; userIdentity, its sessionContext and sessionIssuer are absent,
 * null or objects whose text fields are absent, null or strings.
 */
function readableShape(value: Record<string, unknown>, now: number): boolean {
  const core = ['eventTime', 'eventSource', 'eventName'].every(
    (field) => typeof value[field] === 'string' && value[field] !== '',
  );
  if (!core || !plausibleTime(value.eventTime as string, now)) return false;
  const text = ['eventID', 'awsRegion', 'sourceIPAddress', 'userAgent', 'sessionCredentialFromConsole'];
  if (!text.every((field) => textOrNothing(value[field]))) return false;
  const identityFields = ['type', 'arn', 'accountId', 'accessKeyId', 'userName', 'principalId', 'invokedBy'];
  const who = value.userIdentity;
  if (!objectOfText(who, identityFields)) return false;
  if (!isPlainObject(who)) return true;
  const context = who.sessionContext;
  if (!objectOfText(context, [])) return false;
  if (!isPlainObject(context)) return true;
  return objectOfText(context.sessionIssuer, ['arn', 'userName', 'type', 'principalId', 'accountId']);
}

/** What the reader (its clock: now) must make of the value at one index: null when not predictable here. */
function expectedRecordOutcome(value: unknown): 'event' | 'problem' | 'insight' | null {
  if (!isPlainObject(value)) return 'problem';
  if (typeof value.CloudTrailEvent === 'string') return null;
  if (isInsights(value)) return 'insight';
  return readableShape(value, Date.now()) ? 'event' : 'problem';
}

/** The ingest handler's clock in these tests. */
const INGEST_NOW = T0 + 20 * MINUTE;

/** What ingest must make of one record: it also needs an eventID, and reads CloudTrailEvent as any field. */
function expectedIngestOutcome(value: unknown): 'event' | 'problem' | 'insight' {
  if (!isPlainObject(value)) return 'problem';
  if (isInsights(value)) return 'insight';
  if (typeof value.eventID !== 'string' || value.eventID === '') return 'problem';
  return readableShape(value, INGEST_NOW) ? 'event' : 'problem';
}

/** The records of a JSON document in the shapes the reader documents, or null. */
function documentItems(value: unknown): unknown[] | null {
  if (Array.isArray(value)) return value;
  if (!isPlainObject(value)) return null;
  if (Array.isArray(value.Records)) return value.Records;
  if (Array.isArray(value.Events)) return value.Events;
  if (typeof value.eventName === 'string' || typeof value.CloudTrailEvent === 'string') return [value];
  return null;
}

// ---------------------------------------------------------------------------------------------
// The reader

let dir: string;
let goodFile: string;
const goodIds = ['good-a', 'good-b'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailmap-fuzz-'));
  goodFile = join(dir, 'good.json');
  await writeFile(goodFile, JSON.stringify({ Records: goodIds.map(alice) }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Reads `file` beside the good file and checks what holds for any input. */
async function readBeside(file: string, content: Buffer): Promise<ReadResult> {
  await writeFile(file, content);
  const result = await readInputs([file, goodFile]);
  expect(result.events.filter((e) => e.origin.source === goodFile).map((e) => e.id)).toEqual(goodIds);
  expect(result.sources).toContain(goodFile);
  for (const problem of result.problems) {
    expect(problem.source).toBe(file);
    expect(typeof problem.reason).toBe('string');
    expect(problem.reason.trim()).not.toBe('');
    if (problem.index !== undefined) expect(Number.isInteger(problem.index) && problem.index >= 0).toBe(true);
  }
  const fileProblems = result.problems.filter((p) => p.index === undefined);
  if (result.sources.includes(file)) {
    // Read: any problems are about lines or records.
    expect(fileProblems).toEqual([]);
  } else {
    // Refused: exactly one problem for the whole file, and nothing read from it.
    expect(result.problems).toHaveLength(1);
    expect(fileProblems).toHaveLength(1);
    expect(result.events.filter((e) => e.origin.source === file)).toEqual([]);
  }
  for (const event of result.events) {
    expect(Number.isFinite(event.time)).toBe(true);
    expect(event.id).not.toBe('');
  }
  return result;
}

/**
 * Every index of `items` is either an event or a problem, never both, never neither; but for
 * Insights records, which are neither and are counted instead.
 */
function expectEachIndexAccounted(result: ReadResult, file: string, items: unknown[]): void {
  const eventIndexes = result.events.filter((e) => e.origin.source === file).map((e) => e.origin.index);
  const problemIndexes = result.problems.filter((p) => p.source === file).map((p) => p.index);
  const insights = items.flatMap((item, i) => (expectedRecordOutcome(item) === 'insight' ? [i] : []));
  expect([...eventIndexes, ...problemIndexes].sort((a, b) => a! - b!)).toEqual(
    Array.from({ length: items.length }, (_, i) => i).filter((i) => !insights.includes(i)),
  );
  expect(result.insightsSkipped).toBe(insights.length);
}

describe('readInputs on arbitrary input', () => {
  it('any bytes, plain or gzipped: never throws; the file is read or refused with its name; the good file is read', async () => {
    await fc.assert(
      fc.asyncProperty(anyBytes, fc.boolean(), async (bytes, gzip) => {
        const file = join(dir, gzip ? 'bytes.json.gz' : 'bytes.json');
        const result = await readBeside(file, gzip ? gzipSync(bytes) : bytes);
        // Either something came of it, or it was empty.
        const fromFile =
          result.events.filter((e) => e.origin.source === file).length + result.problems.length;
        if (fromFile === 0) expect(result.sources).toContain(file);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('any JSON value as the whole document: each of its records is an event or a problem with its index', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyJson, fc.array(recordLike, { maxLength: 4 })), async (value) => {
        const file = join(dir, 'document.json');
        const result = await readBeside(file, Buffer.from(JSON.stringify(value)));
        const items = documentItems(value);
        if (items === null) {
          expect(result.sources).not.toContain(file);
          expect(result.problems[0].reason).toMatch(/neither/);
        } else {
          expectEachIndexAccounted(result, file, items);
        }
      }),
      { seed: SEED + 1, numRuns: 300 },
    );
  });

  it('any JSON value as "Records": an array has each element accounted for by index, anything else is a problem', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyJson, fc.array(oneRecord, { maxLength: 5 })), async (value) => {
        const file = join(dir, 'records.json');
        const result = await readBeside(file, Buffer.from(JSON.stringify({ Records: value })));
        if (Array.isArray(value)) {
          expectEachIndexAccounted(result, file, value);
          value.forEach((item, index) => {
            const outcome = expectedRecordOutcome(item);
            if (outcome === 'event')
              expect(result.events.some((e) => e.origin.source === file && e.origin.index === index)).toBe(
                true,
              );
            if (outcome === 'problem') expect(result.problems.some((p) => p.index === index)).toBe(true);
          });
        } else {
          expect(result.sources).not.toContain(file);
          expect(result.problems[0].reason).toMatch(/neither/);
        }
      }),
      { seed: SEED + 2, numRuns: 300 },
    );
  });

  it('any JSON value as one record among good ones: the good records are read, the bad one is a problem at its index', async () => {
    await fc.assert(
      fc.asyncProperty(oneRecord, fc.boolean(), async (value, pretty) => {
        const file = join(dir, 'one-record.json');
        const records = [alice('around-1'), value, alice('around-2')];
        const result = await readBeside(
          file,
          Buffer.from(JSON.stringify({ Records: records }, null, pretty ? 2 : 0)),
        );
        expect(result.sources).toContain(file);
        const fromFile = result.events.filter((e) => e.origin.source === file);
        expect(fromFile.filter((e) => e.origin.index !== 1).map((e) => [e.id, e.origin.index])).toEqual([
          ['around-1', 0],
          ['around-2', 2],
        ]);
        expectEachIndexAccounted(result, file, records);
        const outcome = expectedRecordOutcome(value);
        if (outcome === 'problem') expect(result.problems.map((p) => p.index)).toEqual([1]);
        if (outcome === 'event') {
          const event = fromFile.find((e) => e.origin.index === 1)!;
          expect(event).toBeDefined();
          const id = (value as { eventID?: unknown }).eventID;
          if (typeof id === 'string' && id !== '') expect(event.id).toBe(id);
          else expect(event.id).toMatch(/^synthetic-/);
        }
      }),
      { seed: SEED + 3, numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The ingest handler (S3 and DynamoDB mocked)

describe('ingest handler on arbitrary objects (aws-sdk-client-mock)', () => {
  const region = 'us-east-1';
  const credentials = { accessKeyId: 'TEST', secretAccessKey: 'TEST' };
  const s3 = new S3Client({ region, credentials });
  const ddb = new DynamoDBClient({ region, credentials });
  const s3Mock = mockClient(s3);
  const ddbMock = mockClient(ddb);
  const objects = new Map<string, Buffer[]>();
  const BUCKET = 'trail-fuzz';
  const goodKey = trailKey(T0, 'GoodFuzz00000001');
  const fuzzKey = trailKey(T0, 'Fuzzed0000000001');
  const goodObjectIds = ['s3-good-a', 's3-good-b'];
  const goodBody = gzipSync(JSON.stringify({ Records: goodObjectIds.map(alice) }));

  beforeEach(() => {
    s3Mock.reset();
    ddbMock.reset();
    objects.clear();
    s3Mock.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
      const parts = objects.get(input.Key!);
      if (!parts) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
      return { Body: Readable.from(parts) };
    });
    ddbMock.on(BatchWriteItemCommand).resolves({ UnprocessedItems: {} });
  });

  /** Delivers the good object and `body` (cut into parts at `cuts`) in one SQS batch. */
  async function ingest(body: Buffer, cuts: number[]) {
    ddbMock.resetHistory();
    objects.set(goodKey, [goodBody]);
    objects.set(fuzzKey, chunked(body, cuts));
    const logger = new MemoryLogger();
    const handler = createIngestHandler({
      s3,
      buffer: new SessionBuffer(ddb, {
        tableName: 'buffer',
        dueShards: 4,
        sleep: async () => {},
        now: () => T0,
      }),
      config: { maxObjectBytes: 1 << 20, settleDelayMs: 15 * MINUTE, bufferTtlMs: 7 * 86_400_000 },
      logger,
      now: () => INGEST_NOW,
    });
    const response = await handler(
      sqsEvent([
        s3Message('good', BUCKET, goodKey, goodBody.length),
        s3Message('fuzz', BUCKET, fuzzKey, body.length),
      ]),
    );
    // Bad data is acknowledged, never retried.
    expect(response.batchItemFailures).toEqual([]);
    const written = new Map<string, string[]>();
    for (const call of ddbMock.commandCalls(BatchWriteItemCommand)) {
      const input: BatchWriteItemCommandInput = call.args[0].input;
      for (const request of Object.values(input.RequestItems ?? {}).flat()) {
        const item = request.PutRequest!.Item!;
        const ids = decodeChunk(item.data.B!).map((r) => r.eventID as string);
        for (const id of ids) pushTo(written, item.objectKey.S!, id);
      }
    }
    // The good object of the batch is buffered in full.
    expect(written.get(goodKey)).toEqual(goodObjectIds);
    const errors = logger.entries.filter((e) => e.level === 'error');
    for (const error of errors) {
      expect(['object rejected', 'record rejected']).toContain(error.message);
      expect(error.fields.key).toBe(fuzzKey);
      expect(String(error.fields.reason ?? '').trim()).not.toBe('');
      if (error.message === 'record rejected') {
        const index = error.fields.index as number;
        expect(Number.isInteger(index) && index >= 0).toBe(true);
      }
    }
    return { logger, errors, written: written.get(fuzzKey) ?? [] };
  }

  const cuts = fc.array(fc.nat(), { maxLength: 6 });

  it('any bytes, plain or gzipped: no throw, no batch item failure, the good object is buffered', async () => {
    await fc.assert(
      fc.asyncProperty(anyBytes, fc.boolean(), cuts, async (bytes, gzip, at) => {
        await ingest(gzip ? gzipSync(bytes) : bytes, at);
      }),
      { seed: SEED + 4, numRuns: 250 },
    );
  });

  it('any JSON value as the whole object: no throw, no batch item failure, rejected objects say why', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(anyJson, fc.record({ Records: anyJson })),
        fc.boolean(),
        cuts,
        async (value, pretty, at) => {
          const { errors } = await ingest(Buffer.from(JSON.stringify(value, null, pretty ? 2 : 0)), at);
          if (!isPlainObject(value) || !Array.isArray(value.Records)) {
            // Not a log document: the object is rejected, once, with its reason.
            expect(errors.map((e) => e.message)).toEqual(['object rejected']);
          } else {
            // A log document: each refused record is logged once, by its index.
            const records = value.Records;
            expect(errors.map((e) => e.message).filter((m) => m !== 'record rejected')).toEqual([]);
            expect(errors.map((e) => e.fields.index)).toEqual(
              records.flatMap((record, index) =>
                expectedIngestOutcome(record) === 'problem' ? [index] : [],
              ),
            );
          }
        },
      ),
      { seed: SEED + 5, numRuns: 250 },
    );
  });

  it('any JSON value as one record among good console records: they are buffered, a refused one is logged with index 1', async () => {
    await fc.assert(
      fc.asyncProperty(oneRecord, fc.boolean(), fc.boolean(), cuts, async (value, pretty, gzip, at) => {
        const text = JSON.stringify({ Records: [alice('in-1'), value, alice('in-2')] }, null, pretty ? 2 : 0);
        const body = gzip ? gzipSync(text) : Buffer.from(text);
        const { errors, written, logger } = await ingest(body, at);
        expect(errors.filter((e) => e.message === 'object rejected')).toEqual([]);
        const outcome = expectedIngestOutcome(value);
        if (outcome === 'problem') {
          expect(errors.map((e) => [e.message, e.fields.index])).toEqual([['record rejected', 1]]);
          expect(written).toEqual(['in-1', 'in-2']);
        } else if (outcome === 'insight') {
          // Skipped and counted, not refused.
          expect(errors).toEqual([]);
          expect(written).toEqual(['in-1', 'in-2']);
          const skipped = logger.entries.filter((e) => e.message === 'Insights records skipped');
          expect(skipped.map((e) => [e.fields.key, e.fields.count])).toEqual([[fuzzKey, 1]]);
        } else {
          // Read: buffered when it belongs to a console session, beside the good ones.
          expect(errors).toEqual([]);
          const buffered = written.filter((id) => id !== (value as { eventID?: unknown }).eventID);
          expect(buffered).toEqual(['in-1', 'in-2']);
        }
      }),
      { seed: SEED + 6, numRuns: 300 },
    );
  });

  it('any JSON members before "Records" (read whole): the same records are buffered; any member after it: the object is rejected', async () => {
    const member = fc.tuple(
      fc.string({ unit: 'binary', maxLength: 8 }).filter((key) => key !== 'Records'),
      anyJson,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(member, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.boolean(),
        cuts,
        async (members, after, gzip, at) => {
          const records = JSON.stringify([alice('around-a'), alice('around-b')]);
          const extra = members.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`);
          const text = after
            ? `{"Records":${records},${extra.join(',')}}`
            : `{${extra.join(',')},"Records":${records}}`;
          const { errors, written } = await ingest(gzip ? gzipSync(text) : Buffer.from(text), at);
          if (after) {
            expect(errors.map((e) => [e.message, e.fields.reason])).toEqual([
              ['object rejected', 'unexpected content after the Records array'],
            ]);
            expect(written).toEqual([]);
          } else {
            expect(errors).toEqual([]);
            expect(written).toEqual(['around-a', 'around-b']);
          }
        },
      ),
      { seed: SEED + 7, numRuns: 150 },
    );
  });

  it('a valid log is read in full whatever its S3 body chunks: a 1-byte first chunk, 1-byte chunks throughout, plain or gzipped', async () => {
    let n = 0;
    for (const gzip of [true, false]) {
      const ids = [`chunks-${++n}`, `chunks-${++n}`];
      const text = JSON.stringify({ Records: ids.map(alice) });
      const body = gzip ? gzipSync(text) : Buffer.from(text);
      const everyByte = Array.from({ length: body.length }, (_, i) => i + 1);
      for (const at of [[1], [1, 2], [1, 2, 3, 4], [2], [3], [10], [body.length - 1], everyByte]) {
        const parts = chunked(body, at);
        expect(parts[0]).toHaveLength(at[0]);
        expect(Buffer.concat(parts).equals(body)).toBe(true);
        const { errors, written } = await ingest(body, at);
        expect(errors).toEqual([]);
        expect(written).toEqual(ids);
      }
    }
  });
});

/**
 * `ingest` against local S3 (s3rver) and DynamoDB (dynalite) over the real SDK clients: CloudTrail
 * objects built here, announced by S3 notifications in SQS messages, land in the session buffer.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInputs } from '../../engine/read.ts';
import { bufferPartitionOf } from '../../engine/route.ts';
import type { CloudTrailRecord } from '../../engine/types.ts';
import { decodeChunk, SessionBuffer } from '../../lambdas/buffer.ts';
import { createIngestHandler } from '../../lambdas/ingest.ts';
import { type LocalAws, startLocalAws } from '../../lambdas/local/emulators.ts';
import { MemoryLogger } from '../../lambdas/log.ts';
import { SERVICE_EVENTS, VERSIONED_RECORDS } from '../unit/record-shapes.fixtures.ts';
import {
  consoleRecord,
  createBufferTable,
  iso,
  logObject,
  programmaticRecord,
  s3Message,
  scanTable,
  sqsEvent,
  sqsMessage,
  testEventMessage,
  trailKey,
} from './helpers.ts';
import { pushTo } from '../../engine/arrays.ts';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const MINUTE = 60_000;

let aws: LocalAws;
let counter = 0;

beforeAll(async () => {
  aws = await startLocalAws({ buckets: [], tableName: 'ingest-unused' });
});

afterAll(async () => {
  await aws?.close();
});

/** A fresh trail bucket, buffer table and handler for one test. */
async function setup(options: { maxObjectBytes?: number } = {}) {
  counter++;
  const bucket = `trail-ingest-${counter}`;
  const table = `buffer-ingest-${counter}`;
  await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await createBufferTable(aws.ddb, table);
  const logger = new MemoryLogger();
  const clock = { now: T0 + 20 * MINUTE };
  const buffer = new SessionBuffer(aws.ddb, {
    tableName: table,
    dueShards: 4,
    sleep: async () => {},
    now: () => clock.now,
  });
  const handler = createIngestHandler({
    s3: aws.s3,
    buffer,
    config: {
      maxObjectBytes: options.maxObjectBytes ?? 8 * 1024 * 1024,
      settleDelayMs: 15 * MINUTE,
      bufferTtlMs: 7 * 86_400_000,
    },
    logger,
    now: () => clock.now,
  });
  let messages = 0;
  const ctx = {
    bucket,
    table,
    logger,
    buffer,
    clock,
    /** Stores an object in the trail bucket and returns the SQS message announcing it. */
    async put(key: string, body: Buffer, id = `m${++messages}`) {
      await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      return s3Message(id, bucket, key, body.length);
    },
    async ingest(event: SQSEvent) {
      const response = await handler(event);
      return response.batchItemFailures.map((f) => f.itemIdentifier);
    },
    items: () => scanTable(aws.ddb, table),
    errors: (message: string) => logger.entries.filter((e) => e.level === 'error' && e.message === message),
  };
  return ctx;
}

const alice = (time: number, extra: Partial<Parameters<typeof consoleRecord>[0]> = {}) =>
  consoleRecord({ user: 'alice', accessKeyId: 'ASIAALICE0000000001', time, signedInAt: T0, ...extra });
const bob = (time: number) =>
  consoleRecord({ user: 'bob', accessKeyId: 'ASIABOB00000000001', time, signedInAt: T0 });
/** An Insights record as CloudTrail writes it into the trail (no eventSource or eventName of its own). */
const insightRecord = (id: string, state: 'Start' | 'End'): CloudTrailRecord => ({
  eventVersion: '1.08',
  eventTime: iso(T0 + 60_000),
  awsRegion: 'us-east-1',
  eventID: id,
  eventType: 'AwsCloudTrailInsight',
  recipientAccountId: '111122223333',
  sharedEventID: 'c1e4b1c3-5fd7-4a2b-8c61-2a1b9d3e0f11',
  insightDetails: {
    state,
    eventSource: 'iam.amazonaws.com',
    eventName: 'ListUsers',
    insightType: 'ApiCallRateInsight',
    insightContext: {
      statistics: { baseline: { average: 0.01 }, insight: { average: 6 }, insightDuration: 5 },
    },
  },
  eventCategory: 'Insight',
});
/** The buffer partition of a user's console records (the engine's principal key). */
const partitionOf = (user: string) =>
  bufferPartitionOf(consoleRecord({ user, accessKeyId: 'ASIAPARTITION000001', time: T0, signedInAt: T0 }))!;

describe('ingest: console records into the session buffer', () => {
  it('buffers console records under their principal and leaves programmatic ones out (URL-encoded keys, test events, non-JSON messages)', async () => {
    const ctx = await setup();
    const aliceRecords = [alice(T0), alice(T0 + 1000, { eventName: 'GetUser' }), alice(T0 + 2000)];
    const bobRecords = [bob(T0 + 500), bob(T0 + 1500)];
    const programmatic = [
      programmaticRecord({ user: 'ci', accessKeyId: 'AKIACI00000000000001', time: T0 + 100 }),
      programmaticRecord({
        user: 'script',
        accessKeyId: 'ASIASCRIPT000000001',
        time: T0 + 200,
        userAgent: 'aws-sdk-js/3.500.0 ua/2.0 os/linux lang/js',
      }),
    ];
    // A key with a space and a '+': the notification carries 'my+trail%2Bcopy'.
    const key = trailKey(T0 + 5 * MINUTE, 'AbCdEfGh12345678').replace(
      'CloudTrail/us-east-1',
      'CloudTrail/us-east-1/my trail+copy',
    );
    const message = await ctx.put(
      key,
      logObject([
        aliceRecords[0],
        programmatic[0],
        bobRecords[0],
        aliceRecords[1],
        programmatic[1],
        ...bobRecords.slice(1),
        aliceRecords[2],
      ]),
    );
    expect(message.body).toContain('my+trail%2Bcopy');

    const failed = await ctx.ingest(
      sqsEvent([message, testEventMessage('test-event', ctx.bucket), sqsMessage('garbage', 'not json {')]),
    );

    expect(failed).toEqual([]);
    expect(await ctx.buffer.readPartition(partitionOf('alice'))).toEqual([
      { objectKey: key, records: aliceRecords },
    ]);
    expect(await ctx.buffer.readPartition(partitionOf('bob'))).toEqual([
      { objectKey: key, records: bobRecords },
    ]);
    expect(await ctx.buffer.readPartition(partitionOf('ci'))).toEqual([]);
    expect(await ctx.buffer.readPartition(partitionOf('script'))).toEqual([]);
    const partitions = new Set((await ctx.items()).map((item) => item.pk.S));
    expect(partitions).toEqual(new Set([`p#${partitionOf('alice')}`, `p#${partitionOf('bob')}`]));
    // The non-JSON message is logged, not retried; the test event is simply acknowledged.
    const rejected = ctx.errors('message rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0].fields.messageId).toBe('garbage');
    expect(ctx.logger.entries.filter((e) => e.level === 'error')).toHaveLength(1);
    const buffered = ctx.logger.entries.filter((e) => e.message === 'object buffered');
    expect(buffered).toHaveLength(1);
    expect(buffered[0].fields).toMatchObject({ key, records: 7, buffered: 5 });
  });

  it('is idempotent: redelivering an object rewrites the same items with the same content', async () => {
    const ctx = await setup();
    const records = [
      alice(T0),
      bob(T0 + 1000),
      alice(T0 + 2000),
      programmaticRecord({ user: 'ci', accessKeyId: 'AKIACI00000000000001', time: T0 }),
    ];
    const key = trailKey(T0 + 5 * MINUTE, 'Idempotent000001');
    const first = await ctx.put(key, logObject(records), 'first');
    expect(await ctx.ingest(sqsEvent([first]))).toEqual([]);
    const byKey = (items: Awaited<ReturnType<typeof ctx.items>>) =>
      [...items].sort((a, b) => `${a.pk.S}${a.sk.S}`.localeCompare(`${b.pk.S}${b.sk.S}`));
    const before = byKey(await ctx.items());
    expect(before.length).toBeGreaterThanOrEqual(2);

    // Same delivery again (SQS at-least-once): identical items, nothing added.
    expect(await ctx.ingest(sqsEvent([{ ...first, messageId: 'again' }]))).toEqual([]);
    expect(byKey(await ctx.items())).toEqual(before);

    // Redelivered much later: same keys and chunk content (only the due time and TTL move on).
    ctx.clock.now += 3 * 60 * MINUTE;
    expect(await ctx.ingest(sqsEvent([{ ...first, messageId: 'later' }]))).toEqual([]);
    const after = byKey(await ctx.items());
    const content = (items: typeof before) =>
      items.map(({ pk, sk, objectKey, data, eventCount, minTime, maxTime }) => ({
        pk,
        sk,
        objectKey,
        data,
        eventCount,
        minTime,
        maxTime,
      }));
    expect(content(after)).toEqual(content(before));
    expect(after.map((item) => Number(item.dueAt.N))).toEqual(after.map(() => ctx.clock.now));
    expect(await ctx.buffer.readPartition(partitionOf('alice'))).toEqual([
      { objectKey: key, records: [records[0], records[2]] },
    ]);
  });

  it('skips digests, Insights, zero-byte markers and non-log keys with a logged reason, and acknowledges them', async () => {
    const ctx = await setup();
    // Each holds console records, so only the key (or size) can explain why nothing is buffered.
    const body = logObject([alice(T0), bob(T0 + 1000)]);
    const digest = `AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/02/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20260302T100000Z.json.gz`;
    const insight = trailKey(T0, 'Insight000000001').replace('/CloudTrail/', '/CloudTrail-Insight/');
    const marker = `AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/ConfigWritabilityCheckFile`;
    const notes = trailKey(T0, 'NotAJsonGzFile01').replace(/\.json\.gz$/, '.txt');
    const messages = [
      await ctx.put(digest, body, 'digest'),
      await ctx.put(insight, body, 'insight'),
      await ctx.put(marker, Buffer.alloc(0), 'marker'),
      await ctx.put(notes, body, 'notes'),
    ];

    expect(await ctx.ingest(sqsEvent(messages))).toEqual([]);

    expect(await ctx.items()).toEqual([]);
    const skipped = ctx.logger.entries.filter((e) => e.message === 'object skipped');
    expect(skipped.map((e) => e.fields.key).sort()).toEqual([digest, insight, marker, notes].sort());
    const reason = (key: string) => String(skipped.find((e) => e.fields.key === key)?.fields.reason);
    expect(reason(digest)).toMatch(/digest/i);
    expect(reason(insight)).toMatch(/insight/i);
    expect(reason(marker)).toMatch(/zero-byte/i);
    expect(reason(notes)).toMatch(/\.json\.gz/);
    expect(ctx.logger.entries.filter((e) => e.level === 'error')).toEqual([]);
  });

  it('logs each bad object or record with its key and reason, and still buffers the rest of the batch', async () => {
    const ctx = await setup({ maxObjectBytes: 1024 * 1024 });
    const good = [alice(T0), alice(T0 + 1000)];
    const validDocument = logObject([alice(T0 + 2000), bob(T0 + 3000)]);
    const withoutTime = alice(T0 + 4000);
    delete withoutTime.eventTime;
    const withoutId = alice(T0 + 5000);
    delete withoutId.eventID;
    const kept = [
      alice(T0 + 6000, { eventName: 'ListRoles' }),
      alice(T0 + 7000, { eventName: 'ListGroups' }),
    ];
    const huge = bob(T0 + 8000);
    huge.requestParameters = { policyDocument: 'x'.repeat(300 * 1024) };
    const besideHuge = bob(T0 + 9000);
    // Highly compressible: small on the wire, over the 1 MiB limit once decompressed.
    const bomb = logObject(
      Array.from({ length: 400 }, (_, i) =>
        alice(T0 + i, { extra: { requestParameters: { padding: 'a'.repeat(4000) } } }),
      ),
    );
    const keys = {
      good: trailKey(T0, 'Good000000000001'),
      truncated: trailKey(T0, 'Truncated0000001'),
      garbage: trailKey(T0, 'Garbage000000001'),
      fakeGzip: trailKey(T0, 'FakeGzip00000001'),
      notJson: trailKey(T0, 'NotJson000000001'),
      noRecords: trailKey(T0, 'NoRecords0000001'),
      badRecords: trailKey(T0, 'BadRecords000001'),
      huge: trailKey(T0, 'HugeEvent0000001'),
      bomb: trailKey(T0, 'Oversized0000001'),
    };
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const messages = [
      await ctx.put(keys.good, logObject(good)),
      await ctx.put(keys.truncated, validDocument.subarray(0, Math.floor(validDocument.length / 2))),
      await ctx.put(keys.garbage, randomBytes(2048).fill(0x41, 0, 2)),
      await ctx.put(keys.fakeGzip, Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(500)])),
      await ctx.put(keys.notJson, gzipSync('this is not JSON at all')),
      await ctx.put(keys.noRecords, gzipSync(JSON.stringify({ Events: 'nope', records: [] }))),
      await ctx.put(keys.badRecords, logObject([kept[0], withoutTime, withoutId, kept[1]])),
      await ctx.put(keys.huge, logObject([huge, besideHuge])),
      await ctx.put(keys.bomb, bomb),
    ];

    expect(await ctx.ingest(sqsEvent(messages))).toEqual([]);

    const rejected = ctx.errors('object rejected');
    const reasonOf = (key: string) => {
      const entries = rejected.filter((e) => e.fields.key === key);
      expect(entries, key).toHaveLength(1);
      expect(entries[0].fields.bucket).toBe(ctx.bucket);
      return String(entries[0].fields.reason);
    };
    expect(reasonOf(keys.truncated)).toMatch(/gzip/i);
    expect(reasonOf(keys.garbage)).toMatch(/JSON/);
    expect(reasonOf(keys.fakeGzip)).toMatch(/gzip/i);
    expect(reasonOf(keys.notJson)).toMatch(/JSON/);
    expect(reasonOf(keys.noRecords)).toMatch(/Records/);
    expect(reasonOf(keys.bomb)).toMatch(/1048576-byte limit/);
    expect(rejected).toHaveLength(6);

    const recordErrors = ctx.errors('record rejected');
    expect(recordErrors.map((e) => [e.fields.key, e.fields.index])).toEqual(
      expect.arrayContaining([
        [keys.badRecords, 1],
        [keys.badRecords, 2],
        [keys.huge, 0],
      ]),
    );
    expect(recordErrors).toHaveLength(3);
    const recordReason = (key: string, index: number) =>
      String(recordErrors.find((e) => e.fields.key === key && e.fields.index === index)?.fields.reason);
    expect(recordReason(keys.badRecords, 1)).toMatch(/eventTime/);
    expect(recordReason(keys.badRecords, 2)).toMatch(/eventID/);
    expect(recordReason(keys.huge, 0)).toMatch(/\d+ bytes/);

    const byObject = (partition: string) =>
      ctx.buffer
        .readPartition(partition)
        .then((chunks) => new Map(chunks.map((c) => [c.objectKey, c.records])));
    const aliceChunks = await byObject(partitionOf('alice'));
    expect(aliceChunks).toEqual(
      new Map([
        [keys.good, good],
        [keys.badRecords, kept],
      ]),
    );
    expect(await byObject(partitionOf('bob'))).toEqual(new Map([[keys.huge, [besideHuge]]]));
  });

  it('skips Insights records inside an ordinary object: logged and counted, not refused', async () => {
    const ctx = await setup();
    const records = [
      alice(T0),
      insightRecord('insight-start', 'Start'),
      alice(T0 + 1000),
      insightRecord('insight-end', 'End'),
    ];
    const key = trailKey(T0 + 5 * MINUTE, 'WithInsights0001');
    const message = await ctx.put(key, logObject(records));

    expect(await ctx.ingest(sqsEvent([message]))).toEqual([]);

    expect(ctx.logger.entries.filter((e) => e.level === 'error')).toEqual([]);
    const skipped = ctx.logger.entries.filter((e) => e.message === 'Insights records skipped');
    expect(skipped.map((e) => e.fields)).toEqual([{ bucket: ctx.bucket, key, count: 2 }]);
    const buffered = ctx.logger.entries.find((e) => e.message === 'object buffered');
    expect(buffered?.fields).toMatchObject({
      key,
      records: 4,
      insightRecords: 2,
      refusedRecords: 0,
      buffered: 2,
    });
    expect(await ctx.buffer.readPartition(partitionOf('alice'))).toEqual([
      { objectKey: key, records: [records[0], records[2]] },
    ]);
  });

  it('reads records of every eventVersion from 1.04 to 1.11 and service events without a caller, refusing none', async () => {
    const ctx = await setup();
    const shapes = [...VERSIONED_RECORDS, ...SERVICE_EVENTS];
    const key = trailKey(T0, 'RecordShapes0001');
    const message = await ctx.put(key, logObject(shapes));

    expect(await ctx.ingest(sqsEvent([message]))).toEqual([]);

    expect(ctx.logger.entries.filter((e) => e.level === 'error')).toEqual([]);
    const buffered = ctx.logger.entries.find((e) => e.message === 'object buffered');
    expect(buffered?.fields).toMatchObject({
      key,
      records: shapes.length,
      refusedRecords: 0,
      insightRecords: 0,
    });
    // The service events belong to no console session: nothing of them is buffered.
    const stored = (await ctx.items()).flatMap((item) => decodeChunk(item.data.B!)).map((r) => r.eventID);
    for (const record of SERVICE_EVENTS) expect(stored).not.toContain(record.eventID);
  });

  it('refuses records timed before 2013 or more than a day after its clock, as the reader does with the same now', async () => {
    const ctx = await setup();
    const records = [
      alice(T0),
      alice(T0 + 1000, { extra: { eventTime: '2012-12-31T23:59:59Z' } }),
      alice(T0 + 2000, { extra: { eventTime: 'March 7' } }),
      // A day and a minute after the clock: not yet.
      alice(ctx.clock.now + 86_400_000 + 60_000),
      alice(T0 + 3000),
    ];
    const key = trailKey(T0 + 5 * MINUTE, 'BadTimes00000001');
    const message = await ctx.put(key, logObject(records));

    expect(await ctx.ingest(sqsEvent([message]))).toEqual([]);

    const refused = ctx.errors('record rejected').map((e) => [e.fields.key, e.fields.index, e.fields.reason]);
    const dir = await mkdtemp(join(tmpdir(), 'trailmap-ingest-times-'));
    const file = join(dir, 'same.json');
    await writeFile(file, JSON.stringify({ Records: records }));
    const read = await readInputs([file], { now: ctx.clock.now });
    await rm(dir, { recursive: true, force: true });
    expect(refused).toEqual(read.problems.map((p) => [key, p.index, `record ${p.reason}`]));
    expect(refused.map(([, index]) => index)).toEqual([1, 2, 3]);
    expect(String(refused[2][2])).toMatch(/is more than a day after now/);
    expect(await ctx.buffer.readPartition(partitionOf('alice'))).toEqual([
      { objectKey: key, records: [records[0], records[4]] },
    ]);
  });

  it('refuses an object bigger than maxObjectBytes on the wire', async () => {
    const ctx = await setup({ maxObjectBytes: 4096 });
    // Random payload: gzip cannot shrink it, so the compressed object itself is over the limit.
    const big = logObject([
      alice(T0, { extra: { requestParameters: { blob: randomBytes(6000).toString('base64') } } }),
    ]);
    expect(big.length).toBeGreaterThan(4096);
    const small = logObject([bob(T0)]);
    expect(small.length).toBeLessThan(4096);
    const bigKey = trailKey(T0, 'BigOnTheWire0001');
    const smallKey = trailKey(T0, 'SmallObject00001');
    const messages = [await ctx.put(bigKey, big), await ctx.put(smallKey, small)];

    expect(await ctx.ingest(sqsEvent(messages))).toEqual([]);

    const rejected = ctx.errors('object rejected');
    expect(rejected.map((e) => e.fields.key)).toEqual([bigKey]);
    expect(String(rejected[0].fields.reason)).toMatch(/4096-byte limit/);
    expect(await ctx.buffer.readPartition(partitionOf('alice'))).toEqual([]);
    expect(await ctx.buffer.readPartition(partitionOf('bob'))).toHaveLength(1);
  });

  it('writes many small objects of one batch with few BatchWriteItem requests', async () => {
    const ctx = await setup();
    const users = ['alice', 'bob', 'carol'];
    const messages = [];
    const expected = new Map<string, CloudTrailRecord[]>();
    for (let i = 0; i < 60; i++) {
      const user = users[i % users.length];
      const record = consoleRecord({
        user,
        accessKeyId: `ASIA${user.toUpperCase()}KEY0001`,
        time: T0 + i * 1000,
        signedInAt: T0,
      });
      pushTo(expected, user, record);
      messages.push(
        await ctx.put(trailKey(T0 + i * 1000, `Small${String(i).padStart(11, '0')}`), logObject([record])),
      );
    }
    aws.writeRequests.clear();

    expect(await ctx.ingest(sqsEvent(messages))).toEqual([]);

    const items = await ctx.items();
    expect(items).toHaveLength(60);
    const requests = aws.writeRequests.get('BatchWriteItemCommand') ?? 0;
    expect(requests).toBeGreaterThan(0);
    expect(requests).toBeLessThanOrEqual(Math.ceil(items.length / 25));
    expect([...aws.writeRequests.keys()]).toEqual(['BatchWriteItemCommand']);
    for (const user of users) {
      const chunks = await ctx.buffer.readPartition(partitionOf(user));
      const records = chunks
        .flatMap((c) => c.records)
        .sort((a, b) => a.eventTime!.localeCompare(b.eventTime!));
      expect(records).toEqual(expected.get(user));
    }
  });
});

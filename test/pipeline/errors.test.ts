/**
 * Failure paths with aws-sdk-client-mock: what is retried (reported in `batchItemFailures`, or the
 * flush watermark held back) and what is never lost, when S3 or DynamoDB refuse; and configuration
 * errors at cold start.
 */
import { Readable } from 'node:stream';
import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  type PutItemCommandInput,
  QueryCommand,
  type QueryCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectsCommand,
  type DeleteObjectsCommandInput,
  GetObjectCommand,
  type GetObjectCommandInput,
  NoSuchKey,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enrich } from '../../engine/enrich.ts';
import { RuleIndex } from '../../engine/map.ts';
import { toTrailEvent } from '../../engine/read.ts';
import { bufferPartitionOf } from '../../engine/route.ts';
import { loadRules } from '../../engine/rules/load.ts';
import type { CloudTrailRecord } from '../../engine/types.ts';
import { chunkItems, SessionBuffer } from '../../lambdas/buffer.ts';
import { ConfigError, loadConfig } from '../../lambdas/config.ts';
import { flush, SAFETY_MARGIN_MS } from '../../lambdas/flush.ts';
import { createIngestHandler } from '../../lambdas/ingest.ts';
import { type LocalAws, startLocalAws } from '../../lambdas/local/emulators.ts';
import { MemoryLogger } from '../../lambdas/log.ts';
import { MemorySessionLog } from '../../lambdas/session-log.ts';
import {
  consoleRecord,
  createBufferTable,
  type ExampleObject,
  exampleObjects,
  jsonLines,
  logObject,
  offlineRows,
  type Rows,
  canonical,
  s3Message,
  sqsEvent,
  testEventMessage,
  trailKey,
  userArn,
} from './helpers.ts';
import { append, maxOf, pushTo } from '../../engine/arrays.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-02T09:00:00Z');
const TABLE = 'buffer-mocked';
const BUCKET = 'trail-mocked';
const region = 'us-east-1';
const credentials = { accessKeyId: 'TEST', secretAccessKey: 'TEST' };

const body = (bytes: Buffer) => Readable.from([bytes]);

/** Items a BatchWriteItem call carried, by the object key they were read from. */
const objectKeysOf = (input: BatchWriteItemCommandInput, table = TABLE) =>
  new Set((input.RequestItems?.[table] ?? []).map((r) => r.PutRequest!.Item!.objectKey.S!));

describe('ingest with a refusing DynamoDB or S3', () => {
  const s3 = new S3Client({ region, credentials });
  const ddb = new DynamoDBClient({ region, credentials });
  const s3Mock = mockClient(s3);
  const ddbMock = mockClient(ddb);
  let objects: Map<string, Buffer>;
  let logger: MemoryLogger;
  let sleeps: number[];

  beforeEach(() => {
    s3Mock.reset();
    ddbMock.reset();
    objects = new Map();
    logger = new MemoryLogger();
    sleeps = [];
    s3Mock.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
      const bytes = objects.get(input.Key!);
      if (!bytes) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
      return { Body: body(bytes) };
    });
  });

  const handler = () =>
    createIngestHandler({
      s3,
      buffer: new SessionBuffer(ddb, {
        tableName: TABLE,
        dueShards: 4,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        now: () => T0 + 20 * MINUTE,
      }),
      config: { maxObjectBytes: 1 << 24, settleDelayMs: 15 * MINUTE, bufferTtlMs: 7 * 86_400_000 },
      logger,
      now: () => T0 + 20 * MINUTE,
    });

  /** An object with one console record for each of `users` (one chunk per user), and its message. */
  function object(id: string, users: string[]) {
    const key = trailKey(T0 + 5 * MINUTE, `${id.padEnd(16, '0').slice(0, 16)}`);
    const records = users.map((user, i) =>
      consoleRecord({
        user,
        accessKeyId: `ASIA${user.toUpperCase().padEnd(16, 'X')}`,
        time: T0 + i * 1000,
        signedInAt: T0,
      }),
    );
    const bytes = logObject(records);
    objects.set(key, bytes);
    return { key, message: s3Message(id, BUCKET, key, bytes.length) };
  }

  const failedIds = async (event: SQSEvent) =>
    (await handler()(event)).batchItemFailures.map((f) => f.itemIdentifier).sort();

  it('reports the message whose chunks DynamoDB throttled, and acknowledges the one whose write succeeded', async () => {
    // 25 + 1 chunks: the coalescer writes them in two BatchWriteItem requests, the second is throttled.
    const many = object(
      'many',
      Array.from({ length: 25 }, (_, i) => `user${i}`),
    );
    const one = object('one', ['alice']);
    ddbMock
      .on(BatchWriteItemCommand)
      .resolvesOnce({ UnprocessedItems: {} })
      .rejectsOnce(
        new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds', $metadata: {} }),
      );

    const failed = await failedIds(sqsEvent([many.message, one.message]));

    const calls = ddbMock.commandCalls(BatchWriteItemCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0].args[0].input.RequestItems![TABLE]).toHaveLength(25);
    expect(calls[1].args[0].input.RequestItems![TABLE]).toHaveLength(1);
    // The message owning the throttled request is retried; the other one is acknowledged.
    const throttledKeys = objectKeysOf(calls[1].args[0].input);
    const byKey = new Map([
      [many.key, 'many'],
      [one.key, 'one'],
    ]);
    expect(failed).toEqual([...throttledKeys].map((k) => byKey.get(k)).sort());
    expect(failed).toHaveLength(1);

    // Redelivered, with DynamoDB back to normal: stored and acknowledged.
    ddbMock.on(BatchWriteItemCommand).resolves({ UnprocessedItems: {} });
    const retry = failed[0] === 'many' ? many : one;
    expect(await failedIds(sqsEvent([retry.message]))).toEqual([]);
    expect(objectKeysOf(ddbMock.commandCalls(BatchWriteItemCommand)[2].args[0].input)).toEqual(
      new Set([retry.key]),
    );
  });

  it('retries unprocessed items and succeeds when DynamoDB accepts them the second time', async () => {
    const three = object('three', ['alice', 'bob', 'carol']);
    let unprocessed: WriteRequest[] = [];
    ddbMock
      .on(BatchWriteItemCommand)
      .callsFakeOnce((input: BatchWriteItemCommandInput) => {
        unprocessed = input.RequestItems![TABLE].slice(1);
        return { UnprocessedItems: { [TABLE]: unprocessed } };
      })
      .resolves({ UnprocessedItems: {} });

    expect(await failedIds(sqsEvent([three.message]))).toEqual([]);

    const calls = ddbMock.commandCalls(BatchWriteItemCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0].args[0].input.RequestItems![TABLE]).toHaveLength(3);
    expect(calls[1].args[0].input.RequestItems![TABLE]).toEqual(unprocessed);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(0);
  });

  it('reports the message when DynamoDB never accepts its items, after a bounded number of attempts', async () => {
    const stuck = object('stuck', ['alice', 'bob']);
    ddbMock.on(BatchWriteItemCommand).callsFake((input: BatchWriteItemCommandInput) => ({
      UnprocessedItems: { [TABLE]: input.RequestItems![TABLE] },
    }));

    const failed = await failedIds(sqsEvent([stuck.message, testEventMessage('test-event', BUCKET)]));

    expect(failed).toEqual(['stuck']);
    const attempts = ddbMock.commandCalls(BatchWriteItemCommand).length;
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThan(20);
    expect(sleeps).toHaveLength(attempts - 1);
    // Backing off, not hammering.
    expect(sleeps[sleeps.length - 1]).toBeGreaterThan(sleeps[0]);
  });

  it('retries (never acknowledges) a message whose object S3 would not return', async () => {
    ddbMock.on(BatchWriteItemCommand).resolves({ UnprocessedItems: {} });
    const good = object('good', ['alice']);
    const denied = object('denied', ['bob']);
    const internal = object('internal', ['bob']);
    const network = object('network', ['bob']);
    const broken = object('broken', ['bob']);
    const missing = object('missing', ['bob']);
    objects.delete(missing.key);
    const failing = new Map<string, unknown>([
      [
        denied.key,
        new S3ServiceException({
          name: 'AccessDenied',
          message: 'Access Denied',
          $fault: 'client',
          $metadata: { httpStatusCode: 403 },
        }),
      ],
      [
        internal.key,
        new S3ServiceException({
          name: 'InternalError',
          message: 'We encountered an internal error. Please try again.',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
        }),
      ],
      [network.key, Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ]);
    s3Mock.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => {
      if (failing.has(input.Key!)) throw failing.get(input.Key!);
      if (input.Key === broken.key) {
        // The connection drops in the middle of the download.
        const stream = new Readable({ read() {} });
        stream.push(objects.get(broken.key)!.subarray(0, 10));
        setTimeout(() => stream.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })), 5);
        return { Body: stream };
      }
      const bytes = objects.get(input.Key!);
      if (!bytes) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
      return { Body: body(bytes) };
    });
    const messages = [good, denied, internal, network, broken, missing].map((o) => o.message);

    const failed = await failedIds(sqsEvent(messages));

    expect(failed).toEqual(['broken', 'denied', 'internal', 'missing', 'network']);
    // Only the good object reached the buffer; the others are not mistaken for bad objects (logged and dropped).
    const written = ddbMock
      .commandCalls(BatchWriteItemCommand)
      .map((c) => [...objectKeysOf(c.args[0].input)]);
    expect(written.flat()).toEqual([good.key]);
    expect(logger.entries.filter((e) => e.level === 'error')).toEqual([]);

    // A batch where every message fails reports every message as failed (SQS retries them all).
    const all = await handler()(sqsEvent([denied.message, internal.message]));
    expect(all.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [denied.message.messageId, internal.message.messageId].sort(),
    );
  });
});

describe('flush with a refusing S3 or DynamoDB (buffer on dynalite)', () => {
  let aws: LocalAws;
  let rules: RuleIndex;
  let examples: ExampleObject[];
  let counter = 0;

  beforeAll(async () => {
    aws = await startLocalAws({ buckets: [], tableName: 'errors-unused' });
    rules = new RuleIndex(loadRules());
    examples = await exampleObjects();
  });

  afterAll(async () => {
    await aws?.close();
  });

  const recordsWhere = (test: (arn: string) => boolean) =>
    examples.flatMap((o) => o.records).filter((r) => test(r.userIdentity?.arn ?? ''));
  const aliceRecords = () => recordsWhere((arn) => arn === userArn('alice'));
  const alicePartition = () => bufferPartitionOf(aliceRecords()[0])!;
  const bobRecords = () => recordsWhere((arn) => /\/bob@example\.com$/.test(arn));
  const latestOf = (records: CloudTrailRecord[]) => maxOf(records.map((r) => Date.parse(r.eventTime!)));
  const sessionIdOf = (records: CloudTrailRecord[]) => {
    const sessions = enrich(
      records.map((r, i) => toTrailEvent(r, 'x', i)),
      rules,
    ).sessions;
    expect(sessions).toHaveLength(1);
    return sessions[0].summary.id;
  };

  /**
   * A fresh buffer table on dynalite behind a mocked DynamoDB client (every call forwarded, unless a
   * test overrides it), a mocked S3 that stores enriched objects in memory, and a flush on a clock.
   */
  async function setup() {
    counter++;
    const table = `buffer-errors-${counter}`;
    await createBufferTable(aws.ddb, table);
    const ddb = new DynamoDBClient({ region, credentials });
    const ddbMock = mockClient(ddb);
    ddbMock
      .on(GetItemCommand)
      .callsFake((input: GetItemCommandInput) => aws.ddb.send(new GetItemCommand(input)));
    ddbMock
      .on(PutItemCommand)
      .callsFake((input: PutItemCommandInput) => aws.ddb.send(new PutItemCommand(input)));
    ddbMock.on(QueryCommand).callsFake((input: QueryCommandInput) => aws.ddb.send(new QueryCommand(input)));
    ddbMock
      .on(BatchWriteItemCommand)
      .callsFake((input: BatchWriteItemCommandInput) => aws.ddb.send(new BatchWriteItemCommand(input)));
    const s3 = new S3Client({ region, credentials });
    const s3Mock = mockClient(s3);
    const store = new Map<string, Buffer>();
    const putOk = (input: PutObjectCommandInput) => {
      store.set(input.Key!, input.Body as Buffer);
      return {};
    };
    s3Mock.on(PutObjectCommand).callsFake(putOk);
    s3Mock.on(DeleteObjectsCommand).callsFake((input: DeleteObjectsCommandInput) => {
      for (const { Key } of input.Delete!.Objects!) store.delete(Key!);
      return { Deleted: input.Delete!.Objects };
    });
    let clock = 0;
    const buffer = new SessionBuffer(ddb, {
      tableName: table,
      dueShards: 4,
      sleep: async () => {},
      now: () => clock,
    });
    const logger = new MemoryLogger();
    const config = {
      settleDelayMs: 15 * MINUTE,
      bufferTtlMs: 7 * 86_400_000,
      enrichedBucket: 'enriched-mocked',
      enrichedPrefix: 'enriched/',
    };
    return {
      ddbMock,
      s3Mock,
      store,
      putOk,
      buffer,
      logger,
      /** Buffers records as ingest would, arriving at `arrival`. */
      async buffered(
        records: CloudTrailRecord[],
        arrival: number,
        key = trailKey(arrival, 'Buffered00000001'),
      ) {
        clock = arrival;
        const byPartition = new Map<string, CloudTrailRecord[]>();
        for (const r of records) {
          const partition = bufferPartitionOf(r)!;
          pushTo(byPartition, partition, r);
        }
        for (const [partition, list] of byPartition) {
          await buffer.write(
            chunkItems(partition, key, list, {
              arrival,
              settleDelayMs: config.settleDelayMs,
              ttlMs: config.bufferTtlMs,
            }),
          );
        }
      },
      flushAt(time: number) {
        clock = time;
        return flush({
          s3,
          buffer,
          rules,
          config,
          sessionLog: new MemorySessionLog(),
          logger,
          now: () => clock,
        });
      },
      rows(): Rows {
        const rows: Rows = { signals: [], sessions: [], event_signals: [] };
        for (const [key, bytes] of store) {
          const table = key.split('/')[1] as keyof Rows;
          append(rows[table], jsonLines(bytes));
        }
        return canonical(rows);
      },
    };
  }

  it('PutObject failing for one partition: that partition fails and is retried, the others are written', async () => {
    const ctx = await setup();
    const bobId = sessionIdOf(bobRecords());
    const end = latestOf([...aliceRecords(), ...bobRecords()]);
    await ctx.buffered([...aliceRecords(), ...bobRecords()], end + MINUTE);
    ctx.s3Mock.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      if (input.Key!.includes(bobId)) {
        throw new S3ServiceException({
          name: 'InternalError',
          message: 'We encountered an internal error.',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
        });
      }
      return ctx.putOk(input);
    });

    const first = await ctx.flushAt(end + 20 * MINUTE);

    expect(first.partitions).toBe(2);
    expect(first.failedPartitions).toBe(1);
    expect(ctx.rows()).toEqual(offlineRows(aliceRecords(), rules));
    const failures = ctx.logger.entries.filter((e) => e.message === 'partition flush failed');
    expect(failures).toHaveLength(1);
    expect(failures[0].fields.partition).toBe(bufferPartitionOf(bobRecords()[0]));
    expect(String(failures[0].fields.reason)).toMatch(/internal error/);
    // The watermark stays, so the failed partition is found again.
    expect(await ctx.buffer.readWatermark()).toBe(0);

    ctx.s3Mock.on(PutObjectCommand).callsFake(ctx.putOk);
    const aliceKeys = new Set(ctx.store.keys());
    const putsBefore = ctx.s3Mock.commandCalls(PutObjectCommand).length;
    const second = await ctx.flushAt(end + 25 * MINUTE);

    expect(second.failedPartitions).toBe(0);
    expect(second.partitions).toBe(2);
    expect(ctx.rows()).toEqual(offlineRows([...aliceRecords(), ...bobRecords()], rules));
    // Only bob's objects were written this time (alice's are unchanged).
    const puts = ctx.s3Mock.commandCalls(PutObjectCommand).slice(putsBefore);
    expect(puts.length).toBe(second.objectsWritten);
    for (const put of puts) {
      expect(put.args[0].input.Key).toContain(bobId);
      expect(aliceKeys.has(put.args[0].input.Key!)).toBe(false);
    }
    expect(await ctx.buffer.readWatermark()).toBe(end + 25 * MINUTE - SAFETY_MARGIN_MS);
    expect((await ctx.flushAt(end + 30 * MINUTE)).partitions).toBe(0);
  });

  it('a refused state write (ConditionalCheckFailedException) fails the partition; the next run succeeds', async () => {
    const ctx = await setup();
    const end = latestOf(aliceRecords());
    await ctx.buffered(aliceRecords(), end + MINUTE);
    ctx.ddbMock
      .on(PutItemCommand, { Item: { sk: { S: 'state' } } })
      .rejectsOnce(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      )
      .callsFake((input: PutItemCommandInput) => aws.ddb.send(new PutItemCommand(input)));

    const first = await ctx.flushAt(end + 20 * MINUTE);

    expect(first).toMatchObject({ partitions: 1, failedPartitions: 1 });
    const failures = ctx.logger.entries.filter((e) => e.message === 'partition flush failed');
    expect(failures).toHaveLength(1);
    expect(String(failures[0].fields.reason)).toMatch(/conditional request failed/);
    expect(await ctx.buffer.readWatermark()).toBe(0);
    expect(await ctx.buffer.readState(alicePartition())).toEqual({
      written: {},
      logged: {},
      alerted: [],
      starts: {},
    });

    const second = await ctx.flushAt(end + 25 * MINUTE);

    expect(second).toMatchObject({ partitions: 1, failedPartitions: 0 });
    expect(ctx.rows()).toEqual(offlineRows(aliceRecords(), rules));
    const state = await ctx.buffer.readState(alicePartition());
    expect(Object.keys(state.written).length).toBeGreaterThan(0);
    expect(Object.keys(state.written).sort()).toEqual([...ctx.store.keys()].sort());
    expect(await ctx.buffer.readWatermark()).toBe(end + 25 * MINUTE - SAFETY_MARGIN_MS);
  });
});

describe('loadConfig', () => {
  const valid = { BUFFER_TABLE: 'buffer', ENRICHED_BUCKET: 'enriched' };
  const problem = (env: Record<string, string | undefined>) => {
    try {
      loadConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('loadConfig accepted an invalid configuration');
  };

  it('reads a valid environment, with defaults', () => {
    const config = loadConfig({ ...valid, ENRICHED_PREFIX: '/out', SETTLE_DELAY_SECONDS: '600' });
    expect(config).toMatchObject({
      tableName: 'buffer',
      enrichedBucket: 'enriched',
      enrichedPrefix: 'out/',
      settleDelayMs: 600_000,
      sessionsLogGroup: null,
    });
    expect(config.bufferTtlMs).toBeGreaterThanOrEqual(4 * config.settleDelayMs);
  });

  it('names every missing variable', () => {
    const message = problem({});
    expect(message).toContain('BUFFER_TABLE');
    expect(message).toContain('ENRICHED_BUCKET');
    expect(problem({ ENRICHED_BUCKET: 'enriched' })).toMatch(/BUFFER_TABLE is required/);
    expect(problem({ ENRICHED_BUCKET: 'enriched' })).not.toContain('ENRICHED_BUCKET');
  });

  it('names a bad SETTLE_DELAY_SECONDS and shows the value', () => {
    for (const value of ['abc', '1.5', '30', '-900', '999999']) {
      const message = problem({ ...valid, SETTLE_DELAY_SECONDS: value });
      expect(message).toContain('SETTLE_DELAY_SECONDS');
      expect(message).toContain(JSON.stringify(value));
    }
  });

  it('refuses a buffer TTL too short for the settle delay, naming BUFFER_TTL_DAYS', () => {
    const message = problem({ ...valid, SETTLE_DELAY_SECONDS: '86400', BUFFER_TTL_DAYS: '3' });
    expect(message).toContain('BUFFER_TTL_DAYS');
    expect(message).toMatch(/settle/);
    expect(() => loadConfig({ ...valid, SETTLE_DELAY_SECONDS: '86400', BUFFER_TTL_DAYS: '4' })).not.toThrow();
    expect(problem({ ...valid, BUFFER_TTL_DAYS: '0' })).toContain('BUFFER_TTL_DAYS');
  });
});

import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RuleIndex } from '../../engine/map.ts';
import { loadRules } from '../../engine/rules/load.ts';
import { SessionBuffer } from '../../lambdas/buffer.ts';
import { flush } from '../../lambdas/flush.ts';
import { createIngestHandler } from '../../lambdas/ingest.ts';
import { type LocalAws, startLocalAws } from '../../lambdas/local/emulators.ts';
import { MemoryLogger } from '../../lambdas/log.ts';
import { MemorySessionLog } from '../../lambdas/session-log.ts';
import { consoleRecord, listKeys, logObject, s3Message, scanTable, sqsEvent, trailKey } from './helpers.ts';

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws({ buckets: ['trail-ttl', 'enriched-ttl'], tableName: 'buffer-ttl' });
});
afterAll(async () => {
  await aws?.close();
});

it('a session written long ago keeps its enriched objects after its buffered chunks expire (TTL)', async () => {
  const DAY = 86_400_000;
  const MINUTE = 60_000;
  const rules = new RuleIndex(loadRules());
  let clock = 0;
  const buffer = new SessionBuffer(aws.ddb, {
    tableName: 'buffer-ttl',
    dueShards: 4,
    sleep: async () => {},
    now: () => clock,
  });
  const config = {
    maxObjectBytes: 1 << 24,
    settleDelayMs: 15 * MINUTE,
    bufferTtlMs: 7 * DAY,
    enrichedBucket: 'enriched-ttl',
    enrichedPrefix: 'enriched/',
  };
  const logger = new MemoryLogger();
  const ingest = createIngestHandler({ s3: aws.s3, buffer, config, logger, now: () => clock });
  const deps = {
    s3: aws.s3,
    buffer,
    rules,
    config,
    sessionLog: new MemorySessionLog(),
    logger,
    now: () => clock,
  };
  let n = 0;
  // alice works in the console on day 1, day 5 and day 9 (one session each, its own session key).
  const day = async (start: number) => {
    n++;
    const records = [0, 10, 70].map((s) =>
      consoleRecord({
        user: 'alice',
        accessKeyId: `ASIAALICEDAY${n}000001`,
        time: start + s * 1000,
        signedInAt: start,
        eventName: 'ListUsers',
      }),
    );
    const key = trailKey(start + 5 * MINUTE, `AliceDay${n}0000000`);
    const body = logObject(records);
    await aws.s3.send(new PutObjectCommand({ Bucket: 'trail-ttl', Key: key, Body: body }));
    clock = start + 5 * MINUTE;
    expect(
      (await ingest(sqsEvent([s3Message(`d${n}`, 'trail-ttl', key, body.length)]))).batchItemFailures,
    ).toEqual([]);
    clock = start + 30 * MINUTE;
    expect((await flush(deps)).failedPartitions).toBe(0);
  };
  const day1 = Date.parse('2026-03-02T09:00:00Z');
  await day(day1);
  const afterDay1 = await listKeys(aws.s3, 'enriched-ttl', 'enriched/');
  expect(afterDay1.length).toBeGreaterThanOrEqual(2);
  await day(day1 + 4 * DAY);
  // DynamoDB TTL removes the items whose expiresAt has passed (dynalite does not: do it as TTL would).
  const day9 = day1 + 8 * DAY;
  for (const item of await scanTable(aws.ddb, 'buffer-ttl')) {
    if (item.expiresAt && Number(item.expiresAt.N) * 1000 < day9) {
      await aws.ddb.send(
        new DeleteItemCommand({ TableName: 'buffer-ttl', Key: { pk: item.pk, sk: item.sk } }),
      );
    }
  }
  await day(day9);
  const final = await listKeys(aws.s3, 'enriched-ttl', 'enriched/');
  // Day 1's session output is history: it must not disappear because its buffer chunks expired.
  expect(final).toEqual(expect.arrayContaining(afterDay1));
  expect(final).toHaveLength(3 * afterDay1.length);
});

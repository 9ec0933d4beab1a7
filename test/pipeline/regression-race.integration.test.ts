import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RuleIndex } from '../../engine/map.ts';
import { loadRules } from '../../engine/rules/load.ts';
import { SessionBuffer } from '../../lambdas/buffer.ts';
import { flush } from '../../lambdas/flush.ts';
import { createIngestHandler } from '../../lambdas/ingest.ts';
import { type LocalAws, startLocalAws } from '../../lambdas/local/emulators.ts';
import { MemoryLogger } from '../../lambdas/log.ts';
import { MemorySessionLog } from '../../lambdas/session-log.ts';
import { consoleRecord, listKeys, logObject, s3Message, sqsEvent, trailKey } from './helpers.ts';

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws({ buckets: ['trail-race', 'enriched-race'], tableName: 'buffer-race' });
});
afterAll(async () => {
  await aws?.close();
});

it('a late object is flushed even when a flush runs while its SQS batch is still being read', async () => {
  const MINUTE = 60_000;
  const T0 = Date.parse('2026-03-02T09:00:00Z');
  const rules = new RuleIndex(loadRules());
  let clock = T0;
  const buffer = new SessionBuffer(aws.ddb, {
    tableName: 'buffer-race',
    dueShards: 4,
    sleep: async () => {},
    now: () => clock,
  });
  const config = {
    maxObjectBytes: 1 << 24,
    settleDelayMs: 15 * MINUTE,
    bufferTtlMs: 7 * 86_400_000,
    enrichedBucket: 'enriched-race',
    enrichedPrefix: 'enriched/',
  };
  const logger = new MemoryLogger();
  const flushDeps = {
    s3: aws.s3,
    buffer,
    rules,
    config,
    sessionLog: new MemorySessionLog(),
    logger,
    now: () => clock,
  };
  const put = async (key: string, records: ReturnType<typeof consoleRecord>[]) => {
    const body = logObject(records);
    await aws.s3.send(new PutObjectCommand({ Bucket: 'trail-race', Key: key, Body: body }));
    return body.length;
  };
  // carol's session is already buffered and comes due at 09:20: it makes the next flush advance the watermark.
  const carolKey = trailKey(T0 + 5 * MINUTE, 'CarolSession0001');
  const carolSize = await put(carolKey, [
    consoleRecord({
      user: 'carol',
      accessKeyId: 'ASIACAROL000000001',
      time: T0 + 5 * MINUTE,
      signedInAt: T0,
    }),
  ]);
  const ingestCarol = createIngestHandler({ s3: aws.s3, buffer, config, logger, now: () => clock });
  clock = T0 + 6 * MINUTE;
  await ingestCarol(sqsEvent([s3Message('carol', 'trail-race', carolKey, carolSize)]));

  // An SQS batch at 09:40: alice's late object (events at 09:00, settled) is read at once,
  // the other object of the batch is slow to download; a scheduled flush runs meanwhile.
  const aliceKey = trailKey(T0 + 5 * MINUTE, 'AliceLateObject1');
  const aliceSize = await put(aliceKey, [
    consoleRecord({ user: 'alice', accessKeyId: 'ASIAALICE0000000001', time: T0, signedInAt: T0 }),
  ]);
  const slowKey = trailKey(T0 + 35 * MINUTE, 'SlowBigObject001');
  const slowSize = await put(slowKey, [
    consoleRecord({ user: 'bob', accessKeyId: 'ASIABOB00000000001', time: T0 + 30 * MINUTE, signedInAt: T0 }),
  ]);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const slowS3 = {
    send: async (command: GetObjectCommand) => {
      if (command.input.Key === slowKey) await released;
      return aws.s3.send(command);
    },
  } as unknown as S3Client;
  const ingest = createIngestHandler({ s3: slowS3, buffer, config, logger, now: () => clock });
  clock = T0 + 40 * MINUTE;
  const pending = ingest(
    sqsEvent([
      s3Message('alice', 'trail-race', aliceKey, aliceSize),
      s3Message('slow', 'trail-race', slowKey, slowSize),
    ]),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  clock = T0 + 41 * MINUTE;
  const concurrent = await flush(flushDeps);
  expect(concurrent.partitions).toBe(1); // carol
  release();
  expect((await pending).batchItemFailures).toEqual([]);

  // Later flushes: alice's session (settled long ago) must be written.
  for (let minutes = 46; minutes <= 120; minutes += 5) {
    clock = T0 + minutes * MINUTE;
    await flush(flushDeps);
  }
  const keys = await listKeys(aws.s3, 'enriched-race', 'enriched/sessions/');
  expect(keys).toHaveLength(3); // carol, alice, bob
});

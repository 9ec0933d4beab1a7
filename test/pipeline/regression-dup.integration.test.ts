import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SessionBuffer } from '../../lambdas/buffer.ts';
import { createIngestHandler } from '../../lambdas/ingest.ts';
import { type LocalAws, startLocalAws } from '../../lambdas/local/emulators.ts';
import { MemoryLogger } from '../../lambdas/log.ts';
import { bufferPartitionOf } from '../../engine/route.ts';
import { consoleRecord, logObject, s3Message, sqsEvent, trailKey } from './helpers.ts';

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws({ buckets: ['trail-dup'], tableName: 'buffer-dup' });
});
afterAll(async () => {
  await aws?.close();
});

it('a notification delivered twice in the same SQS batch is buffered and both copies are acknowledged', async () => {
  const T0 = Date.parse('2026-03-02T09:00:00Z');
  const buffer = new SessionBuffer(aws.ddb, {
    tableName: 'buffer-dup',
    dueShards: 4,
    sleep: async () => {},
    now: () => T0 + 600_000,
  });
  const handler = createIngestHandler({
    s3: aws.s3,
    buffer,
    config: { maxObjectBytes: 1 << 20, settleDelayMs: 900_000, bufferTtlMs: 7 * 86_400_000 },
    logger: new MemoryLogger(),
    now: () => T0 + 600_000,
  });
  const record = consoleRecord({
    user: 'alice',
    accessKeyId: 'ASIAALICE0000000001',
    time: T0,
    signedInAt: T0,
  });
  const other = consoleRecord({ user: 'bob', accessKeyId: 'ASIABOB00000000001', time: T0, signedInAt: T0 });
  const key = trailKey(T0 + 300_000, 'Duplicate0000001');
  const otherKey = trailKey(T0 + 300_000, 'Unrelated0000001');
  const body = logObject([record]);
  const otherBody = logObject([other]);
  await aws.s3.send(new PutObjectCommand({ Bucket: 'trail-dup', Key: key, Body: body }));
  await aws.s3.send(new PutObjectCommand({ Bucket: 'trail-dup', Key: otherKey, Body: otherBody }));
  // SQS (at-least-once) hands the same S3 notification over twice, in one batch, with an unrelated object.
  const response = await handler(
    sqsEvent([
      s3Message('copy-1', 'trail-dup', key, body.length),
      s3Message('copy-2', 'trail-dup', key, body.length),
      s3Message('unrelated', 'trail-dup', otherKey, otherBody.length),
    ]),
  );
  expect(response.batchItemFailures).toEqual([]);
  expect(await buffer.readPartition(bufferPartitionOf(record)!)).toEqual([
    { objectKey: key, records: [record] },
  ]);
  expect(await buffer.readPartition(bufferPartitionOf(other)!)).toEqual([
    { objectKey: otherKey, records: [other] },
  ]);
});

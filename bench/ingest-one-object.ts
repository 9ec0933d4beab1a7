/**
 * The ingest handler alone on one CloudTrail object from a local file: S3 and DynamoDB are
 * stand-ins that stream the file and accept every write (the AWS wire is not what is measured).
 * Run in its own process so its peak RSS is the handler's, with the bundled detections and GeoIP
 * as in Lambda. Prints one JSON line. `npx tsx bench/ingest-one-object.ts <file.json.gz>`
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { loadDetections } from '../engine/detect.ts';
import { geoIpDatabase } from '../engine/geoip.ts';
import { SessionBuffer } from '../lambdas/buffer.ts';
import { DetectionStateStore } from '../lambdas/detection-state.ts';
import { createIngestHandler } from '../lambdas/ingest.ts';
import { MemoryLogger } from '../lambdas/log.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: ingest-one-object.ts <file.json.gz>');
const size = (await stat(file)).size;
const key = 'AWSLogs/o-bench00001/200000000000/CloudTrail/us-east-1/2026/03/02/big.json.gz';

const s3 = {
  send: async (command: unknown) =>
    command instanceof GetObjectCommand ? { Body: createReadStream(file, { highWaterMark: 1 << 20 }) } : {},
} as unknown as S3Client;
let writeRequests = 0;
const dynamodb = {
  send: async (command: { constructor: { name: string } }) => {
    if (command.constructor.name === 'BatchWriteItemCommand' || command.constructor.name === 'PutItemCommand')
      writeRequests++;
    return command.constructor.name === 'QueryCommand' ? { Items: [] } : { UnprocessedItems: {} };
  },
} as unknown as DynamoDBClient;

const geo = await geoIpDatabase();
const logger = new MemoryLogger();
const handler = createIngestHandler({
  s3,
  buffer: new SessionBuffer(dynamodb, { tableName: 'bench', dueShards: 8 }),
  config: {
    maxObjectBytes: 4 * 1024 * 1024 * 1024,
    settleDelayMs: 900_000,
    bufferTtlMs: 7 * 86_400_000,
    enrichedBucket: 'bench-enriched',
    enrichedPrefix: 'enriched/',
  },
  logger,
  now: Date.now,
  detections: loadDetections(),
  lookup: (address) => geo.lookup(address ?? ''),
  detectionState: new DetectionStateStore(dynamodb, 'bench'),
});
const baseline = process.memoryUsage().rss;
const event = {
  Records: [
    {
      messageId: 'm1',
      receiptHandle: 'r1',
      body: JSON.stringify({
        Records: [
          {
            eventName: 'ObjectCreated:Put',
            s3: { bucket: { name: 'trail' }, object: { key: encodeURIComponent(key), size } },
          },
        ],
      }),
      attributes: {},
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:bench',
      awsRegion: 'us-east-1',
    },
  ],
} as unknown as SQSEvent;
const started = performance.now();
const response = await handler(event);
const wallMs = performance.now() - started;
const buffered = logger.entries.find((e) => e.message === 'object buffered');
process.stdout.write(
  `${JSON.stringify({
    compressedBytes: size,
    wallMs: Math.round(wallMs),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    rssBeforeBytes: baseline,
    failures: response.batchItemFailures.length,
    writeRequests,
    object: buffered ?? logger.entries.filter((e) => e.level === 'error').slice(0, 3),
  })}\n`,
);

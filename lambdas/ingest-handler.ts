/** Lambda entry for `ingest`: clients and configuration built once per cold start. */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SessionBuffer } from './buffer.ts';
import { loadConfig } from './config.ts';
import { createIngestHandler } from './ingest.ts';
import { powertoolsLogger } from './log.ts';

const config = loadConfig();
const logger = powertoolsLogger(new Logger({ serviceName: 'trailmap-ingest' }));

export const handler = createIngestHandler({
  s3: new S3Client({}),
  buffer: new SessionBuffer(new DynamoDBClient({}), {
    tableName: config.tableName,
    dueShards: config.dueShards,
  }),
  config,
  logger,
  now: Date.now,
});

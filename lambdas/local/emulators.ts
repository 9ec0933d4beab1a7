/**
 * Local AWS for `trailmap simulate` and the integration tests: s3rver (S3) and dynalite (DynamoDB)
 * started in-process on 127.0.0.1, spoken to over the real AWS wire protocol by the real SDK clients.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { BUFFER_TABLE } from '../buffer.ts';

export interface LocalAws {
  s3: S3Client;
  ddb: DynamoDBClient;
  /** DynamoDB write requests made through `ddb` so far, by command. */
  writeRequests: Map<string, number>;
  close(): Promise<void>;
}

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export async function startLocalAws(options: { buckets: string[]; tableName: string }): Promise<LocalAws> {
  const directory = await mkdtemp(join(tmpdir(), 'trailmap-s3-'));
  const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port: s3Port } = await s3rver.run();
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
  const dynamoPort = (dynamo.address() as AddressInfo).port;

  const s3 = new S3Client({
    endpoint: `http://127.0.0.1:${s3Port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
  });
  const ddb = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${dynamoPort}`,
    region: 'us-east-1',
    credentials,
  });
  const writeRequests = new Map<string, number>();
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      if (WRITE_COMMANDS.has(command)) writeRequests.set(command, (writeRequests.get(command) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countWriteRequests' },
  );

  for (const bucket of options.buckets) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await ddb.send(new CreateTableCommand({ TableName: options.tableName, ...BUFFER_TABLE }));
  writeRequests.clear();

  return {
    s3,
    ddb,
    writeRequests,
    async close() {
      s3.destroy();
      ddb.destroy();
      await s3rver.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
      await rm(directory, { recursive: true, force: true });
    },
  };
}

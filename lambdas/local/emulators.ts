/**
 * Local AWS for `trailmap simulate` and the integration tests: s3rver (S3) and dynalite (DynamoDB)
 * started in-process on 127.0.0.1, spoken to over the real AWS wire protocol by the real SDK clients.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { BUFFER_TABLE } from '../buffer.ts';

export interface LocalAws {
  s3: S3Client;
  ddb: DynamoDBClient;
  /** DynamoDB write requests made through `ddb` so far, by command. */
  writeRequests: Map<string, number>;
  /** Billable work done through the clients so far (for cost estimates). */
  usage: AwsUsage;
  close(): Promise<void>;
}

export interface AwsUsage {
  dynamoWriteRequests: number;
  /** Write request units: one per started KiB of each item written (DynamoDB's on-demand billing). */
  dynamoWriteUnits: number;
  dynamoWriteBytes: number;
  dynamoReadRequests: number;
  /** Read request units, strongly consistent (one per started 4 KiB read per request): an upper bound. */
  dynamoReadUnits: number;
  s3Puts: number;
  s3PutBytes: number;
  s3Gets: number;
  s3Deletes: number;
}

type Attribute = {
  S?: string;
  N?: string;
  B?: Uint8Array;
  BOOL?: boolean;
  NULL?: boolean;
  L?: Attribute[];
  M?: Record<string, Attribute>;
  SS?: string[];
  NS?: string[];
};

/** DynamoDB's item size: attribute names plus values (strings as UTF-8, binary as bytes). */
export function itemBytes(item: Record<string, Attribute>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) total += Buffer.byteLength(name) + attributeBytes(value);
  return total;
}
function attributeBytes(value: Attribute): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.length / 2) + 1;
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L) return 3 + value.L.reduce((n, v) => n + 1 + attributeBytes(v), 0);
  if (value.M) return 3 + itemBytes(value.M);
  if (value.SS) return value.SS.reduce((n, v) => n + Buffer.byteLength(v), 0);
  if (value.NS) return value.NS.reduce((n, v) => n + v.length, 0);
  return 0;
}

const emptyUsage = (): AwsUsage => ({
  dynamoWriteRequests: 0,
  dynamoWriteUnits: 0,
  dynamoWriteBytes: 0,
  dynamoReadRequests: 0,
  dynamoReadUnits: 0,
  s3Puts: 0,
  s3PutBytes: 0,
  s3Gets: 0,
  s3Deletes: 0,
});

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
  const usage = emptyUsage();
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      if (WRITE_COMMANDS.has(command)) {
        writeRequests.set(command, (writeRequests.get(command) ?? 0) + 1);
        usage.dynamoWriteRequests++;
        const input = args.input as {
          Item?: Record<string, Attribute>;
          RequestItems?: Record<string, { PutRequest?: { Item: Record<string, Attribute> } }[]>;
        };
        const items = [
          ...(input.Item ? [input.Item] : []),
          ...Object.values(input.RequestItems ?? {}).flatMap((requests) =>
            requests.map((r) => r.PutRequest?.Item ?? {}),
          ),
        ];
        for (const item of items) {
          const bytes = itemBytes(item);
          usage.dynamoWriteBytes += bytes;
          usage.dynamoWriteUnits += Math.max(1, Math.ceil(bytes / 1024));
        }
        if (items.length === 0) usage.dynamoWriteUnits++;
        return next(args);
      }
      const result = await next(args);
      const output = result.output as {
        Item?: Record<string, Attribute>;
        Items?: Record<string, Attribute>[];
      };
      const read = [...(output.Item ? [output.Item] : []), ...(output.Items ?? [])];
      usage.dynamoReadRequests++;
      usage.dynamoReadUnits += Math.max(
        1,
        Math.ceil(read.reduce((n, item) => n + itemBytes(item), 0) / 4096),
      );
      return result;
    },
    { step: 'initialize', name: 'countWriteRequests' },
  );
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      if (command === 'PutObjectCommand') {
        usage.s3Puts++;
        const body = (args.input as { Body?: unknown }).Body;
        usage.s3PutBytes +=
          typeof body === 'string' ? Buffer.byteLength(body) : ((body as Uint8Array)?.byteLength ?? 0);
      } else if (command === 'GetObjectCommand') usage.s3Gets++;
      else if (command === 'DeleteObjectsCommand' || command === 'DeleteObjectCommand') usage.s3Deletes++;
      return next(args);
    },
    { step: 'initialize', name: 'countS3Requests' },
  );
  // s3rver acknowledges a PutObject before its file is fully on disk; real S3 reads after write.
  // Each put waits until a separate (unmetered) client reads back exactly the bytes written.
  const reader = new S3Client({
    endpoint: `http://127.0.0.1:${s3Port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
  });
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: string; Key?: string; Body?: unknown };
      let result: Awaited<ReturnType<typeof next>>;
      try {
        result = await next(args);
      } catch (error) {
        // Name the call: an emulator error deep in a long simulation is otherwise anonymous.
        (error as Error).message += ` (${context.commandName} ${input.Bucket ?? ''}/${input.Key ?? ''})`;
        throw error;
      }
      if (context.commandName !== 'PutObjectCommand' || !(input.Body instanceof Uint8Array)) return result;
      const body = Buffer.from(input.Body);
      for (let attempt = 0; attempt < 200; attempt++) {
        const stored = await reader
          .send(new GetObjectCommand({ Bucket: input.Bucket, Key: input.Key }))
          .then(async (o) => Buffer.from(await o.Body!.transformToByteArray()))
          .catch(() => null);
        if (stored?.equals(body)) return result;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error(`s3rver never stored ${input.Key} (emulator problem, not a pipeline failure)`);
    },
    { step: 'initialize', name: 'readAfterWrite' },
  );

  for (const bucket of options.buckets) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await ddb.send(new CreateTableCommand({ TableName: options.tableName, ...BUFFER_TABLE }));
  writeRequests.clear();
  Object.assign(usage, emptyUsage());

  return {
    s3,
    ddb,
    writeRequests,
    usage,
    async close() {
      s3.destroy();
      reader.destroy();
      ddb.destroy();
      await s3rver.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
      await rm(directory, { recursive: true, force: true });
    },
  };
}

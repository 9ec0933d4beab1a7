/**
 * The DynamoDB session buffer.
 *
 * Items (one table, `pk`/`sk`):
 * - chunk `p#<partition>` / `c#<sha256(object key)>#<n>`: gzip JSON of one principal's records from
 *   one object; rewriting an object rewrites the same items, so deliveries are idempotent. Each
 *   chunk carries its place in the due index (`dueShard`, `dueAt`) and a TTL (`expiresAt`).
 * - state `p#<partition>` / `state`: what flush last wrote for the partition (object keys + hashes).
 * - watermark `meta` / `watermark`: the due index is processed up to this time.
 * The due index is a GSI on (`dueShard`, `dueAt`), so flush queries due work and never scans.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type CreateTableCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { CloudTrailRecord } from '../engine/types.ts';
import { maxOf, minOf } from '../engine/arrays.ts';

export const DUE_INDEX = 'due';
/** The buffer table's key schema and due index: one definition for the CDK table and the emulator. */
export const BUFFER_TABLE = {
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: 'dueShard', AttributeType: 'S' },
    { AttributeName: 'dueAt', AttributeType: 'N' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: DUE_INDEX,
      KeySchema: [
        { AttributeName: 'dueShard', KeyType: 'HASH' },
        { AttributeName: 'dueAt', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    },
  ],
} as const satisfies Omit<CreateTableCommandInput, 'TableName'>;
/** TTL attribute (epoch seconds) of every buffer item. */
export const TTL_ATTRIBUTE = 'expiresAt';
/** Chunks stay well under DynamoDB's 400 KB item limit. */
export const MAX_CHUNK_BYTES = 300_000;
const BATCH_LIMIT = 25;
const MAX_BATCH_ATTEMPTS = 8;

export interface BufferedRecords {
  /** S3 key of the object the records came from. */
  objectKey: string;
  records: CloudTrailRecord[];
}

export interface ChunkItem {
  partition: string;
  objectKey: string;
  index: number;
  body: Buffer;
  count: number;
  minTime: number;
  maxTime: number;
  /** When its events have settled; it comes due then, or when written if later (late delivery). */
  settledAt: number;
  expiresAt: number;
}

export interface PartitionState {
  /** Output object key → content hash, as last written. */
  written: Record<string, string>;
  /** Session id → hash of its summary line, as last logged. */
  logged: Record<string, string>;
  /** Signals already counted in the metrics (alarms fire once per signal, not once per re-flush). */
  alerted: string[];
  /** Session id → start time (ms) of the sessions last seen, to tell merged sessions from expired ones. */
  starts: Record<string, number>;
}

export interface BufferOptions {
  tableName: string;
  dueShards: number;
  /** Sleeps between retries of unprocessed batch items (injectable so tests run fast). */
  sleep?: (ms: number) => Promise<void>;
  /** The clock that stamps `dueAt` at write time (injectable for simulated time). @default Date.now */
  now?: () => number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const partitionPk = (partition: string) => `p#${partition}`;

export function shardOf(partition: string, shards: number): string {
  return `due#${parseInt(sha256(partition).slice(0, 8), 16) % shards}`;
}

/** Splits one partition's records into compressed chunks under the item size limit. */
export function chunkRecords(records: CloudTrailRecord[]): { body: Buffer; records: CloudTrailRecord[] }[] {
  if (records.length === 0) return [];
  const body = gzipSync(JSON.stringify(records));
  if (body.length <= MAX_CHUNK_BYTES || records.length === 1) return [{ body, records }];
  const middle = Math.ceil(records.length / 2);
  return [...chunkRecords(records.slice(0, middle)), ...chunkRecords(records.slice(middle))];
}

export function decodeChunk(body: Uint8Array): CloudTrailRecord[] {
  return JSON.parse(gunzipSync(body).toString('utf8')) as CloudTrailRecord[];
}

/** Builds the chunk items of one object for one partition; deterministic for the same records. */
export function chunkItems(
  partition: string,
  objectKey: string,
  records: CloudTrailRecord[],
  timing: { arrival: number; settleDelayMs: number; ttlMs: number },
): ChunkItem[] {
  return chunkRecords(records).map((chunk, index) => {
    const times = chunk.records.map((r) => Date.parse(r.eventTime as string));
    const maxTime = maxOf(times);
    return {
      partition,
      objectKey,
      index,
      body: chunk.body,
      count: chunk.records.length,
      minTime: minOf(times),
      maxTime,
      settledAt: maxTime + timing.settleDelayMs,
      expiresAt: Math.ceil((timing.arrival + timing.ttlMs) / 1000),
    };
  });
}

export class SessionBuffer {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly ddb: DynamoDBClient,
    private readonly options: BufferOptions,
  ) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
  }

  private readonly now: () => number;

  /**
   * The item for a chunk. `dueAt` is stamped at write time, never earlier: a flush that ran while
   * the chunk was being prepared has moved its watermark past the preparation time, and a chunk
   * stamped before that watermark would never be found.
   */
  private toItem(chunk: ChunkItem): Record<string, AttributeValue> {
    return {
      pk: { S: partitionPk(chunk.partition) },
      sk: { S: `c#${sha256(chunk.objectKey)}#${String(chunk.index).padStart(4, '0')}` },
      objectKey: { S: chunk.objectKey },
      data: { B: chunk.body },
      eventCount: { N: String(chunk.count) },
      minTime: { N: String(chunk.minTime) },
      maxTime: { N: String(chunk.maxTime) },
      dueShard: { S: shardOf(chunk.partition, this.options.dueShards) },
      dueAt: { N: String(Math.max(chunk.settledAt, this.now())) },
      expiresAt: { N: String(chunk.expiresAt) },
    };
  }

  /** Stores chunks with batched writes; throws if DynamoDB keeps refusing some (the caller retries). */
  async write(chunks: ChunkItem[]): Promise<void> {
    for (let start = 0; start < chunks.length; start += BATCH_LIMIT) {
      let pending: WriteRequest[] = chunks
        .slice(start, start + BATCH_LIMIT)
        .map((chunk) => ({ PutRequest: { Item: this.toItem(chunk) } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= MAX_BATCH_ATTEMPTS) {
          throw new Error(`DynamoDB left ${pending.length} buffer items unwritten after ${attempt} attempts`);
        }
        if (attempt > 0) await this.sleep(Math.min(2000, 50 * 2 ** attempt));
        const result = await this.ddb.send(
          new BatchWriteItemCommand({ RequestItems: { [this.options.tableName]: pending } }),
        );
        pending = result.UnprocessedItems?.[this.options.tableName] ?? [];
      }
    }
  }

  /** Partitions with chunks that came due in (after, until], from every shard of the due index. */
  async duePartitions(after: number, until: number): Promise<Map<string, number>> {
    const due = new Map<string, number>();
    for (let shard = 0; shard < this.options.dueShards; shard++) {
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await this.ddb.send(
          new QueryCommand({
            TableName: this.options.tableName,
            IndexName: DUE_INDEX,
            KeyConditionExpression: 'dueShard = :shard AND dueAt BETWEEN :after AND :until',
            ExpressionAttributeValues: {
              ':shard': { S: `due#${shard}` },
              ':after': { N: String(after + 1) },
              ':until': { N: String(until) },
            },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          const partition = item.pk.S!.slice(2);
          const dueAt = Number(item.dueAt.N);
          due.set(partition, Math.min(dueAt, due.get(partition) ?? dueAt));
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return due;
  }

  /** Every buffered record of a partition, with the object it came from. */
  async readPartition(partition: string): Promise<BufferedRecords[]> {
    const chunks: BufferedRecords[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.ddb.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :chunk)',
          ExpressionAttributeValues: { ':pk': { S: partitionPk(partition) }, ':chunk': { S: 'c#' } },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        chunks.push({ objectKey: item.objectKey.S!, records: decodeChunk(item.data.B!) });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return chunks;
  }

  async readState(partition: string): Promise<PartitionState> {
    const result = await this.ddb.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: { pk: { S: partitionPk(partition) }, sk: { S: 'state' } },
        ConsistentRead: true,
      }),
    );
    const body = result.Item?.state?.S;
    if (!body) return { written: {}, logged: {}, alerted: [], starts: {} };
    const parsed = JSON.parse(body) as Partial<PartitionState>;
    return {
      written: parsed.written ?? {},
      logged: parsed.logged ?? {},
      alerted: parsed.alerted ?? [],
      starts: parsed.starts ?? {},
    };
  }

  async writeState(partition: string, state: PartitionState, expiresAt: number): Promise<void> {
    await this.ddb.send(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: {
          pk: { S: partitionPk(partition) },
          sk: { S: 'state' },
          state: { S: JSON.stringify(state) },
          expiresAt: { N: String(expiresAt) },
        },
      }),
    );
  }

  async readWatermark(): Promise<number> {
    const result = await this.ddb.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: { pk: { S: 'meta' }, sk: { S: 'watermark' } },
        ConsistentRead: true,
      }),
    );
    return Number(result.Item?.at?.N ?? 0);
  }

  async writeWatermark(at: number): Promise<void> {
    await this.ddb.send(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: { pk: { S: 'meta' }, sk: { S: 'watermark' }, at: { N: String(at) } },
      }),
    );
  }
}

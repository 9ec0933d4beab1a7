/**
 * Shared fixtures of the pipeline tests: CloudTrail records and log objects built in the test,
 * S3 notifications wrapped in SQS messages as the event source mapping delivers them, and readers
 * for the enriched prefix.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  CreateTableCommand,
  type DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { enrich } from '../../engine/enrich.ts';
import type { RuleIndex } from '../../engine/map.ts';
import { readInputs, toTrailEvent } from '../../engine/read.ts';
import { datasetRows } from '../../engine/tables.ts';
import type { CloudTrailRecord } from '../../engine/types.ts';
import { BUFFER_TABLE } from '../../lambdas/buffer.ts';
import { append, pushTo } from '../../engine/arrays.ts';

export const ACCOUNT = '111122223333';
/** The shipped example trail (TRAILMAP_EXAMPLE_TRAIL points the tests at another copy of it). */
export const EXAMPLE_TRAIL =
  process.env.TRAILMAP_EXAMPLE_TRAIL ?? fileURLToPath(new URL('../../examples/trail', import.meta.url));

export const iso = (time: number) => new Date(time).toISOString().replace('.000Z', 'Z');

export const gz = (document: unknown): Buffer => gzipSync(JSON.stringify(document));
export const logObject = (records: unknown[]): Buffer => gz({ Records: records });

/** A CloudTrail object key as CloudTrail names it (delivery time in the name). */
export function trailKey(delivered: number, suffix: string, region = 'us-east-1'): string {
  const d = new Date(delivered).toISOString();
  const day = d.slice(0, 10).replaceAll('-', '/');
  const stamp = `${d.slice(0, 4)}${d.slice(5, 7)}${d.slice(8, 10)}T${d.slice(11, 13)}${d.slice(14, 16)}Z`;
  return `AWSLogs/${ACCOUNT}/CloudTrail/${region}/${day}/${ACCOUNT}_CloudTrail_${region}_${stamp}_${suffix}.json.gz`;
}

export const userArn = (user: string) => `arn:aws:iam::${ACCOUNT}:user/${user}`;

let sequence = 0;
/** A unique eventID (the tests never depend on its value). */
export const eventId = (label: string) => `${label}-${(++sequence).toString().padStart(6, '0')}`;

/** The userIdentity of IAM user `user` calling with `accessKeyId`. */
function iamUser(user: string, accessKeyId: string | undefined) {
  return {
    type: 'IAMUser',
    principalId: `AIDA${user.toUpperCase()}`,
    arn: userArn(user),
    accountId: ACCOUNT,
    accessKeyId,
    userName: user,
  };
}

/** A call made with console credentials (eventVersion 1.08: `sessionCredentialFromConsole`). */
export function consoleRecord(options: {
  user: string;
  accessKeyId: string;
  time: number;
  /** When the console session signed in: its creationDate, the same on every call of the session. */
  signedInAt: number;
  eventName?: string;
  eventSource?: string;
  id?: string;
  extra?: Record<string, unknown>;
}): CloudTrailRecord {
  return {
    eventVersion: '1.08',
    userIdentity: {
      ...iamUser(options.user, options.accessKeyId),
      sessionContext: { attributes: { creationDate: iso(options.signedInAt), mfaAuthenticated: 'true' } },
    },
    eventTime: iso(options.time),
    eventSource: options.eventSource ?? 'iam.amazonaws.com',
    eventName: options.eventName ?? 'ListUsers',
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.10',
    userAgent:
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0 Safari/537.36',
    requestParameters: null,
    responseElements: null,
    requestID: options.id ?? eventId('req'),
    eventID: options.id ?? eventId('console'),
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    sessionCredentialFromConsole: 'true',
    ...options.extra,
  };
}

/** A call from a CLI or SDK (long-term or temporary keys): not part of any console session. */
export function programmaticRecord(options: {
  user: string;
  accessKeyId: string;
  time: number;
  userAgent?: string;
  eventName?: string;
}): CloudTrailRecord {
  return {
    eventVersion: '1.08',
    userIdentity: iamUser(options.user, options.accessKeyId),
    eventTime: iso(options.time),
    eventSource: 's3.amazonaws.com',
    eventName: options.eventName ?? 'ListBuckets',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.200',
    userAgent: options.userAgent ?? 'aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22',
    requestParameters: null,
    responseElements: null,
    eventID: eventId('programmatic'),
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
  };
}

/** How S3 writes a key into an event notification: URL-encoded, '+' for spaces. */
export const notificationKey = (key: string) =>
  encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');

export function sqsMessage(id: string, body: string): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `handle-${id}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'AIDAS3',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:111122223333:trailmap-ingest',
    awsRegion: 'us-east-1',
  };
}

/** An SQS message carrying one S3 ObjectCreated notification. */
export function s3Message(id: string, bucket: string, key: string, size: number): SQSRecord {
  return sqsMessage(
    id,
    JSON.stringify({
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventTime: '2026-03-02T09:10:00.000Z',
          eventName: 'ObjectCreated:Put',
          s3: {
            s3SchemaVersion: '1.0',
            bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
            object: { key: notificationKey(key), size, sequencer: randomBytes(8).toString('hex') },
          },
        },
      ],
    }),
  );
}

/** The message S3 sends when a notification configuration is created. */
export const testEventMessage = (id: string, bucket: string) =>
  sqsMessage(
    id,
    JSON.stringify({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: '2026-03-02T09:00:00.000Z',
      Bucket: bucket,
      RequestId: 'X',
      HostId: 'Y',
    }),
  );

export const sqsEvent = (records: SQSRecord[]): SQSEvent => ({ Records: records });

export async function createBufferTable(ddb: DynamoDBClient, tableName: string): Promise<void> {
  await ddb.send(new CreateTableCommand({ TableName: tableName, ...BUFFER_TABLE }));
}

/** Every item of a table (for checking what was written, byte for byte). */
export async function scanTable(
  ddb: DynamoDBClient,
  tableName: string,
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    append(items, page.Items ?? []);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

export async function listKeys(s3: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    append(
      keys,
      (page.Contents ?? []).map((c) => c.Key!),
    );
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

export const jsonLines = (gzipped: Buffer): Record<string, unknown>[] =>
  gunzipSync(gzipped)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

export type Rows = Record<'signals' | 'sessions' | 'event_signals', Record<string, unknown>[]>;
const TABLE_NAMES = ['signals', 'sessions', 'event_signals'] as const;

const rowKey = (row: Record<string, unknown>) => JSON.stringify(row);
/** Rows in a canonical order, so two row sets compare as sets. */
export const canonical = (rows: Rows): Rows => ({
  signals: [...rows.signals].sort((a, b) => rowKey(a).localeCompare(rowKey(b))),
  sessions: [...rows.sessions].sort((a, b) => rowKey(a).localeCompare(rowKey(b))),
  event_signals: [...rows.event_signals].sort((a, b) => rowKey(a).localeCompare(rowKey(b))),
});

/** Every row under an enriched prefix, by table, plus the object keys they came from. */
export async function readDataset(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ keys: string[]; rows: Rows; bodies: Map<string, Buffer> }> {
  const keys = await listKeys(s3, bucket, prefix);
  const rows: Rows = { signals: [], sessions: [], event_signals: [] };
  const bodies = new Map<string, Buffer>();
  for (const key of keys) {
    const table = TABLE_NAMES.find((t) => key.startsWith(`${prefix}${t}/`));
    if (!table) throw new Error(`unexpected object ${key}`);
    const body = await getBytes(s3, bucket, key);
    bodies.set(key, body);
    append(rows[table], jsonLines(body));
  }
  return { keys, rows: canonical(rows), bodies };
}

/**
 * What `trailmap enrich` writes for the same records, restricted to console sessions (the cloud
 * pipeline writes session output; programmatic calls stay in the raw trail).
 */
export function offlineRows(records: CloudTrailRecord[], rules: RuleIndex, sessionIds?: Set<string>): Rows {
  const result = enrich(
    records.map((record, i) => toTrailEvent(record, 'offline', i)),
    rules,
  );
  const rows = datasetRows(result.sessions, result.events) as unknown as Rows;
  const keep = (id: unknown) => id !== null && (!sessionIds || sessionIds.has(id as string));
  return canonical({
    signals: rows.signals.filter((r) => keep(r.session_id)),
    sessions: rows.sessions.filter((r) => keep(r.id)),
    event_signals: rows.event_signals.filter((r) => keep(r.session_id)),
  });
}

export interface ExampleObject {
  key: string;
  records: CloudTrailRecord[];
}

/** The shipped example trail's log objects (digest aside), as records per object key. */
export async function exampleObjects(): Promise<ExampleObject[]> {
  const read = await readInputs([EXAMPLE_TRAIL]);
  if (read.problems.length > 0) throw new Error(`example trail unreadable: ${JSON.stringify(read.problems)}`);
  const byKey = new Map<string, CloudTrailRecord[]>();
  for (const event of read.events) {
    const key = event.origin.source.slice(EXAMPLE_TRAIL.length).replace(/^\/+/, '');
    pushTo(byKey, key, event.record);
  }
  return [...byKey.entries()].map(([key, records]) => ({ key, records }));
}

/** Delivery time CloudTrail encodes in an object name. */
export function deliveryTimeOf(key: string): number {
  const m = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_/.exec(key);
  if (!m) throw new Error(`no delivery time in ${key}`);
  return Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00Z`);
}

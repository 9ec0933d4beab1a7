/**
 * Drives the real `ingest` and `flush` handlers against the local emulators on a simulated clock,
 * the way bin/simulate.ts does, but with the delivery plan, batching and injected faults of a
 * property-test scenario; then reads back what the enriched prefix holds.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { RuleIndex } from '../../engine/map.ts';
import { BUFFER_TABLE, SessionBuffer } from '../../lambdas/buffer.ts';
import { flush, SAFETY_MARGIN_MS } from '../../lambdas/flush.ts';
import { createIngestHandler } from '../../lambdas/ingest.ts';
import type { LocalAws } from '../../lambdas/local/emulators.ts';
import { MemoryLogger } from '../../lambdas/log.ts';
import { MemorySessionLog } from '../../lambdas/session-log.ts';
import { describeFault, type Fault, type Plan } from './scenario.ts';
import { append, minOf } from '../../engine/arrays.ts';

export const FLUSH_EVERY_MS = 5 * 60_000;
/** SQS visibility timeout: a failed message comes back this long after the failed attempt. */
export const REDELIVERY_MS = 5 * 60_000;
/** About eight simulated hours: a run that has not settled by then never will. */
const MAX_ROUNDS = 100;
const PREFIX = 'enriched/';

type FaultPhase = 'setup' | 'ingest' | 'flush' | 'check';

/** Fails chosen calls of the emulator-backed clients; one injector serves the whole test file. */
export class FaultInjector {
  phase: FaultPhase = 'setup';
  clock = 0;
  private faults: Fault[] = [];
  private readonly calls = new Map<string, number>();
  /** Where fired faults and real service errors are reported, with the simulated time. */
  private note: (line: string) => void = () => {};

  arm(faults: Fault[], note: (line: string) => void): void {
    this.faults = faults;
    this.calls.clear();
    this.note = note;
    this.phase = 'setup';
  }

  private time(): string {
    return new Date(this.clock).toISOString().slice(11, 16);
  }

  /** Which armed fault (if any) this call triggers. */
  private hit(command: string): Fault | null {
    if (this.phase !== 'ingest' && this.phase !== 'flush') return null;
    const counter = `${this.phase}|${command}`;
    const n = (this.calls.get(counter) ?? 0) + 1;
    this.calls.set(counter, n);
    const fault = this.faults.find((f) => f.phase === this.phase && f.command === command && f.nth === n);
    if (fault) this.note(`${this.time()} FAULT ${describeFault(fault)}`);
    return fault ?? null;
  }

  private wrap<A, R extends { output: unknown }>(next: (args: A) => Promise<R>, command: string) {
    return async (args: A): Promise<R> => {
      const fault = this.hit(command);
      if (fault?.when === 'before') throw new Error(`injected fault: ${describeFault(fault)}`);
      let result: R;
      try {
        result = await next(args);
      } catch (error) {
        this.note(`${this.time()} ${command} refused by the emulator: ${(error as Error).message}`);
        throw error;
      }
      if (fault?.when === 'after') {
        // Free the connection of a response nobody will read.
        (result.output as { Body?: { destroy?: () => void } }).Body?.destroy?.();
        throw new Error(`injected fault: ${describeFault(fault)}`);
      }
      return result;
    };
  }

  install(aws: LocalAws): void {
    const options = { step: 'initialize', name: 'propertyFaults' } as const;
    aws.s3.middlewareStack.add((next, context) => this.wrap(next, context.commandName ?? ''), options);
    aws.ddb.middlewareStack.add((next, context) => this.wrap(next, context.commandName ?? ''), options);
  }
}

export interface RunNames {
  trailBucket: string;
  enrichedBucket: string;
  table: string;
}

export interface WrittenRow {
  key: string;
  row: Record<string, unknown>;
}

export interface RunOutcome {
  rounds: number;
  /** Table → rows (with the object each came from), parsed from every object under the prefix. */
  rows: Record<string, WrittenRow[]>;
  unexpectedKeys: string[];
  /** Readable log of the run: faults fired, messages failed, flush failures. */
  trace: string[];
}

interface Delivery {
  objectIndex: number;
  key: string;
  size: number;
  at: number;
  messageId: string;
  receiveCount: number;
}

/** The SQS message of an S3 ObjectCreated notification, as the event source mapping hands it over. */
function notification(trailBucket: string, d: Delivery): SQSRecord {
  const body = {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: {
          bucket: { name: trailBucket },
          object: { key: encodeURIComponent(d.key).replace(/%2F/g, '/'), size: d.size },
        },
      },
    ],
  };
  return {
    messageId: d.messageId,
    receiptHandle: `${d.messageId}#${d.receiveCount}`,
    body: JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(d.receiveCount),
      SentTimestamp: String(d.at),
      SenderId: 's3',
      ApproximateFirstReceiveTimestamp: String(d.at),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:trailmap-ingest',
    awsRegion: 'us-east-1',
  };
}

async function createRunResources(s3: S3Client, ddb: DynamoDBClient, names: RunNames): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: names.trailBucket }));
  await s3.send(new CreateBucketCommand({ Bucket: names.enrichedBucket }));
  await ddb.send(new CreateTableCommand({ TableName: names.table, ...BUFFER_TABLE }));
}

async function readEnriched(s3: S3Client, bucket: string) {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: PREFIX, ContinuationToken: token }),
    );
    append(
      keys,
      (page.Contents ?? []).map((c) => c.Key!),
    );
    token = page.NextContinuationToken;
  } while (token);
  const rows: Record<string, WrittenRow[]> = { signals: [], sessions: [], event_signals: [] };
  const unexpectedKeys: string[] = [];
  for (const key of keys.sort()) {
    const table = /^enriched\/(signals|sessions|event_signals)\/dt=\d{4}-\d{2}-\d{2}\/[^/]+\.jsonl\.gz$/.exec(
      key,
    )?.[1];
    if (!table) {
      unexpectedKeys.push(key);
      continue;
    }
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
    for (const line of text.split('\n').filter(Boolean)) {
      rows[table].push({ key, row: JSON.parse(line) as Record<string, unknown> });
    }
  }
  return { rows, unexpectedKeys };
}

/** The start and the end of a long trace (a message failing again and again makes it long). */
export function trimTrace(trace: string[], max = 40): string[] {
  if (trace.length <= max) return trace;
  return [...trace.slice(0, max - 5), `… ${trace.length - max} more lines …`, ...trace.slice(-5)];
}

function describeTrace(trace: string[]): string {
  const refused = trace.find((line) => / refused by the emulator: /.test(line));
  return refused ? `first error: ${refused.slice(6)}` : 'no call was refused';
}

/** Runs one plan end to end: upload, deliver, ingest, flush until settled, read back. */
export async function runPlan(
  plan: Plan,
  deps: {
    aws: LocalAws;
    faults: FaultInjector;
    rules: RuleIndex;
    names: RunNames;
    settleDelayMs: number;
  },
): Promise<RunOutcome> {
  const { aws, faults, names, settleDelayMs } = deps;
  const trace: string[] = [];
  faults.arm(plan.faults, (line) => trace.push(line));
  await createRunResources(aws.s3, aws.ddb, names);

  const deliveries: Delivery[] = [];
  for (const object of plan.objects) {
    const gz = gzipSync(JSON.stringify({ Records: object.records }));
    await aws.s3.send(new PutObjectCommand({ Bucket: names.trailBucket, Key: object.key, Body: gz }));
    const base = { objectIndex: object.index, key: object.key, size: gz.length, receiveCount: 1 };
    deliveries.push({ ...base, at: object.at, messageId: `m${object.index}` });
    if (object.againAt !== null) {
      deliveries.push({ ...base, at: object.againAt, messageId: `m${object.index}-again` });
    }
  }

  const config = {
    maxObjectBytes: 64 * 1024 * 1024,
    settleDelayMs,
    bufferTtlMs: 7 * 86_400_000,
    enrichedBucket: names.enrichedBucket,
    enrichedPrefix: PREFIX,
  };
  let clock = Math.floor(minOf(deliveries.map((d) => d.at)) / FLUSH_EVERY_MS) * FLUSH_EVERY_MS;
  const buffer = new SessionBuffer(aws.ddb, {
    tableName: names.table,
    dueShards: plan.dueShards,
    sleep: async () => {},
    now: () => clock,
  });
  const logger = new MemoryLogger();
  const sessionLog = new MemorySessionLog();
  const ingest = createIngestHandler({ s3: aws.s3, buffer, config, logger, now: () => clock });
  const hhmm = () => new Date(clock).toISOString().slice(11, 16);

  let pending = [...deliveries];
  let lastArrival = clock;
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    faults.clock = clock;
    const arrived = pending
      .filter((d) => d.at <= clock)
      .sort((a, b) => a.at - b.at || (a.messageId < b.messageId ? -1 : 1));
    pending = pending.filter((d) => d.at > clock);
    if (arrived.length > 0) lastArrival = clock;
    for (let i = 0; i < arrived.length; i += plan.batchSize) {
      const batch = arrived.slice(i, i + plan.batchSize);
      faults.phase = 'ingest';
      let failed: Set<string>;
      try {
        const response: SQSBatchResponse = await ingest({
          Records: batch.map((d) => notification(names.trailBucket, d)),
        } as SQSEvent);
        failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      } catch (error) {
        // The whole batch failed (Powertools throws then): SQS redelivers all of it.
        const first = (error as { recordErrors?: Error[] }).recordErrors?.[0] ?? (error as Error);
        trace.push(`${hhmm()} ingest batch failed as a whole (${first.message.slice(0, 120)})`);
        failed = new Set(batch.map((d) => d.messageId));
      }
      faults.phase = 'setup';
      for (const d of batch) {
        if (!failed.has(d.messageId)) continue;
        trace.push(`${hhmm()} message ${d.messageId} failed, redelivered at +${REDELIVERY_MS / 60_000}m`);
        pending.push({ ...d, at: clock + REDELIVERY_MS, receiveCount: d.receiveCount + 1 });
      }
    }

    faults.phase = 'flush';
    let settledRun = false;
    try {
      const report = await flush({
        s3: aws.s3,
        buffer,
        rules: deps.rules,
        config,
        sessionLog,
        logger,
        now: () => clock,
      });
      if (report.failedPartitions > 0) {
        trace.push(`${hhmm()} flush: ${report.failedPartitions}/${report.partitions} partitions failed`);
      }
      settledRun = report.partitions === 0;
    } catch (error) {
      trace.push(`${hhmm()} flush threw (${(error as Error).message.slice(0, 80)})`);
    }
    faults.phase = 'setup';

    const quiet = clock > lastArrival + settleDelayMs + SAFETY_MARGIN_MS + FLUSH_EVERY_MS;
    if (pending.length === 0 && settledRun && quiet) {
      faults.phase = 'check';
      const read = await readEnriched(aws.s3, names.enrichedBucket);
      return { rounds: round, ...read, trace };
    }
    clock += FLUSH_EVERY_MS;
  }
  throw new Error(
    `the pipeline did not settle within ${MAX_ROUNDS} flush runs (${describeTrace(trace)}):\n${trimTrace(trace).join('\n')}`,
  );
}

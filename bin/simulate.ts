/**
 * `trailmap simulate`: the real `ingest` and `flush` handlers against local S3 and DynamoDB
 * emulators, fed a trail bucket folder as CloudTrail would deliver it (notifications shuffled,
 * some delivered twice, late), on a simulated clock, until every session has settled.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { GetObjectCommand, ListObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { type DetectionRule, loadDetections, type SourceLookup } from '../engine/detect.ts';
import { enrich } from '../engine/enrich.ts';
import { RuleIndex } from '../engine/map.ts';
import { readInputs } from '../engine/read.ts';
import type { SignalRule } from '../engine/rules/model.ts';
import { datasetRows } from '../engine/tables.ts';
import type { SessionSummary } from '../engine/types.ts';
import { SessionBuffer } from '../lambdas/buffer.ts';
import { flush, type FlushReport, SAFETY_MARGIN_MS } from '../lambdas/flush.ts';
import { DetectionStateStore } from '../lambdas/detection-state.ts';
import { createIngestHandler, SQS_BATCH_SIZE } from '../lambdas/ingest.ts';
import { type AwsUsage, startLocalAws } from '../lambdas/local/emulators.ts';
import { MemoryLogger } from '../lambdas/log.ts';
import { MemorySessionLog } from '../lambdas/session-log.ts';
import { append, maxOf, minOf } from '../engine/arrays.ts';

export interface SimulationOptions {
  rules: readonly SignalRule[];
  /** Detection rules ingest evaluates. @default the bundled rules/detections */
  detections?: readonly DetectionRule[];
  seed?: number;
  settleDelaySeconds?: number;
  /** Share of notifications delivered a second time, later. */
  duplicateRate?: number;
  /** Folder to download the enriched dataset to. */
  outDir?: string;
  /** Called with each simulated step, for progress output. */
  onStep?: (message: string) => void;
  /** Locates source addresses (offline GeoIP) in ingest and flush, as the deployed handlers do. */
  lookup?: SourceLookup;
}

export interface SimulationReport {
  objects: number;
  notifications: number;
  flushRuns: number;
  bufferedEvents: number;
  ingestWriteRequests: number;
  flushWriteRequests: number;
  writeRequestsPer100Events: number;
  rejectedObjects: { key: string; reason: string }[];
  sessions: SessionSummary[];
  signalsWritten: number;
  /** Whether the signals in the enriched prefix equal `trailmap enrich` on the same folder. */
  matchesEnrich: boolean;
  enrichedObjects: string[];
  lastFlush: FlushReport | null;
  /** Billable requests made, uploads of the trail excluded. */
  usage: AwsUsage;
  /** Time spent in the handlers (against local emulators, so an upper bound of Lambda time). */
  ingestMs: number;
  flushMs: number;
}

const TRAIL_BUCKET = 'trailmap-trail';
const ENRICHED_BUCKET = 'trailmap-enriched';
const TABLE = 'trailmap-buffer';
const PREFIX = 'enriched/';
const FLUSH_EVERY_MS = 5 * 60_000;
const MAX_ROUNDS = 100_000;

/** Small deterministic PRNG (mulberry32), so a seed replays the same delivery. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) append(files, await listFiles(path));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

/** CloudTrail names objects by delivery time: `…_YYYYMMDDTHHmmZ_….json.gz`. */
function deliveryTime(key: string): number | null {
  const match = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_/.exec(key);
  return match ? Date.parse(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:00Z`) : null;
}

function notification(key: string, size: number, id: string): SQSEvent['Records'][number] {
  const body = {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: {
          bucket: { name: TRAIL_BUCKET },
          object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size },
        },
      },
    ],
  };
  return {
    messageId: id,
    receiptHandle: id,
    body: JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 's3',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:trailmap-ingest',
    awsRegion: 'us-east-1',
  };
}

export async function simulate(folder: string, options: SimulationOptions): Promise<SimulationReport> {
  // Lambda runs Node.js 22; on a laptop's Node 20 the SDK's upgrade notice is noise for emulator calls.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const rand = random(options.seed ?? 1);
  const settleDelayMs = (options.settleDelaySeconds ?? 900) * 1000;
  const aws = await startLocalAws({ buckets: [TRAIL_BUCKET, ENRICHED_BUCKET], tableName: TABLE });
  try {
    const files = await listFiles(folder);
    const keys = files.map((file) => relative(folder, file).split(sep).join('/'));
    const sizes = new Map<string, number>();
    for (const [i, file] of files.entries()) {
      const body = await readFile(file);
      sizes.set(keys[i], body.length);
      await aws.s3.send(new PutObjectCommand({ Bucket: TRAIL_BUCKET, Key: keys[i], Body: body }));
    }

    // When each notification reaches the queue: after delivery, in any order, some twice.
    const known = keys.map(deliveryTime).filter((t): t is number => t !== null);
    const fallback = known.length > 0 ? maxOf(known) : Date.parse('2026-01-01T00:00:00Z');
    const deliveries = keys.flatMap((key, i) => {
      const at = (deliveryTime(key) ?? fallback) + Math.floor(rand() * 10 * 60_000);
      const first = { key, at, id: `msg-${i}` };
      return rand() < (options.duplicateRate ?? 0.2)
        ? [first, { key, at: at + Math.floor(rand() * 30 * 60_000), id: `msg-${i}-again` }]
        : [first];
    });
    deliveries.sort((a, b) => a.at - b.at || rand() - 0.5);

    const logger = new MemoryLogger();
    const sessionLog = new MemorySessionLog();
    let clock = minOf(deliveries.map((d) => d.at));
    const buffer = new SessionBuffer(aws.ddb, {
      tableName: TABLE,
      dueShards: 4,
      sleep: async () => {},
      now: () => clock,
    });
    const config = {
      maxObjectBytes: 512 * 1024 * 1024,
      settleDelayMs,
      bufferTtlMs: 7 * 86_400_000,
      enrichedBucket: ENRICHED_BUCKET,
      enrichedPrefix: PREFIX,
    };
    const ingest = createIngestHandler({
      s3: aws.s3,
      buffer,
      config,
      logger,
      now: () => clock,
      detections: options.detections ?? loadDetections(),
      detectionState: new DetectionStateStore(aws.ddb, TABLE),
      lookup: options.lookup,
    });
    const index = new RuleIndex(options.rules);
    const usageBefore = { ...aws.usage };
    let ingestMs = 0;
    let flushMs = 0;
    let next = 0;
    let flushRuns = 0;
    let ingestWrites = 0;
    let lastFlush: FlushReport | null = null;
    const countWrites = () => [...aws.writeRequests.values()].reduce((a, b) => a + b, 0);
    let lastArrival = clock;

    for (let round = 0; round < MAX_ROUNDS; round++) {
      const arrived = [];
      while (next < deliveries.length && deliveries[next].at <= clock) arrived.push(deliveries[next++]);
      // Shuffle what arrived in this interval, then hand it over in SQS batches, as the event source mapping does.
      arrived.sort(() => rand() - 0.5);
      for (let i = 0; i < arrived.length; i += SQS_BATCH_SIZE) {
        const batch = arrived.slice(i, i + SQS_BATCH_SIZE);
        const before = countWrites();
        const started = performance.now();
        const response = await ingest({
          Records: batch.map((d) => notification(d.key, sizes.get(d.key) ?? 0, d.id)),
        });
        ingestMs += performance.now() - started;
        ingestWrites += countWrites() - before;
        const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        // Failed messages come back later, as SQS would redeliver them.
        for (const d of batch) if (failed.has(d.id)) deliveries.push({ ...d, at: clock + FLUSH_EVERY_MS });
      }
      const flushStarted = performance.now();
      lastFlush = await flush({
        s3: aws.s3,
        buffer,
        rules: index,
        config,
        sessionLog,
        logger,
        now: () => clock,
        lookup: options.lookup,
      });
      flushMs += performance.now() - flushStarted;
      flushRuns++;
      options.onStep?.(
        `${new Date(clock).toISOString()} delivered ${next}/${deliveries.length}, flushed ${lastFlush.partitions} partitions`,
      );
      if (arrived.length > 0) lastArrival = clock;
      // Done when everything arrived and nothing can still come due (chunks are due by arrival + settle).
      const quiet = clock > lastArrival + settleDelayMs + SAFETY_MARGIN_MS + FLUSH_EVERY_MS;
      if (next >= deliveries.length && lastFlush.partitions === 0 && quiet) break;
      clock += FLUSH_EVERY_MS;
    }
    const flushWrites = countWrites() - ingestWrites;
    const usage = Object.fromEntries(
      Object.entries(aws.usage).map(([name, value]) => [name, value - usageBefore[name as keyof AwsUsage]]),
    ) as unknown as AwsUsage;

    // The enriched prefix, as an analyst would download it.
    const enrichedKeys: string[] = [];
    // Listed with ListObjects (v1) and markers: s3rver's v2 continuation tokens need DES, which
    // OpenSSL 3 no longer offers, so every truncated v2 listing fails there.
    let marker: string | undefined;
    for (;;) {
      const page = await aws.s3.send(
        new ListObjectsCommand({ Bucket: ENRICHED_BUCKET, Prefix: PREFIX, Marker: marker }),
      );
      const keys = (page.Contents ?? []).map((c) => c.Key!);
      append(enrichedKeys, keys);
      if (!page.IsTruncated || keys.length === 0) break;
      marker = keys[keys.length - 1];
    }
    const { gunzipSync } = await import('node:zlib');
    const signalRows: string[] = [];
    for (const key of enrichedKeys.sort()) {
      const object = await aws.s3.send(new GetObjectCommand({ Bucket: ENRICHED_BUCKET, Key: key }));
      const body = Buffer.from(await object.Body!.transformToByteArray());
      if (options.outDir) {
        const path = join(options.outDir, key.slice(PREFIX.length));
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, body);
      }
      if (key.startsWith(`${PREFIX}signals/`)) {
        append(signalRows, gunzipSync(body).toString('utf8').split('\n').filter(Boolean));
      }
    }

    // The same folder through `trailmap enrich`, for comparison.
    const offline = enrich((await readInputs([folder])).events, index);
    const offlineRows = datasetRows(offline.sessions, offline.events).signals.map((row) =>
      JSON.stringify(row),
    );
    const canonical = (rows: string[]) => [...rows].sort();
    const matchesEnrich = JSON.stringify(canonical(signalRows)) === JSON.stringify(canonical(offlineRows));

    const latestSummary = new Map<string, SessionSummary>();
    for (const line of sessionLog.lines) {
      const summary = JSON.parse(line.message) as SessionSummary & { type: string; partition: string };
      latestSummary.set(summary.id, summary);
    }
    const bufferedEvents = new Set<string>();
    for (const event of offline.events) if (event.sessionId) bufferedEvents.add(event.eventId);
    return {
      objects: keys.length,
      notifications: deliveries.length,
      flushRuns,
      bufferedEvents: bufferedEvents.size,
      ingestWriteRequests: ingestWrites,
      flushWriteRequests: flushWrites,
      writeRequestsPer100Events: bufferedEvents.size === 0 ? 0 : (100 * ingestWrites) / bufferedEvents.size,
      rejectedObjects: logger.entries
        .filter((e) => e.message === 'object rejected')
        .map((e) => ({ key: String(e.fields.key), reason: String(e.fields.reason) })),
      sessions: [...latestSummary.values()].sort((a, b) => a.startTime.localeCompare(b.startTime)),
      signalsWritten: signalRows.length,
      matchesEnrich,
      enrichedObjects: enrichedKeys,
      usage,
      ingestMs,
      flushMs,
      lastFlush,
    };
  } finally {
    await aws.close();
  }
}

/**
 * `ingest`: SQS batch of S3 ObjectCreated notifications for the trail bucket → session buffer.
 *
 * Each message is processed on its own (partial batch failures), so one poison object never blocks
 * the others. A message is acknowledged only when its objects' console records are stored, or when
 * the object can never be read (its reason is logged with the key). Transient failures (S3,
 * DynamoDB) throw, and the message is retried, then dead-lettered.
 */
import { createHash } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { bufferPartitionOf } from '../engine/route.ts';
import { datasetObjects } from '../engine/dataset.ts';
import {
  type DetectionHit,
  type DetectionRule,
  detect,
  detectionStateNeeds,
  type FirstSeenState,
  matchesAnyDetection,
  type SourceLookup,
} from '../engine/detect.ts';
import { readRecord } from '../engine/read.ts';
import type { StreamedRecord } from '../engine/record-stream.ts';
import { detectionRow } from '../engine/tables.ts';
import type { CloudTrailRecord, TrailEvent } from '../engine/types.ts';
import { type ChunkItem, chunkItems, type SessionBuffer } from './buffer.ts';
import { WriteCoalescer } from './coalesce.ts';
import type { PipelineConfig } from './config.ts';
import type { DetectionStateStore } from './detection-state.ts';
import type { PipelineLogger } from './log.ts';
import { BadObjectError, objectSkipReason, recordProblem, streamObjectRecords } from './objects.ts';

/** SQS batch the event source mapping hands to ingest (with a batching window): the CDK app uses it too. */
export const SQS_BATCH_SIZE = 100;
/** Seconds the event source mapping waits to fill a batch. */
export const SQS_BATCHING_WINDOW_SECONDS = 60;

export interface IngestDependencies {
  s3: S3Client;
  buffer: SessionBuffer;
  config: Pick<PipelineConfig, 'maxObjectBytes' | 'settleDelayMs' | 'bufferTtlMs'> &
    Partial<Pick<PipelineConfig, 'enrichedBucket' | 'enrichedPrefix'>>;
  logger: PipelineLogger;
  now: () => number;
  /** Detection rules evaluated on every record at once (no buffering); none when omitted. */
  detections?: readonly DetectionRule[];
  /** Told about every object's detection hits once its message succeeded (metrics). */
  onDetections?: (hits: DetectionHit[]) => void;
  /** Locates source addresses (offline GeoIP) for the detections; none when omitted. */
  lookup?: SourceLookup;
  /** Keeps `firstSeen` baselines and threshold events across objects; per object only when omitted. */
  detectionState?: DetectionStateStore;
}

export interface ObjectRef {
  bucket: string;
  key: string;
  size: number | undefined;
}

export interface IngestOutcome {
  key: string;
  status: 'buffered' | 'skipped' | 'rejected';
  reason?: string;
  records: number;
  buffered: number;
  refusedRecords: number;
  /** Insights records (`eventCategory: "Insight"`): skipped and counted, not refused. */
  insightRecords: number;
  chunks: number;
  detections: DetectionHit[];
}

/** The objects an SQS message announces (S3 event notification; test events announce none). */
export function objectsOf(message: SQSRecord): ObjectRef[] {
  let body: { Records?: unknown[]; Event?: string };
  try {
    body = JSON.parse(message.body);
  } catch {
    throw new BadObjectError(`message ${message.messageId} is not JSON`);
  }
  if (body.Event === 's3:TestEvent') return [];
  if (!Array.isArray(body.Records))
    throw new BadObjectError(`message ${message.messageId} is not an S3 event notification`);
  return body.Records.flatMap((raw) => {
    const record = raw as {
      eventName?: string;
      s3?: { bucket?: { name?: string }; object?: { key?: string; size?: number } };
    };
    if (!record.eventName?.startsWith('ObjectCreated:') || !record.s3?.bucket?.name || !record.s3.object?.key)
      return [];
    // Keys in notifications are URL-encoded, with '+' for spaces.
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
    return [{ bucket: record.s3.bucket.name, key, size: record.s3.object.size }];
  });
}

/**
 * A streamed record as an event, an Insights record, or why it is refused: the reader's own checks
 * (engine/read.ts `readRecord`: shape, eventTime not after `now` + 1 day), then an eventID.
 */
function checkedEvent(
  item: StreamedRecord,
  key: string,
  now: number,
): { event: TrailEvent } | { insight: true } | { problem: string } {
  if ('problem' in item) return { problem: item.problem };
  const outcome = readRecord(item.record, key, item.index, now);
  if ('problem' in outcome) {
    return { problem: outcome.problem.startsWith('record ') ? outcome.problem : `record ${outcome.problem}` };
  }
  if ('insight' in outcome) return outcome;
  const problem = recordProblem(outcome.event.record);
  return problem ? { problem } : outcome;
}

/** Reads one object and cuts its console records into chunks; throws only for failures worth retrying. */
export async function readObjectChunks(
  ref: ObjectRef,
  deps: IngestDependencies,
): Promise<{ outcome: IngestOutcome; chunks: ChunkItem[] }> {
  const outcome: IngestOutcome = {
    key: ref.key,
    status: 'skipped',
    records: 0,
    buffered: 0,
    refusedRecords: 0,
    insightRecords: 0,
    chunks: 0,
    detections: [],
  };
  const skip = objectSkipReason(ref.key, ref.size);
  if (skip) {
    deps.logger.info('object skipped', { bucket: ref.bucket, key: ref.key, reason: skip });
    return { outcome: { ...outcome, reason: skip }, chunks: [] };
  }
  const byPartition = new Map<string, CloudTrailRecord[]>();
  // Only events some detection rule matches are kept for the detections: bounded memory.
  const candidates: TrailEvent[] = [];
  const detections = deps.detections ?? [];
  let records = 0;
  let insights = 0;
  const now = deps.now();
  try {
    for await (const item of streamObjectRecords(deps.s3, ref.bucket, ref.key, deps.config.maxObjectBytes)) {
      records++;
      const checked = checkedEvent(item, ref.key, now);
      if ('insight' in checked) {
        insights++;
        continue;
      }
      if ('problem' in checked) {
        outcome.refusedRecords++;
        deps.logger.error('record rejected', {
          bucket: ref.bucket,
          key: ref.key,
          index: item.index,
          reason: checked.problem,
        });
        continue;
      }
      const { event } = checked;
      const record = event.record;
      if (detections.length > 0 && matchesAnyDetection(event, detections, deps.lookup))
        candidates.push(event);
      const partition = bufferPartitionOf(record);
      if (!partition) continue;
      const list = byPartition.get(partition);
      if (list) list.push(record);
      else byPartition.set(partition, [record]);
    }
  } catch (error) {
    if (!(error instanceof BadObjectError)) throw error;
    deps.logger.error('object rejected', { bucket: ref.bucket, key: ref.key, reason: error.message });
    return { outcome: { ...outcome, status: 'rejected', reason: error.message }, chunks: [] };
  }
  if (insights > 0) {
    deps.logger.info('Insights records skipped', { bucket: ref.bucket, key: ref.key, count: insights });
  }
  const timing = {
    arrival: deps.now(),
    settleDelayMs: deps.config.settleDelayMs,
    ttlMs: deps.config.bufferTtlMs,
  };
  const chunks = [...byPartition.entries()].flatMap(([partition, records]) =>
    chunkItems(partition, ref.key, records, timing),
  );
  const hits = await writeDetections(ref, candidates, deps);
  return {
    outcome: {
      ...outcome,
      detections: hits,
      status: 'buffered',
      records,
      insightRecords: insights,
      buffered: chunks.reduce((n, c) => n + c.count, 0),
      chunks: chunks.length,
    },
    chunks,
  };
}

/**
 * Evaluates the detections on an object's records (console or not) and writes their rows to
 * `detections/dt=…/<sha256(object key)>.jsonl.gz`, so a redelivered object overwrites its own rows.
 * With a state store, `firstSeen` baselines and threshold windows span objects; the baseline is
 * saved before the rows are written, and a redelivery of the same object gives the same hits.
 */
async function writeDetections(
  ref: ObjectRef,
  events: TrailEvent[],
  deps: IngestDependencies,
): Promise<DetectionHit[]> {
  if (!deps.detections || deps.detections.length === 0) return [];
  const hits = await evaluateDetections(ref, events, deps.detections, deps);
  if (hits.length === 0 || !deps.config.enrichedBucket) return hits;
  const part = createHash('sha256').update(ref.key).digest('hex').slice(0, 32);
  const rows = {
    signals: [],
    sessions: [],
    event_signals: [],
    detections: hits.map((hit) => detectionRow(hit, null)),
  };
  for (const object of datasetObjects(rows, part)) {
    await deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.config.enrichedBucket,
        Key: `${deps.config.enrichedPrefix ?? ''}${object.key}`,
        Body: object.body,
        ContentType: 'application/gzip',
      }),
    );
  }
  return hits;
}

async function evaluateDetections(
  ref: ObjectRef,
  events: TrailEvent[],
  rules: readonly DetectionRule[],
  deps: IngestDependencies,
): Promise<DetectionHit[]> {
  const store = deps.detectionState;
  if (!store) return detect(events, rules, { lookup: deps.lookup });
  const needs = detectionStateNeeds(events, rules, deps.lookup);
  const before = await store.loadFirstSeen(needs.firstSeenKeys);
  const seen: FirstSeenState = new Map([...before].map(([key, values]) => [key, new Map(values)]));
  const history = await store.exchangeThresholdEvents(ref.key, needs.thresholdGroups);
  const hits = detect(events, rules, { lookup: deps.lookup, seen, history });
  await store.saveFirstSeen(before, seen);
  return hits;
}

export function createIngestHandler(deps: IngestDependencies) {
  const processor = new BatchProcessor(EventType.SQS);
  return (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const coalescer = new WriteCoalescer(deps.buffer, event.Records.length);
    const recordHandler = async (message: SQSRecord): Promise<IngestOutcome[]> => {
      let submitted = false;
      try {
        let objects: ObjectRef[];
        try {
          objects = objectsOf(message);
        } catch (error) {
          // A message that is not a notification can never succeed: log it, do not retry it.
          deps.logger.error('message rejected', {
            messageId: message.messageId,
            reason: (error as Error).message,
          });
          return [];
        }
        const read = [];
        for (const ref of objects) read.push(await readObjectChunks(ref, deps));
        submitted = true;
        await coalescer.submit(read.flatMap((r) => r.chunks));
        for (const { outcome } of read) {
          if (outcome.status !== 'buffered') continue;
          const { detections, ...counts } = outcome;
          deps.logger.info('object buffered', { ...counts, detections: detections.length });
          for (const hit of detections) deps.logger.warn('detection', { ...hit });
          if (detections.length > 0) deps.onDetections?.(detections);
        }
        return read.map((r) => r.outcome);
      } finally {
        if (!submitted) coalescer.done();
      }
    };
    // Even when every message fails, answer with the failures (SQS retries them all) instead of throwing.
    return processPartialResponse(event, recordHandler, processor, {
      context: context as Context,
      throwOnFullBatchFailure: false,
    });
  };
}

/**
 * `flush` (scheduled): maps every buffered partition whose chunks came due and writes what settled.
 *
 * A partition (one principal) is mapped whole with the engine, exactly as `trailmap enrich` maps
 * it. A session's events are split into segments at quiet gaps longer than the largest rule window;
 * a segment is settled once the clock is past its last event + the settle delay, and only settled
 * segments' signals and events are written. Output keys derive from the session id, so re-flushing
 * (late events, retries, redeliveries) overwrites instead of duplicating; objects of sessions that
 * no longer exist (a sign-in later joined to the session it started) are deleted.
 */
import { createHash } from 'node:crypto';
import { DeleteObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { maxOf, pushTo } from '../engine/arrays.ts';
import { datasetObjects } from '../engine/dataset.ts';
import { type EnrichedSession, enrich } from '../engine/enrich.ts';
import { compareEvents, type RuleIndex } from '../engine/map.ts';
import { toTrailEvent } from '../engine/read.ts';
import { riskAtLeast } from '../engine/session-summary.ts';
import { datasetRows } from '../engine/tables.ts';
import type { AddressLookup, EventEnrichment, Risk, TrailEvent } from '../engine/types.ts';
import type { PartitionState, SessionBuffer } from './buffer.ts';
import type { PipelineConfig } from './config.ts';
import type { PipelineLogger } from './log.ts';

/** Due-index entries newer than this are left for the next run (the index is eventually consistent). */
export const SAFETY_MARGIN_MS = 30_000;

export interface SessionLogSink {
  /** One JSON line per session update, in time order. */
  write(lines: { timestamp: number; message: string }[]): Promise<void>;
}

export interface FlushDependencies {
  s3: S3Client;
  buffer: SessionBuffer;
  rules: RuleIndex;
  config: Pick<PipelineConfig, 'enrichedBucket' | 'enrichedPrefix' | 'settleDelayMs' | 'bufferTtlMs'>;
  sessionLog: SessionLogSink;
  logger: PipelineLogger;
  now: () => number;
  /** Locates source addresses (offline GeoIP) for the session summaries; none when omitted. */
  lookup?: AddressLookup;
}

export interface FlushReport {
  partitions: number;
  failedPartitions: number;
  sessionsWritten: number;
  objectsWritten: number;
  objectsDeleted: number;
  /** Signals written for the first time (Suppress ones aside), and how many of them by risk. */
  newSignals: number;
  newRiskySignals: Partial<Record<Risk, number>>;
  unmappedEvents: number;
  /** Longest wait between a chunk coming due and this flush. */
  maxLagMs: number;
}

const hashOf = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Largest gap a rule can bridge: events further apart than this can never share a signal. */
function segmentGapMs(rules: RuleIndex): number {
  return maxOf([10_000, ...rules.rules.map((rule) => rule.beforeMs + rule.afterMs)]);
}

/** Settled events of a session: those in segments whose last event is older than the settle delay. */
function settledEventIds(events: TrailEvent[], gapMs: number, settledBefore: number): Set<string> {
  const sorted = [...events].sort(compareEvents);
  const settled = new Set<string>();
  let segment: TrailEvent[] = [];
  const close = () => {
    if (segment.length > 0 && segment[segment.length - 1].time <= settledBefore) {
      for (const event of segment) settled.add(event.id);
    }
    segment = [];
  };
  for (const event of sorted) {
    if (segment.length > 0 && event.time - segment[segment.length - 1].time > gapMs) close();
    segment.push(event);
  }
  close();
  return settled;
}

const sessionOfKey = (key: string) => /\/([^/]+)\.jsonl\.gz$/.exec(key)?.[1] ?? '';

/** The settled part of one session: its signals and events whose segment has settled. */
function settledPart(session: EnrichedSession, events: EventEnrichment[], settled: Set<string>) {
  const keep = session.signals.map((signal) => settled.has(signal.correlationId));
  return {
    session: {
      ...session,
      signals: session.signals.filter((_, i) => keep[i]),
      contexts: session.contexts.filter((_, i) => keep[i]),
    },
    events: events.filter((e) => settled.has(e.eventId)),
  };
}

async function flushPartition(
  partition: string,
  deps: FlushDependencies,
  report: FlushReport,
): Promise<void> {
  const now = deps.now();
  const chunks = await deps.buffer.readPartition(partition);
  const events = chunks.flatMap((chunk) =>
    chunk.records.map((record, i) => toTrailEvent(record, chunk.objectKey, i)),
  );
  const result = enrich(events, deps.rules, { lookup: deps.lookup });
  const eventsBySession = new Map<string, EventEnrichment[]>();
  const sessionOfEvent = new Map<string, string>();
  for (const e of result.events) {
    if (!e.sessionId) continue;
    pushTo(eventsBySession, e.sessionId, e);
    sessionOfEvent.set(e.eventId, e.sessionId);
  }
  // Each session's buffered events, grouped in one pass (a principal can have thousands of sessions).
  const trailEventsBySession = new Map<string, TrailEvent[]>();
  for (const event of events) {
    const session = sessionOfEvent.get(event.id);
    if (session) pushTo(trailEventsBySession, session, event);
  }
  const state = await deps.buffer.readState(partition);
  const next: PartitionState = {
    written: {},
    logged: { ...state.logged },
    alerted: [...state.alerted],
    starts: {},
  };
  const gapMs = segmentGapMs(deps.rules);
  const liveSessions = new Set(result.sessions.map((s) => s.summary.id));
  const emittedSessions = new Set<string>();
  const logLines: { timestamp: number; message: string }[] = [];
  const objects: { key: string; body: Buffer }[] = [];
  const alerted = new Set(next.alerted);

  for (const session of result.sessions) {
    const id = session.summary.id;
    const sessionEvents = trailEventsBySession.get(id) ?? [];
    const settled = settledEventIds(sessionEvents, gapMs, now - deps.config.settleDelayMs);
    if (settled.size === 0) continue;
    emittedSessions.add(id);
    const part = settledPart(session, eventsBySession.get(id) ?? [], settled);
    for (const object of datasetObjects(datasetRows([part.session], part.events), id)) {
      objects.push({ key: `${deps.config.enrichedPrefix}${object.key}`, body: object.body });
    }
    for (const signal of part.session.signals) {
      if (signal.kind === 'background' || alerted.has(signal.id)) continue;
      alerted.add(signal.id);
      report.newSignals++;
      if (riskAtLeast(signal.risk, 'medium')) {
        report.newRiskySignals[signal.risk] = (report.newRiskySignals[signal.risk] ?? 0) + 1;
      }
    }
    // Unmapped: explained by no specific rule (a generic signal, or none).
    const generic = new Set(part.session.signals.filter((s) => s.kind === 'generic').map((s) => s.id));
    report.unmappedEvents += part.events.filter((e) => e.signalId === null || generic.has(e.signalId)).length;
    const line = JSON.stringify({ type: 'trailmap.session', partition, ...session.summary });
    const lineHash = hashOf(line);
    if (next.logged[id] !== lineHash) {
      // Stamped with the flush time (the line carries the session's own times): CloudWatch refuses
      // events older than 14 days and batches spanning more than 24 hours.
      logLines.push({ timestamp: now, message: line });
      next.logged[id] = lineHash;
    }
  }

  // Record new keys before writing them: if this run fails half way, the next run still knows
  // them and can delete them should their session have changed id meanwhile (no orphans).
  const newKeys = objects.map((o) => o.key).filter((key) => !(key in state.written));
  if (newKeys.length > 0) {
    const intent = {
      ...state,
      written: { ...state.written, ...Object.fromEntries(newKeys.map((k) => [k, ''])) },
    };
    await deps.buffer.writeState(partition, intent, Math.ceil((now + deps.config.bufferTtlMs) / 1000));
  }
  for (const object of objects) {
    const hash = hashOf(object.body);
    next.written[object.key] = hash;
    if (state.written[object.key] === hash) continue;
    await deps.s3.send(
      new PutObjectCommand({
        Bucket: deps.config.enrichedBucket,
        Key: object.key,
        Body: object.body,
        // Stored as gzip files (no Content-Encoding), which Athena and `aws s3 cp` read as they are.
        ContentType: 'application/gzip',
      }),
    );
    report.objectsWritten++;
  }
  // Keep what unsettled live sessions wrote before. A session that is gone either merged into
  // another (a sign-in joined to the session it started): delete its objects; or its buffered
  // chunks expired (none can before its start + the buffer TTL): keep its objects, stop tracking them.
  const stale: string[] = [];
  const expiredBefore = now - deps.config.bufferTtlMs;
  for (const [key, hash] of Object.entries(state.written)) {
    if (key in next.written) continue;
    const session = sessionOfKey(key);
    if (liveSessions.has(session)) {
      if (!emittedSessions.has(session)) next.written[key] = hash;
      else stale.push(key);
    } else if ((state.starts?.[session] ?? now) > expiredBefore) {
      stale.push(key);
    }
  }
  next.starts = Object.fromEntries(
    result.sessions.map((session) => [session.summary.id, Date.parse(session.summary.startTime)]),
  );
  for (let i = 0; i < stale.length; i += 1000) {
    const result = await deps.s3.send(
      new DeleteObjectsCommand({
        Bucket: deps.config.enrichedBucket,
        Delete: { Objects: stale.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
    // S3 reports per-key failures in a successful answer: fail the partition so the next run retries.
    if (result.Errors && result.Errors.length > 0) {
      const first = result.Errors[0];
      throw new Error(`could not delete ${result.Errors.length} stale objects (${first.Key}: ${first.Code})`);
    }
  }
  report.objectsDeleted += stale.length;
  for (const id of Object.keys(next.logged)) if (!liveSessions.has(id)) delete next.logged[id];
  // Only signals that still exist need remembering.
  const liveSignals = new Set(
    result.sessions.flatMap((session) => session.signals.map((signal) => signal.id)),
  );
  next.alerted = [...alerted].filter((id) => liveSignals.has(id));
  if (logLines.length > 0) await deps.sessionLog.write(logLines);
  report.sessionsWritten += emittedSessions.size;
  // Most partitions hold only calls that could have joined a console session and did not: they
  // have no state to keep, and writing an empty one for each would dominate the write bill.
  if (isEmptyState(state) && isEmptyState(next)) return;
  await deps.buffer.writeState(partition, next, Math.ceil((now + deps.config.bufferTtlMs) / 1000));
}

const isEmptyState = (state: PartitionState) =>
  Object.keys(state.written).length === 0 &&
  Object.keys(state.logged).length === 0 &&
  state.alerted.length === 0 &&
  Object.keys(state.starts ?? {}).length === 0;

/** One flush run: every partition that came due since the last run. */
export async function flush(deps: FlushDependencies): Promise<FlushReport> {
  const now = deps.now();
  const until = now - SAFETY_MARGIN_MS;
  const report: FlushReport = {
    partitions: 0,
    failedPartitions: 0,
    sessionsWritten: 0,
    objectsWritten: 0,
    objectsDeleted: 0,
    newSignals: 0,
    newRiskySignals: {},
    unmappedEvents: 0,
    maxLagMs: 0,
  };
  const watermark = await deps.buffer.readWatermark();
  const due = await deps.buffer.duePartitions(watermark, until);
  for (const [partition, dueAt] of [...due.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))) {
    report.partitions++;
    try {
      await flushPartition(partition, deps, report);
      report.maxLagMs = Math.max(report.maxLagMs, now - dueAt);
    } catch (error) {
      report.failedPartitions++;
      deps.logger.error('partition flush failed', { partition, reason: (error as Error).message });
    }
  }
  // A failed partition keeps the watermark where it was, so the next run retries it.
  // (Nothing due: leave it, the next query simply covers a longer range.)
  if (report.partitions > 0 && report.failedPartitions === 0 && until > watermark) {
    await deps.buffer.writeWatermark(until);
  }
  deps.logger.info('flush done', { ...report });
  return report;
}

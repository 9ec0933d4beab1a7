/**
 * `flush` against local S3 (s3rver) and DynamoDB (dynalite): buffered sessions are written to the
 * enriched prefix once settled, equal to `trailmap enrich` on the same records, and re-flushing
 * (nothing new, redeliveries, late objects, a sign-in joining its session) converges instead of
 * duplicating.
 */
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrich } from '../../engine/enrich.ts';
import { RuleIndex } from '../../engine/map.ts';
import { toTrailEvent } from '../../engine/read.ts';
import { loadRules } from '../../engine/rules/load.ts';
import { riskAtLeast } from '../../engine/session-summary.ts';
import type { CloudTrailRecord, Risk, SessionSummary } from '../../engine/types.ts';
import { SessionBuffer } from '../../lambdas/buffer.ts';
import { flush } from '../../lambdas/flush.ts';
import { createIngestHandler } from '../../lambdas/ingest.ts';
import { type LocalAws, startLocalAws } from '../../lambdas/local/emulators.ts';
import { MemoryLogger } from '../../lambdas/log.ts';
import { MemorySessionLog } from '../../lambdas/session-log.ts';
import {
  consoleRecord,
  createBufferTable,
  type ExampleObject,
  exampleObjects,
  logObject,
  offlineRows,
  readDataset,
  s3Message,
  sqsEvent,
  trailKey,
  userArn,
} from './helpers.ts';
import { maxOf, minOf } from '../../engine/arrays.ts';

const MINUTE = 60_000;
const SETTLE = 15 * MINUTE;
const PREFIX = 'enriched/';
/** Time of the latest of some records: the example trail's timeline is read from the data, not assumed. */
const latest = (records: CloudTrailRecord[]) => maxOf(records.map((r) => Date.parse(r.eventTime!)));
const earliest = (records: CloudTrailRecord[]) => minOf(records.map((r) => Date.parse(r.eventTime!)));

let aws: LocalAws;
let rules: RuleIndex;
let examples: ExampleObject[];
let counter = 0;

beforeAll(async () => {
  aws = await startLocalAws({ buckets: [], tableName: 'flush-unused' });
  rules = new RuleIndex(loadRules());
  examples = await exampleObjects();
});

afterAll(async () => {
  await aws?.close();
});

const allRecords = () => examples.flatMap((o) => o.records);
const recordsOf = (arn: string) => allRecords().filter((r) => r.userIdentity?.arn === arn);
/** The records of a principal's first sign-in in the example (it signs in again hours later). */
function firstSignInOf(arn: string): CloudTrailRecord[] {
  const records = recordsOf(arn);
  const created = (r: CloudTrailRecord) => r.userIdentity?.sessionContext?.attributes?.creationDate ?? '';
  const first = records.map(created).filter(Boolean).sort()[0];
  // Its calls carry its creationDate; its ConsoleLogin (no creationDate) is at that time.
  const signIn = Date.parse(first);
  return records.filter((r) => created(r) === first || (!created(r) && Date.parse(r.eventTime!) <= signIn));
}
const ALICE = userArn('alice');
const BOB_PATTERN = /assumed-role\/AWSReservedSSO_[^/]+\/bob@example\.com$/;

function offline(records: CloudTrailRecord[]) {
  return enrich(
    records.map((r, i) => toTrailEvent(r, 'offline', i)),
    rules,
  );
}

/** A fresh trail bucket, enriched bucket and buffer table, with both handlers on one simulated clock. */
async function setup() {
  counter++;
  const trailBucket = `trail-flush-${counter}`;
  const enrichedBucket = `enriched-flush-${counter}`;
  const table = `buffer-flush-${counter}`;
  await aws.s3.send(new CreateBucketCommand({ Bucket: trailBucket }));
  await aws.s3.send(new CreateBucketCommand({ Bucket: enrichedBucket }));
  await createBufferTable(aws.ddb, table);
  const logger = new MemoryLogger();
  const sessionLog = new MemorySessionLog();
  let clock = 0;
  const buffer = new SessionBuffer(aws.ddb, {
    tableName: table,
    dueShards: 4,
    sleep: async () => {},
    now: () => clock,
  });
  const config = {
    maxObjectBytes: 64 * 1024 * 1024,
    settleDelayMs: SETTLE,
    bufferTtlMs: 7 * 86_400_000,
    enrichedBucket,
    enrichedPrefix: PREFIX,
  };
  const ingest = createIngestHandler({ s3: aws.s3, buffer, config, logger, now: () => clock });
  let messages = 0;
  return {
    logger,
    sessionLog,
    buffer,
    /** Objects land in the trail bucket and their notifications reach ingest at `time`, in one batch. */
    async deliver(time: number, objects: ExampleObject[]) {
      clock = time;
      const batch = [];
      for (const object of objects) {
        const body = logObject(object.records);
        await aws.s3.send(new PutObjectCommand({ Bucket: trailBucket, Key: object.key, Body: body }));
        batch.push(s3Message(`m${++messages}`, trailBucket, object.key, body.length));
      }
      const response = await ingest(sqsEvent(batch));
      expect(response.batchItemFailures).toEqual([]);
    },
    async flushAt(time: number) {
      clock = time;
      const report = await flush({ s3: aws.s3, buffer, rules, config, sessionLog, logger, now: () => clock });
      expect(report.failedPartitions).toBe(0);
      return report;
    },
    dataset: () => readDataset(aws.s3, enrichedBucket, PREFIX),
  };
}

/** Keys follow `enriched/<table>/dt=<day>/<sessionId>.jsonl.gz`, and hold only that session's rows of that day. */
function expectLayout(dataset: Awaited<ReturnType<typeof readDataset>>) {
  const seen = new Set<string>();
  for (const key of dataset.keys) {
    const match =
      /^enriched\/(signals|sessions|event_signals)\/dt=(\d{4}-\d{2}-\d{2})\/(s-[0-9a-f]+)\.jsonl\.gz$/.exec(
        key,
      );
    expect(match, key).not.toBeNull();
    const [, table, day, session] = match!;
    expect(seen.has(`${table}/${day}/${session}`), `duplicate ${key}`).toBe(false);
    seen.add(`${table}/${day}/${session}`);
  }
  // Every event is linked exactly once.
  const ids = dataset.rows.event_signals.map((row) => row.event_id);
  expect(new Set(ids).size).toBe(ids.length);
}

const sessionIdsIn = (keys: string[]) =>
  new Set(keys.map((key) => /\/(s-[0-9a-f]+)\.jsonl\.gz$/.exec(key)![1]));

describe('flush: settled sessions to the enriched prefix', () => {
  it('writes nothing before the settle delay, holds back unsettled sessions, then writes what `enrich` gives', async () => {
    const ctx = await setup();
    const first = firstSignInOf(ALICE);
    expect(first.length).toBeGreaterThan(20);
    // alice signs in again, 45 minutes after her first session ended (a new creationDate).
    const start = latest(first) + 45 * MINUTE;
    const second = [0, 5, 60].map((s) =>
      consoleRecord({
        user: 'alice',
        accessKeyId: 'ASIAALICESECOND0001',
        time: start + s * 1000,
        signedInAt: start - MINUTE,
        eventName: 'ListRoles',
      }),
    );
    const all = [...first, ...second];
    const sessions = offline(all).sessions;
    const secondId = sessions.find((s) => s.summary.accessKeyId === 'ASIAALICESECOND0001')!.summary.id;
    const firstIds = new Set(sessions.map((s) => s.summary.id).filter((id) => id !== secondId));
    expect(firstIds.size).toBeGreaterThanOrEqual(1);

    await ctx.deliver(start + 2 * MINUTE, [
      { key: trailKey(start + 2 * MINUTE, 'SecondSession001'), records: second },
    ]);
    const early = await ctx.flushAt(start + 5 * MINUTE);
    expect(early.objectsWritten).toBe(0);
    expect(early.sessionsWritten).toBe(0);
    expect((await ctx.dataset()).keys).toEqual([]);

    // The first session's object arrives late: the partition is due, but only the first session settled.
    await ctx.deliver(start + 6 * MINUTE, [
      { key: trailKey(latest(first) + 5 * MINUTE, 'FirstSession0001'), records: first },
    ]);
    const partial = await ctx.flushAt(start + 7 * MINUTE);
    expect(partial.partitions).toBe(1);
    expect(partial.sessionsWritten).toBe(firstIds.size);
    const afterPartial = await ctx.dataset();
    expectLayout(afterPartial);
    expect(sessionIdsIn(afterPartial.keys)).toEqual(firstIds);
    expect(afterPartial.rows).toEqual(offlineRows(all, rules, firstIds));
    expect(partial.objectsWritten).toBe(afterPartial.keys.length);

    // Once the second session settled too, the prefix holds exactly what `enrich` gives.
    const settled = await ctx.flushAt(latest(second) + SETTLE + MINUTE);
    expect(settled.sessionsWritten).toBeGreaterThanOrEqual(1);
    const final = await ctx.dataset();
    expectLayout(final);
    expect(sessionIdsIn(final.keys)).toEqual(new Set([...firstIds, secondId]));
    expect(final.rows).toEqual(offlineRows(all, rules));
    // The first session's objects were not rewritten.
    for (const key of afterPartial.keys) expect(final.bodies.get(key)).toEqual(afterPartial.bodies.get(key));
  });

  it('is idempotent: a second flush or a redelivery writes nothing, logs nothing and counts no signal again', async () => {
    const ctx = await setup();
    const end = latest(allRecords());
    await ctx.deliver(end + MINUTE, examples);
    const result = offline(allRecords());
    const consoleSessions = result.sessions.filter((s) => s.summary.kind === 'console');
    expect(consoleSessions.length).toBeGreaterThanOrEqual(3);

    const first = await ctx.flushAt(end + SETTLE + 2 * MINUTE);
    const written = await ctx.dataset();
    expectLayout(written);
    expect(written.rows).toEqual(offlineRows(allRecords(), rules));
    expect(first.objectsWritten).toBe(written.keys.length);
    expect(first.sessionsWritten).toBe(consoleSessions.length);

    // Counted once: every signal (Suppress aside), and the risky ones by risk.
    const signals = consoleSessions.flatMap((s) => s.signals).filter((s) => !s.label.startsWith('Suppress'));
    const risky: Partial<Record<Risk, number>> = {};
    for (const s of signals) if (riskAtLeast(s.risk, 'medium')) risky[s.risk] = (risky[s.risk] ?? 0) + 1;
    expect(Object.keys(risky).length).toBeGreaterThan(0);
    expect(first.newSignals).toBe(signals.length);
    // Unmapped: events no specific rule explains (those of generic signals included).
    const unmapped = consoleSessions.reduce((n, s) => n + s.summary.unmappedEventCount, 0);
    expect(unmapped).toBeGreaterThan(0);
    expect(first.unmappedEvents).toBe(unmapped);
    expect(first.newRiskySignals).toEqual(risky);

    // One session line per session, equal to the offline summary.
    const lines = ctx.sessionLog.lines.map((l) => JSON.parse(l.message) as SessionSummary & { type: string });
    expect(lines.map((l) => l.id).sort()).toEqual(consoleSessions.map((s) => s.summary.id).sort());
    for (const session of consoleSessions) {
      expect(lines.find((l) => l.id === session.summary.id)).toMatchObject({
        type: 'trailmap.session',
        ...session.summary,
      });
    }

    // Nothing new: nothing due, nothing written.
    const again = await ctx.flushAt(end + SETTLE + 7 * MINUTE);
    expect(again).toMatchObject({ partitions: 0, objectsWritten: 0, objectsDeleted: 0, newSignals: 0 });

    // Every object delivered again: the partitions come due, but their output is unchanged.
    await ctx.deliver(end + SETTLE + 10 * MINUTE, examples);
    const redelivered = await ctx.flushAt(end + SETTLE + 11 * MINUTE);
    expect(redelivered.partitions).toBe(first.partitions);
    expect(redelivered).toMatchObject({
      objectsWritten: 0,
      objectsDeleted: 0,
      newSignals: 0,
      newRiskySignals: {},
    });
    const unchanged = await ctx.dataset();
    expect(unchanged.keys).toEqual(written.keys);
    expect(unchanged.bodies).toEqual(written.bodies);
    expect(ctx.sessionLog.lines).toHaveLength(consoleSessions.length);

    // A late event changes bob's session: one new line for it, and its risky signals are not counted again.
    const bob = consoleSessions.find((s) => BOB_PATTERN.test(s.summary.principalArn ?? ''))!;
    const bobRecords = allRecords().filter((r) => BOB_PATTERN.test(r.userIdentity?.arn ?? ''));
    const last = bobRecords.reduce((a, b) => (a.eventTime! > b.eventTime! ? a : b));
    const extra: CloudTrailRecord = {
      ...last,
      eventID: 'late-event-of-bob-0001',
      eventTime: new Date(Date.parse(last.eventTime!) + 30_000).toISOString().replace('.000Z', 'Z'),
      eventSource: 'sts.amazonaws.com',
      eventName: 'GetCallerIdentity',
      requestParameters: null,
      responseElements: null,
    };
    await ctx.deliver(end + SETTLE + 20 * MINUTE, [
      { key: trailKey(end + SETTLE + 20 * MINUTE, 'LateBobEvent0001'), records: [extra] },
    ]);
    const late = await ctx.flushAt(end + SETTLE + 21 * MINUTE);
    const after = offline([...allRecords(), extra]);
    const bobAfter = after.sessions.find((s) => s.summary.id === bob.summary.id)!;
    expect(bobAfter.summary.eventCount).toBe(bob.summary.eventCount + 1);
    const riskyIds = (sessions: typeof consoleSessions) =>
      new Set(
        sessions
          .flatMap((s) => s.signals)
          .filter((s) => !s.label.startsWith('Suppress') && riskAtLeast(s.risk, 'medium'))
          .map((s) => s.id),
      );
    const newRisky = [...riskyIds(after.sessions)].filter((id) => !riskyIds(consoleSessions).has(id));
    const counted = Object.values(late.newRiskySignals).reduce((a, b) => a + (b ?? 0), 0);
    expect(counted).toBe(newRisky.length);
    expect(late.partitions).toBe(1);
    const newLines = ctx.sessionLog.lines.slice(consoleSessions.length).map((l) => JSON.parse(l.message));
    expect(newLines).toHaveLength(1);
    expect(newLines[0]).toMatchObject({ ...bobAfter.summary });
    expect((await ctx.dataset()).rows).toEqual(offlineRows([...allRecords(), extra], rules));
  });

  it('picks up a late object of an already written session and overwrites its objects', async () => {
    const ctx = await setup();
    const records = firstSignInOf(ALICE);
    const times = records.map((r) => Date.parse(r.eventTime!)).sort((a, b) => a - b);
    const cut = times[Math.floor(times.length / 2)];
    const earlyRecords = records.filter((r) => Date.parse(r.eventTime!) < cut);
    const lateRecords = records.filter((r) => Date.parse(r.eventTime!) >= cut);
    expect(earlyRecords.length).toBeGreaterThan(5);
    expect(lateRecords.length).toBeGreaterThan(5);

    await ctx.deliver(cut + MINUTE, [
      { key: trailKey(cut + MINUTE, 'EarlyPartOfAlic'), records: earlyRecords },
    ]);
    await ctx.flushAt(latest(earlyRecords) + SETTLE + 2 * MINUTE);
    const before = await ctx.dataset();
    expectLayout(before);
    expect(before.rows).toEqual(offlineRows(earlyRecords, rules));
    expect(before.keys.length).toBeGreaterThanOrEqual(3);

    // The rest of the session comes in well after it settled.
    const lateArrival = latest(records) + SETTLE + 5 * MINUTE;
    await ctx.deliver(lateArrival, [{ key: trailKey(lateArrival, 'LatePartOfAlice'), records: lateRecords }]);
    const report = await ctx.flushAt(lateArrival + MINUTE);
    expect(report.partitions).toBe(1);
    expect(report.objectsWritten).toBeGreaterThan(0);
    const after = await ctx.dataset();
    expectLayout(after);
    expect(after.keys).toEqual(before.keys);
    expect(after.rows).toEqual(offlineRows(records, rules));
    expect(after.rows.sessions).toHaveLength(1);
    expect(after.rows.sessions[0].event_count).toBe(records.length);
  });

  it('deletes the objects of a sign-in flushed alone once the session it started joins it', async () => {
    const ctx = await setup();
    const records = firstSignInOf(ALICE);
    const login = records.filter((r) => r.eventName === 'ConsoleLogin');
    const rest = records.filter((r) => r.eventName !== 'ConsoleLogin');
    expect(login).toHaveLength(1);
    const loginOnly = offline(login).sessions;
    expect(loginOnly).toHaveLength(1);
    const joined = offline(records).sessions;
    expect(joined).toHaveLength(1);
    expect(joined[0].summary.id).not.toBe(loginOnly[0].summary.id);
    expect(joined[0].summary.loginResult).toBe('Success');

    const loginTime = earliest(login);
    await ctx.deliver(loginTime + MINUTE, [
      { key: trailKey(loginTime + MINUTE, 'SignInAlone00001'), records: login },
    ]);
    const first = await ctx.flushAt(loginTime + SETTLE + MINUTE);
    expect(first.sessionsWritten).toBe(1);
    const alone = await ctx.dataset();
    expectLayout(alone);
    expect(sessionIdsIn(alone.keys)).toEqual(new Set([loginOnly[0].summary.id]));
    expect(alone.rows).toEqual(offlineRows(login, rules));

    const restArrival = latest(rest) + SETTLE + 5 * MINUTE;
    await ctx.deliver(restArrival, [{ key: trailKey(restArrival, 'RestOfSession001'), records: rest }]);
    const second = await ctx.flushAt(restArrival + MINUTE);
    expect(second.objectsDeleted).toBe(alone.keys.length);
    const final = await ctx.dataset();
    expectLayout(final);
    expect(sessionIdsIn(final.keys)).toEqual(new Set([joined[0].summary.id]));
    expect(final.keys.filter((k) => alone.keys.includes(k))).toEqual([]);
    expect(final.rows).toEqual(offlineRows(records, rules));
    // One line when the sign-in was alone, one for the session it started.
    expect(ctx.sessionLog.lines.map((l) => JSON.parse(l.message).id)).toEqual([
      loginOnly[0].summary.id,
      joined[0].summary.id,
    ]);
  });
});

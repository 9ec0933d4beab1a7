/**
 * Crash injection at every step of ingest and flush: one scenario (three console sessions of the
 * example trail cut into objects of two accounts and two regions, delivered out of order, one
 * notification twice, a sign-in flushed alone before its session joins it, and a late object
 * arriving after its session was flushed) is first run without faults while every DynamoDB and S3
 * call of ingest and flush is listed. Then, for every call listed and for both ways it can fail
 * (before reaching the service, or after taking effect with the response lost: "after the buffer
 * write", "before/after each S3 write", "before the ack" — an ingest crash after its last write is
 * an SQS message whose ack is lost), the scenario runs again with that single crash. Each run must
 * converge to the offline `enrich` of the same records: the same signals, sessions and
 * event_signals rows, every console event explained exactly once, no signal twice, and exactly the
 * objects the offline dataset has (no orphans).
 *
 * The list of crash points comes from the baseline run, so the baseline runs while the file is
 * collected (one `it` per crash point); the emulators are started then, once for the file. S3
 * writes are made read-after-write consistent (lambdas/local/emulators.ts): s3rver acknowledges a PutObject
 * before the object is on disk, which made a run now and then read an empty enriched object.
 * CRASH_EVERY_STEP_MAX_POINTS caps how many crash points run (deterministic sample).
 *
 * Also here: the same writes with the whole invocation dying right after them (not just the one
 * call failing while the handler carries on with its other messages or partitions), a check that
 * the convergence check itself catches lost, doubled, changed and orphan output, and late events
 * after a flush followed step by step.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetObjects } from '../../engine/dataset.ts';
import { type Enrichment, enrich } from '../../engine/enrich.ts';
import { RuleIndex } from '../../engine/map.ts';
import { toTrailEvent } from '../../engine/read.ts';
import { loadRules } from '../../engine/rules/load.ts';
import { datasetRows } from '../../engine/tables.ts';
import type { CloudTrailRecord } from '../../engine/types.ts';
import { BUFFER_TABLE, SessionBuffer } from '../../lambdas/buffer.ts';
import { flush } from '../../lambdas/flush.ts';
import { createIngestHandler } from '../../lambdas/ingest.ts';
import { startLocalAws } from '../../lambdas/local/emulators.ts';
import { MemoryLogger } from '../../lambdas/log.ts';
import { MemorySessionLog } from '../../lambdas/session-log.ts';
import { type CallSite, CallRecorder, InvocationDeath } from './call-sites.ts';
import { canonical, checkEventCoverage, checkSignalRows } from './check.ts';
import { FaultInjector, type RunOutcome, runPlan, trimTrace, type WrittenRow } from './harness.ts';
import {
  exampleObjects,
  jsonLines,
  listKeys,
  getBytes,
  logObject,
  s3Message,
  sqsEvent,
  userArn,
} from './helpers.ts';
import { describeFault, type Fault, type Plan, type PlannedObject } from './scenario.ts';
import { maxOf, minOf, pushTo } from '../../engine/arrays.ts';

const MINUTE = 60_000;
const SETTLE_DELAY_MS = 15 * MINUTE;
const PREFIX = 'enriched/';
const MAX_POINTS = Number(process.env.CRASH_EVERY_STEP_MAX_POINTS ?? 1000);

const DAY = '2026-03-02';
const at = (hhmmss: string) => Date.parse(`${DAY}T${hhmmss}Z`);
const hhmm = (time: number) => new Date(time).toISOString().slice(11, 16);
const timeOf = (r: CloudTrailRecord) => Date.parse(r.eventTime as string);

// ---------------------------------------------------------------------------------------------
// The scenario: records of the example trail, cut into objects by hand.

const rules = new RuleIndex(loadRules());
const examples = await exampleObjects();
const orgId = examples[0].key.split('/')[1];
const trail = examples.flatMap((o) => o.records);

const ALICE = userArn('alice');
const isAlice = (r: CloudTrailRecord) => r.userIdentity?.arn === ALICE;
const groupOf = (r: CloudTrailRecord) => `${r.recipientAccountId}/${r.awsRegion}`;
const AFTERNOON = Date.parse(`${DAY}T12:00:00Z`);
const signIns = trail.filter(
  (r) => r.eventName === 'ConsoleLogin' && groupOf(r) === '111122223333/us-east-1' && timeOf(r) < AFTERNOON,
);
const aliceLogin = signIns.find(isAlice)!;
const inGroup = (group: string) => trail.filter((r) => groupOf(r) === group && !signIns.includes(r));
const before = (rs: CloudTrailRecord[], time: number) => rs.filter((r) => timeOf(r) < time);
const from = (rs: CloudTrailRecord[], time: number) => rs.filter((r) => timeOf(r) >= time);
const between = (rs: CloudTrailRecord[], start: number, end: number) => before(from(rs, start), end);
/** Records of an object in a stable order that is not time order (eventIDs are random). */
const scrambled = (rs: CloudTrailRecord[]) =>
  [...rs].sort((a, b) => String(a.eventID).localeCompare(String(b.eventID)));

const usEast = inGroup('111122223333/us-east-1');
const euWest = inGroup('111122223333/eu-west-1');
const otherAccount = inGroup('444455556666/us-east-1');

interface ObjectSpec {
  name: string;
  group: string;
  records: CloudTrailRecord[];
  /** When the notification reaches the queue (hh:mm:ss), and a duplicate of it (or null). */
  at: string;
  again: string | null;
}

/**
 * us-east-1 of 111122223333: the two sign-ins (alice's and a failed one) come first and alone, so
 * alice's sign-in is flushed as a session of its own, deleted once her session joins it; her
 * session's first part is delivered twice; its second part (and bob's us-east-1 calls) arrives at
 * 10:05, well after the first part was flushed. eu-west-1: bob's later calls arrive before his
 * earlier ones. In the afternoon alice signs in again (both regions): a second session in a
 * partition flushed before. 444455556666: calls that belong to no console session.
 */
const SPECS: ObjectSpec[] = [
  { name: 'SignIns', group: '111122223333/us-east-1', records: signIns, at: '09:06:00', again: null },
  {
    name: 'UsEastHead',
    group: '111122223333/us-east-1',
    records: before(usEast, at('09:20:00')),
    at: '09:22:00',
    again: '09:50:00',
  },
  {
    name: 'UsEastTail',
    group: '111122223333/us-east-1',
    records: between(usEast, at('09:20:00'), AFTERNOON),
    at: '10:05:00',
    again: null,
  },
  {
    name: 'EuWestTail',
    group: '111122223333/eu-west-1',
    records: between(euWest, at('09:15:00'), AFTERNOON),
    at: '09:41:00',
    again: null,
  },
  // alice signs in again in the afternoon: her second session, a partition already flushed twice.
  {
    name: 'UsEastAfternoon',
    group: '111122223333/us-east-1',
    records: from(usEast, AFTERNOON),
    at: '12:50:00',
    again: null,
  },
  {
    name: 'EuWestAfternoon',
    group: '111122223333/eu-west-1',
    records: from(euWest, AFTERNOON),
    at: '12:48:00',
    again: null,
  },
  {
    name: 'EuWestHead',
    group: '111122223333/eu-west-1',
    records: before(euWest, at('09:15:00')),
    at: '09:43:00',
    again: null,
  },
  {
    name: 'OtherAccount',
    group: '444455556666/us-east-1',
    records: otherAccount,
    at: '09:41:00',
    again: null,
  },
];

function objectKey(spec: ObjectSpec, delivered: number): string {
  const [account, region] = spec.group.split('/');
  const stamp = new Date(delivered).toISOString().replace(/[-:]/g, '').slice(0, 13);
  const name = `${account}_CloudTrail_${region}_${stamp}Z_${spec.name}.json.gz`;
  return `AWSLogs/${orgId}/${account}/CloudTrail/${region}/${DAY.replaceAll('-', '/')}/${name}`;
}

const OBJECTS: PlannedObject[] = SPECS.map((spec, index) => {
  const times = spec.records.map(timeOf);
  return {
    index,
    key: objectKey(spec, at(spec.at)),
    group: spec.group,
    records: scrambled(spec.records),
    firstEvent: minOf(times),
    lastEvent: maxOf(times),
    at: at(spec.at),
    againAt: spec.again === null ? null : at(spec.again),
  };
});
const RECORDS = OBJECTS.flatMap((o) => o.records);

function scenario(faults: Fault[]): Plan {
  const raw = {
    objectsPerGroup: [],
    splitSeed: 0,
    orderSeed: 1,
    deliveries: [],
    batchSize: 2,
    dueShards: 2,
    faults,
  };
  return { raw, objects: OBJECTS, batchSize: raw.batchSize, dueShards: raw.dueShards, faults };
}

// ---------------------------------------------------------------------------------------------
// What the enriched prefix must hold: the offline dataset of the same records.

function offlineOf(records: CloudTrailRecord[]): Enrichment {
  return enrich(
    records.map((record, i) => toTrailEvent(record, 'offline', i)),
    rules,
  );
}

const expectedCache = new WeakMap<Enrichment, Map<string, string[]>>();
/** Every object of the offline dataset, as the pipeline names them, with its rows (canonical JSON). */
function expectedObjects(offline: Enrichment): Map<string, string[]> {
  const cached = expectedCache.get(offline);
  if (cached) return cached;
  const objects = new Map<string, string[]>();
  expectedCache.set(offline, objects);
  for (const session of offline.sessions) {
    const id = session.summary.id;
    const events = offline.events.filter((e) => e.sessionId === id);
    for (const object of datasetObjects(datasetRows([session], events), id)) {
      objects.set(`${PREFIX}${object.key}`, jsonLines(object.body).map(canonical).sort());
    }
  }
  return objects;
}

const sessionOfKey = (key: string) => /\/([^/]+)\.jsonl\.gz$/.exec(key)![1];

/**
 * Everything that differs from the offline dataset: rows of the three tables (as multisets, so a
 * row written twice counts), every console event explained once, signal ids unique, and the set of
 * objects (an object of a session that no longer exists is an orphan).
 */
function convergenceProblems(
  written: { rows: Record<string, WrittenRow[]>; unexpectedKeys: string[] },
  offline: Enrichment,
): string[] {
  const problems = [
    ...written.unexpectedKeys.map((key) => `unexpected object ${key}`),
    ...checkSignalRows(written.rows.signals, offline).map((p) => `(signals) ${p}`),
    ...checkEventCoverage(written.rows, offline).map((p) => `(events) ${p}`),
  ];
  const expected = expectedObjects(offline);
  const byKey = new Map<string, string[]>();
  for (const table of ['signals', 'sessions', 'event_signals']) {
    for (const { key, row } of written.rows[table]) pushTo(byKey, key, canonical(row));
  }
  for (const [key, rows] of byKey) {
    const want = expected.get(key);
    if (!want) problems.push(`orphan object ${key} (${rows.length} rows; no such object offline)`);
    else if (JSON.stringify(rows.sort()) !== JSON.stringify(want)) {
      const missing = want.filter((r) => !rows.includes(r)).length;
      const extra = rows.filter((r) => !want.includes(r)).length;
      problems.push(
        `object ${key} holds ${rows.length} rows, offline ${want.length} (${missing} missing, ${extra} extra or different)`,
      );
    }
  }
  for (const key of expected.keys()) if (!byKey.has(key)) problems.push(`missing object ${key}`);
  const signalIds = written.rows.signals.map((w) => String(w.row.id));
  for (const id of new Set(signalIds)) {
    const n = signalIds.filter((x) => x === id).length;
    if (n > 1) problems.push(`signal ${id} written ${n} times`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Emulators (once for the file) and the baseline run, at collection time.

const aws = await startLocalAws({ buckets: ['bootstrap'], tableName: 'bootstrap' });
afterAll(async () => {
  await aws.close();
});
const faults = new FaultInjector();
faults.install(aws);
// Installed after the injector, so inside it: an S3 write that took effect is readable before a
// fault fires after it, and before the harness reads the enriched prefix.
const recorder = new CallRecorder(faults);
recorder.install(aws);
const death = new InvocationDeath(faults);
death.install(aws);
const OFFLINE = offlineOf(RECORDS);

let runs = 0;
function runScenario(plan: Plan): Promise<RunOutcome> {
  runs++;
  return runPlan(plan, {
    aws,
    faults,
    rules,
    settleDelayMs: SETTLE_DELAY_MS,
    names: { trailBucket: `trail-c${runs}`, enrichedBucket: `enriched-c${runs}`, table: `buffer-c${runs}` },
  });
}

const baseline = await recorder.record(() => runScenario(scenario([])));

interface CrashPoint {
  fault: Fault;
  site: CallSite;
}
const ALL_POINTS: CrashPoint[] = baseline.calls.flatMap((site) =>
  (['before', 'after'] as const).map((when) => ({
    site,
    fault: { phase: site.phase, command: site.command, nth: site.nth, when },
  })),
);

/**
 * At most `max` crash points, deterministically: the points of the first two calls of each command
 * of each phase first (an even stride over them if they alone are too many), then an even stride
 * over the rest.
 */
function sample(points: CrashPoint[], max: number): CrashPoint[] {
  if (points.length <= max) return points;
  const stride = (from: CrashPoint[], count: number) =>
    Array.from(
      { length: Math.min(count, from.length) },
      (_, i) => from[Math.floor((i * from.length) / Math.min(count, from.length))],
    );
  const first = points.filter((p) => p.site.nth <= 2);
  const rest = points.filter((p) => p.site.nth > 2);
  const picked = new Set([...stride(first, max), ...stride(rest, max - Math.min(max, first.length))]);
  return points.filter((p) => picked.has(p));
}
const POINTS = sample(ALL_POINTS, MAX_POINTS);

const callSummary = () => {
  const counts = new Map<string, number>();
  for (const c of baseline.calls)
    counts.set(`${c.phase} ${c.command}`, (counts.get(`${c.phase} ${c.command}`) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k}: ${n}`).join(', ');
};

/** The run noticed the crash: a failed message, a failed partition or a failed flush run after it. */
const FAILURE =
  /^\d\d:\d\d (message \S+ failed|ingest batch failed|flush: \d+\/\d+ partitions failed|flush threw)/;

describe('the crash-free baseline', () => {
  it('converges, and exercises what the crash points are meant to cover', () => {
    console.log(`crash-every-step baseline: ${baseline.calls.length} calls (${callSummary()})`);
    expect(baseline.result.trace).toEqual([]);
    expect(convergenceProblems(baseline.result, OFFLINE)).toEqual([]);
    // Five console sessions (a failed sign-in, alice, bob's Identity Center portal visit, bob across
    // two regions, alice again in the afternoon), many signals.
    expect(OFFLINE.sessions.map((s) => s.summary.kind)).toEqual(Array(5).fill('console'));
    expect(OFFLINE.sessions.filter((s) => s.summary.principalArn === ALICE)).toHaveLength(2);
    expect(OFFLINE.sessions.flatMap((s) => s.signals).length).toBeGreaterThan(50);
    expect(OFFLINE.other.length).toBeGreaterThan(0);
    expect(new Set(OBJECTS.map((o) => o.group)).size).toBe(3);
    expect(RECORDS.length).toBe(new Set(RECORDS).size);

    const puts = baseline.calls.filter((c) => c.command === 'PutObjectCommand');
    // Her first session (sessions are listed by start).
    const alice = OFFLINE.sessions.find((s) => s.summary.principalArn === ALICE)!.summary.id;
    const tail = OBJECTS.find((o) => o.key.includes('UsEastTail'))!;
    // Alice's session was written before its late tail arrived, and rewritten after.
    const aliceWrites = puts.filter((c) => c.detail.includes(alice)).map((c) => c.clock);
    expect(aliceWrites.some((t) => t < tail.at)).toBe(true);
    expect(aliceWrites.some((t) => t > tail.at)).toBe(true);
    // Her sign-in was written alone first (another session id), then deleted when it joined her session.
    const loginAlone = offlineOf([aliceLogin]).sessions[0].summary.id;
    expect(loginAlone).not.toBe(alice);
    expect(puts.some((c) => c.detail.includes(loginAlone))).toBe(true);
    expect(baseline.calls.filter((c) => c.command === 'DeleteObjectsCommand').length).toBeGreaterThan(0);
    // Ingest read every delivery (the duplicate notification included) and wrote the buffer.
    const gets = baseline.calls.filter((c) => c.phase === 'ingest' && c.command === 'GetObjectCommand');
    expect(gets).toHaveLength(OBJECTS.length + OBJECTS.filter((o) => o.againAt !== null).length);
    expect(baseline.calls.some((c) => c.phase === 'ingest' && c.command === 'BatchWriteItemCommand')).toBe(
      true,
    );
  });

  it('is deterministic: a second run makes the same calls in the same order', async () => {
    const again = await recorder.record(() => runScenario(scenario([])));
    const sites = (calls: CallSite[]) =>
      calls.map((c) => `${c.phase} ${c.command} #${c.nth} ${hhmm(c.clock)}`);
    expect(sites(again.calls)).toEqual(sites(baseline.calls));
  });
});

describe(`a crash at every call of ingest and flush, before or after it took effect (${POINTS.length} of ${ALL_POINTS.length} crash points)`, () => {
  it.each(
    POINTS.map((p) => ({
      ...p,
      name: `${describeFault(p.fault)} (${hhmm(p.site.clock)}${p.site.detail ? `, ${p.site.detail}` : ''})`,
    })),
  )(
    '$name',
    async ({ fault }) => {
      const outcome = await runScenario(scenario([fault]));
      const fired = outcome.trace.findIndex((line) => line.includes(` FAULT ${describeFault(fault)}`));
      const context = `run:\n${trimTrace(outcome.trace).join('\n')}`;
      expect(fired, `the fault never fired\n${context}`).toBeGreaterThanOrEqual(0);
      expect(
        outcome.trace.slice(fired + 1).some((line) => FAILURE.test(line)),
        `the crash went unnoticed\n${context}`,
      ).toBe(true);
      expect(convergenceProblems(outcome, OFFLINE), context).toEqual([]);
    },
    60_000,
  );
});

/** Writes: after one of them, the invocation dies (buffer write, S3 write, partition state, watermark). */
const WRITES = new Set([
  'BatchWriteItemCommand',
  'PutItemCommand',
  'PutObjectCommand',
  'DeleteObjectsCommand',
]);
const DEATH_POINTS = ALL_POINTS.filter((p) => p.fault.when === 'after' && WRITES.has(p.fault.command));

describe(`the whole invocation dies right after each write took effect (${DEATH_POINTS.length} writes)`, () => {
  it.each(
    DEATH_POINTS.map((p) => ({
      ...p,
      name: `${p.fault.phase}: dies after call #${p.fault.nth} of ${p.fault.command} (${hhmm(p.site.clock)}${p.site.detail ? `, ${p.site.detail}` : ''})`,
    })),
  )(
    '$name',
    async ({ fault, site }) => {
      death.arm(site);
      let outcome: RunOutcome;
      try {
        outcome = await runScenario(scenario([fault]));
      } finally {
        death.arm(null);
      }
      const fired = outcome.trace.findIndex((line) => line.includes(` FAULT ${describeFault(fault)}`));
      const context = `run:\n${trimTrace(outcome.trace).join('\n')}`;
      expect(fired, `the fault never fired\n${context}`).toBeGreaterThanOrEqual(0);
      expect(convergenceProblems(outcome, OFFLINE), context).toEqual([]);
    },
    60_000,
  );
});

describe('the convergence check', () => {
  it('finds a lost row, a row written twice, a changed row and an orphan object', () => {
    const rows = baseline.result.rows;
    const check = (changed: Record<string, WrittenRow[]>) =>
      convergenceProblems({ rows: { ...rows, ...changed }, unexpectedKeys: [] }, OFFLINE);
    const signal = rows.signals[0];
    const session = rows.sessions[0];
    expect(check({})).toEqual([]);
    expect(check({ event_signals: rows.event_signals.slice(1) }).length).toBeGreaterThan(0);
    expect(
      check({ signals: [...rows.signals, { ...signal, key: signal.key.replace('.jsonl', '-x.jsonl') }] })
        .length,
    ).toBeGreaterThan(0);
    expect(check({ signals: [...rows.signals, signal] }).length).toBeGreaterThan(0);
    expect(
      check({
        sessions: [
          { ...session, row: { ...session.row, event_count: Number(session.row.event_count) + 1 } },
          ...rows.sessions.slice(1),
        ],
      }).length,
    ).toBeGreaterThan(0);
    const orphan = { ...session, key: session.key.replace(String(session.row.id), 's-00000000000000000000') };
    expect(check({ sessions: [...rows.sessions, orphan] })).toContain(
      `orphan object ${orphan.key} (1 rows; no such object offline)`,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Late events after a flush, step by step.

/** Fresh buckets and table, and both handlers on one simulated clock (no faults armed). */
async function pipeline() {
  runs++;
  const names = { trail: `trail-late${runs}`, enriched: `enriched-late${runs}`, table: `buffer-late${runs}` };
  faults.arm([], () => {});
  await aws.s3.send(new CreateBucketCommand({ Bucket: names.trail }));
  await aws.s3.send(new CreateBucketCommand({ Bucket: names.enriched }));
  await aws.ddb.send(new CreateTableCommand({ TableName: names.table, ...BUFFER_TABLE }));
  let clock = 0;
  const buffer = new SessionBuffer(aws.ddb, {
    tableName: names.table,
    dueShards: 2,
    sleep: async () => {},
    now: () => clock,
  });
  const config = {
    maxObjectBytes: 64 * 1024 * 1024,
    settleDelayMs: SETTLE_DELAY_MS,
    bufferTtlMs: 7 * 86_400_000,
    enrichedBucket: names.enriched,
    enrichedPrefix: PREFIX,
  };
  const logger = new MemoryLogger();
  const sessionLog = new MemorySessionLog();
  const ingest = createIngestHandler({ s3: aws.s3, buffer, config, logger, now: () => clock });
  let delivered: CloudTrailRecord[] = [];
  let step = 0;
  return {
    /** One object with `records` arrives (after its last event), then a flush runs once they all settled. */
    async deliverAndFlush(records: CloudTrailRecord[], arrival: number) {
      step++;
      const key = objectKey(
        { name: `Step${step}`, group: '111122223333/us-east-1', records, at: '', again: null },
        arrival,
      );
      const body = logObject(scrambled(records));
      await aws.s3.send(new PutObjectCommand({ Bucket: names.trail, Key: key, Body: body }));
      clock = arrival;
      const response = await ingest(sqsEvent([s3Message(`step${step}`, names.trail, key, body.length)]));
      expect(response.batchItemFailures).toEqual([]);
      delivered = [...delivered, ...records];
      clock = Math.max(arrival, maxOf(delivered.map(timeOf)) + SETTLE_DELAY_MS) + 2 * MINUTE;
      const report = await flush({ s3: aws.s3, buffer, rules, config, sessionLog, logger, now: () => clock });
      expect(report.failedPartitions).toBe(0);
      expect(report.partitions).toBe(1);
      return report;
    },
    async dataset() {
      const keys = await listKeys(aws.s3, names.enriched, PREFIX);
      const bodies = new Map<string, Buffer>();
      const rows: Record<string, WrittenRow[]> = { signals: [], sessions: [], event_signals: [] };
      const unexpectedKeys: string[] = [];
      for (const key of keys) {
        const table = key.split('/')[1];
        if (!(table in rows)) {
          unexpectedKeys.push(key);
          continue;
        }
        const body = await getBytes(aws.s3, names.enriched, key);
        bodies.set(key, body);
        for (const row of jsonLines(body)) rows[table].push({ key, row });
      }
      return { keys, bodies, rows, unexpectedKeys };
    },
    delivered: () => delivered,
  };
}

describe('late events after a flush', () => {
  // Her first session: its calls (and its CheckMfa, which names no ARN), not her afternoon one.
  const aliceRest = trail.filter(
    (r) =>
      r !== aliceLogin &&
      timeOf(r) < AFTERNOON &&
      (isAlice(r) || (r.eventName === 'CheckMfa' && r.userIdentity?.userName === 'alice')),
  );
  const head = before(aliceRest, at('09:20:00'));
  const tail = from(aliceRest, at('09:20:00'));

  it.each([
    {
      order: 'later events arrive after the session was flushed (its sign-in was flushed alone before that)',
      steps: [
        { records: [aliceLogin], arrival: at('09:06:00') },
        { records: head, arrival: at('09:22:00') },
        { records: tail, arrival: at('10:05:00') },
      ],
      // The sign-in's own session (signals, sessions, event_signals) once it joined hers.
      deleted: 3,
    },
    {
      order: 'earlier events (and the sign-in) arrive after the later ones were flushed',
      steps: [
        { records: tail, arrival: at('09:41:00') },
        { records: [aliceLogin, ...head], arrival: at('10:05:00') },
      ],
      deleted: 0,
    },
  ])(
    '$order: the output is rewritten to the offline result, nothing left behind',
    async ({ steps, deleted }) => {
      const p = await pipeline();
      // Her first session (sessions are listed by start).
      const alice = OFFLINE.sessions.find((s) => s.summary.principalArn === ALICE)!.summary.id;
      const snapshots: Awaited<ReturnType<typeof p.dataset>>[] = [];
      let deletedInAll = 0;
      for (const [i, step] of steps.entries()) {
        const report = await p.deliverAndFlush(step.records, step.arrival);
        const offline = offlineOf(p.delivered());
        const now = await p.dataset();
        expect(convergenceProblems(now, offline), `after step ${i + 1}`).toEqual([]);
        expect(now.keys).toEqual([...expectedObjects(offline).keys()].sort());
        const previous = snapshots.at(-1);
        if (previous) {
          // Whatever the previous flush wrote is either rewritten in place or deleted with its session.
          const gone = previous.keys.filter((k) => !now.keys.includes(k));
          expect(gone.filter((k) => offline.sessions.some((s) => s.summary.id === sessionOfKey(k)))).toEqual(
            [],
          );
          expect(report.objectsDeleted).toBe(gone.length);
          deletedInAll += gone.length;
        }
        snapshots.push(now);
      }
      expect(deletedInAll).toBe(deleted);
      // The last step added events to a session already written: its objects were rewritten in place.
      const [earlier, last] = snapshots.slice(-2);
      const aliceKeys = last.keys.filter((k) => sessionOfKey(k) === alice);
      expect(aliceKeys.length).toBeGreaterThanOrEqual(3);
      expect(aliceKeys.filter((k) => !earlier.keys.includes(k))).toEqual([]);
      expect(
        aliceKeys.filter((k) => !earlier.bodies.get(k)!.equals(last.bodies.get(k)!)).length,
      ).toBeGreaterThan(0);
      const sessionRows = last.rows.sessions.filter((w) => w.row.id === alice);
      expect(sessionRows).toHaveLength(1);
      expect(sessionRows[0].row.event_count).toBe(
        OFFLINE.sessions.find((s) => s.summary.id === alice)!.summary.eventCount,
      );
    },
  );
});

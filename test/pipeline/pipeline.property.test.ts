/**
 * Property: however CloudTrail cuts, orders, delays and duplicates the objects of an organization
 * trail, and whichever single DynamoDB or S3 call fails during ingest or flush (before or after it
 * took effect, with SQS redelivering failed messages and the next flush run retrying), the enriched
 * prefix ends up with exactly the signals `trailmap enrich` finds in the same records, and every
 * console event is explained exactly once.
 *
 * The trail is the example organization trail, generated into a temporary folder with
 * `writeExample`. One s3rver + dynalite instance serves the file; each run gets its own buckets and
 * table. PIPELINE_PROPERTY_SEED and PIPELINE_PROPERTY_RUNS override the fixed seed and run count.
 * (The property first found two notifications of one object in one SQS batch failing the whole
 * coalesced write; test/pipeline/regression-dup.integration.test.ts now pins that fix.)
 *
 * Known bug, reproduced below rather than fixed here (the test says how to flip it once fixed): a
 * flush that writes a session's objects and then fails before saving the partition state forgets
 * those objects; if the session is merged into another before the retry (a sign-in joined to the
 * session it started), they are never deleted. The property rarely hits that timing window by
 * chance; the directed test does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Enrichment, enrich } from '../../engine/enrich.ts';
import { RuleIndex } from '../../engine/map.ts';
import { readInputs } from '../../engine/read.ts';
import { loadRules } from '../../engine/rules/load.ts';
import { isSignIn } from '../../engine/sessionize.ts';
import type { CloudTrailRecord } from '../../engine/types.ts';
import { SAFETY_MARGIN_MS } from '../../lambdas/flush.ts';
import { type LocalAws, startLocalAws } from '../../lambdas/local/emulators.ts';
import { writeExample } from '../../scripts/make-example.ts';
import { checkEventCoverage, checkSignalRows } from './check.ts';
import { FaultInjector, FLUSH_EVERY_MS, type RunOutcome, runPlan, trimTrace } from './harness.ts';
import {
  describePlan,
  groupRecords,
  type Plan,
  type PlannedObject,
  plan,
  planArbitrary,
} from './scenario.ts';
import { maxOf, minOf } from '../../engine/arrays.ts';

const SEED = Number(process.env.PIPELINE_PROPERTY_SEED ?? 20260302);
const NUM_RUNS = Number(process.env.PIPELINE_PROPERTY_RUNS ?? 20);
const SETTLE_DELAY_MS = 15 * 60_000;

let aws: LocalAws;
const faults = new FaultInjector();
let rules: RuleIndex;
let records: CloudTrailRecord[];
let offline: Enrichment;
let orgId: string;
let trailDir: string;
let runs = 0;

beforeAll(async () => {
  trailDir = await mkdtemp(join(tmpdir(), 'trailmap-property-trail-'));
  const loaded = loadRules();
  rules = new RuleIndex(loaded);
  const report = await writeExample(trailDir, loaded);
  orgId = report.orgId;
  const read = await readInputs([trailDir]);
  expect(read.problems).toEqual([]);
  records = read.events.map((e) => e.record);
  offline = enrich(read.events, rules);
  aws = await startLocalAws({ buckets: ['bootstrap'], tableName: 'bootstrap' });
  faults.install(aws);
}, 60_000);

afterAll(async () => {
  await aws?.close();
  if (trailDir) await rm(trailDir, { recursive: true, force: true });
});

/** Runs a plan on fresh buckets and table; returns the outcome and every problem the checks find. */
async function runAndCheck(p: Plan): Promise<{ outcome: RunOutcome; problems: string[] }> {
  runs++;
  const outcome = await runPlan(p, {
    aws,
    faults,
    rules,
    settleDelayMs: SETTLE_DELAY_MS,
    names: { trailBucket: `trail-r${runs}`, enrichedBucket: `enriched-r${runs}`, table: `buffer-r${runs}` },
  });
  const problems = [
    ...outcome.unexpectedKeys.map((key) => `unexpected object ${key}`),
    ...checkSignalRows(outcome.rows.signals, offline).map((p) => `(1) ${p}`),
    ...checkEventCoverage(outcome.rows, offline).map((p) => `(2) ${p}`),
  ];
  return { outcome, problems };
}

describe('ingest + flush on emulated AWS', () => {
  it('the example trail is a multi-session organization trail (the property is not vacuous)', () => {
    const consoleSessions = offline.sessions.filter((s) => s.summary.kind === 'console');
    expect(consoleSessions.length).toBeGreaterThanOrEqual(3);
    expect(offline.sessions.flatMap((s) => s.signals).length).toBeGreaterThan(20);
    expect(offline.other.length).toBeGreaterThan(0);
    expect(offline.duplicateEventCount).toBeGreaterThan(0);
    expect(groupRecords(records).size).toBe(4);
  });

  it('converges to `enrich` on the same records under any split, order, lateness, duplication and single-call crash', async () => {
    console.log(
      `pipeline property: fast-check seed ${SEED}, ${NUM_RUNS} runs ` +
        '(PIPELINE_PROPERTY_SEED / PIPELINE_PROPERTY_RUNS to change)',
    );
    const stats = { runs: 0, rounds: 0, faultsFired: 0, messagesRedelivered: 0, flushFailures: 0 };
    const property = fc.asyncProperty(
      planArbitrary(orgId, groupRecords(records), SETTLE_DELAY_MS),
      async (p) => {
        const planned = p.objects.reduce((n, o) => n + o.records.length, 0);
        if (planned !== records.length) throw new Error(`plan holds ${planned} of ${records.length} records`);
        const { outcome, problems } = await runAndCheck(p);
        stats.runs++;
        stats.rounds += outcome.rounds;
        stats.faultsFired += outcome.trace.filter((t) => t.includes(' FAULT ')).length;
        stats.messagesRedelivered += outcome.trace.filter((t) => / message \S+ failed/.test(t)).length;
        stats.flushFailures += outcome.trace.filter((t) => /^\d\d:\d\d flush(:| threw)/.test(t)).length;
        if (problems.length > 0) {
          throw new Error(
            [
              `${problems.length} problem(s) after ${outcome.rounds} flush runs:`,
              ...problems.slice(0, 20),
              ...(problems.length > 20 ? [`… and ${problems.length - 20} more`] : []),
              'plan:',
              describePlan(p),
              'run:',
              ...trimTrace(outcome.trace),
            ].join('\n'),
          );
        }
      },
    );
    await fc.assert(property, { seed: SEED, numRuns: NUM_RUNS });
    console.log(
      `pipeline property: ${stats.runs} runs, ${stats.rounds} flush runs, ${stats.faultsFired} faults fired, ` +
        `${stats.messagesRedelivered} messages redelivered, ${stats.flushFailures} failed flush runs`,
    );
  }, 600_000);
});

describe('regression: a flush that fails half way leaves no orphan objects', () => {
  const faults = [
    { phase: 'flush', command: 'PutItemCommand', nth: 1, when: 'before' },
    { phase: 'flush', command: 'PutObjectCommand', nth: 2, when: 'after' },
  ] as const;
  it.each(faults)(
    'a sign-in session written by a flush that failed ($command #$nth, $when) is cleaned up',
    async (fault) => {
      // A successful console sign-in that starts a session with other events.
      const login = records.find(
        (r) =>
          isSignIn(r) &&
          r.eventName === 'ConsoleLogin' &&
          offline.events.some(
            (e) =>
              e.eventId === r.eventID &&
              offline.sessions.find((s) => s.summary.id === e.sessionId)!.summary.eventCount > 5,
          ),
      )!;
      const loginTime = Date.parse(login.eventTime as string);
      // The flush run that first sees the sign-in settled (alone), and a delivery just after it.
      const start = Math.floor((loginTime + 60_000) / FLUSH_EVERY_MS) * FLUSH_EVERY_MS;
      const failedRun =
        start +
        Math.ceil((loginTime + SETTLE_DELAY_MS + SAFETY_MARGIN_MS - start) / FLUSH_EVERY_MS) * FLUSH_EVERY_MS;
      const cut = loginTime + 10 * 60_000;
      const base = plan(
        {
          objectsPerGroup: [1, 1, 1, 1],
          splitSeed: 0,
          orderSeed: 0,
          deliveries: [{ lateMs: 60_000, againAfterMs: null }],
          batchSize: 10,
          dueShards: 1,
          // The first state write is the signed-in principal's, in the run that writes the sign-in alone.
          faults: [{ ...fault }],
        },
        orgId,
        groupRecords(records),
      );
      const objects: PlannedObject[] = base.objects.flatMap((o) => {
        const others = o.records.filter((r) => r !== login);
        const early = others.filter((r) => Date.parse(r.eventTime as string) < cut);
        const late = others.filter((r) => Date.parse(r.eventTime as string) >= cut);
        const part = (suffix: string, rs: CloudTrailRecord[], at: number): PlannedObject[] => {
          if (rs.length === 0) return [];
          const times = rs.map((r) => Date.parse(r.eventTime as string));
          const lastEvent = maxOf(times);
          return [
            {
              ...o,
              key: o.key.replace('.json.gz', `${suffix}.json.gz`),
              records: rs,
              firstEvent: minOf(times),
              lastEvent,
              at: Math.max(at, lastEvent),
              againAt: null,
            },
          ];
        };
        return [
          ...(o.records.includes(login) ? part('login', [login], loginTime + 60_000) : []),
          ...part('early', early, failedRun + 90_000),
          ...part('late', late, 0),
        ].map((object, i) => ({ ...object, index: o.index * 10 + i }));
      });
      const directed: Plan = { ...base, objects };
      const { outcome, problems } = await runAndCheck(directed);
      expect(outcome.trace[0]).toContain(`FAULT flush: call #${fault.nth} of ${fault.command}`);
      expect(outcome.trace[0].slice(0, 5)).toBe(new Date(failedRun).toISOString().slice(11, 16));
      expect(problems).toEqual([]);
    },
    60_000,
  );
});

/**
 * Every saved investigation, run with DuckDB on the dataset `trailmap simulate` writes for the
 * bundled example (plus one later session of alice from a new address), checked against what the
 * engine and the raw records say independently.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../bin/query/duckdb.ts';
import { simulate } from '../../bin/simulate.ts';
import { type Enrichment, enrich } from '../../engine/enrich.ts';
import { readInputs } from '../../engine/read.ts';
import { fixtureRecord } from '../../engine/rules/fixtures.ts';
import { loadRules } from '../../engine/rules/load.ts';
import { bindParams, loadSavedQueries, type SavedQuery } from '../../engine/saved-queries.ts';
import type { CloudTrailRecord, Signal } from '../../engine/types.ts';

const run = promisify(execFile);
const rules = loadRules();
const saved = new Map(loadSavedQueries().map((q) => [q.name, q]));
const ALICE = 'arn:aws:iam::111122223333:user/alice';
const NEW_IP = '192.0.2.200';
/** Where alice signs in from the second time in examples/trail. */
const EXAMPLE_SECOND_IP = '192.0.2.146';

let dir: string;
let trail: string;
let data: string;
let engine: DuckDbQueryEngine;
let offline: Enrichment;
let records: CloudTrailRecord[];

/** A later console session of alice, from an address she never used: sign-in and the IAM users page. */
function laterAliceSession(template: CloudTrailRecord): CloudTrailRecord[] {
  const start = Date.parse('2026-03-03T10:00:00Z');
  const identity = { ...template.userIdentity, accessKeyId: 'ASIAALICESECOND0001' };
  const usersRule = rules.find((r) => r.label === 'IAM_Users')!;
  const burst = usersRule.tests.find((t) => t.maps)!.events;
  const console = burst.map((spec, i) => ({
    ...fixtureRecord(spec, i, start + 60_000, 'later-alice'),
    userIdentity: identity,
    sourceIPAddress: NEW_IP,
    sessionCredentialFromConsole: 'true',
    recipientAccountId: '111122223333',
  }));
  const login: CloudTrailRecord = {
    eventVersion: '1.08',
    eventID: 'later-alice-login',
    eventTime: '2026-03-03T10:00:30Z',
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    eventType: 'AwsConsoleSignIn',
    awsRegion: 'us-east-1',
    sourceIPAddress: NEW_IP,
    userAgent: console[0].userAgent,
    userIdentity: { type: 'IAMUser', arn: ALICE, accountId: '111122223333', userName: 'alice' },
    responseElements: { ConsoleLogin: 'Success' },
    additionalEventData: { MFAUsed: 'Yes' },
    recipientAccountId: '111122223333',
  };
  return [login, ...console];
}

async function runSaved(name: string, given: Record<string, string> = {}) {
  const query = saved.get(name) as SavedQuery;
  const result = await engine.run(query.sql, bindParams(query, given));
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));
}

const signals = (): Signal[] => offline.sessions.flatMap((s) => s.signals);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailmap-query-'));
  trail = join(dir, 'trail');
  data = join(dir, 'data');
  await cp('examples/trail', trail, { recursive: true });
  const example = (await readInputs([trail])).events.map((e) => e.record);
  const template = example.find(
    (r) => r.userIdentity?.arn === ALICE && r.sessionCredentialFromConsole === 'true',
  )!;
  const extra = join(trail, 'AWSLogs/o-7vwf6wesfq/111122223333/CloudTrail/us-east-1/2026/03/03');
  await mkdir(extra, { recursive: true });
  await writeFile(
    join(extra, '111122223333_CloudTrail_us-east-1_20260303T1010Z_LaterAliceSess01.json.gz'),
    gzipSync(JSON.stringify({ Records: laterAliceSession(template) })),
  );
  const report = await simulate(trail, { rules, outDir: data });
  expect(report.matchesEnrich).toBe(true);
  const read = await readInputs([trail]);
  records = read.events.map((e) => e.record);
  offline = enrich(read.events, rules);
  engine = await DuckDbQueryEngine.open(data, trail);
}, 120_000);

afterAll(async () => {
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('saved investigations on a simulated dataset', () => {
  it('covers every saved query', () => {
    expect([...saved.keys()].sort()).toEqual([
      'console-logins-without-mfa',
      'events-behind-signal',
      'failed-console-logins',
      'iam-credentials-and-admin-grants',
      'new-source-ip-sessions',
      'principal-timeline',
      'risky-signals',
      's3-object-activity',
    ]);
  });

  it("principal-timeline: alice's actions in time order", async () => {
    const rows = await runSaved('principal-timeline', { principal: ALICE });
    const aliceSessions = new Set(
      offline.sessions.filter((s) => s.summary.principalArn === ALICE).map((s) => s.summary.id),
    );
    const expected = signals()
      .filter((s) => aliceSessions.has(s.sessionId))
      .sort((a, b) => a.firstEventTime.localeCompare(b.firstEventTime));
    expect(rows.map((r) => r.label)).toEqual(expected.map((s) => s.label));
    expect(rows.length).toBeGreaterThan(30);
  });

  it('risky-signals: medium and above since a time, newest first', async () => {
    const rows = await runSaved('risky-signals', { since: '2026-03-02T09:20:00Z' });
    const expected = signals().filter(
      (s) => ['medium', 'high', 'critical'].includes(s.risk) && s.firstEventTime >= '2026-03-02T09:20:00Z',
    );
    expect(rows.map((r) => r.label).sort()).toEqual(expected.map((s) => s.label).sort());
    expect(rows.map((r) => r.risk)).toContain('critical');
    const times = rows.map((r) => String(r.first_event_time));
    expect(times).toEqual([...times].sort().reverse());
  });

  it('console-logins-without-mfa: exactly the sessions that signed in without MFA', async () => {
    const rows = await runSaved('console-logins-without-mfa');
    const expected = offline.sessions
      .filter((s) => s.summary.mfaUsed === false)
      .map((s) => s.summary.principalArn);
    expect(rows.map((r) => r.principal_arn)).toEqual(expected);
    expect(expected).toHaveLength(1);
  });

  it('failed-console-logins: by source address and user', async () => {
    const rows = await runSaved('failed-console-logins');
    const failed = records.filter(
      (r) =>
        r.eventName === 'ConsoleLogin' &&
        (r.responseElements as { ConsoleLogin?: string })?.ConsoleLogin === 'Failure',
    );
    expect(rows).toHaveLength(failed.length);
    expect(rows[0].source_ip).toBe(failed[0].sourceIPAddress);
    expect(String(rows[0].principal_arn)).toContain(failed[0].userIdentity?.userName);
    expect(rows[0].failures).toBe(1);
  });

  it('iam-credentials-and-admin-grants: the raw IAM credential creations and admin attachments', async () => {
    const rows = await runSaved('iam-credentials-and-admin-grants', { since: '2026-03-01T00:00:00Z' });
    const expected = records.filter(
      (r) =>
        r.eventSource === 'iam.amazonaws.com' &&
        (['CreateUser', 'CreateAccessKey', 'CreateLoginProfile', 'UpdateLoginProfile'].includes(
          r.eventName!,
        ) ||
          (/^Attach(User|Role|Group)Policy$/.test(r.eventName!) &&
            JSON.stringify(r.requestParameters).includes('/AdministratorAccess'))),
    );
    expect(rows.map((r) => r.eventname).sort()).toEqual(expected.map((r) => r.eventName).sort());
    expect(rows.map((r) => r.eventname)).toEqual(
      expect.arrayContaining(['CreateAccessKey', 'AttachUserPolicy']),
    );
    expect(new Set(rows.map((r) => r.actor))).toEqual(new Set(expected.map((r) => r.userIdentity?.arn)));
  });

  it('s3-object-activity: one principal’s object calls by action and address', async () => {
    const objectCalls = records.filter(
      (r) =>
        r.eventSource === 's3.amazonaws.com' &&
        ['GetObject', 'PutObject', 'DeleteObject'].includes(r.eventName!),
    );
    const principal = objectCalls[0].userIdentity!.arn!;
    const rows = await runSaved('s3-object-activity', { principal, since: '2026-03-01T00:00:00Z' });
    const mine = objectCalls.filter((r) => r.userIdentity?.arn === principal);
    const counts = new Map<string, number>();
    for (const r of mine)
      counts.set(
        `${r.eventName} ${r.sourceIPAddress}`,
        (counts.get(`${r.eventName} ${r.sourceIPAddress}`) ?? 0) + 1,
      );
    expect(new Map(rows.map((r) => [`${r.eventname} ${r.sourceipaddress}`, r.calls]))).toEqual(counts);
  });

  it('events-behind-signal: every raw record of one signal', async () => {
    const signal = signals().find((s) => s.label === 'IAM_Users' && s.eventCount > 20)!;
    const rows = await runSaved('events-behind-signal', { signal: signal.id });
    expect(rows).toHaveLength(signal.eventCount);
    const byId = new Map(records.map((r) => [r.eventID, r]));
    expect(rows.map((r) => r.eventname).sort()).toEqual(
      signal.eventIds.map((id) => byId.get(id)!.eventName).sort(),
    );
  });

  it('new-source-ip-sessions: alice’s later session from an address she never used', async () => {
    const rows = await runSaved('new-source-ip-sessions');
    const later = offline.sessions.find((s) => s.summary.sourceIps.includes(NEW_IP))!;
    // The example's own second sign-in of alice comes from a new address too.
    const again = offline.sessions.find(
      (s) => s.summary.principalArn === ALICE && s.summary.sourceIps.includes(EXAMPLE_SECOND_IP),
    )!;
    expect(rows.map((r) => [r.session_id, r.principal_arn, r.source_ip])).toEqual([
      [later.summary.id, ALICE, NEW_IP],
      [again.summary.id, ALICE, EXAMPLE_SECOND_IP],
    ]);
  });
});

describe('trailmap query (the command)', () => {
  it('answers SQL over a dataset written by `trailmap enrich --out`', async () => {
    const out = join(dir, 'enriched');
    await run(
      'node',
      ['bin/trailmap.js', 'enrich', 'examples/trail', '--out', out, '--format', 'signals-json'],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const { stdout } = await run('node', [
      'bin/trailmap.js',
      'query',
      '--data',
      out,
      'SELECT label, count(*) AS n FROM signals GROUP BY 1',
    ]);
    const rows = JSON.parse(stdout) as { label: string; n: number }[];
    const example = enrich((await readInputs(['examples/trail'])).events, rules);
    const counts = new Map<string, number>();
    for (const s of example.sessions.flatMap((x) => x.signals))
      counts.set(s.label, (counts.get(s.label) ?? 0) + 1);
    expect(new Map(rows.map((r) => [r.label, r.n]))).toEqual(counts);
  }, 120_000);

  it('binds --param values and refuses missing or unknown ones', async () => {
    const { stdout } = await run('node', [
      'bin/trailmap.js',
      'query',
      '--data',
      data,
      '--saved',
      'principal-timeline',
      '--param',
      `principal=${ALICE}' OR '1'='1`,
      '--format',
      'csv',
    ]);
    expect(stdout.trim().split('\n')).toHaveLength(1); // header only: the value was bound, not spliced
    await expect(
      run('node', ['bin/trailmap.js', 'query', '--data', data, '--saved', 'principal-timeline']),
    ).rejects.toMatchObject({ stderr: expect.stringContaining('missing --param principal') });
  }, 60_000);
});

/**
 * The shipped example trail (examples/trail, written by scripts/make-example.ts) read and enriched
 * the way a user would: `trailmap enrich examples/trail`.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Enrichment, enrich } from '../engine/enrich.ts';
import { type ReadResult, readInputs } from '../engine/read.ts';
import { loadRules } from '../engine/rules/load.ts';
import type { SignalRule } from '../engine/rules/model.ts';
import { userAgentFamily } from '../engine/useragent.ts';
import { EXAMPLE_DIR, STORIES, writeExample } from '../scripts/make-example.ts';

let rules: SignalRule[];
let read: ReadResult;
let result: Enrichment;

beforeAll(async () => {
  rules = loadRules();
  read = await readInputs([EXAMPLE_DIR]);
  result = enrich(read.events, rules);
});

const consoleSessions = () => result.sessions.filter((s) => s.summary.kind === 'console');
const sessionOf = (test: (principal: string) => boolean) => {
  const found = consoleSessions().filter((s) => s.summary.principalArn && test(s.summary.principalArn));
  expect(found).toHaveLength(1);
  return found[0];
};
const alice = () => sessionOf((arn) => arn === 'arn:aws:iam::111122223333:user/alice');
const bob = () => sessionOf((arn) => /:assumed-role\/AWSReservedSSO_[^/]+\/bob@example\.com$/.test(arn));

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('examples/trail', () => {
  it('is an organization trail of gzipped log objects, read without problems, the digest skipped', async () => {
    expect(read.problems).toEqual([]);
    const files = await listFiles(EXAMPLE_DIR);
    const logs = files.filter((f) => f.includes('/CloudTrail/'));
    const digests = files.filter((f) => f.includes('/CloudTrail-Digest/'));
    expect(logs.length).toBeGreaterThan(4);
    expect(digests).toHaveLength(1);
    for (const file of logs) {
      expect(file).toMatch(
        /^AWSLogs\/o-[a-z0-9]{10}\/(\d{12})\/CloudTrail\/([a-z0-9-]+)\/\d{4}\/\d{2}\/\d{2}\/\1_CloudTrail_\2_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$/,
      );
    }
    expect(read.sources.map((s) => relative(EXAMPLE_DIR, s)).sort()).toEqual(logs);
    expect(read.skipped).toHaveLength(1);
    expect(join(EXAMPLE_DIR, digests[0]).startsWith(read.skipped[0].source)).toBe(true);
    expect(read.skipped[0].reason).toMatch(/digest/i);
    // It really is a digest (hashes of the log objects), and naming it directly skips it too.
    const digest = JSON.parse(gunzipSync(await readFile(join(EXAMPLE_DIR, digests[0]))).toString('utf8'));
    expect(digest.Records).toBeUndefined();
    expect(digest.logFiles.length).toBeGreaterThan(0);
    for (const log of digest.logFiles) expect(logs).toContain(log.s3Object.replace(/^.*?(AWSLogs\/)/, '$1'));
    const direct = await readInputs([join(EXAMPLE_DIR, digests[0])]);
    expect(direct.events).toEqual([]);
    expect(direct.skipped).toHaveLength(1);
  });

  it('spans two accounts and both regions', () => {
    expect(new Set(read.events.map((e) => e.record.awsRegion))).toEqual(new Set(['us-east-1', 'eu-west-1']));
    expect(new Set(read.events.map((e) => e.record.recipientAccountId)).size).toBe(2);
  });

  it('accounts for every record: one enrichment entry per unique event, duplicates collapsed', () => {
    const unique = new Set(read.events.map((e) => e.id));
    expect(result.events).toHaveLength(unique.size);
    expect(new Set(result.events.map((e) => e.eventId))).toEqual(unique);
    expect(result.duplicateEventCount).toBe(read.events.length - unique.size);
    const inSessions = result.sessions.reduce((n, s) => n + s.summary.eventCount, 0);
    expect(inSessions + result.other.length).toBe(unique.size);
  });

  it('finds overlapping console sessions of different principals, with and without MFA', () => {
    const sessions = consoleSessions();
    expect(sessions.length).toBeGreaterThanOrEqual(2);
    expect(new Set(sessions.map((s) => s.summary.principalArn)).size).toBe(sessions.length);
    const a = alice().summary;
    const b = bob().summary;
    expect(a.id).not.toBe(b.id);
    expect(a.mfaUsed).toBe(true);
    expect(b.mfaUsed).toBe(false);
    expect(a.loginResult).toBe('Success');
    expect(b.loginResult).toBe('Success');
    expect(a.sourceIps).toEqual(['198.51.100.23']);
    expect(b.sourceIps).toEqual(['203.0.113.41']);
    // Interleaved in time, not one after the other.
    expect(a.startTime < b.endTime && b.startTime < a.endTime).toBe(true);
    expect(new Set([...a.regions, ...b.regions])).toEqual(new Set(['us-east-1', 'eu-west-1']));
    expect(a.unmappedEventCount + b.unmappedEventCount).toBe(0);
  });

  it("joins bob's GetSigninToken and ConsoleLogin to the session their key opened", () => {
    const session = bob();
    const signIn = session.signals.find((s) => s.label === 'ConsoleLogin');
    expect(signIn?.eventCount).toBe(2);
    const token = read.events.find((e) => e.ref === 'signin:GetSigninToken')!;
    const issued = (token.record.responseElements as { credentials: { accessKeyId: string } }).credentials
      .accessKeyId;
    expect(issued).toMatch(/^ASIA/);
    const calls = read.events.filter((e) => e.record.userIdentity?.accessKeyId === issued);
    expect(calls.length).toBeGreaterThan(10);
    const bySession = new Map(result.events.map((e) => [e.eventId, e.sessionId]));
    for (const call of calls) expect(bySession.get(call.id)).toBe(session.summary.id);
  });

  it('keeps the failed sign-in of an unknown user apart', () => {
    const failed = consoleSessions().filter((s) => s.summary.loginResult === 'Failure');
    expect(failed).toHaveLength(1);
    expect(failed[0].summary.principalArn).toContain('HIDDEN_DUE_TO_SECURITY_REASONS');
    expect(failed[0].summary.eventCount).toBe(1);
  });

  it('leaves programmatic calls (CLI, SDK) outside every session', () => {
    const programmatic = read.events.filter((e) => {
      const family = userAgentFamily(e.record.userAgent);
      return family === 'cli' || family === 'sdk';
    });
    expect(programmatic.length).toBeGreaterThan(10);
    expect(programmatic.some((e) => e.record.errorCode === 'AccessDenied')).toBe(true);
    const otherIds = new Set(result.other.map((e) => e.id));
    const bySession = new Map(result.events.map((e) => [e.eventId, e.sessionId]));
    for (const event of programmatic) {
      expect(event.record.sessionCredentialFromConsole).toBeUndefined();
      expect(otherIds.has(event.id)).toBe(true);
      expect(bySession.get(event.id)).toBeNull();
    }
    // And every console call is in a session.
    for (const event of read.events.filter((e) => e.record.sessionCredentialFromConsole === 'true')) {
      expect(bySession.get(event.id)).not.toBeNull();
    }
  });

  it("shows the labels the generator's stories chose, in each actor's session", () => {
    for (const [session, steps] of [
      [alice(), STORIES.alice],
      [bob(), STORIES.bob],
    ] as const) {
      const labels = session.signals.map((s) => s.label);
      expect(labels).toContain('ConsoleLogin');
      for (const step of steps) expect(labels).toContain(step.label);
    }
    const created = alice().signals.find((s) => s.label.endsWith('AccessKeys_CreateAccessKey'));
    expect(created?.additionalData.userName).toBe('ci-deployer');
    expect(bob().summary.riskySignals.map((r) => r.label)).toContain(
      'CloudTrail_Trails_SPECIFICTRAIL_StopLogging',
    );
  });
});

describe('scripts/make-example.ts', () => {
  const temps: string[] = [];
  afterAll(async () => {
    for (const dir of temps) await rm(dir, { recursive: true, force: true });
  });
  const generate = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trailmap-example-'));
    temps.push(dir);
    return { dir, report: await writeExample(dir, rules) };
  };

  it('writes byte-identical files every time', async () => {
    const first = await generate();
    const second = await generate();
    const files = await listFiles(first.dir);
    expect(await listFiles(second.dir)).toEqual(files);
    for (const file of files) {
      const [a, b] = await Promise.all([readFile(join(first.dir, file)), readFile(join(second.dir, file))]);
      expect(a.equals(b), file).toBe(true);
    }
    expect(second.report).toEqual({ ...first.report, dir: second.dir });
    expect(first.report.labels).toEqual(
      [
        ...new Set([
          'ConsoleLogin',
          ...STORIES.alice.map((s) => s.label),
          ...STORIES.bob.map((s) => s.label),
        ]),
      ].sort(),
    );
  }, 60_000);

  it('matches the committed examples/trail (run `npm run examples` after changing rules)', async () => {
    const fresh = await generate();
    const files = await listFiles(fresh.dir);
    expect(await listFiles(EXAMPLE_DIR)).toEqual(files);
    for (const file of files) {
      const [a, b] = await Promise.all([readFile(join(fresh.dir, file)), readFile(join(EXAMPLE_DIR, file))]);
      // Compare content, not gzip bytes: another zlib may compress the same text differently.
      expect(gunzipSync(b).toString('utf8') === gunzipSync(a).toString('utf8'), file).toBe(true);
    }
  }, 60_000);
});

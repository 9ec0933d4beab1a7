/**
 * The shipped example trail (examples/trail, written by scripts/make-example.ts) read and enriched
 * the way a user would: `trailmap enrich examples/trail`. The generator says which records form
 * each console sign-in (`exampleSessionsTruth`); the engine must find exactly those sessions.
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
import type { CloudTrailRecord, TrailEvent } from '../engine/types.ts';
import { userAgentFamily } from '../engine/useragent.ts';
import {
  BACKGROUND,
  EXAMPLE_DIR,
  exampleSessionsTruth,
  isScripted,
  type SessionTruth,
  type SignInName,
  sessionDifferences,
  STORIES,
  writeExample,
} from '../scripts/make-example.ts';
import { maxOf, pushTo } from '../engine/arrays.ts';

let rules: SignalRule[];
let read: ReadResult;
let result: Enrichment;
let truth: SessionTruth[];

beforeAll(async () => {
  rules = loadRules();
  read = await readInputs([EXAMPLE_DIR]);
  result = enrich(read.events, rules);
  truth = exampleSessionsTruth(rules);
});

const MINUTE = 60_000;
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const signIn = (name: string) => {
  const found = truth.find((t) => t.name === name);
  expect(found, name).toBeDefined();
  return found!;
};
const eventsOf = (name: string): TrailEvent[] => {
  const ids = new Set(signIn(name).eventIds);
  return read.events.filter((e) => ids.has(e.id));
};
/** A sign-in's console calls (its sign-in events aside). */
const callsOf = (name: string) =>
  eventsOf(name).filter((e) => e.record.eventSource !== 'signin.amazonaws.com');
const keyOf = (record: CloudTrailRecord) => record.userIdentity?.accessKeyId ?? '';
const consoleSessions = () => result.sessions.filter((s) => s.summary.kind === 'console');
/** The engine session holding a sign-in's ConsoleLogin. */
const sessionOf = (name: SignInName) => {
  const login = eventsOf(name).find((e) => e.record.eventName === 'ConsoleLogin')!;
  const sessionId = result.events.find((e) => e.eventId === login.id)?.sessionId;
  const session = result.sessions.find((s) => s.summary.id === sessionId);
  expect(session, `${name}'s session`).toBeDefined();
  return session!;
};
const storyLabels = (name: SignInName) =>
  STORIES[name].flatMap((step) => (isScripted(step) ? [] : [step.label]));

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('examples/trail', () => {
  it('is an organization trail of gzipped log objects, read without problems, digest and Insights skipped', async () => {
    expect(read.problems).toEqual([]);
    const files = await listFiles(EXAMPLE_DIR);
    const logs = files.filter((f) => f.includes('/CloudTrail/'));
    const digests = files.filter((f) => f.includes('/CloudTrail-Digest/'));
    const insights = files.filter((f) => f.includes('/CloudTrail-Insight/'));
    expect(logs.length).toBeGreaterThan(4);
    expect(digests).toHaveLength(1);
    expect(insights).toHaveLength(1);
    expect(logs.length + digests.length + insights.length).toBe(files.length);
    for (const file of logs) {
      expect(file).toMatch(
        /^AWSLogs\/o-[a-z0-9]{10}\/(\d{12})\/CloudTrail\/([a-z0-9-]+)\/\d{4}\/\d{2}\/\d{2}\/\1_CloudTrail_\2_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$/,
      );
    }
    expect(insights[0]).toMatch(
      /^AWSLogs\/o-[a-z0-9]{10}\/(\d{12})\/CloudTrail-Insight\/([a-z0-9-]+)\/\d{4}\/\d{2}\/\d{2}\/\1_CloudTrail-Insight_\2_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$/,
    );
    expect(read.sources.map((s) => relative(EXAMPLE_DIR, s)).sort()).toEqual(logs);
    expect(read.skipped).toHaveLength(2);
    for (const [file, reason] of [
      [digests[0], /digest/i],
      [insights[0], /insight/i],
    ] as const) {
      const skipped = read.skipped.filter((s) => join(EXAMPLE_DIR, file).startsWith(s.source));
      expect(skipped, file).toHaveLength(1);
      expect(skipped[0].reason).toMatch(reason);
      // Naming the file directly skips it too.
      const direct = await readInputs([join(EXAMPLE_DIR, file)]);
      expect(direct.events).toEqual([]);
      expect(direct.skipped).toHaveLength(1);
      expect(direct.skipped[0].reason).toMatch(reason);
    }
    // It really is a digest (hashes of the log objects).
    const digest = JSON.parse(gunzipSync(await readFile(join(EXAMPLE_DIR, digests[0]))).toString('utf8'));
    expect(digest.Records).toBeUndefined();
    expect(digest.logFiles.length).toBeGreaterThan(0);
    for (const log of digest.logFiles) expect(logs).toContain(log.s3Object.replace(/^.*?(AWSLogs\/)/, '$1'));
  });

  it('holds one ApiCallRateInsight (Start and End) in its Insights file', async () => {
    const file = (await listFiles(EXAMPLE_DIR)).find((f) => f.includes('/CloudTrail-Insight/'))!;
    const { Records } = JSON.parse(gunzipSync(await readFile(join(EXAMPLE_DIR, file))).toString('utf8')) as {
      Records: CloudTrailRecord[];
    };
    expect(Records).toHaveLength(2);
    const details = Records.map((r) => r.insightDetails as Record<string, unknown>);
    expect(details.map((d) => d.state)).toEqual(['Start', 'End']);
    for (const [i, record] of Records.entries()) {
      expect(record.eventCategory).toBe('Insight');
      expect(record.eventType).toBe('AwsCloudTrailInsight');
      expect(record.sharedEventID).toBe(Records[0].sharedEventID);
      expect(record.userIdentity).toBeUndefined();
      expect(details[i]).toMatchObject({
        eventSource: 'iam.amazonaws.com',
        eventName: 'GetLoginProfile',
        insightType: 'ApiCallRateInsight',
        insightContext: { statistics: { baseline: { average: expect.any(Number) } } },
      });
    }
    const statistics = (details[1].insightContext as { statistics: Record<string, { average: number }> })
      .statistics;
    expect(statistics.insight.average).toBeGreaterThan(100 * statistics.baseline.average);
    // None of its records is read as an event.
    const ids = new Set(read.events.map((e) => e.id));
    for (const record of Records) expect(ids.has(record.eventID as string)).toBe(false);
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

  it('puts every console call inside a signal or in its session’s unmapped list', () => {
    const entries = new Map(result.events.map((e) => [e.eventId, e]));
    const unmapped = new Set(result.sessions.flatMap((s) => s.unmapped.map((e) => e.id)));
    const consoleIds = truth.filter((t) => t.kind === 'console').flatMap((t) => t.eventIds);
    const flagged = read.events.filter((e) => e.record.sessionCredentialFromConsole === 'true');
    expect(flagged.length).toBeGreaterThan(1000);
    for (const id of new Set([...consoleIds, ...flagged.map((e) => e.id)])) {
      const entry = entries.get(id)!;
      expect(entry.sessionId, `${entry.ref} ${id}`).not.toBeNull();
      expect(entry.signalId !== null || unmapped.has(id), `${entry.ref} ${id}`).toBe(true);
    }
  });

  it('leaves programmatic calls (CLI, SDK) and AWS service events outside every session', () => {
    const inSignIns = new Set(truth.flatMap((t) => t.eventIds));
    const programmatic = read.events.filter((e) => {
      const family = userAgentFamily(e.record.userAgent);
      return (family === 'cli' || family === 'sdk') && !inSignIns.has(e.id);
    });
    expect(programmatic.length).toBeGreaterThan(10);
    expect(programmatic.some((e) => e.record.errorCode === 'AccessDenied')).toBe(true);
    const service = read.events.filter((e) => e.record.eventType === 'AwsServiceEvent');
    const otherIds = new Set(result.other.map((e) => e.id));
    const bySession = new Map(result.events.map((e) => [e.eventId, e.sessionId]));
    for (const event of [...programmatic, ...service]) {
      expect(event.record.sessionCredentialFromConsole).toBeUndefined();
      expect(otherIds.has(event.id), `${event.ref} ${event.id}`).toBe(true);
      expect(bySession.get(event.id)).toBeNull();
    }
  });

  it('keeps the failed sign-in of an unknown user apart', () => {
    const failed = consoleSessions().filter((s) => s.summary.loginResult === 'Failure');
    expect(failed).toHaveLength(1);
    expect(failed[0].summary.principalArn).toContain('HIDDEN_DUE_TO_SECURITY_REASONS');
    expect(failed[0].summary.eventCount).toBe(1);
  });
});

describe('examples/trail has the shapes of a real organization trail', () => {
  it('gives every console service of a sign-in its own temporary key, renewed, all of one principal and creationDate', () => {
    const renewed = new Set<string>();
    for (const name of ['alice', 'bob', 'alice2'] as const) {
      const entry = signIn(name);
      const login = eventsOf(name).find((e) => e.record.eventName === 'ConsoleLogin')!;
      expect(entry.creationDate).toBe(login.record.eventTime);
      expect(entry.principalArn).toBe(login.record.userIdentity?.arn);
      const calls = callsOf(name);
      const principalIds = new Set(calls.map((e) => e.record.userIdentity?.principalId));
      expect(principalIds).toEqual(new Set([login.record.userIdentity?.principalId]));
      const servicesOfKey = new Map<string, Set<string>>();
      const keysOfService = new Map<string, Set<string>>();
      for (const { record } of calls) {
        expect(record.userIdentity?.arn).toBe(entry.principalArn);
        expect(record.userIdentity?.sessionContext?.attributes).toEqual({
          creationDate: entry.creationDate,
          mfaAuthenticated: name === 'bob' ? 'false' : 'true',
        });
        expect(keyOf(record)).toMatch(/^ASIA[A-Z2-7]{16}$/);
        const service = record.eventSource as string;
        servicesOfKey.set(keyOf(record), (servicesOfKey.get(keyOf(record)) ?? new Set()).add(service));
        keysOfService.set(service, (keysOfService.get(service) ?? new Set()).add(keyOf(record)));
        if (record.sessionCredentialFromConsole === 'true')
          expect(Number(record.eventVersion)).toBeGreaterThanOrEqual(1.08);
      }
      // One service per key.
      for (const services of servicesOfKey.values()) expect(services.size).toBe(1);
      for (const [service, keys] of keysOfService) if (keys.size > 1) renewed.add(`${name} ${service}`);
      // AWS Health's background poll: a fresh key every time (the polls are 5 minutes apart or more).
      const polls = new Map<string, Set<string>>();
      for (const { record } of calls.filter((e) => e.ref === 'health:DescribeEventAggregates')) {
        expect(record.userAgent).toBe('AWS Internal');
        expect(record.sourceIPAddress).toBe('AWS Internal');
        polls.set(
          record.eventTime as string,
          (polls.get(record.eventTime as string) ?? new Set()).add(keyOf(record)),
        );
      }
      const pollKeys = [...polls.values()].map((keys) => [...keys]);
      for (const keys of pollKeys) expect(keys).toHaveLength(1);
      expect(new Set(pollKeys.flat()).size).toBe(pollKeys.length);
      if (name !== 'alice2') expect(pollKeys.length).toBeGreaterThanOrEqual(5);
    }
    expect(new Set(callsOf('alice').map((e) => keyOf(e.record))).size).toBeGreaterThanOrEqual(10);
    expect(new Set(callsOf('bob').map((e) => keyOf(e.record))).size).toBeGreaterThanOrEqual(10);
    // Some service's key is renewed during a session (besides the health poll's).
    expect([...renewed].filter((s) => !s.endsWith('health.amazonaws.com')).length).toBeGreaterThan(0);
  });

  it("shows alice's CheckMfa 10-20 s before each of her ConsoleLogins, naming no ARN", () => {
    const checks = read.events.filter((e) => e.ref === 'signin:CheckMfa');
    expect(checks).toHaveLength(2);
    for (const check of checks) {
      const { record } = check;
      expect(record.userIdentity).toEqual({
        type: 'IAMUser',
        principalId: expect.stringMatching(/^AIDA/),
        accountId: '111122223333',
        userName: 'alice',
      });
      expect(record.eventType).toBe('AwsConsoleSignIn');
      expect(record.responseElements).toEqual({ CheckMfa: 'Success' });
      expect(record.additionalEventData).toEqual({ MfaType: expect.any(String) });
      const login = read.events.find(
        (e) =>
          e.ref === 'signin:ConsoleLogin' &&
          e.record.userIdentity?.principalId === record.userIdentity?.principalId &&
          e.time - check.time >= 10_000 &&
          e.time - check.time <= 20_000,
      );
      expect(login?.record.sourceIPAddress).toBe(record.sourceIPAddress);
      expect((login?.record.additionalEventData as { MFAUsed?: string }).MFAUsed).toBe('Yes');
      const owner = truth.find((t) => t.eventIds.includes(check.id));
      expect(owner?.eventIds).toContain(login!.id);
    }
  });

  it('has alice sign in again 2-3 hours later, from another browser and address, with a new creationDate', () => {
    const [first, second] = [signIn('alice'), signIn('alice2')];
    expect(second.principalArn).toBe(first.principalArn);
    expect(second.creationDate).not.toBe(first.creationDate);
    const end = maxOf(eventsOf('alice').map((e) => e.time));
    const gap = Date.parse(second.creationDate!) - end;
    expect(gap).toBeGreaterThanOrEqual(120 * MINUTE);
    expect(gap).toBeLessThanOrEqual(180 * MINUTE);
    const [a, b] = (['alice', 'alice2'] as const).map(
      (name) => eventsOf(name).find((e) => e.ref === 'signin:ConsoleLogin')!.record,
    );
    expect(b.sourceIPAddress).not.toBe(a.sourceIPAddress);
    expect(b.userAgent).not.toBe(a.userAgent);
    expect(callsOf('alice2').length).toBeGreaterThan(10);
  });

  it('brings bob in through IAM Identity Center: portal, GetSigninToken issuing a console key, ConsoleLogin', () => {
    const portal = signIn('bob-portal');
    expect(portal.kind).toBe('portal');
    const events = eventsOf('bob-portal');
    expect(events.map((e) => e.record.eventName)).toEqual([
      'ListAccounts',
      'ListAccountRoles',
      'GetRoleCredentials',
    ]);
    const bob = eventsOf('bob');
    const token = bob.find((e) => e.ref === 'signin:GetSigninToken')!;
    const login = bob.find((e) => e.ref === 'signin:ConsoleLogin')!;
    for (const { record, time } of events) {
      expect(record.eventSource).toBe('sso.amazonaws.com');
      expect(record.userIdentity).toEqual({
        type: 'IdentityCenterUser',
        accountId: '111122223333',
        onBehalfOf: {
          userId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          identityStoreArn: expect.stringMatching(
            /^arn:aws:identitystore::111122223333:identitystore\/d-[0-9a-z]{10}$/,
          ),
        },
        credentialId: expect.any(String),
      });
      expect(record.readOnly).toBe(true);
      expect(record.eventCategory).toBe('Management');
      expect(record.userAgent).toBe(login.record.userAgent);
      expect(record.sourceIPAddress).toBe(login.record.sourceIPAddress);
      expect(time).toBeLessThan(token.time);
      expect(token.time - time).toBeLessThan(MINUTE);
    }
    expect(events[2].record.requestParameters).toEqual({
      accountId: '111122223333',
      roleName: 'AdministratorAccess',
    });
    expect(events[2].record.responseElements).toBeNull();
    // GetSigninToken: from AWS's sign-in service, with the portal's role credentials.
    expect(token.record.userAgent).toMatch(/^Jersey\//);
    expect(token.record.userIdentity?.arn).toBe(signIn('bob').principalArn);
    expect(token.record.userIdentity?.arn).toMatch(/:assumed-role\/AWSReservedSSO_[^/]+\/bob@example\.com$/);
    expect(login.time - token.time).toBe(2000);
    const issued = (token.record.responseElements as { credentials: { accessKeyId: string } }).credentials
      .accessKeyId;
    const keys = new Set(callsOf('bob').map((e) => keyOf(e.record)));
    expect(keys.has(issued)).toBe(true);
    expect(keyOf(token.record)).not.toBe(issued);
    expect(signIn('bob').creationDate).toBe(login.record.eventTime);
  });

  it('has console back ends call services for the person: same principal, creationDate and service key, no console flag', () => {
    for (const [pattern, service] of [
      [/^\[S3Console\/0\.4, aws-internal\/3 aws-sdk-java\/[\d.]+ Linux\//, 's3.amazonaws.com'],
      [/^RDS Console, aws-internal\/3 aws-sdk-java\/[\d.]+ Linux\//, 'rds.amazonaws.com'],
    ] as const) {
      const backEnd = read.events.filter((e) => pattern.test(e.record.userAgent ?? ''));
      expect(backEnd.length, service).toBeGreaterThanOrEqual(3);
      for (const { id, record } of backEnd) {
        expect(record.sessionCredentialFromConsole).toBeUndefined();
        expect(record.eventSource).toBe(service);
        expect(record.sourceIPAddress).toMatch(/^(AWS Internal|[a-z0-9.-]+\.amazonaws\.com)$/);
        const owner = truth.find((t) => t.kind === 'console' && t.eventIds.includes(id));
        expect(owner, id).toBeDefined();
        expect(record.userIdentity?.arn).toBe(owner!.principalArn);
        expect(record.userIdentity?.sessionContext?.attributes?.creationDate).toBe(owner!.creationDate);
        // The key is the one the sign-in's flagged calls to that service use.
        const sameKey = callsOf(owner!.name).filter(
          (e) => keyOf(e.record) === keyOf(record) && e.record.sessionCredentialFromConsole === 'true',
        );
        expect(sameKey.length, id).toBeGreaterThan(0);
        for (const e of sameKey) expect(e.record.eventSource).toBe(service);
      }
    }
  });

  it('has AWS service events: AWS acting on its own, no caller', () => {
    const service = read.events.filter((e) => e.record.eventType === 'AwsServiceEvent');
    expect(service.length).toBeGreaterThanOrEqual(3);
    expect(new Set(service.map((e) => e.ref))).toEqual(
      new Set(['kms:RotateKey', 'backup:BackupJobStarted', 'backup:BackupJobCompleted']),
    );
    for (const { record } of service) {
      expect(record.userIdentity?.arn).toBeUndefined();
      expect(record.userIdentity?.invokedBy).toBe(record.eventSource);
      expect(record.sourceIPAddress).toBe(record.eventSource);
      expect(record.userAgent).toBe(record.eventSource);
      expect(record.serviceEventDetails).toEqual(expect.any(Object));
      expect(record.readOnly).toBe(false);
      expect(record.managementEvent).toBe(true);
    }
  });

  it('has console reads and writes to services no rule describes (RDS, Lambda, an Elastic IP)', () => {
    const calls = callsOf('alice2');
    const deleted = calls.find((e) => e.ref === 'rds:DeleteDBInstance')!.record;
    expect(deleted.sessionCredentialFromConsole).toBe('true');
    expect(deleted.readOnly).toBe(false);
    expect(deleted.requestParameters).toEqual({
      dBInstanceIdentifier: 'orders-staging-db',
      skipFinalSnapshot: true,
      deleteAutomatedBackups: true,
    });
    expect(deleted.responseElements).toMatchObject({
      dBInstanceIdentifier: 'orders-staging-db',
      dBInstanceArn: 'arn:aws:rds:eu-west-1:111122223333:db:orders-staging-db',
      dBInstanceStatus: 'deleting',
    });
    const released = calls.find((e) => e.ref === 'ec2:ReleaseAddress')!.record;
    expect(released.readOnly).toBe(false);
    expect(released.requestParameters).toEqual({
      allocationId: expect.stringMatching(/^eipalloc-[0-9a-f]{17}$/),
    });
    const reads = [
      'rds:DescribeDBInstances',
      'rds:DescribeDBClusters',
      'rds:DescribeDBSnapshots',
      'rds:DescribePendingMaintenanceActions',
      'lambda:ListFunctions20150331',
      'lambda:GetAccountSettings20160819',
    ];
    for (const ref of reads) {
      const found = calls.filter((e) => e.ref === ref);
      expect(found.length, ref).toBeGreaterThan(0);
      for (const { record } of found) {
        expect(record.sessionCredentialFromConsole).toBe('true');
        expect(record.readOnly).toBe(true);
      }
    }
    // No rule describes these services or these writes.
    expect(
      rules.filter((r) => /^(RDS|Lambda|DynamoDB)/i.test(r.service) || /^(RDS|Lambda)_/.test(r.label)),
    ).toEqual([]);
    for (const ref of ['rds:DeleteDBInstance', 'ec2:ReleaseAddress'])
      expect(
        rules.filter((r) => r.members.has(ref)).map((r) => r.label),
        ref,
      ).toEqual([]);
  });

  it('marks every API call read-only or not, as CloudTrail does', () => {
    for (const { ref, record } of read.events) {
      expect(typeof record.readOnly, ref).toBe('boolean');
      const name = record.eventName as string;
      if (record.eventSource === 'signin.amazonaws.com') continue;
      if (/^(Describe|List|Get|Lookup)/.test(name)) expect(record.readOnly, ref).toBe(true);
      if (/^(Delete|Release|Put|Create|Attach|Update|Stop|Authorize|Modify|Enable|Rotate)/.test(name))
        expect(record.readOnly, ref).toBe(false);
    }
  });
});

describe('console sessions are sign-ins: a principal and its creationDate, across all its keys', () => {
  it('are exactly the sign-ins the generator made (exampleSessionsTruth)', () => {
    const members = new Map<string, string[]>();
    for (const e of result.events) {
      if (e.sessionId) pushTo(members, e.sessionId, e.eventId);
    }
    const sessionIdsOf = (sessionId: string | null | undefined) =>
      sessionId ? (members.get(sessionId) ?? []).sort(byCodeUnit) : [];
    const sessionOfEvent = new Map(result.events.map((e) => [e.eventId, e.sessionId]));
    // Per sign-in: the engine session holding its first record holds exactly its records.
    const found = truth.map((t) => ({
      name: t.name,
      principal: t.principalArn,
      eventIds:
        t.kind === 'portal' && !sessionOfEvent.get(t.eventIds[0])
          ? t.eventIds
          : sessionIdsOf(sessionOfEvent.get(t.eventIds[0])),
    }));
    expect(found).toEqual(
      truth.map((t) => ({ name: t.name, principal: t.principalArn, eventIds: t.eventIds })),
    );
    // And there are no other console sessions (the portal visit may be one of its own).
    const expected = new Set(truth.map((t) => t.eventIds.join(' ')));
    for (const session of consoleSessions())
      expect(expected.has(sessionIdsOf(session.summary.id).join(' ')), session.summary.summary).toBe(true);
    expect(sessionDifferences(truth, result)).toEqual([]);
    // Their principals are the sign-ins'.
    for (const name of ['alice', 'bob', 'alice2'] as const)
      expect(sessionOf(name).summary.principalArn).toBe(signIn(name).principalArn);
  });

  it('finds overlapping sessions of different principals, with and without MFA, and alice twice', () => {
    const a = sessionOf('alice').summary;
    const b = sessionOf('bob').summary;
    const a2 = sessionOf('alice2').summary;
    expect(new Set([a.id, b.id, a2.id]).size).toBe(3);
    expect([a.mfaUsed, b.mfaUsed, a2.mfaUsed]).toEqual([true, false, true]);
    expect([a.loginResult, b.loginResult, a2.loginResult]).toEqual(['Success', 'Success', 'Success']);
    // The person's address, and AWS's own for calls made on the person's behalf.
    const people = (ips: string[]) => ips.filter((ip) => /^\d/.test(ip));
    expect(people(a.sourceIps)).toEqual(['198.51.100.23']);
    expect(people(b.sourceIps)).toEqual(['203.0.113.41']);
    expect(people(a2.sourceIps)).toEqual(['192.0.2.146']);
    // Interleaved in time, not one after the other; alice's second session hours after her first.
    expect(a.startTime < b.endTime && b.startTime < a.endTime).toBe(true);
    expect(a2.startTime > a.endTime).toBe(true);
    expect(new Set([...a.regions, ...b.regions])).toEqual(new Set(['us-east-1', 'eu-west-1']));
    // What is not mapped is what the generator made without a rule.
    const scripted = new Set(
      truth.flatMap((t) =>
        t.eventIds.filter((id) => {
          const event = read.events.find((e) => e.id === id)!;
          return /^(rds|lambda):|^ec2:ReleaseAddress$|^signin:CheckMfa$/.test(event.ref);
        }),
      ),
    );
    for (const name of ['alice', 'bob', 'alice2'] as const)
      for (const e of sessionOf(name).unmapped) expect(scripted.has(e.id), `${name}: ${e.ref}`).toBe(true);
  });

  it("joins bob's GetSigninToken and ConsoleLogin to the session of his console keys", () => {
    const session = sessionOf('bob');
    const signInSignal = session.signals.find((s) => s.label === 'ConsoleLogin');
    expect(signInSignal?.eventCount).toBe(2);
    const bySession = new Map(result.events.map((e) => [e.eventId, e.sessionId]));
    const token = eventsOf('bob').find((e) => e.ref === 'signin:GetSigninToken')!;
    expect(bySession.get(token.id)).toBe(session.summary.id);
    const keys = new Set(callsOf('bob').map((e) => keyOf(e.record)));
    expect(keys.size).toBeGreaterThanOrEqual(10);
    for (const event of read.events.filter((e) => keys.has(keyOf(e.record))))
      expect(bySession.get(event.id)).toBe(session.summary.id);
  });

  it("shows the labels the generator's stories chose, in each sign-in's session", () => {
    for (const name of ['alice', 'bob', 'alice2'] as const) {
      const labels = sessionOf(name).signals.map((s) => s.label);
      expect(labels).toContain('ConsoleLogin');
      for (const label of storyLabels(name)) expect(labels, name).toContain(label);
    }
    expect(sessionOf('alice').signals.filter((s) => s.label === BACKGROUND).length).toBeGreaterThanOrEqual(5);
    const created = sessionOf('alice').signals.find((s) => s.label.endsWith('AccessKeys_CreateAccessKey'));
    expect(created?.additionalData.userName).toBe('ci-deployer');
    expect(sessionOf('bob').summary.riskySignals.map((r) => r.label)).toContain(
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

  it('writes byte-identical files every time, and the same sign-ins', async () => {
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
          BACKGROUND,
          ...storyLabels('alice'),
          ...storyLabels('bob'),
          ...storyLabels('alice2'),
        ]),
      ].sort(),
    );
    expect(exampleSessionsTruth(rules)).toEqual(truth);
    expect(first.report.signIns.map((s) => [s.name, s.events])).toEqual(
      truth.map((t) => [t.name, t.eventIds.length]),
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

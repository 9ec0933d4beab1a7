import { describe, expect, it } from 'vitest';
import { toTrailEvent } from '../../engine/read.ts';
import { type Sessionized, sessionize } from '../../engine/sessionize.ts';
import type { CloudTrailRecord, TrailEvent } from '../../engine/types.ts';

const ACCOUNT = '111122223333';
const T0 = Date.UTC(2024, 4, 1, 9, 0, 0);
const BROWSER =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';

const JERSEY = 'Jersey/${project.version} (HttpUrlConnection 17.0.9)';

const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

interface Who {
  arn: string;
  key?: string;
  ip?: string;
  created?: string;
  mfa?: 'true' | 'false';
  type?: string;
}

const alice: Who = {
  arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
  key: 'ASIAALICE0000000001',
  ip: '198.51.100.10',
};
const bob: Who = { arn: `arn:aws:iam::${ACCOUNT}:user/bob`, key: 'ASIABOB000000000001', ip: '198.51.100.20' };

function identity(who: Who, withKey = true): CloudTrailRecord['userIdentity'] {
  return {
    type: who.type ?? 'IAMUser',
    arn: who.arn,
    accountId: ACCOUNT,
    principalId: `AIDA${who.arn.length}`,
    ...(withKey && who.key ? { accessKeyId: who.key } : {}),
    sessionContext: {
      attributes: { creationDate: who.created ?? at(-30), mfaAuthenticated: who.mfa ?? 'true' },
    },
  };
}

let sequence = 0;
function event(record: CloudTrailRecord, source = 'trail.json'): TrailEvent {
  return toTrailEvent(record, source, sequence++);
}

/** A call made from the console by `who`. */
function consoleCall(id: string, seconds: number, who: Who, name = 'iam:ListUsers'): TrailEvent {
  const [service, eventName] = name.split(':');
  return event({
    eventVersion: '1.08',
    eventID: id,
    eventTime: at(seconds),
    eventSource: `${service}.amazonaws.com`,
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: who.ip,
    userAgent: BROWSER,
    recipientAccountId: ACCOUNT,
    sessionCredentialFromConsole: 'true',
    userIdentity: identity(who),
  });
}

function consoleLogin(
  id: string,
  seconds: number,
  who: Who,
  result: 'Success' | 'Failure' = 'Success',
): TrailEvent {
  return event({
    eventVersion: '1.08',
    eventID: id,
    eventTime: at(seconds),
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    eventType: 'AwsConsoleSignIn',
    awsRegion: 'us-east-1',
    sourceIPAddress: who.ip,
    userAgent: BROWSER,
    recipientAccountId: ACCOUNT,
    userIdentity: {
      type: who.type ?? 'IAMUser',
      arn: who.arn,
      accountId: ACCOUNT,
      principalId: 'AIDAEXAMPLE',
    },
    responseElements: { ConsoleLogin: result },
    additionalEventData: { MFAUsed: 'Yes', LoginTo: 'https://console.aws.amazon.com/console/home' },
  });
}

function members(result: Sessionized): string[][] {
  return result.sessions.map((s) => s.events.map((e) => e.id));
}

function sessionOf(result: Sessionized, id: string) {
  return result.sessions.find((s) => s.events.some((e) => e.id === id));
}

/** Deterministic shuffles (no Math.random in tests). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/** Session id → sorted member ids: the whole result, independent of list order. */
function shape(result: Sessionized): { sessions: Record<string, string[]>; other: string[] } {
  return {
    sessions: Object.fromEntries(result.sessions.map((s) => [s.id, s.events.map((e) => e.id).sort()])),
    other: result.other.map((e) => e.id).sort(),
  };
}

describe('sessionize', () => {
  it('separates two interleaved principals into two sessions', () => {
    const events = [
      consoleCall('a1', 0, alice),
      consoleCall('b1', 1, bob),
      consoleCall('a2', 2, alice),
      consoleCall('b2', 3, bob),
      consoleCall('a3', 4, alice),
    ];
    const result = sessionize(events);
    expect(members(result)).toEqual([
      ['a1', 'a2', 'a3'],
      ['b1', 'b2'],
    ]);
    expect(result.sessions.every((s) => s.kind === 'console')).toBe(true);
    expect(result.other).toEqual([]);
    expect(result.sessions[0].id).not.toBe(result.sessions[1].id);
  });

  it('splits one principal signing in twice (two creationDates) into two sessions', () => {
    const second: Who = { ...alice, key: 'ASIAALICE0000000002', created: at(50) };
    const result = sessionize([
      consoleCall('k1', 0, alice),
      consoleCall('k2', 60, second),
      consoleCall('k3', 61, alice),
      consoleCall('k4', 62, second),
    ]);
    expect(members(result)).toEqual([
      ['k1', 'k3'],
      ['k2', 'k4'],
    ]);
  });

  it('sorts session events by time, then eventID', () => {
    const result = sessionize([
      consoleCall('z', 5, alice),
      consoleCall('y', 5, alice),
      consoleCall('x', 9, alice),
    ]);
    expect(members(result)).toEqual([['y', 'z', 'x']]);
  });

  it('joins a ConsoleLogin to the session of the same principal that starts right after it', () => {
    const result = sessionize([
      consoleCall('b1', 1, bob),
      consoleLogin('login', 0, alice),
      consoleCall('a1', 3, alice),
      consoleCall('a2', 8, alice),
    ]);
    expect(sessionOf(result, 'login')?.events.map((e) => e.id)).toEqual(['login', 'a1', 'a2']);
    expect(sessionOf(result, 'b1')?.events.map((e) => e.id)).toEqual(['b1']);
    expect(result.sessions).toHaveLength(2);
  });

  it('joins each of two logins to the session that follows it', () => {
    const later: Who = { ...alice, key: 'ASIAALICE0000000009', created: at(200) };
    const result = sessionize([
      consoleLogin('login1', 0, alice),
      consoleCall('a1', 2, alice),
      consoleLogin('login2', 200, later),
      consoleCall('c1', 202, later),
    ]);
    expect(members(result)).toEqual([
      ['login1', 'a1'],
      ['login2', 'c1'],
    ]);
  });

  it('joins a federated GetSigninToken and the ConsoleLogin after it to the session of the issued key', () => {
    const role: Who = {
      type: 'AssumedRole',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/carol`,
      key: 'ASIACAROLCONSOLE001',
      ip: '192.0.2.44',
    };
    const token = event({
      eventVersion: '1.08',
      eventID: 'token',
      eventTime: at(0),
      eventSource: 'signin.amazonaws.com',
      eventName: 'GetSigninToken',
      eventType: 'AwsConsoleSignIn',
      awsRegion: 'us-east-1',
      sourceIPAddress: '192.0.2.44',
      userAgent: JERSEY,
      recipientAccountId: ACCOUNT,
      userIdentity: {
        type: 'AssumedRole',
        arn: role.arn,
        accountId: ACCOUNT,
        accessKeyId: 'ASIAFEDERATION00001',
      },
      responseElements: { credentials: { accessKeyId: role.key } },
    });
    const login = consoleLogin('login', 1, role);
    const result = sessionize([
      consoleCall('c2', 20, role),
      login,
      consoleCall('b1', 2, bob),
      token,
      consoleCall('c1', 5, role),
    ]);
    expect(sessionOf(result, 'c1')?.events.map((e) => e.id)).toEqual(['token', 'login', 'c1', 'c2']);
    expect(sessionOf(result, 'b1')?.events.map((e) => e.id)).toEqual(['b1']);
    expect(result.other).toEqual([]);
  });

  it('gives a failed ConsoleLogin its own session', () => {
    const result = sessionize([
      consoleLogin('fail', 0, alice, 'Failure'),
      consoleLogin('ok', 10, alice),
      consoleCall('a1', 12, alice),
    ]);
    const failed = sessionOf(result, 'fail');
    expect(failed?.events.map((e) => e.id)).toEqual(['fail']);
    expect(failed?.kind).toBe('console');
    expect(sessionOf(result, 'a1')?.events.map((e) => e.id)).toEqual(['ok', 'a1']);
  });

  it('gives a login with no session after it a session of its own', () => {
    const result = sessionize([consoleLogin('lonely', 0, alice), consoleCall('b1', 1, bob)]);
    expect(members(result)).toEqual([['lonely'], ['b1']]);
  });

  it('groups records with no identity fields into one file session per input source', () => {
    const bare = (id: string, seconds: number, source: string) =>
      event(
        {
          eventID: id,
          eventTime: at(seconds),
          eventSource: 'ec2.amazonaws.com',
          eventName: 'DescribeInstances',
        },
        source,
      );
    const result = sessionize([
      bare('f1', 0, 'one.json'),
      bare('g1', 1, 'two.json'),
      bare('f2', 2, 'one.json'),
      consoleCall('a1', 3, alice),
    ]);
    const one = sessionOf(result, 'f1');
    const two = sessionOf(result, 'g1');
    expect(one?.kind).toBe('file');
    expect(two?.kind).toBe('file');
    expect(one?.events.map((e) => e.id)).toEqual(['f1', 'f2']);
    expect(two?.events.map((e) => e.id)).toEqual(['g1']);
    expect(one?.id).not.toBe(two?.id);
    expect(sessionOf(result, 'a1')?.kind).toBe('console');
  });

  it('keeps programmatic calls in `other`, never dropped', () => {
    const cli = (id: string, seconds: number) =>
      event({
        eventVersion: '1.08',
        eventID: id,
        eventTime: at(seconds),
        eventSource: 's3.amazonaws.com',
        eventName: 'ListBuckets',
        awsRegion: 'us-east-1',
        sourceIPAddress: '203.0.113.99',
        userAgent: 'aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5 md/arch#x86_64 lang/python#3.11.8',
        recipientAccountId: ACCOUNT,
        userIdentity: {
          type: 'IAMUser',
          arn: `arn:aws:iam::${ACCOUNT}:user/deploy`,
          accountId: ACCOUNT,
          accessKeyId: 'AKIADEPLOY000000001',
        },
      });
    const input = [cli('p1', 0), consoleCall('a1', 1, alice), cli('p2', 2), cli('p3', 3)];
    const result = sessionize(input);
    expect(result.other.map((e) => e.id)).toEqual(['p1', 'p2', 'p3']);
    expect(members(result)).toEqual([['a1']]);
    const total = result.sessions.reduce((n, s) => n + s.events.length, 0) + result.other.length;
    expect(total).toBe(input.length);
  });

  it('joins an "AWS Internal" call made with a console session key to that session, before or after its first call', () => {
    const internal = (id: string, seconds: number) =>
      event({
        eventVersion: '1.08',
        eventID: id,
        eventTime: at(seconds),
        eventSource: 'kms.amazonaws.com',
        eventName: 'Decrypt',
        awsRegion: 'us-east-1',
        sourceIPAddress: 'AWS Internal',
        userAgent: 'AWS Internal',
        recipientAccountId: ACCOUNT,
        userIdentity: identity(alice),
      });
    const result = sessionize([internal('i0', 0), consoleCall('a1', 1, alice), internal('i1', 2)]);
    expect(members(result)).toEqual([['i0', 'a1', 'i1']]);
    expect(result.other).toEqual([]);
  });

  it('leaves an "AWS Internal" call with an unknown key in `other`', () => {
    const result = sessionize([
      consoleCall('a1', 0, alice),
      event({
        eventID: 'i9',
        eventTime: at(1),
        eventSource: 'kms.amazonaws.com',
        eventName: 'Decrypt',
        sourceIPAddress: 'AWS Internal',
        userAgent: 'AWS Internal',
        userIdentity: {
          type: 'AssumedRole',
          arn: 'arn:aws:sts::1:assumed-role/x/y',
          accessKeyId: 'ASIAUNRELATED000001',
        },
      }),
    ]);
    expect(result.other.map((e) => e.id)).toEqual(['i9']);
  });

  describe('order independence and stable ids', () => {
    const role: Who = {
      type: 'AssumedRole',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/dave`,
      key: 'ASIADAVECONSOLE0001',
      ip: '192.0.2.70',
    };
    const build = (): TrailEvent[] => [
      consoleLogin('loginA', 0, alice),
      consoleCall('a1', 1, alice),
      consoleCall('a2', 4, alice, 'ec2:DescribeInstances'),
      consoleLogin('failB', 2, bob, 'Failure'),
      consoleCall('b1', 3, bob),
      consoleCall('b2', 3, bob, 's3:ListBuckets'),
      event({
        eventID: 'tokenD',
        eventTime: at(10),
        eventSource: 'signin.amazonaws.com',
        eventName: 'GetSigninToken',
        eventType: 'AwsConsoleSignIn',
        sourceIPAddress: role.ip,
        userAgent: JERSEY,
        userIdentity: { type: 'AssumedRole', arn: role.arn, accountId: ACCOUNT },
        responseElements: { credentials: { accessKeyId: role.key } },
      }),
      consoleLogin('loginD', 11, role),
      consoleCall('d1', 12, role),
      event({
        eventID: 'cli1',
        eventTime: at(3),
        eventSource: 'sts.amazonaws.com',
        eventName: 'GetCallerIdentity',
        sourceIPAddress: '203.0.113.1',
        userAgent: 'Boto3/1.34.0 md/Botocore#1.34.0',
        userIdentity: {
          type: 'IAMUser',
          arn: `arn:aws:iam::${ACCOUNT}:user/ci`,
          accessKeyId: 'AKIACI0000000000001',
        },
      }),
      event(
        { eventID: 'anon1', eventTime: at(5), eventSource: 'ec2.amazonaws.com', eventName: 'DescribeVpcs' },
        'lookup.json',
      ),
    ];

    it('gives the same sessions, ids and membership whatever the input order', () => {
      const events = build();
      const expected = shape(sessionize(events));
      expect(Object.keys(expected.sessions)).toHaveLength(5);
      expect(Object.values(expected.sessions).sort()).toEqual(
        [['a1', 'a2', 'loginA'], ['b1', 'b2'], ['d1', 'loginD', 'tokenD'], ['failB'], ['anon1']].sort(),
      );
      expect(expected.other).toEqual(['cli1']);
      for (const seed of [1, 7, 42, 1234, 99991]) {
        const result = sessionize(shuffled(events, seed));
        expect(shape(result)).toEqual(expected);
        // Sessions come out in the same order too.
        expect(result.sessions.map((s) => s.id)).toEqual(sessionize(events).sessions.map((s) => s.id));
      }
      expect(shape(sessionize([...events].reverse()))).toEqual(expected);
    });

    it('keeps ids stable across runs and independent of other sessions in the input', () => {
      const first = sessionize(build());
      const second = sessionize(build());
      expect(first.sessions.map((s) => s.id)).toEqual(second.sessions.map((s) => s.id));
      const aliceOnly = sessionize([consoleCall('a1', 1, alice), consoleCall('a2', 4, alice)]);
      expect(aliceOnly.sessions[0].id).toBe(sessionOf(first, 'a1')?.id);
      for (const session of first.sessions) expect(session.id).toMatch(/^s-[0-9a-f]+$/);
    });

    it('does not change a session id when its ConsoleLogin is missing from the input', () => {
      const withLogin = sessionize([consoleLogin('loginA', 0, alice), consoleCall('a1', 1, alice)]);
      const withoutLogin = sessionize([consoleCall('a1', 1, alice)]);
      expect(withLogin.sessions).toHaveLength(1);
      expect(withLogin.sessions[0].id).toBe(withoutLogin.sessions[0].id);
    });
  });
});

/** A sign-in as the console makes it: a key per service, renewed, all with the sign-in's creationDate. */
describe('sessionize: one sign-in, many keys (DESIGN.md, console sessions)', () => {
  const signedIn = at(0);
  const withKey = (who: Who, key: string): Who => ({ ...who, key, created: signedIn });
  const checkMfa = (id: string, seconds: number) =>
    event({
      eventVersion: '1.08',
      eventID: id,
      eventTime: at(seconds),
      eventSource: 'signin.amazonaws.com',
      eventName: 'CheckMfa',
      eventType: 'AwsConsoleSignIn',
      awsRegion: 'us-east-1',
      sourceIPAddress: alice.ip,
      userAgent: BROWSER,
      recipientAccountId: ACCOUNT,
      userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', accountId: ACCOUNT, userName: 'alice' },
      responseElements: { CheckMfa: 'Success' },
      additionalEventData: { MfaType: 'Virtual MFA' },
    });
  const internalCall = (
    id: string,
    seconds: number,
    who: Who,
    agent: string,
    name = 'rds:DescribeDBInstances',
  ) => {
    const call = consoleCall(id, seconds, who, name);
    delete call.record.sessionCredentialFromConsole;
    call.record.userAgent = agent;
    call.record.sourceIPAddress = 'AWS Internal';
    return call;
  };

  it('groups every key of one sign-in, its CheckMfa and its ConsoleLogin into one session', () => {
    const events = [
      checkMfa('mfa', -14),
      consoleLogin('login', 0, alice),
      consoleCall('iam1', 3, withKey(alice, 'ASIAIAMKEY000000001'), 'iam:ListUsers'),
      consoleCall('ec21', 4, withKey(alice, 'ASIAEC2KEY000000001'), 'ec2:DescribeInstances'),
      consoleCall('org1', 4, withKey(alice, 'ASIAORGKEY000000001'), 'organizations:DescribeOrganization'),
      consoleCall('hl1', 10, withKey(alice, 'ASIAHEALTH000000001'), 'health:DescribeEventAggregates'),
      consoleCall('hl2', 310, withKey(alice, 'ASIAHEALTH000000002'), 'health:DescribeEventAggregates'),
      consoleCall('hl3', 610, withKey(alice, 'ASIAHEALTH000000003'), 'health:DescribeEventAggregates'),
      internalCall(
        'rds1',
        620,
        withKey(alice, 'ASIARDSKEY000000001'),
        'RDS Console, aws-internal/3 aws-sdk-java/1.12.720',
      ),
      internalCall(
        's31',
        630,
        withKey(alice, 'ASIAS3KEY0000000001'),
        '[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.720 Linux/5.10]',
        's3:ListBuckets',
      ),
    ];
    for (const seed of [1, 2, 3]) {
      const result = sessionize(shuffled(events, seed));
      expect(members(result)).toEqual([
        ['mfa', 'login', 'iam1', 'ec21', 'org1', 'hl1', 'hl2', 'hl3', 'rds1', 's31'],
      ]);
      expect(result.other).toEqual([]);
    }
  });

  it('separates the same principal signing in again (new creationDate), with its own CheckMfa and login', () => {
    const later: Who = { ...alice, key: 'ASIALATERKEY0000001', created: at(7200), ip: '203.0.113.9' };
    const result = sessionize([
      checkMfa('mfa1', -15),
      consoleLogin('login1', 0, alice),
      consoleCall('a1', 5, withKey(alice, 'ASIAFIRSTKEY0000001')),
      checkMfa('mfa2', 7185),
      consoleLogin('login2', 7200, later),
      consoleCall('b1', 7205, later),
      consoleCall('a2', 7210, withKey(alice, 'ASIAFIRSTKEY0000002')),
    ]);
    expect(members(result)).toEqual([
      ['mfa1', 'login1', 'a1', 'a2'],
      ['mfa2', 'login2', 'b1'],
    ]);
  });

  it('takes a key-only record into the sign-in its key has elsewhere', () => {
    const key = withKey(alice, 'ASIAIAMKEY000000001');
    const bare = consoleCall('bare', 8, key);
    delete bare.record.userIdentity!.sessionContext;
    const result = sessionize([
      consoleCall('iam1', 3, key),
      consoleCall('ec21', 4, withKey(alice, 'ASIAEC2KEY000000001')),
      bare,
    ]);
    expect(members(result)).toEqual([['iam1', 'ec21', 'bare']]);
  });

  it('places a key-only record the same way whatever the order, even when its key has two creationDates', () => {
    const key = 'ASIAIAMKEY000000001';
    const bare = consoleCall('bare', 8, { ...alice, key });
    delete bare.record.userIdentity!.sessionContext;
    const events = [
      consoleCall('c1', 3, { ...alice, key, created: at(0) }),
      consoleCall('c2', 4, { ...alice, key, created: at(2) }),
      bare,
    ];
    const results = [1, 2, 3, 4, 5].map((seed) => shape(sessionize(shuffled(events, seed))));
    for (const result of results) expect(result).toEqual(results[0]);
    expect(Object.values(results[0].sessions)).toContainEqual(['bare', 'c1']);
  });

  it('never uses a masked key as an identity: without creationDate it falls back to the principal split at quiet gaps', () => {
    const masked = (id: string, seconds: number, key: string) => {
      const call = consoleCall(id, seconds, { ...alice, key });
      delete call.record.userIdentity!.sessionContext;
      return call;
    };
    const result = sessionize([
      masked('m1', 0, 'ASIA****************'),
      masked('m2', 60, 'ASIAXXXXXXXXXXXXXXXX'),
      masked('m3', 120, 'ASIA****************'),
      masked('m4', 120 + 31 * 60, 'ASIA****************'),
    ]);
    expect(members(result)).toEqual([['m1', 'm2', 'm3'], ['m4']]);
  });

  it('splits a principal known only by name at each new sign-in', () => {
    const bare = (id: string, seconds: number) => {
      const call = consoleCall(id, seconds, alice, 'iam:ListUsers');
      delete call.record.userIdentity!.accessKeyId;
      delete call.record.userIdentity!.sessionContext;
      return call;
    };
    const result = sessionize([
      bare('a', 0),
      bare('b', 60),
      consoleLogin('login', 90, alice),
      bare('c', 100),
    ]);
    expect(members(result)).toEqual([
      ['a', 'b'],
      ['login', 'c'],
    ]);
  });

  it('lasts at most 12 hours', () => {
    const key = withKey(alice, 'ASIAIAMKEY000000001');
    const result = sessionize([
      consoleLogin('login', 0, alice),
      consoleCall('early', 60, key),
      consoleCall('late', 12 * 3600 + 60, key),
    ]);
    expect(members(result)).toEqual([['login', 'early'], ['late']]);
  });

  it('puts Identity Center portal calls (IdentityCenterUser, onBehalfOf) in the person’s portal session', () => {
    const portal = (id: string, seconds: number, name: string) =>
      event({
        eventVersion: '1.10',
        eventID: id,
        eventTime: at(seconds),
        eventSource: 'sso.amazonaws.com',
        eventName: name,
        awsRegion: 'us-east-1',
        sourceIPAddress: '192.0.2.44',
        userAgent: BROWSER,
        recipientAccountId: ACCOUNT,
        userIdentity: {
          type: 'IdentityCenterUser',
          accountId: ACCOUNT,
          onBehalfOf: {
            userId: '94482488-3041-7026-18f3-be45837cd0e4',
            identityStoreArn: `arn:aws:identitystore::${ACCOUNT}:identitystore/d-9067642ac7`,
          },
          credentialId: 'EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE',
        },
      });
    const result = sessionize([
      portal('p1', 0, 'ListAccounts'),
      portal('p2', 3, 'ListAccountRoles'),
      portal('p3', 5, 'GetRoleCredentials'),
    ]);
    expect(members(result)).toEqual([['p1', 'p2', 'p3']]);
  });

  it('keeps CLI calls with a console sign-in’s creationDate out of its session', () => {
    const key = withKey(alice, 'ASIAIAMKEY000000001');
    const cli = consoleCall('cli', 5, key);
    delete cli.record.sessionCredentialFromConsole;
    cli.record.userAgent = 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64';
    const result = sessionize([consoleCall('c1', 3, key), cli]);
    expect(members(result)).toEqual([['c1']]);
    expect(result.other.map((e) => e.id)).toEqual(['cli']);
  });

  it('separates 2,000 sign-ins of one principal, 10 minutes apart (CheckMfa, login and call each)', () => {
    const build = (count: number) => {
      const events: TrailEvent[] = [];
      for (let i = 0; i < count; i++) {
        const created = at(i * 600);
        const who: Who = { ...alice, created, key: `ASIAKEY${String(i).padStart(12, '0')}` };
        events.push(
          checkMfa(`m${i}`, i * 600 - 15),
          consoleLogin(`l${i}`, i * 600, who),
          consoleCall(`c${i}`, i * 600 + 5, who),
        );
      }
      return events;
    };
    const small = build(500);
    const large = build(2000);
    expect(sessionize(small).sessions).toHaveLength(500);
    const result = sessionize(large);
    expect(result.sessions).toHaveLength(2000);
    expect(result.sessions.every((s) => s.events.length === 3)).toBe(true);
  });
});

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionIdFor, signInKey } from '../../engine/sessionize.ts';
import type { CloudTrailRecord } from '../../engine/types.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TIMEOUT = 30_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The test's environment without colour switches, so only the TTY check decides. */
function colorNeutralEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  return env;
}

function trailmap(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['bin/trailmap.js', ...args],
      { cwd: ROOT, timeout: TIMEOUT - 2000, maxBuffer: 32 * 1024 * 1024, env: colorNeutralEnv() },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? '');
  });
}

const ACCOUNT = '111122223333';
const KEY = 'ASIACLITEST00000001';
const ARN = `arn:aws:iam::${ACCOUNT}:user/alice`;
/** alice's console session: her principal and sign-in time, whatever keys its calls use. */
const SESSION_ID = sessionIdFor(signInKey(`${ACCOUNT}:user/alice`, Date.parse('2024-05-01T09:59:00Z')));

/** A console call by alice, `seconds` after 2024-05-01T10:00:00Z. */
function call(
  id: string,
  seconds: number,
  ref: string,
  overrides: Partial<CloudTrailRecord> = {},
): CloudTrailRecord {
  const [service, eventName] = ref.split(':');
  return {
    eventVersion: '1.08',
    eventID: id,
    eventTime: new Date(Date.UTC(2024, 4, 1, 10, 0, seconds)).toISOString(),
    eventSource: `${service}.amazonaws.com`,
    eventName,
    eventType: 'AwsApiCall',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0',
    recipientAccountId: ACCOUNT,
    sessionCredentialFromConsole: 'true',
    userIdentity: {
      type: 'IAMUser',
      arn: ARN,
      accountId: ACCOUNT,
      principalId: 'AIDAALICE',
      accessKeyId: KEY,
      sessionContext: { attributes: { creationDate: '2024-05-01T09:59:00Z', mfaAuthenticated: 'true' } },
    },
    ...overrides,
  };
}

/**
 * rules/signals/iam.yaml IAM_AccountSettings: anchor iam:ListSTSRegionalEndpointsStatus, requires
 * ec2:DescribeRegions and iam:GetAccountPasswordPolicy, no `when` conditions, default 3 s window.
 */
const burst = [
  call('evt-anchor', 0, 'iam:ListSTSRegionalEndpointsStatus'),
  call('evt-regions', 1, 'ec2:DescribeRegions'),
  call('evt-policy', 1, 'iam:GetAccountPasswordPolicy'),
];
/** A programmatic call that no rule maps and no console session owns. */
const cliCall = call('evt-cli', 30, 's3:ListBuckets', {
  userAgent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.5',
  sessionCredentialFromConsole: undefined,
  userIdentity: {
    type: 'IAMUser',
    arn: `arn:aws:iam::${ACCOUNT}:user/ci`,
    accountId: ACCOUNT,
    accessKeyId: 'AKIACI0001',
  },
});

let dir: string;
let fixture: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailmap-cli-'));
  fixture = join(dir, 'trail.json');
  await writeFile(fixture, JSON.stringify({ Records: [...burst, cliCall] }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SIGNAL_KEYS = [
  'id',
  'label',
  'kind',
  'name',
  'summary',
  'url',
  'service',
  'risk',
  'correlationId',
  'eventIds',
  'eventCount',
  'firstEventTime',
  'lastEventTime',
  'additionalData',
  'sessionId',
].sort();

describe('trailmap enrich', () => {
  it(
    'prints signals as a JSON array with exactly the Signal contract keys',
    async () => {
      const { code, stdout, stderr } = await trailmap(['enrich', '--format', 'signals-json', fixture]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const signals = JSON.parse(stdout) as Record<string, unknown>[];
      expect(Array.isArray(signals)).toBe(true);
      expect(signals.length).toBeGreaterThan(0);
      for (const signal of signals) expect(Object.keys(signal).sort()).toEqual(SIGNAL_KEYS);
      const settings = signals.find((s) => s.label === 'IAM_AccountSettings');
      expect(settings).toBeDefined();
      expect(settings).toMatchObject({
        service: 'IAM',
        risk: 'info',
        correlationId: 'evt-anchor',
        eventCount: 3,
        firstEventTime: '2024-05-01T10:00:00Z',
        lastEventTime: '2024-05-01T10:00:01Z',
        sessionId: SESSION_ID,
      });
      expect([...((settings?.eventIds ?? []) as string[])].sort()).toEqual([
        'evt-anchor',
        'evt-policy',
        'evt-regions',
      ]);
      expect(settings?.summary).toContain('eu-west-1');
      expect(settings?.url).toContain('eu-west-1');
    },
    TIMEOUT,
  );

  it(
    'prints one events-json entry per input event',
    async () => {
      const { code, stdout } = await trailmap(['enrich', '--format', 'events-json', fixture]);
      expect(code).toBe(0);
      const events = JSON.parse(stdout) as {
        eventId: string;
        sessionId: string | null;
        label: string | null;
      }[];
      expect(events.map((e) => e.eventId).sort()).toEqual([
        'evt-anchor',
        'evt-cli',
        'evt-policy',
        'evt-regions',
      ]);
      const byId = new Map(events.map((e) => [e.eventId, e]));
      expect(byId.get('evt-cli')).toMatchObject({ sessionId: null, label: null });
      for (const id of ['evt-anchor', 'evt-regions', 'evt-policy']) {
        expect(byId.get(id)).toMatchObject({
          sessionId: SESSION_ID,
          label: 'IAM_AccountSettings',
        });
      }
    },
    TIMEOUT,
  );

  it(
    'prints session summaries with sessions-json',
    async () => {
      const { code, stdout } = await trailmap(['enrich', '--format', 'sessions-json', fixture]);
      expect(code).toBe(0);
      const sessions = JSON.parse(stdout) as Record<string, unknown>[];
      expect(sessions).toHaveLength(1);
      expect(sessions[0]).toMatchObject({
        id: SESSION_ID,
        kind: 'console',
        principalArn: ARN,
        accessKeyId: KEY,
        accountId: ACCOUNT,
        sourceIps: ['198.51.100.7'],
        regions: ['eu-west-1'],
        mfaUsed: true,
        eventCount: 3,
        startTime: '2024-05-01T10:00:00Z',
        endTime: '2024-05-01T10:00:01Z',
      });
    },
    TIMEOUT,
  );

  it(
    'prints a timeline with the session and no ANSI escapes when stdout is not a terminal',
    async () => {
      const { code, stdout } = await trailmap(['enrich', fixture]);
      expect(code).toBe(0);
      expect(stdout).toContain(SESSION_ID);
      expect(stdout).toContain(ARN);
      expect(stdout).toMatch(/IAM → Account Settings/);
      expect(stdout).toMatch(/1 console sessions/);
      expect(stdout).toMatch(/1 programmatic events/);
      expect(stdout).toMatch(/4 events read from 1 inputs/);
      expect(stdout).not.toContain('\u001b[');
    },
    TIMEOUT,
  );

  it(
    'exits 2 when an input is missing, names it on stderr, and still prints the good input',
    async () => {
      const missing = join(dir, 'no-such-file.json');
      const { code, stdout, stderr } = await trailmap([
        'enrich',
        '--format',
        'signals-json',
        missing,
        fixture,
      ]);
      expect(code).toBe(2);
      expect(stderr).toContain(missing);
      const signals = JSON.parse(stdout) as { label: string }[];
      expect(signals.map((s) => s.label)).toContain('IAM_AccountSettings');
    },
    TIMEOUT,
  );

  it(
    'reads stdin with -',
    async () => {
      const ndjson = `${[...burst, cliCall].map((r) => JSON.stringify(r)).join('\n')}\n`;
      const { code, stdout } = await trailmap(['enrich', '--format', 'events-json', '-'], ndjson);
      expect(code).toBe(0);
      const events = JSON.parse(stdout) as { eventId: string; origin: { source: string } }[];
      expect(events).toHaveLength(4);
      expect(events.every((e) => e.origin.source === '-')).toBe(true);
      const signals = JSON.parse(
        (await trailmap(['enrich', '--format', 'signals-json', '-'], ndjson)).stdout,
      ) as { label: string }[];
      expect(signals.map((s) => s.label)).toContain('IAM_AccountSettings');
    },
    TIMEOUT,
  );

  it(
    'writes the dataset with --out DIR as gzipped JSON Lines partitioned by day',
    async () => {
      const out = join(dir, 'dataset');
      const { code, stderr } = await trailmap(['enrich', '--format', 'signals-json', '--out', out, fixture]);
      expect(code).toBe(0);
      expect(stderr).toContain(out);
      const files = (await readdir(out, { recursive: true }))
        .map((f) => String(f))
        .filter((f) => f.endsWith('.jsonl.gz'))
        .sort();
      const tables = ['event_signals', 'sessions', 'signals'];
      for (const table of tables) {
        expect(files.some((f) => f.startsWith(join(table, 'dt=2024-05-01')))).toBe(true);
      }
      for (const file of files)
        expect(relative(out, join(out, file))).toMatch(/^[a-z_]+\/dt=\d{4}-\d{2}-\d{2}\/[^/]+\.jsonl\.gz$/);
      const rows = async (table: string) => {
        const file = files.find((f) => f.startsWith(`${table}/`))!;
        const text = gunzipSync(await readFile(join(out, file))).toString('utf8');
        return text
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as Record<string, unknown>);
      };
      const signals = await rows('signals');
      expect(
        signals.some((r) => r.label === 'IAM_AccountSettings' && r.correlation_id === 'evt-anchor'),
      ).toBe(true);
      expect(
        signals.every((r) => r.first_event_time && String(r.first_event_time).startsWith('2024-05-01')),
      ).toBe(true);
      const sessions = await rows('sessions');
      expect(sessions.map((r) => r.id)).toEqual([SESSION_ID]);
      const links = await rows('event_signals');
      expect(links.map((r) => r.event_id).sort()).toEqual([
        'evt-anchor',
        'evt-cli',
        'evt-policy',
        'evt-regions',
      ]);
    },
    TIMEOUT,
  );
});

describe('trailmap enrich on threads', () => {
  // examples/trail has 36 files: enough for the threaded path. `--match` that every record passes
  // forces the single-thread path, which reads every body: the two must say the same.
  const ALL = ['--match', '$.eventID regex "."'];

  it(
    'prints the same signals, sessions, per-event list and totals as the single-thread path',
    async () => {
      for (const format of ['signals-json', 'sessions-json', 'events-json', 'timeline']) {
        const threaded = await trailmap(['enrich', 'examples/trail', '--format', format, '--no-color']);
        const here = await trailmap(['enrich', 'examples/trail', '--format', format, '--no-color', ...ALL]);
        expect(threaded.code).toBe(0);
        expect(threaded.stdout.length).toBeGreaterThan(1000);
        expect(threaded.stdout).toBe(here.stdout);
      }
    },
    TIMEOUT * 4,
  );

  it(
    'names an unreadable file, still enriches the others, and exits 2',
    async () => {
      const folder = join(dir, 'threads');
      await mkdir(folder, { recursive: true });
      for (let i = 0; i < 9; i++) {
        const records = burst.map((r) => ({
          ...r,
          eventID: `${r.eventID}-${i}`,
          eventTime: new Date(Date.parse(r.eventTime as string) + i * 60_000).toISOString(),
        }));
        await writeFile(join(folder, `part-${i}.json`), JSON.stringify({ Records: records }));
      }
      await writeFile(
        join(folder, 'part-9.json.gz'),
        gzipSync(JSON.stringify({ Records: burst })).subarray(0, 30),
      );
      const { code, stdout, stderr } = await trailmap(['enrich', folder, '--format', 'signals-json']);
      expect(code).toBe(2);
      expect(stderr).toContain(`${join(folder, 'part-9.json.gz')}: not a valid gzip stream`);
      const signals = JSON.parse(stdout) as { label: string; eventCount: number }[];
      // The nine bursts, a minute apart, are one session (same key) with the action nine times.
      expect(signals.map((s) => s.label)).toEqual(Array(9).fill('IAM_AccountSettings'));
    },
    TIMEOUT,
  );

  it(
    'reports bad rules (file, rule, field) and exits 1 while the threads read',
    async () => {
      const rulesDir = join(dir, 'bad-rules');
      await mkdir(rulesDir, { recursive: true });
      await writeFile(join(rulesDir, 'bad.yaml'), 'service: iam\nrules:\n  - label: X\n');
      const { code, stderr } = await trailmap(['enrich', 'examples/trail', '--rules', rulesDir]);
      expect(code).toBe(1);
      expect(stderr).toContain('bad.yaml');
    },
    TIMEOUT,
  );
});

describe('trailmap rules', () => {
  it(
    'lint exits 0 on the real rules',
    async () => {
      const { code, stdout } = await trailmap(['rules', 'lint']);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^\d+ rules OK in /);
    },
    TIMEOUT,
  );

  it(
    'lint exits 1 on a broken rule, naming file, rule and field',
    async () => {
      const rules = join(dir, 'broken-rules');
      await mkdir(rules, { recursive: true });
      await writeFile(
        join(rules, 'broken.yaml'),
        `service: IAM
rules:
  - label: IAM_Broken_Rule
    name: Broken
    risk: catastrophic
    summary: broken
    anchors: [iam:ListUsers]
`,
      );
      const { code, stderr } = await trailmap(['rules', 'lint', rules]);
      expect(code).toBe(1);
      expect(stderr).toContain('broken.yaml');
      expect(stderr).toContain('IAM_Broken_Rule');
      expect(stderr).toMatch(/field risk/);
    },
    TIMEOUT,
  );

  it(
    'stats prints per-service rows and a total line',
    async () => {
      const { code, stdout } = await trailmap(['rules', 'stats']);
      expect(code).toBe(0);
      const total = stdout.split('\n').find((line) => line.startsWith('total'));
      expect(total).toBeDefined();
      const lint = await trailmap(['rules', 'lint']);
      const count = Number(/^(\d+) rules OK/.exec(lint.stdout)?.[1]);
      expect(total?.split(/\s+/)[1]).toBe(String(count));
      expect(stdout).toMatch(/^IAM\s+\d+/m);
    },
    TIMEOUT,
  );
});

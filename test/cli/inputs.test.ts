/**
 * What `trailmap` says about its inputs, on the threaded path (8 files or more) and on one thread
 * alike: files read by content whatever their name, Insights records skipped and counted, records
 * with one eventID and different content kept and reported, inputs that yield no event named
 * with exit code 2 instead of "0 events read".
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudTrailRecord } from '../../engine/types.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOG_EXAMPLES = fileURLToPath(new URL('../../../shared/traildiscover/logExamples', import.meta.url));
const TIMEOUT = 60_000;
const ACCOUNT = '111122223333';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function trailmap(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    const child = execFile(
      process.execPath,
      ['bin/trailmap.js', ...args],
      { cwd: ROOT, timeout: TIMEOUT - 5000, maxBuffer: 64 * 1024 * 1024, env },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    child.stdin?.end('');
  });
}

/** A console call by IAM user `user`, `seconds` after 2024-05-01T10:00:00Z. */
function call(user: string, id: string, seconds: number, ref: string, extra: Partial<CloudTrailRecord> = {}) {
  const [service, eventName] = ref.split(':');
  return {
    eventVersion: '1.08',
    userIdentity: {
      type: 'IAMUser',
      principalId: `AIDA${user.toUpperCase()}`,
      arn: `arn:aws:iam::${ACCOUNT}:user/${user}`,
      accountId: ACCOUNT,
      accessKeyId: `ASIA${user.toUpperCase().padEnd(12, '0')}0001`,
      userName: user,
      sessionContext: { attributes: { creationDate: '2024-05-01T09:59:00Z', mfaAuthenticated: 'true' } },
    },
    eventTime: new Date(Date.UTC(2024, 4, 1, 10, 0, seconds)).toISOString().replace('.000Z', 'Z'),
    eventSource: `${service}.amazonaws.com`,
    eventName,
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0',
    requestParameters: null,
    responseElements: null,
    eventID: id,
    eventType: 'AwsApiCall',
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    sessionCredentialFromConsole: 'true',
    ...extra,
  } satisfies CloudTrailRecord;
}

/** IAM → Account settings (rules/signals/iam.yaml IAM_AccountSettings), `at` seconds in. */
const burst = (user: string, tag: string, at: number) => [
  call(user, `${tag}-anchor`, at, 'iam:ListSTSRegionalEndpointsStatus'),
  call(user, `${tag}-regions`, at + 1, 'ec2:DescribeRegions'),
  call(user, `${tag}-policy`, at + 1, 'iam:GetAccountPasswordPolicy'),
];

const insight = (id: string): CloudTrailRecord => ({
  eventVersion: '1.08',
  eventTime: '2024-05-01T10:05:00Z',
  awsRegion: 'eu-west-1',
  eventID: id,
  eventType: 'AwsCloudTrailInsight',
  recipientAccountId: ACCOUNT,
  sharedEventID: '5d8f0a1e-0000-4000-8000-000000000001',
  insightDetails: {
    state: 'Start',
    eventSource: 'iam.amazonaws.com',
    eventName: 'GetAccountPasswordPolicy',
    insightType: 'ApiCallRateInsight',
    insightContext: {
      statistics: { baseline: { average: 0.01 }, insight: { average: 4 }, insightDuration: 1 },
    },
  },
  eventCategory: 'Insight',
});

/** The single-thread path (`--match` that every record passes keeps every body in one place). */
const HERE = ['--match', '$.eventID regex "."'];

let dir: string;
let trail: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailmap-cli-inputs-'));
  trail = join(dir, 'trail');
  await mkdir(join(trail, 'odd'), { recursive: true });
  const users = ['alice', 'bob', 'carol'];
  // Nine log files: the threaded path.
  for (let i = 0; i < 9; i++) {
    const user = users[i % users.length];
    await writeFile(
      join(trail, `part-${i}.json.gz`),
      gzipSync(JSON.stringify({ Records: burst(user, `${user}-${i}`, i * 60) })),
    );
  }
  // Files named otherwise: read for their content, or skipped.
  await writeFile(
    join(trail, 'odd', 'CreateAccessKey.json.cloudtrail'),
    JSON.stringify([
      call('alice', 'odd-1', 600, 'iam:CreateAccessKey', { requestParameters: { userName: 'alice' } }),
    ]),
  );
  await writeFile(join(trail, 'odd', 'index.html'), '<!DOCTYPE html><html><body>viewer</body></html>');
  await writeFile(join(trail, 'odd', 'notes'), '# how this trail was collected\n');
  // Insights records among the API events.
  await writeFile(
    join(trail, 'with-insights.json'),
    JSON.stringify({
      Records: [insight('insight-1'), call('bob', 'plain-1', 700, 'iam:ListUsers'), insight('insight-2')],
    }),
  );
  // One eventID in three copies: the original, a redelivery, and one edited to name someone else.
  const original = call('alice', 'dup-1', 800, 'iam:ListRoles');
  await writeFile(join(trail, 'copy-a.json'), JSON.stringify({ Records: [original] }));
  await writeFile(join(trail, 'copy-b.json'), JSON.stringify({ Records: [original] }));
  await writeFile(
    join(trail, 'copy-c.json'),
    JSON.stringify({
      Records: [call('carol', 'dup-1', 800, 'iam:DeleteRole', { requestParameters: { roleName: 'audit' } })],
    }),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('trailmap enrich on files of every kind', () => {
  it(
    'reads odd names by content, counts Insights records, keeps and reports conflicting copies: alike on threads and on one',
    async () => {
      for (const format of ['events-json', 'signals-json', 'timeline']) {
        const threaded = await trailmap(['enrich', trail, '--format', format, '--no-geoip']);
        const here = await trailmap(['enrich', trail, '--format', format, '--no-geoip', ...HERE]);
        expect(threaded.code).toBe(0);
        expect(threaded.stdout).toBe(here.stdout);
        expect(threaded.stderr).toBe(here.stderr);
        expect(here.code).toBe(0);
      }
      const { stdout, stderr } = await trailmap(['enrich', trail, '--format', 'events-json', '--no-geoip']);
      const events = JSON.parse(stdout) as { eventId: string; origin: { source: string; index: number } }[];
      const ids = events.map((e) => e.eventId);
      expect(ids).toContain('odd-1');
      expect(ids).toContain('plain-1');
      expect(ids.filter((id) => id.startsWith('insight'))).toEqual([]);
      // The redelivery is collapsed; the edited copy is kept under its own id.
      expect(ids.filter((id) => id.startsWith('dup-1')).sort()).toEqual(['dup-1', 'dup-1#2']);
      const renamed = events.find((e) => e.eventId === 'dup-1#2')!;
      const kept = events.find((e) => e.eventId === 'dup-1')!;
      expect(stderr).toBe(
        `trailmap: warning: ${renamed.origin.source} (record 0): eventID "dup-1" is also at ${kept.origin.source} (record 0) with different content: both kept, this one as dup-1#2\n` +
          'trailmap: 2 Insights records skipped (not API events)\n',
      );
      const timeline = await trailmap(['enrich', trail, '--no-geoip']);
      expect(timeline.stdout).toMatch(
        /events read from 14 inputs \(2 skipped: digests, Insights files, not CloudTrail\)\.\n$/,
      );
    },
    TIMEOUT * 4,
  );
});

describe('inputs that yield no event', () => {
  it(
    'are named on stderr and exit 2 with nothing on stdout, for enrich, detect and report',
    async () => {
      const empty = join(dir, 'empty');
      await mkdir(empty, { recursive: true });
      const insightsOnly = join(dir, 'insights-only.json');
      await writeFile(insightsOnly, JSON.stringify({ Records: [insight('insight-9')] }));
      const report = join(dir, 'report.html');
      for (const args of [
        ['enrich', empty, insightsOnly],
        ['enrich', '--format', 'signals-json', empty, insightsOnly],
        ['detect', empty, insightsOnly],
        ['report', empty, insightsOnly, '-o', report],
      ]) {
        const run = await trailmap([...args, '--no-geoip']);
        expect(run.code, args.join(' ')).toBe(2);
        expect(run.stdout).toBe('');
        expect(run.stderr).toContain(`trailmap: ${empty}: no events (nothing to read in it)\n`);
        expect(run.stderr).toContain(
          `trailmap: ${insightsOnly}: no events (1 file read, 1 Insights records skipped)\n`,
        );
        expect(run.stderr).toContain('trailmap: 1 Insights records skipped (not API events)\n');
        expect(run.stderr).not.toMatch(/0 events read/);
      }
      expect(existsSync(report)).toBe(false);
    },
    TIMEOUT * 4,
  );

  it(
    'a folder of eight files without events says so on the threaded path too; beside a good input, the good one is still enriched',
    async () => {
      const lists = join(dir, 'lists');
      await mkdir(lists, { recursive: true });
      for (let i = 0; i < 8; i++) await writeFile(join(lists, `empty-${i}.json`), '[]');
      const alone = await trailmap(['enrich', lists, '--no-geoip']);
      expect(alone.code).toBe(2);
      expect(alone.stdout).toBe('');
      expect(alone.stderr).toBe(`trailmap: ${lists}: no events (8 files read)\n`);

      const good = join(dir, 'good.json');
      await writeFile(good, JSON.stringify({ Records: burst('alice', 'good', 0) }));
      const beside = await trailmap(['enrich', lists, good, '--format', 'signals-json', '--no-geoip']);
      expect(beside.code).toBe(2);
      expect(beside.stderr).toBe(`trailmap: ${lists}: no events (8 files read)\n`);
      expect((JSON.parse(beside.stdout) as { label: string }[]).map((s) => s.label)).toContain(
        'IAM_AccountSettings',
      );
    },
    TIMEOUT * 2,
  );
});

describe('TrailDiscover log examples (../shared)', () => {
  it(
    'enrich reads the whole folder without a problem or warning, alike on threads and on one',
    async () => {
      const threaded = await trailmap(['enrich', LOG_EXAMPLES, '--format', 'events-json', '--no-geoip']);
      const here = await trailmap(['enrich', LOG_EXAMPLES, '--format', 'events-json', '--no-geoip', ...HERE]);
      expect(threaded.stderr).toBe('');
      expect(threaded.code).toBe(0);
      expect(threaded.stdout).toBe(here.stdout);
      const events = JSON.parse(threaded.stdout) as { eventId: string }[];
      expect(events.length).toBeGreaterThan(300);
      expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    },
    TIMEOUT * 2,
  );
});

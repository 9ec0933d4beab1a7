/** Regressions found while writing the unit tests: each failed before its fix. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readInputs, toTrailEvent } from '../../engine/read.ts';
import { compileRuleSources, type RuleLoadError } from '../../engine/rules/load.ts';
import { sessionize } from '../../engine/sessionize.ts';

it('onProgress counts a failing input once per call, even when it is given twice', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trailmap-bug-'));
  const bad = join(dir, 'bad.json');
  const good = join(dir, 'good.json');
  await writeFile(bad, 'garbage');
  await writeFile(
    good,
    JSON.stringify([
      {
        eventID: 'a',
        eventTime: '2024-05-01T10:00:00Z',
        eventSource: 'iam.amazonaws.com',
        eventName: 'ListUsers',
      },
    ]),
  );
  const calls: [number, number][] = [];
  await readInputs([bad, bad, good], { onProgress: (done, total) => calls.push([done, total]) });
  expect(calls).toEqual([
    [1, 3],
    [2, 3],
    [3, 3],
  ]);
});

it('a digest file named directly on the command line is skipped, not read as events', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trailmap-digest-'));
  const digest = join(
    dir,
    '111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20240501T100000Z.json.gz',
  );
  await writeFile(digest, '{"digestStartTime":"2024-05-01T09:00:00Z"}');
  const result = await readInputs([digest]);
  expect(result.skipped.map((s) => s.source)).toEqual([digest]);
  expect(result.problems).toEqual([]);
});

it('console events of one session stay together when some lack userIdentity.accessKeyId', () => {
  const who = {
    type: 'IAMUser',
    arn: 'arn:aws:iam::111122223333:user/alice',
    accountId: '111122223333',
    sessionContext: { attributes: { creationDate: '2024-05-01T09:59:00Z', mfaAuthenticated: 'true' } },
  };
  const base = {
    eventSource: 'iam.amazonaws.com',
    eventName: 'ListUsers',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'Mozilla/5.0',
    sessionCredentialFromConsole: 'true',
  };
  const withKey = toTrailEvent(
    {
      ...base,
      eventID: 'k',
      eventTime: '2024-05-01T10:00:00Z',
      userIdentity: { ...who, accessKeyId: 'ASIAALICE0001' },
    },
    'trail.json',
    0,
  );
  const withoutKey = toTrailEvent(
    { ...base, eventID: 'n', eventTime: '2024-05-01T10:00:01Z', userIdentity: who },
    'trail.json',
    1,
  );
  expect(sessionize([withoutKey, withKey]).sessions.map((s) => s.events.map((e) => e.id))).toEqual([
    ['k', 'n'],
  ]);
});

it('a schema problem in one rule does not hide the semantic problems of the other rules of the file', () => {
  const text = `service: X
rules:
  - label: X_Bad_Risk
    name: x
    risk: severe
    summary: x
    anchors: [x:A]
  - label: X_Bad_Regex
    name: x
    risk: info
    summary: x
    anchors: [x:ListA]
    when:
      - field: a
        matches: '([a-z'
`;
  let problems: { rule?: string; field?: string }[] = [];
  try {
    compileRuleSources([{ file: 'x.yaml', text }]);
  } catch (error) {
    problems = (error as RuleLoadError).problems;
  }
  expect(problems.map((p) => [p.rule, p.field])).toEqual([
    ['X_Bad_Risk', 'risk'],
    ['X_Bad_Regex', 'when.0'],
  ]);
});

it('a YAML syntax error is reported once, at its first position, not as a cascade', () => {
  const text = `service: X\nrules:\n  - label: X_A\n    name: x\n    risk: info\n    summary: x\n    anchors: [a.b[].c, x:A]\n    required: [x:B]\n`;
  let problems: { file: string; message: string }[] = [];
  try {
    compileRuleSources([{ file: 'broken.yaml', text }]);
  } catch (error) {
    problems = (error as RuleLoadError).problems;
  }
  expect(problems).toHaveLength(1);
  expect(problems[0].file).toBe('broken.yaml');
  expect(problems[0].message).toMatch(/^YAML: .*line 7/);
});

it('matches tests objects as their JSON text, not as [object Object]', async () => {
  const { compileCondition } = await import('../../engine/rules/conditions.ts');
  const test = compileCondition({ field: 'requestParameters.bucketPolicy', matches: '"Principal":"\\*"' });
  expect(
    test({ requestParameters: { bucketPolicy: { Statement: [{ Effect: 'Allow', Principal: '*' }] } } }),
  ).toBe(true);
  expect(
    test({ requestParameters: { bucketPolicy: { Statement: [{ Effect: 'Allow', Principal: 'x' }] } } }),
  ).toBe(false);
});

it('a record delivered twice (same eventID) raises one detection, not two', async () => {
  const { detect, loadDetections } = await import('../../engine/detect.ts');
  const record = {
    eventID: 'dup-1',
    eventTime: '2024-05-01T10:00:00Z',
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'StopLogging',
    awsRegion: 'us-east-1',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/mallory' },
    requestParameters: { name: 'org-trail' },
  };
  const events = [toTrailEvent(record, 'a.json', 0), toTrailEvent({ ...record }, 'b.json', 0)];
  const hits = detect(events, loadDetections()).filter(
    (h) => h.ruleId === 'cloudtrail-logging-stopped-or-trail-deleted',
  );
  expect(hits).toHaveLength(1);
});

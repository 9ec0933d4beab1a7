/** Mapping semantics, on small rule sets written for each case. */
import { describe, expect, it } from 'vitest';
import { enrich } from '../../engine/enrich.ts';
import { mapSession, RuleIndex } from '../../engine/map.ts';
import { fixtureEvents } from '../../engine/rules/fixtures.ts';
import { compileRuleSources } from '../../engine/rules/load.ts';
import type { RuleTestEvent } from '../../engine/rules/model.ts';

function rulesFrom(yaml: string) {
  return new RuleIndex(compileRuleSources([{ file: 'test.yaml', text: `service: Test\nrules:\n${yaml}` }]));
}

function labelsOf(index: RuleIndex, events: RuleTestEvent[]) {
  const { matches, unmapped } = mapSession(fixtureEvents(events), index);
  return {
    signals: matches.map((m) => ({ label: m.rule.label, ids: m.events.map((e) => e.id) })),
    unmapped: unmapped.map((e) => e.id),
  };
}

const USERS = `
  - label: IAM_Users
    name: Users
    risk: info
    summary: Opened users ({{users|count}})
    anchors: [iam:ListUsers]
    required: [iam:ListUsers, iam:ListAccessKeys]
    optional: [iam:GetLoginProfile]
    extract:
      users: { event: iam:ListAccessKeys, field: requestParameters.userName, as: list }
`;

describe('anchor, required and optional events', () => {
  const index = rulesFrom(USERS);

  it('maps anchor + required + optional events inside the window into one signal', () => {
    const result = labelsOf(index, [
      { event: 'iam:ListUsers', at: 0 },
      { event: 'iam:ListAccessKeys', at: 1, requestParameters: { userName: 'alice' } },
      { event: 'iam:ListAccessKeys', at: 1, requestParameters: { userName: 'bob' } },
      { event: 'iam:GetLoginProfile', at: 2 },
    ]);
    expect(result.signals).toEqual([
      { label: 'IAM_Users', ids: ['test-0000', 'test-0001', 'test-0002', 'test-0003'] },
    ]);
    expect(result.unmapped).toEqual([]);
  });

  it('does not map when a required event is missing, and keeps the events as unmapped', () => {
    const result = labelsOf(index, [
      { event: 'iam:ListUsers', at: 0 },
      { event: 'iam:GetLoginProfile', at: 1 },
    ]);
    expect(result.signals).toEqual([]);
    expect(result.unmapped).toEqual(['test-0000', 'test-0001']);
  });

  it('leaves events outside the look-ahead window unmapped', () => {
    const result = labelsOf(index, [
      { event: 'iam:ListUsers', at: 0 },
      { event: 'iam:ListAccessKeys', at: 2 },
      { event: 'iam:ListAccessKeys', at: 4 },
    ]);
    expect(result.signals).toEqual([{ label: 'IAM_Users', ids: ['test-0000', 'test-0001'] }]);
    expect(result.unmapped).toEqual(['test-0002']);
  });

  it('absorbs required events that come before the anchor within the look-back window', () => {
    const result = labelsOf(index, [
      { event: 'iam:ListAccessKeys', at: 0 },
      { event: 'iam:ListUsers', at: 2.5 },
    ]);
    expect(result.signals).toEqual([{ label: 'IAM_Users', ids: ['test-0000', 'test-0001'] }]);
  });

  it('fills additionalData and the summary from the events', () => {
    const events = fixtureEvents([
      { event: 'iam:ListUsers' },
      { event: 'iam:ListAccessKeys', requestParameters: { userName: 'alice' } },
      { event: 'iam:ListAccessKeys', requestParameters: { userName: 'bob' } },
    ]);
    const [signal] = enrich(events, index).sessions[0].signals;
    expect(signal.additionalData).toEqual({ users: ['alice', 'bob'] });
    expect(signal.summary).toBe('Opened users (2)');
  });
});

describe('conditions tell look-alike actions apart', () => {
  const index = rulesFrom(`
  - label: EC2_Instances
    name: Instance list
    risk: info
    summary: list
    anchors: [ec2:DescribeInstances]
    when:
      - field: requestParameters.instancesSet.items[].instanceId
        present: false
  - label: EC2_Instance_Details
    name: One instance
    risk: info
    summary: details
    anchors: [ec2:DescribeInstances]
    when:
      - field: requestParameters.instancesSet.items[].instanceId
        countAtLeast: 1
`);

  it('a list call maps to the list page', () => {
    expect(
      labelsOf(index, [{ event: 'ec2:DescribeInstances', requestParameters: {} }]).signals[0].label,
    ).toBe('EC2_Instances');
  });

  it('a call naming an instance maps to the details page', () => {
    const events = [
      {
        event: 'ec2:DescribeInstances',
        requestParameters: { instancesSet: { items: [{ instanceId: 'i-1' }] } },
      },
    ];
    expect(labelsOf(index, events).signals[0].label).toBe('EC2_Instance_Details');
  });

  it('conditions on user agent family and error code', () => {
    const byAgent = rulesFrom(`
  - label: Browser_Only
    name: b
    risk: info
    summary: b
    anchors: [s3:ListBuckets]
    when:
      - { field: $userAgentFamily, equals: browser }
      - { field: errorCode, present: false }
`);
    expect(labelsOf(byAgent, [{ event: 's3:ListBuckets' }]).signals).toHaveLength(1);
    expect(
      labelsOf(byAgent, [{ event: 's3:ListBuckets', userAgent: 'aws-cli/2.15.0 Python/3.11' }]).signals,
    ).toEqual([]);
    expect(labelsOf(byAgent, [{ event: 's3:ListBuckets', errorCode: 'AccessDenied' }]).signals).toEqual([]);
  });
});

describe('competition between rules', () => {
  const index = rulesFrom(`
  ${USERS}
  - label: IAM_Users_Short
    name: Users (fewer events)
    risk: info
    summary: s
    anchors: [iam:ListUsers]
  - label: Zeta
    name: z
    risk: info
    summary: z
    anchors: [s3:ListBuckets]
  - label: Alpha
    name: a
    risk: info
    summary: a
    anchors: [s3:ListBuckets]
  - label: Preferred
    name: p
    risk: info
    summary: p
    priority: 5
    anchors: [kms:ListKeys]
  - label: Other
    name: o
    risk: info
    summary: o
    anchors: [kms:ListKeys]
    optional: [kms:ListAliases]
`);

  it('the rule with more required evidence wins, and each event is used once', () => {
    const result = labelsOf(index, [
      { event: 'iam:ListUsers', at: 0 },
      { event: 'iam:ListAccessKeys', at: 1 },
    ]);
    expect(result.signals.map((s) => s.label)).toEqual(['IAM_Users']);
  });

  it('ties break deterministically by label', () => {
    expect(labelsOf(index, [{ event: 's3:ListBuckets' }]).signals.map((s) => s.label)).toEqual(['Alpha']);
  });

  it('explicit priority beats a larger optional event set', () => {
    const result = labelsOf(index, [{ event: 'kms:ListKeys' }, { event: 'kms:ListAliases', at: 1 }]);
    expect(result.signals.map((s) => s.label)).toEqual(['Preferred']);
    expect(result.unmapped).toEqual(['test-0001']);
  });

  it('gives the same result whatever the input order', () => {
    const specs: RuleTestEvent[] = [
      { event: 'iam:ListUsers', at: 0 },
      { event: 'iam:ListAccessKeys', at: 1 },
      { event: 's3:ListBuckets', at: 1 },
      { event: 'kms:ListKeys', at: 2 },
      { event: 'kms:ListAliases', at: 2 },
      { event: 'iam:ListUsers', at: 5 },
    ];
    const events = fixtureEvents(specs);
    const forward = mapSession(events, index).matches.map((m) => [m.rule.label, m.events.map((e) => e.id)]);
    const backward = mapSession([...events].reverse(), index).matches.map((m) => [
      m.rule.label,
      m.events.map((e) => e.id),
    ]);
    expect(backward).toEqual(forward);
  });
});

describe('forbidden events, suppression and generic actions', () => {
  const index = rulesFrom(`
  - label: Secrets_List
    name: Secrets
    risk: info
    summary: list
    anchors: [secretsmanager:ListSecrets]
    forbidden: [secretsmanager:GetSecretValue]
  - label: SuppressBackground
    name: Background
    kind: suppress
    risk: info
    summary: background
    anchors: [health:DescribeEventAggregates]
    optional: [health:DescribeEventAggregates]
  - label: Generic_KeyPair_Select
    name: Key pair step
    kind: generic
    risk: info
    summary: step
    anchors: [ec2:DescribeKeyPairs]
  - label: Launch
    name: Launch
    risk: medium
    summary: launch
    anchors: [ec2:RunInstances]
`);

  it('a forbidden event in the window prevents the match', () => {
    const result = labelsOf(index, [
      { event: 'secretsmanager:ListSecrets' },
      { event: 'secretsmanager:GetSecretValue', at: 1 },
    ]);
    expect(result.signals).toEqual([]);
  });

  it('background calls are grouped into a Suppress signal, not shown as actions', () => {
    const events = fixtureEvents([
      { event: 'health:DescribeEventAggregates', at: 0 },
      { event: 'health:DescribeEventAggregates', at: 1 },
    ]);
    const [session] = enrich(events, index).sessions;
    expect(session.signals.map((s) => [s.label, s.eventCount])).toEqual([['SuppressBackground', 2]]);
    expect(session.summary.signalCount).toBe(0);
    expect(session.summary.suppressedEventCount).toBe(2);
  });

  it('a generic step followed by a specific action is folded into it', () => {
    const result = labelsOf(index, [
      { event: 'ec2:DescribeKeyPairs', at: 0 },
      { event: 'ec2:RunInstances', at: 6 },
    ]);
    expect(result.signals).toEqual([{ label: 'Launch', ids: ['test-0000', 'test-0001'] }]);
  });

  it('a generic step with nothing after it stays a signal of its own', () => {
    const result = labelsOf(index, [
      { event: 'ec2:DescribeKeyPairs', at: 0 },
      { event: 'ec2:RunInstances', at: 60 },
    ]);
    expect(result.signals.map((s) => s.label)).toEqual(['Generic_KeyPair_Select', 'Launch']);
  });
});

describe('session context and callers', () => {
  const index = rulesFrom(`
  - label: Wizard_Step1
    name: step 1
    risk: info
    summary: s1
    anchors: [rds:DescribeDBClusters]
  - label: Wizard_Step2
    name: step 2
    risk: info
    summary: s2
    anchors: [ec2:DescribeRegions]
    after: { labels: [Wizard_Step1], within: 300 }
  - label: Regions_Page
    name: regions
    risk: info
    summary: r
    priority: -1
    anchors: [ec2:DescribeRegions]
  - label: Secret_Value
    name: value
    risk: high
    summary: v
    anchors: [secretsmanager:GetSecretValue]
    extract:
      secretName:
        field: requestParameters.secretId
        capture: ':secret:(.+)-[A-Za-z0-9]{6}$'
      secretArn:
        field: requestParameters.secretId
        matching: '^arn:'
`);

  it('a step stands only after the step before it', () => {
    const after = labelsOf(index, [
      { event: 'rds:DescribeDBClusters', at: 0 },
      { event: 'ec2:DescribeRegions', at: 60 },
    ]);
    expect(after.signals.map((s) => s.label)).toEqual(['Wizard_Step1', 'Wizard_Step2']);
    const alone = labelsOf(index, [{ event: 'ec2:DescribeRegions', at: 0 }]);
    expect(alone.signals.map((s) => s.label)).toEqual(['Regions_Page']);
    const tooLate = labelsOf(index, [
      { event: 'rds:DescribeDBClusters', at: 0 },
      { event: 'ec2:DescribeRegions', at: 400 },
    ]);
    expect(tooLate.signals.map((s) => s.label)).toEqual(['Wizard_Step1', 'Regions_Page']);
  });

  it('console rules never absorb CLI or SDK calls', () => {
    const cli = labelsOf(index, [
      { event: 'secretsmanager:GetSecretValue', userAgent: 'aws-cli/2.15.0 Python/3.11.8 Linux/6.1' },
    ]);
    expect(cli.signals).toEqual([]);
    expect(cli.unmapped).toEqual(['test-0000']);
  });

  it('extractions keep matching values and capture parts of them', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:db-password-AbC123';
    const events = fixtureEvents([
      { event: 'secretsmanager:GetSecretValue', requestParameters: { secretId: arn } },
    ]);
    const [signal] = enrich(events, index).sessions[0].signals;
    expect(signal.additionalData).toEqual({ secretName: 'db-password', secretArn: arn });
    const byName = fixtureEvents([
      { event: 'secretsmanager:GetSecretValue', requestParameters: { secretId: 'db-password' } },
    ]);
    expect(enrich(byName, index).sessions[0].signals[0].additionalData).toEqual({
      secretName: 'db-password',
      secretArn: null,
    });
  });
});

describe('followedBy and alternative conditions', () => {
  const index = rulesFrom(`
  - label: Keys_List
    name: keys
    risk: info
    summary: list
    anchors: [kms:ListKeys]
  - label: Create_Step1
    name: create 1
    risk: info
    summary: c1
    priority: 1
    anchors: [kms:ListKeys]
    followedBy: { labels: [Create_Step2], within: 300 }
  - label: Create_Step2
    name: create 2
    risk: info
    summary: c2
    anchors: [iam:ListRoles]
  - label: Either_Filter
    name: either
    risk: info
    summary: e
    anchors: [ec2:DescribeTags]
    when:
      - anyOf:
          - field: requestParameters.filterSet.items[].name
            equals: key
          - field: requestParameters.filterSet.items[].name
            equals: value
`);

  it('a first wizard step stands only when the next step follows', () => {
    const wizard = labelsOf(index, [
      { event: 'kms:ListKeys', at: 0 },
      { event: 'iam:ListRoles', at: 120 },
    ]);
    expect(wizard.signals.map((s) => s.label)).toEqual(['Create_Step1', 'Create_Step2']);
    const list = labelsOf(index, [{ event: 'kms:ListKeys', at: 0 }]);
    expect(list.signals.map((s) => s.label)).toEqual(['Keys_List']);
  });

  it('anyOf holds when one alternative does', () => {
    const filter = (name: string) => ({ filterSet: { items: [{ name }] } });
    expect(
      labelsOf(index, [{ event: 'ec2:DescribeTags', requestParameters: filter('key') }]).signals,
    ).toHaveLength(1);
    expect(
      labelsOf(index, [{ event: 'ec2:DescribeTags', requestParameters: filter('value') }]).signals,
    ).toHaveLength(1);
    expect(
      labelsOf(index, [{ event: 'ec2:DescribeTags', requestParameters: filter('resource-type') }]).signals,
    ).toEqual([]);
  });
});

describe('risk escalation', () => {
  const index = rulesFrom(`
  - label: Snapshot_Permissions
    name: snapshot permissions
    risk: medium
    summary: s
    anchors: [ec2:ModifySnapshotAttribute]
    optional: [ec2:DescribeSnapshotAttribute]
    escalate:
      - risk: high
        reason: shared with another account
        when:
          - field: requestParameters.createVolumePermission.add.items[].userId
            present: true
      - risk: critical
        reason: made public
        when:
          - field: requestParameters.createVolumePermission.add.items[].group
            equals: all
`);
  const modify = (items: object[]) => ({
    event: 'ec2:ModifySnapshotAttribute',
    requestParameters: { createVolumePermission: { add: { items } } },
  });

  it('keeps the rule risk when nothing escalates', () => {
    const [signal] = enrich(fixtureEvents([modify([])]), index).sessions[0].signals;
    expect([signal.risk, signal.additionalData.riskReasons]).toEqual(['medium', undefined]);
  });

  it('takes the highest matching level and says why', () => {
    const [shared] = enrich(fixtureEvents([modify([{ userId: '444455556666' }])]), index).sessions[0].signals;
    expect([shared.risk, shared.additionalData.riskReasons]).toEqual([
      'high',
      ['shared with another account'],
    ]);
    const [both] = enrich(fixtureEvents([modify([{ userId: '444455556666' }, { group: 'all' }])]), index)
      .sessions[0].signals;
    expect(both.risk).toBe('critical');
  });
});

describe('context bans cover the whole rejected burst', () => {
  it('a list with many anchors is not taken by a wizard step that needs a next step', () => {
    const index = rulesFrom(`
  - label: Keys_List
    name: keys
    risk: info
    summary: list
    anchors: [kms:ListAliases]
  - label: Create_Step1
    name: create 1
    risk: info
    summary: c1
    priority: 1
    anchors: [kms:ListAliases]
    followedBy: { labels: [Create_Step2], within: 300, immediately: true }
  - label: Create_Step2
    name: create 2
    risk: info
    summary: c2
    anchors: [iam:ListRoles]
`);
    const list = Array.from({ length: 12 }, (_, i) => ({ event: 'kms:ListAliases', at: i * 0.1 }));
    expect(labelsOf(index, list).signals.map((s) => s.label)).toEqual(['Keys_List']);
  });
});

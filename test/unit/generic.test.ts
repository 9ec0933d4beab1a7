/**
 * The generic layer: console calls no rule claims are still explained — every write a signal of its
 * own with a risk from what it does, reads folded into page views — and never take a rule's events.
 */
import { describe, expect, it } from 'vitest';
import { enrich } from '../../engine/enrich.ts';
import { explainGenerically, GENERIC_POLICY_SPEC, isWrite, operationWords } from '../../engine/generic.ts';
import { toTrailEvent } from '../../engine/read.ts';
import { genericPolicyProblems, loadRules } from '../../engine/rules/load.ts';
import type { CloudTrailRecord, TrailEvent } from '../../engine/types.ts';

const ACCOUNT = '111122223333';
const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString().replace('.000Z', 'Z');
let sequence = 0;

/** A console call of alice's sign-in, in the shape CloudTrail writes (eventVersion 1.09). */
function call(ref: string, seconds: number, fields: Partial<CloudTrailRecord> = {}): TrailEvent {
  const [service, eventName] = ref.split(':');
  sequence++;
  return toTrailEvent(
    {
      eventVersion: '1.09',
      eventID: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
      eventTime: at(seconds),
      eventSource: `${service}.amazonaws.com`,
      eventName,
      awsRegion: 'eu-west-1',
      sourceIPAddress: '198.51.100.10',
      userAgent:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/131.0 Safari/537.36',
      recipientAccountId: ACCOUNT,
      sessionCredentialFromConsole: 'true',
      managementEvent: true,
      eventCategory: 'Management',
      userIdentity: {
        type: 'IAMUser',
        principalId: 'AIDAEXAMPLEALICE0001',
        arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
        accountId: ACCOUNT,
        accessKeyId: `ASIA${service.toUpperCase().padEnd(16, '0').slice(0, 16)}`,
        userName: 'alice',
        sessionContext: { attributes: { creationDate: at(0), mfaAuthenticated: 'true' } },
      },
      requestParameters: null,
      responseElements: null,
      ...fields,
    },
    'trail.json',
    sequence,
  );
}

const deleteDatabase = () =>
  call('rds:DeleteDBInstance', 40, {
    readOnly: false,
    requestParameters: {
      dBInstanceIdentifier: 'orders-prod',
      skipFinalSnapshot: true,
      deleteAutomatedBackups: true,
    },
    responseElements: {
      dBInstanceIdentifier: 'orders-prod',
      dBInstanceArn: `arn:aws:rds:eu-west-1:${ACCOUNT}:db:orders-prod`,
      dBInstanceStatus: 'deleting',
    },
  });

describe('the generic-signal policy', () => {
  it('is valid against its schema, and a broken one is reported with its field', () => {
    expect(genericPolicyProblems()).toEqual([]);
    const broken = { ...GENERIC_POLICY_SPEC, risks: [{ risk: 'severe', reason: 'x', operation: '(' }] };
    const problems = genericPolicyProblems(broken);
    expect(problems.map((p) => p.field)).toContain('risks.0.risk');
    const badPattern = { ...GENERIC_POLICY_SPEC, readOperation: '(' };
    expect(genericPolicyProblems(badPattern)).toEqual([
      expect.objectContaining({
        field: 'readOperation',
        message: expect.stringMatching(/regular expression/),
      }),
    ]);
  });
});

describe('explainGenerically', () => {
  it('names a write from its service and operation, with the resources it touched, and rates a deleted database high', () => {
    const [signal] = explainGenerically([deleteDatabase()]);
    expect(signal).toMatchObject({
      label: 'generic:rds:DeleteDBInstance',
      name: 'RDS → DeleteDBInstance',
      service: 'RDS',
      risk: 'high',
      summary: 'Deleted DB instance orders-prod, arn:aws:rds:eu-west-1:111122223333:db:orders-prod',
    });
    expect(signal.additionalData.resources).toEqual([
      'orders-prod',
      'arn:aws:rds:eu-west-1:111122223333:db:orders-prod',
    ]);
  });

  it.each([
    [
      'ec2:ReleaseAddress',
      'medium',
      { allocationId: 'eipalloc-0a1b2c3d4e5f67890' },
      'Released address eipalloc-0a1b2c3d4e5f67890',
    ],
    [
      'ec2:TerminateInstances',
      'medium',
      { instancesSet: { items: [{ instanceId: 'i-0abc1234def567890' }] } },
      'Terminated instances i-0abc1234def567890',
    ],
    [
      'iam:DetachRolePolicy',
      'medium',
      { roleName: 'app', policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
      'Detached role policy app, arn:aws:iam::aws:policy/ReadOnlyAccess',
    ],
    [
      'iam:UpdateAssumeRolePolicy',
      'medium',
      {
        roleName: 'app',
        policyDocument: '{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"}}]}',
      },
      'Updated assume role policy app',
    ],
    [
      'kms:ScheduleKeyDeletion',
      'high',
      { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', pendingWindowInDays: 7 },
      'Scheduled key deletion 1234abcd-12ab-34cd-56ef-1234567890ab',
    ],
    [
      'logs:DeleteLogGroup',
      'high',
      { logGroupName: '/aws/lambda/payments' },
      'Deleted log group /aws/lambda/payments',
    ],
    ['dynamodb:DeleteTable', 'high', { tableName: 'orders' }, 'Deleted table orders'],
    [
      'backup:DeleteRecoveryPoint',
      'high',
      {
        backupVaultName: 'Default',
        recoveryPointArn: 'arn:aws:backup:eu-west-1:111122223333:recovery-point:1',
      },
      'Deleted recovery point Default, arn:aws:backup:eu-west-1:111122223333:recovery-point:1',
    ],
    [
      'lambda:UpdateFunctionCode20150331v2',
      'medium',
      { functionName: 'payments' },
      'Updated function code payments',
    ],
    ['sqs:CreateQueue', 'medium', { queueName: 'jobs' }, 'Created queue jobs'],
  ])('%s is its own signal of risk %s', (ref, risk, request, summary) => {
    const [signal] = explainGenerically([call(ref, 0, { readOnly: false, requestParameters: request })]);
    expect(signal).toMatchObject({ risk, summary, events: [expect.anything()] });
  });

  it('rates a grant to everyone or to another account high, and the same change for the own account medium', () => {
    const open = call('ec2:AuthorizeSecurityGroupIngress', 0, {
      readOnly: false,
      requestParameters: {
        groupId: 'sg-0123456789abcdef0',
        ipPermissions: {
          items: [
            { ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } },
          ],
        },
      },
    });
    const shared = call('rds:ModifyDBSnapshotAttribute', 5, {
      readOnly: false,
      requestParameters: {
        dBSnapshotIdentifier: 'orders-final',
        attributeName: 'restore',
        valuesToAdd: ['999988887777'],
      },
    });
    const policy = call('s3:PutBucketPolicy', 10, {
      readOnly: false,
      requestParameters: {
        bucketName: 'reports',
        bucketPolicy: {
          Statement: [
            { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/*' },
          ],
        },
      },
    });
    const own = call('s3:PutBucketPolicy', 20, {
      readOnly: false,
      requestParameters: {
        bucketName: 'reports',
        bucketPolicy: {
          Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }],
        },
      },
    });
    const risks = explainGenerically([open, shared, policy, own]).map((s) => [s.label, s.risk]);
    expect(risks).toEqual([
      ['generic:ec2:AuthorizeSecurityGroupIngress', 'high'],
      ['generic:rds:ModifyDBSnapshotAttribute', 'high'],
      ['generic:s3:PutBucketPolicy', 'high'],
      ['generic:s3:PutBucketPolicy', 'medium'],
    ]);
  });

  it('rates writes that change no resource (session plumbing) low', () => {
    const [signal] = explainGenerically([call('cloudshell:PutCredentials', 0, { readOnly: false })]);
    expect([signal.label, signal.risk]).toEqual(['generic:cloudshell:PutCredentials', 'low']);
  });

  it('says when a write failed', () => {
    const [signal] = explainGenerically([
      call('rds:DeleteDBInstance', 0, {
        readOnly: false,
        errorCode: 'AccessDenied',
        requestParameters: { dBInstanceIdentifier: 'orders-prod' },
      }),
    ]);
    expect(signal.summary).toBe('Tried to delete DB instance orders-prod (failed: AccessDenied)');
    expect(signal.risk).toBe('high');
  });

  it('folds reads into one page view per service and burst', () => {
    const reads = [
      call('rds:DescribeDBInstances', 0, { readOnly: true }),
      call('rds:DescribeDBClusters', 1, { readOnly: true }),
      call('lambda:ListFunctions20150331', 1, { readOnly: true }),
      call('rds:DescribeDBSnapshots', 3, { readOnly: true, errorCode: 'AccessDenied' }),
      call('rds:DescribeDBInstances', 4, { readOnly: true }),
      call('rds:DescribeDBInstances', 60, { readOnly: true }),
    ];
    const views = explainGenerically(reads).map((s) => [s.label, s.summary, s.events.length]);
    expect(views).toEqual([
      ['generic:rds:PageView', 'Viewed RDS: DB instances, DB clusters, DB snapshots — 4 calls, 1 failed', 4],
      ['generic:lambda:PageView', 'Viewed Lambda: functions — 1 call', 1],
      ['generic:rds:PageView', 'Viewed RDS: DB instances — 1 call', 1],
    ]);
  });

  it('tells writes from reads by readOnly, and by the operation where readOnly is absent', () => {
    expect(isWrite(call('ec2:DescribeInstances', 0, { readOnly: false }))).toBe(true);
    expect(isWrite(call('ec2:TerminateInstances', 0, { readOnly: true }))).toBe(false);
    expect(isWrite(call('ec2:TerminateInstances', 0))).toBe(true);
    expect(isWrite(call('ec2:DescribeInstances', 0))).toBe(false);
    expect(operationWords('ListFunctions20150331')).toEqual(['List', 'Functions']);
    expect(operationWords('DeleteDBInstance')).toEqual(['Delete', 'DB', 'Instance']);
  });

  it('folds a burst of 20,000 distinct reads into one page view that lists at most 50 operations', () => {
    const reads = Array.from({ length: 20_000 }, (_, i) =>
      call(`rds:DescribeThing${i}`, i / 1000, { readOnly: true }),
    );
    const views = explainGenerically(reads);
    expect(views).toHaveLength(1);
    expect(views[0].events).toHaveLength(20_000);
    expect((views[0].additionalData.operations as string[]).length).toBe(50);
    expect(views[0].summary).toBe(
      'Viewed RDS: thing 0, thing 1, thing 2, thing 3, thing 4, thing 5, 19994 more — 20000 calls',
    );
  });

  it('stays bounded on a record with a huge request', () => {
    const items = Array.from({ length: 100_000 }, (_, i) => ({
      instanceId: `i-${String(i).padStart(17, '0')}`,
    }));
    const [signal] = explainGenerically([
      call('ec2:TerminateInstances', 0, { readOnly: false, requestParameters: { instancesSet: { items } } }),
    ]);
    expect((signal.additionalData.resources as string[]).length).toBe(10);
  });
});

describe('enrich with the generic layer', () => {
  const rules = loadRules();

  it('explains every console call: recognised actions win, the rest are generic signals, writes of risk ≥ medium stay visible', () => {
    const login = call('signin:ConsoleLogin', 0, {
      eventType: 'AwsConsoleSignIn',
      sessionCredentialFromConsole: undefined,
      responseElements: { ConsoleLogin: 'Success' },
      additionalEventData: { MFAUsed: 'Yes', MobileVersion: 'No' },
      userIdentity: {
        type: 'IAMUser',
        principalId: 'AIDAEXAMPLEALICE0001',
        arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
        accountId: ACCOUNT,
        userName: 'alice',
      },
    });
    const events = [
      login,
      call('rds:DescribeDBInstances', 30, { readOnly: true }),
      deleteDatabase(),
      call('ec2:ReleaseAddress', 50, {
        readOnly: false,
        requestParameters: { allocationId: 'eipalloc-0a1b2c3d4e5f67890' },
      }),
    ];
    const result = enrich(events, rules);
    expect(result.sessions).toHaveLength(1);
    const [session] = result.sessions;
    const claimed = session.signals.flatMap((s) => s.eventIds);
    expect(claimed.sort()).toEqual(events.map((e) => e.id).sort());
    const signIn = session.signals.find((s) => s.eventIds.includes(login.id))!;
    expect([signIn.label, signIn.kind]).toEqual(['ConsoleLogin', 'action']);
    const generic = session.signals.filter((s) => s.kind === 'generic');
    expect(generic.map((s) => [s.label, s.risk])).toEqual([
      ['generic:rds:PageView', 'info'],
      ['generic:rds:DeleteDBInstance', 'high'],
      ['generic:ec2:ReleaseAddress', 'medium'],
    ]);
    expect(session.summary.signalCount).toBe(1);
    expect(session.summary.genericSignalCount).toBe(3);
    expect(session.summary.unmappedEventCount).toBe(3);
    expect(session.summary.riskySignals.map((r) => r.label)).toEqual([
      'generic:rds:DeleteDBInstance',
      'generic:ec2:ReleaseAddress',
    ]);
    expect(session.summary.summary).toMatch(/1 action and 3 generic signals in .*RDS.*; 2 risky/);
    for (const entry of result.events) expect(entry.signalId).not.toBeNull();
  });
});

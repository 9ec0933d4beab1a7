/**
 * The synthesized TrailmapStack, asserted resource by resource (no snapshots): encryption and TLS
 * everywhere, the queue/DLQ/event-source wiring, the Lambda functions, least-privilege roles (the
 * exact set of actions and resources each may use), the Glue catalog against the shared column
 * schema (engine/tables.ts), the Athena workgroup and saved queries, the alarms, and cdk-nag.
 *
 * Two variants, each synthesized once (bundling both functions is the slow part):
 * - `default`: no settings, so a new trail bucket and an account trail;
 * - `orgTrail`: an existing organization trail bucket under a key prefix.
 * The App gets cdk.json's context (feature flags), so the template is the one `cdk synth` makes.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement, type PolicyViolation, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PARTITION_COLUMN, TABLES, type TableName } from '../../engine/tables.ts';
import { BUFFER_TABLE, DUE_INDEX, TTL_ATTRIBUTE } from '../../lambdas/buffer.ts';
import { SQS_BATCH_SIZE, SQS_BATCHING_WINDOW_SECONDS } from '../../lambdas/ingest.ts';
import { FLUSH_SERVICE, METRICS_NAMESPACE } from '../../lib/alarms.ts';
import { CLOUDTRAIL_COLUMNS } from '../../lib/cloudtrail-table.ts';
import { DEFAULT_REGIONS, TrailmapStack, type TrailmapSettings } from '../../lib/trailmap-stack.ts';
import { append } from '../../engine/arrays.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CDK_CONTEXT = (JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: object }).context;
const SYNTH_TIMEOUT = 180_000;
/** Cloud assembly directories (temporary, with the bundles) to remove afterwards. */
const outdirs: string[] = [];

const ORG_SETTINGS: TrailmapSettings = {
  trailBucketName: 'acme-org-trail',
  trailKeyPrefix: 'cloudtrail',
  organizationId: 'o-abcdefghij',
  alarmEmail: 'soc@example.com',
  accountIds: ['111122223333', '444455556666'],
};

// ---------------------------------------------------------------------------------------------
// Template helpers

interface CfnJson {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
}

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

interface PolicyDocument {
  Statement: Statement[];
}

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** A CloudFormation value as a string: `${Logical}`, `${Logical.Arn}`, Fn::Join joined. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value !== null && typeof value === 'object') {
    const fn = value as Record<string, unknown>;
    if (typeof fn.Ref === 'string') return `\${${fn.Ref}}`;
    if (Array.isArray(fn['Fn::GetAtt'])) return `\${${(fn['Fn::GetAtt'] as string[]).join('.')}}`;
    if (Array.isArray(fn['Fn::Join'])) {
      const [separator, parts] = fn['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

const ref = (logicalId: string) => ({ Ref: logicalId });
const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

interface Variant {
  app: App;
  stack: TrailmapStack;
  template: Template;
  resources: Record<string, CfnJson>;
  /** Logical id of an L2 construct's (or an L1's) CloudFormation resource. */
  id: (construct: IConstruct) => string;
  /** Cloud assembly directory (asset staging). */
  assemblyDir: string;
}

function synthesize(settings: TrailmapSettings): Variant {
  const app = new App({ context: { ...CDK_CONTEXT } });
  outdirs.push(app.outdir);
  const stack = new TrailmapStack(app, 'T', settings);
  const template = Template.fromStack(stack);
  const assemblyDir = app.synth().directory;
  const id = (construct: IConstruct) =>
    stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
  const resources = (template.toJSON() as { Resources: Record<string, CfnJson> }).Resources;
  return { app, stack, template, resources, id, assemblyDir };
}

function ofType(v: Variant, type: string): [string, CfnJson][] {
  return Object.entries(v.resources).filter(([, r]) => r.Type === type);
}

const props = (v: Variant, logicalId: string): Record<string, unknown> => {
  const resource = v.resources[logicalId];
  if (!resource) throw new Error(`no resource ${logicalId}`);
  return resource.Properties ?? {};
};

/** Every identity-policy statement attached to a role (AWS::IAM::Policy and inline policies). */
function roleStatements(v: Variant, roleId: string): Statement[] {
  const statements: Statement[] = [];
  for (const [, policy] of ofType(v, 'AWS::IAM::Policy')) {
    const roles = asArray(policy.Properties?.Roles as unknown[]);
    if (roles.some((role) => JSON.stringify(role) === JSON.stringify(ref(roleId)))) {
      append(statements, (policy.Properties?.PolicyDocument as PolicyDocument).Statement);
    }
  }
  for (const inline of asArray(props(v, roleId).Policies as { PolicyDocument: PolicyDocument }[])) {
    append(statements, inline.PolicyDocument.Statement);
  }
  return statements;
}

/** action → sorted resources it is allowed on, `resource when {condition}` for conditional grants. */
function grants(statements: Statement[]): Record<string, string[]> {
  const result: Record<string, Set<string>> = {};
  for (const statement of statements) {
    expect(statement.Effect).toBe('Allow');
    expect(statement.NotAction).toBeUndefined();
    expect(statement.NotResource).toBeUndefined();
    const when = statement.Condition ? ` when ${JSON.stringify(statement.Condition)}` : '';
    for (const action of asArray(statement.Action)) {
      result[action] ??= new Set();
      for (const resource of asArray(statement.Resource)) result[action].add(render(resource) + when);
    }
  }
  return Object.fromEntries(
    Object.entries(result)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([action, resources]) => [action, [...resources].sort()]),
  );
}

/** The same resources for each of several actions, in `grants` form. */
const allow = (actions: string[], resources: string[]): Record<string, string[]> =>
  Object.fromEntries(actions.map((action) => [action, [...resources].sort()]));

const sortedKeys = (record: Record<string, string[]>): Record<string, string[]> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));

/** Statements of the resource policy (bucket/queue/topic policy) that targets `logicalId`. */
function resourcePolicy(v: Variant, type: string, targetKey: string, logicalId: string): Statement[] {
  const matching = ofType(v, type).filter(([, p]) =>
    asArray(p.Properties?.[targetKey] as unknown).some(
      (target) => JSON.stringify(target) === JSON.stringify(ref(logicalId)),
    ),
  );
  expect(matching, `${type} for ${logicalId}`).toHaveLength(1);
  return (matching[0][1].Properties?.PolicyDocument as PolicyDocument).Statement;
}

/** The statement CDK's `enforceSSL` adds: deny `action` to everyone over plain HTTP. */
const denyInsecureTransport = (action: string, extra: Record<string, unknown> = {}) =>
  expect.objectContaining({
    Effect: 'Deny',
    Action: action,
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    ...extra,
  });

// ---------------------------------------------------------------------------------------------
// cdk-nag helpers

interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

/** Every `Validations.of(...).acknowledge` recorded in the construct tree under `scope`. */
function acknowledgements(scope: IConstruct): Acknowledgement[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([qualified, reason]) => ({
          path: construct.node.path,
          id: qualified.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

/** Findings as cdk-nag would report them if nothing were acknowledged. */
function unacknowledgedFindings(scope: IConstruct): PolicyViolation[] {
  const pack = new AwsSolutionsChecks();
  Object.defineProperty(pack, 'isAcknowledged', { value: () => false });
  return pack.validateScope(scope).violations;
}

const findingPaths = (violations: PolicyViolation[]) =>
  violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`)).sort();

// ---------------------------------------------------------------------------------------------

const variants = {} as Record<'default' | 'orgTrail', Variant>;

beforeAll(() => {
  variants.default = synthesize({});
  variants.orgTrail = synthesize(ORG_SETTINGS);
}, SYNTH_TIMEOUT);

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** What differs between the variants. */
function expected(name: keyof typeof variants) {
  const v = variants[name];
  const { stack } = v;
  if (name === 'default') {
    const trailBucket = v.id(stack.source.bucket);
    return {
      bucketCount: 4,
      trailBucketName: ref(trailBucket),
      logsPrefix: 'AWSLogs/',
      managedNotifications: true,
      trailObjects: `\${${trailBucket}.Arn}/AWSLogs/*`,
      cloudTrailTemplate: `s3://\${${trailBucket}}/AWSLogs/\${account}/CloudTrail/\${region}/\${timestamp}`,
      accountProjection: { 'projection.account.type': 'injected' },
      subscriptions: 0,
    };
  }
  return {
    bucketCount: 3,
    trailBucketName: 'acme-org-trail',
    logsPrefix: 'cloudtrail/AWSLogs/',
    // An existing (shared) bucket: the handler must merge with, not replace, its notifications.
    managedNotifications: false,
    trailObjects: 'arn:${AWS::Partition}:s3:::acme-org-trail/cloudtrail/AWSLogs/*',
    cloudTrailTemplate:
      's3://acme-org-trail/cloudtrail/AWSLogs/o-abcdefghij/${account}/CloudTrail/${region}/${timestamp}',
    accountProjection: {
      'projection.account.type': 'enum',
      'projection.account.values': '111122223333,444455556666',
    },
    subscriptions: 1,
  };
}

describe.each(['default', 'orgTrail'] as const)('TrailmapStack (%s)', (name) => {
  const v = () => variants[name];

  describe('encryption and TLS everywhere', () => {
    it('every bucket is encrypted, private, versioned, TLS-only and access-logged', () => {
      const { stack, template, id } = v();
      const accessLogs = id(stack.node.findChild('AccessLogs'));
      const buckets = ofType(v(), 'AWS::S3::Bucket');
      expect(buckets).toHaveLength(expected(name).bucketCount);
      template.resourceCountIs('AWS::S3::BucketPolicy', buckets.length);
      for (const [bucketId, bucket] of buckets) {
        expect(bucket.Properties, bucketId).toMatchObject({
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: expect.stringMatching(/^(AES256|aws:kms)/) } },
            ],
          },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          VersioningConfiguration: { Status: 'Enabled' },
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        });
        if (bucketId === accessLogs) {
          expect(bucket.Properties?.LoggingConfiguration, bucketId).toBeUndefined();
        } else {
          expect(bucket.Properties?.LoggingConfiguration, bucketId).toMatchObject({
            DestinationBucketName: ref(accessLogs),
            LogFilePrefix: expect.stringMatching(/.+\/$/),
          });
        }
        const statements = resourcePolicy(v(), 'AWS::S3::BucketPolicy', 'Bucket', bucketId);
        expect(statements).toContainEqual(
          denyInsecureTransport('s3:*', {
            Principal: { AWS: '*' },
            Resource: [arnOf(bucketId), { 'Fn::Join': ['', [arnOf(bucketId), '/*']] }],
          }),
        );
        // Nothing is granted to everyone.
        for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
          expect(JSON.stringify(statement.Principal), bucketId).not.toMatch(/"\*"/);
          expect(statement.Principal, bucketId).toHaveProperty('Service');
        }
      }
    });

    it('the buffer table is encrypted, recoverable, on demand, with TTL, and keyed as BUFFER_TABLE', () => {
      const { template } = v();
      template.resourceCountIs('AWS::DynamoDB::Table', 1);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        BillingMode: BUFFER_TABLE.BillingMode,
        KeySchema: Match.exact(BUFFER_TABLE.KeySchema),
        GlobalSecondaryIndexes: Match.exact(BUFFER_TABLE.GlobalSecondaryIndexes),
      });
      const [[, table]] = ofType(v(), 'AWS::DynamoDB::Table');
      const byName = (a: { AttributeName: string }, b: { AttributeName: string }) =>
        a.AttributeName.localeCompare(b.AttributeName);
      expect(
        [...(table.Properties?.AttributeDefinitions as { AttributeName: string }[])].sort(byName),
      ).toEqual([...BUFFER_TABLE.AttributeDefinitions].sort(byName));
      expect(BUFFER_TABLE.GlobalSecondaryIndexes.map((i) => i.IndexName)).toContain(DUE_INDEX);
    });

    it('both queues use SQS-managed encryption and deny non-TLS access', () => {
      const { stack, id } = v();
      const queues = ofType(v(), 'AWS::SQS::Queue');
      expect(queues.map(([queueId]) => queueId).sort()).toEqual(
        [id(stack.source.queue), id(stack.source.deadLetterQueue)].sort(),
      );
      for (const [queueId, queue] of queues) {
        expect(queue.Properties?.SqsManagedSseEnabled, queueId).toBe(true);
        expect(resourcePolicy(v(), 'AWS::SQS::QueuePolicy', 'Queues', queueId)).toContainEqual(
          denyInsecureTransport('sqs:*', { Principal: { AWS: '*' }, Resource: arnOf(queueId) }),
        );
      }
    });

    it('the alarm topic is KMS-encrypted and TLS-only', () => {
      const { template } = v();
      template.resourceCountIs('AWS::SNS::Topic', 1);
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      const [[topicId]] = ofType(v(), 'AWS::SNS::Topic');
      expect(resourcePolicy(v(), 'AWS::SNS::TopicPolicy', 'Topics', topicId)).toContainEqual(
        denyInsecureTransport('sns:Publish'),
      );
    });

    // Regression: the topic policy held only the TLS deny and replaces SNS's default policy, so
    // nothing allowed CloudWatch to publish (the KMS grant alone is not enough).
    it("the alarm topic lets this account's CloudWatch alarms publish, and nobody else", () => {
      const [[topicId]] = ofType(v(), 'AWS::SNS::Topic');
      const allows = resourcePolicy(v(), 'AWS::SNS::TopicPolicy', 'Topics', topicId).filter(
        (statement) => statement.Effect === 'Allow',
      );
      expect(allows).toHaveLength(1);
      expect(allows[0]).toMatchObject({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': expect.anything() },
        },
      });
      expect(render(allows[0].Condition?.ArnLike?.['aws:SourceArn'])).toMatch(
        /^arn:\$\{AWS::Partition\}:cloudwatch:\$\{AWS::Region\}:\$\{AWS::AccountId\}:alarm:\*$/,
      );
    });

    // KNOWN DEFECT (lib/alarms.ts): the topic is encrypted with the AWS managed key alias/aws/sns,
    // whose key policy cannot grant cloudwatch.amazonaws.com kms:GenerateDataKey*/kms:Decrypt, so
    // CloudWatch cannot publish alarm notifications to the topic. AWS requires a customer managed
    // key for topics that CloudWatch alarms publish to. cdk-nag (SNS2) does not catch this.
    it('the alarm topic uses a customer managed key that CloudWatch may use', () => {
      const { resources } = v();
      const [[, topic]] = ofType(v(), 'AWS::SNS::Topic');
      const keyId = topic.Properties?.KmsMasterKeyId;
      expect(render(keyId)).not.toMatch(/alias\/aws\/sns$/);
      const keyLogicalId = /^\$\{([^.}]+)(\.Arn)?\}$/.exec(render(keyId))?.[1] ?? '';
      expect(resources[keyLogicalId]?.Type).toBe('AWS::KMS::Key');
      const keyProps = resources[keyLogicalId]?.Properties ?? {};
      expect(keyProps.EnableKeyRotation).toBe(true);
      expect((keyProps.KeyPolicy as PolicyDocument).Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']),
        }),
      );
    });
  });

  describe('trail notifications, queue and dead-letter queue', () => {
    it('redrives to the DLQ after 3 receives, with a visibility timeout six times the ingest timeout', () => {
      const { stack, id } = v();
      const queue = props(v(), id(stack.source.queue));
      const dlq = props(v(), id(stack.source.deadLetterQueue));
      const ingestTimeout = props(v(), id(stack.pipeline.ingest.function)).Timeout as number;
      expect(ingestTimeout).toBeGreaterThan(0);
      expect(queue.RedrivePolicy).toEqual({
        deadLetterTargetArn: arnOf(id(stack.source.deadLetterQueue)),
        maxReceiveCount: 3,
      });
      expect(queue.VisibilityTimeout).toBe(6 * ingestTimeout);
      expect(dlq.RedrivePolicy).toBeUndefined();
      expect(dlq.MessageRetentionPeriod).toBe(14 * 86_400);
      expect(queue.MessageRetentionPeriod as number).toBeLessThan(dlq.MessageRetentionPeriod as number);
    });

    it('ingest consumes the queue with partial batch failures and the handler’s batch settings', () => {
      const { template, stack, id } = v();
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: arnOf(id(stack.source.queue)),
        FunctionName: ref(id(stack.pipeline.ingest.function)),
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: SQS_BATCH_SIZE,
        MaximumBatchingWindowInSeconds: SQS_BATCHING_WINDOW_SECONDS,
      });
    });

    it('announces new trail log objects (…AWSLogs/ *.json.gz) to the queue', () => {
      const { template, stack, id } = v();
      const { trailBucketName, logsPrefix, managedNotifications } = expected(name);
      template.resourceCountIs('Custom::S3BucketNotifications', 1);
      template.hasResourceProperties('Custom::S3BucketNotifications', {
        BucketName: trailBucketName,
        Managed: managedNotifications,
      });
      const [[, notifications]] = ofType(v(), 'Custom::S3BucketNotifications');
      const byName = (x: { Name: string }, y: { Name: string }) => x.Name.localeCompare(y.Name);
      const config = notifications.Properties?.NotificationConfiguration as {
        QueueConfigurations: { Filter: { Key: { FilterRules: { Name: string }[] } } }[];
      };
      expect(Object.keys(config)).toEqual(['QueueConfigurations']);
      expect(config.QueueConfigurations).toHaveLength(1);
      const [queueConfig] = config.QueueConfigurations;
      expect({
        ...queueConfig,
        Filter: { Key: { FilterRules: [...queueConfig.Filter.Key.FilterRules].sort(byName) } },
      }).toEqual({
        Events: ['s3:ObjectCreated:*'],
        Filter: {
          Key: {
            FilterRules: [
              { Name: 'prefix', Value: logsPrefix },
              { Name: 'suffix', Value: '.json.gz' },
            ],
          },
        },
        QueueArn: arnOf(id(stack.source.queue)),
      });
      // S3 may send to the queue only on behalf of the trail bucket.
      const bucketArn =
        name === 'default'
          ? arnOf(id(stack.source.bucket))
          : { 'Fn::Join': ['', ['arn:', ref('AWS::Partition'), ':s3:::acme-org-trail']] };
      expect(resourcePolicy(v(), 'AWS::SQS::QueuePolicy', 'Queues', id(stack.source.queue))).toContainEqual(
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 's3.amazonaws.com' },
          Action: expect.arrayContaining(['sqs:SendMessage']),
          Condition: { ArnLike: { 'aws:SourceArn': bucketArn } },
        }),
      );
    });

    it('creates a multi-region, validated trail only when no trail bucket is given', () => {
      const { template, stack, id } = v();
      if (name === 'orgTrail') {
        template.resourceCountIs('AWS::CloudTrail::Trail', 0);
        return;
      }
      template.resourceCountIs('AWS::CloudTrail::Trail', 1);
      template.hasResourceProperties('AWS::CloudTrail::Trail', {
        S3BucketName: ref(id(stack.source.bucket)),
        IsMultiRegionTrail: true,
        IncludeGlobalServiceEvents: true,
        EnableLogFileValidation: true,
        IsOrganizationTrail: false,
        IsLogging: true,
      });
    });
  });

  describe('Lambda functions', () => {
    const functions = () => {
      const { stack, id } = v();
      return {
        ingest: { fn: id(stack.pipeline.ingest.function), logs: id(stack.pipeline.ingest.logGroup) },
        flush: { fn: id(stack.pipeline.flush.function), logs: id(stack.pipeline.flush.logGroup) },
      };
    };

    it('run Node.js 22 or newer on arm64, log to their own log group with retention', () => {
      for (const [fnName, { fn, logs }] of Object.entries(functions())) {
        const fnProps = props(v(), fn);
        const major = Number(/^nodejs(\d+)\.x$/.exec(String(fnProps.Runtime))?.[1]);
        expect(major, `${fnName} runtime ${String(fnProps.Runtime)}`).toBeGreaterThanOrEqual(22);
        expect(fnProps.Architectures).toEqual(['arm64']);
        expect(fnProps.LoggingConfig).toMatchObject({ LogGroup: ref(logs) });
        expect(props(v(), logs).RetentionInDays).toBe(30);
        expect(fnProps.Role).toEqual(
          arnOf(v().id(fnName === 'ingest' ? v().stack.pipeline.ingest.role : v().stack.pipeline.flush.role)),
        );
      }
      expect(props(v(), v().id(v().stack.pipeline.sessionsLogGroup)).RetentionInDays).toBe(365);
    });

    it('have reserved concurrency (one flush at a time)', () => {
      const { ingest, flush } = functions();
      expect(props(v(), flush.fn).ReservedConcurrentExecutions).toBe(1);
      expect(props(v(), ingest.fn).ReservedConcurrentExecutions).toEqual(expect.any(Number));
      expect(props(v(), ingest.fn).ReservedConcurrentExecutions as number).toBeGreaterThan(0);
    });

    it('get the buffer, store and (flush) rules and sessions log group in their environment', () => {
      const { stack, id } = v();
      const { ingest, flush } = functions();
      const common = {
        BUFFER_TABLE: ref(id(stack.buffer.table)),
        ENRICHED_BUCKET: ref(id(stack.store.bucket)),
        ENRICHED_PREFIX: 'enriched/',
        SETTLE_DELAY_SECONDS: '900',
      };
      expect(props(v(), ingest.fn).Environment).toEqual({
        Variables: expect.objectContaining(common),
      });
      expect((props(v(), ingest.fn).Environment as { Variables: object }).Variables).not.toHaveProperty(
        'SESSIONS_LOG_GROUP',
      );
      expect(props(v(), flush.fn).Environment).toEqual({
        Variables: expect.objectContaining({
          ...common,
          RULES_DIR: '/var/task/rules/signals',
          SESSIONS_LOG_GROUP: ref(id(stack.pipeline.sessionsLogGroup)),
        }),
      });
    });

    it('bundle the handlers with the rule files and GeoIP tables where their environment points', () => {
      const { ingest, flush } = functions();
      const assetDir = (fn: string) => {
        const key = (props(v(), fn).Code as { S3Key: string }).S3Key;
        return join(v().assemblyDir, `asset.${key.replace(/\.zip$/, '')}`);
      };
      expect(existsSync(join(assetDir(ingest.fn), 'index.mjs'))).toBe(true);
      expect(existsSync(join(assetDir(flush.fn), 'index.mjs'))).toBe(true);
      const rulesInBundle = join(assetDir(flush.fn), 'rules', 'signals');
      expect(readdirSync(rulesInBundle).sort()).toEqual(readdirSync(join(ROOT, 'rules', 'signals')).sort());
      // Both ship the detection rules and the GeoIP tables where their environment points.
      const detections = join(assetDir(ingest.fn), 'rules', 'detections');
      expect(readdirSync(detections).sort()).toEqual(readdirSync(join(ROOT, 'rules', 'detections')).sort());
      for (const fn of [ingest.fn, flush.fn]) {
        expect(
          (props(v(), fn).Environment as { Variables: Record<string, string> }).Variables.GEOIP_DIR,
        ).toBe('/var/task/geoip');
        expect(readdirSync(join(assetDir(fn), 'geoip')).sort()).toEqual([
          'asn-ipv4-num.csv',
          'asn-ipv6-num.csv',
          'geo-whois-asn-country-ipv4-num.csv',
          'geo-whois-asn-country-ipv6-num.csv',
        ]);
      }
    });

    it('flush runs on a schedule, without retries of its own', () => {
      const { template, stack, id } = v();
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(5 minutes)',
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: arnOf(id(stack.pipeline.flush.function)),
            RetryPolicy: { MaximumRetryAttempts: 0 },
          }),
        ],
      });
    });
  });

  describe('least privilege', () => {
    it('ingest may read trail log objects, write the buffer and detection rows, consume the queue and log, nothing else', () => {
      const { stack, id } = v();
      const logs = `\${${id(stack.pipeline.ingest.logGroup)}.Arn}`;
      const queue = `\${${id(stack.source.queue)}.Arn}`;
      expect(grants(roleStatements(v(), id(stack.pipeline.ingest.role)))).toEqual(
        sortedKeys({
          ...allow(['logs:CreateLogStream', 'logs:PutLogEvents'], [logs, `${logs}:log-stream:*`]),
          's3:GetObject': [expected(name).trailObjects],
          's3:PutObject': [`\${${id(stack.store.bucket)}.Arn}/enriched/detections/*`],
          'dynamodb:BatchWriteItem': [`\${${id(stack.buffer.table)}.Arn}`],
          // Detection state items only.
          ...allow(
            ['dynamodb:PutItem', 'dynamodb:Query'],
            [
              `\${${id(stack.buffer.table)}.Arn} when ${JSON.stringify({
                'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['s#*', 't#*'] },
              })}`,
            ],
          ),
          // Added by the SQS event source (the Lambda poller uses the function's role).
          ...allow(
            [
              'sqs:ChangeMessageVisibility',
              'sqs:DeleteMessage',
              'sqs:GetQueueAttributes',
              'sqs:GetQueueUrl',
              'sqs:ReceiveMessage',
            ],
            [queue],
          ),
        }),
      );
    });

    it('flush may use the buffer table and due index, write under enriched/, and log, nothing else', () => {
      const { stack, id } = v();
      const table = `\${${id(stack.buffer.table)}.Arn}`;
      const logs = `\${${id(stack.pipeline.flush.logGroup)}.Arn}`;
      const sessions = `\${${id(stack.pipeline.sessionsLogGroup)}.Arn}`;
      expect(grants(roleStatements(v(), id(stack.pipeline.flush.role)))).toEqual(
        sortedKeys({
          ...allow(
            ['logs:CreateLogStream', 'logs:PutLogEvents'],
            [logs, `${logs}:log-stream:*`, sessions, `${sessions}:log-stream:*`],
          ),
          ...allow(
            ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
            [table, `${table}/index/${DUE_INDEX}`],
          ),
          ...allow(['s3:DeleteObject', 's3:PutObject'], [`\${${id(stack.store.bucket)}.Arn}/enriched/*`]),
        }),
      );
    });

    it('no identity policy allows a wildcard action or Resource "*"', () => {
      // Resource "*" that service integrations strictly require: none (the SQS event source grants
      // on the queue ARN; the notifications handler on the bucket ARN).
      const allowedStarResources: string[] = [];
      const policies = ofType(v(), 'AWS::IAM::Policy');
      expect(policies).toHaveLength(3);
      for (const [policyId, policy] of policies) {
        for (const statement of (policy.Properties?.PolicyDocument as PolicyDocument).Statement) {
          expect(statement.NotAction, policyId).toBeUndefined();
          expect(statement.NotResource, policyId).toBeUndefined();
          for (const action of asArray(statement.Action)) expect(action, policyId).not.toMatch(/\*/);
          for (const resource of asArray(statement.Resource)) {
            if (resource === '*')
              expect(allowedStarResources, policyId).toContain(asArray(statement.Action).join());
          }
        }
      }
      v().template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    });

    it('only CDK’s bucket-notifications handler role has an AWS managed policy (basic logging)', () => {
      const roles = ofType(v(), 'AWS::IAM::Role');
      expect(roles).toHaveLength(3);
      const withManaged = roles.filter(([, role]) => role.Properties?.ManagedPolicyArns !== undefined);
      expect(withManaged.map(([roleId]) => roleId)).toEqual([
        expect.stringMatching(/^BucketNotificationsHandler[0-9a-f]+Role/),
      ]);
      expect(asArray(withManaged[0][1].Properties?.ManagedPolicyArns as unknown[]).map(render)).toEqual([
        'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      ]);
      for (const [roleId, role] of roles) {
        expect(role.Properties?.AssumeRolePolicyDocument, roleId).toEqual({
          Version: '2012-10-17',
          Statement: [
            { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
          ],
        });
      }
    });
  });

  describe('Glue catalog', () => {
    const tableNamed = (tableName: string) => {
      const found = ofType(v(), 'AWS::Glue::Table').filter(
        ([, t]) => (t.Properties?.TableInput as { Name: string }).Name === tableName,
      );
      expect(found, tableName).toHaveLength(1);
      return { logicalId: found[0][0], resource: found[0][1] };
    };

    it('has the trailmap database and one table per TABLES entry plus cloudtrail', () => {
      const { template } = v();
      template.resourceCountIs('AWS::Glue::Database', 1);
      template.hasResourceProperties('AWS::Glue::Database', {
        CatalogId: ref('AWS::AccountId'),
        DatabaseInput: { Name: 'trailmap' },
      });
      const names = ofType(v(), 'AWS::Glue::Table')
        .map(([, t]) => (t.Properties?.TableInput as { Name: string }).Name)
        .sort();
      expect(names).toEqual([...Object.keys(TABLES), 'cloudtrail'].sort());
    });

    it.each(Object.keys(TABLES) as TableName[])('%s matches engine/tables.ts (cannot drift)', (table) => {
      const { stack, id } = v();
      const database = ofType(v(), 'AWS::Glue::Database')[0][0];
      const { resource } = tableNamed(table);
      expect(asArray(resource.DependsOn)).toContain(database);
      const input = resource.Properties?.TableInput as {
        TableType: string;
        PartitionKeys: { Name: string; Type: string }[];
        Parameters: Record<string, unknown>;
        StorageDescriptor: {
          Columns: { Name: string; Type: string }[];
          Location: unknown;
          SerdeInfo: { SerializationLibrary: string };
        };
      };
      expect(resource.Properties?.DatabaseName).toBe('trailmap');
      expect(input.TableType).toBe('EXTERNAL_TABLE');
      expect(input.StorageDescriptor.Columns.map((c) => ({ name: c.Name, type: c.Type }))).toEqual(
        TABLES[table].map((c) => ({ name: c.name, type: c.type })),
      );
      expect(input.PartitionKeys.map((k) => [k.Name, k.Type])).toEqual([[PARTITION_COLUMN, 'string']]);
      expect(PARTITION_COLUMN).toBe('dt');
      const location = `s3://\${${id(stack.store.bucket)}}/enriched/${table}/`;
      expect(render(input.StorageDescriptor.Location)).toBe(location);
      expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
        'org.openx.data.jsonserde.JsonSerDe',
      );
      const parameters = Object.fromEntries(Object.entries(input.Parameters).map(([k, p]) => [k, render(p)]));
      expect(parameters).toMatchObject({
        'projection.enabled': 'true',
        'projection.dt.type': 'date',
        'projection.dt.format': 'yyyy-MM-dd',
        'projection.dt.range': expect.stringMatching(/^\d{4}-\d{2}-\d{2},NOW$/),
        'projection.dt.interval': '1',
        'projection.dt.interval.unit': 'DAYS',
        'storage.location.template': `${location}dt=\${dt}/`,
      });
      expect(parameters['storage.location.template']).toContain(`enriched/${table}/dt=\${dt}`);
    });

    it('cloudtrail is AWS’s CloudTrail table with projection over the trail’s key layout', () => {
      const { resource } = tableNamed('cloudtrail');
      const input = resource.Properties?.TableInput as {
        PartitionKeys: { Name: string }[];
        Parameters: Record<string, unknown>;
        StorageDescriptor: {
          Columns: { Name: string; Type: string }[];
          InputFormat: string;
          SerdeInfo: { SerializationLibrary: string };
        };
      };
      expect(input.StorageDescriptor.InputFormat).toBe('com.amazon.emr.cloudtrail.CloudTrailInputFormat');
      expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
        'org.apache.hive.hcatalog.data.JsonSerDe',
      );
      expect(input.StorageDescriptor.Columns.map((c) => [c.Name, c.Type])).toEqual(
        CLOUDTRAIL_COLUMNS.map(([column, type]) => [column, type]),
      );
      expect(input.PartitionKeys.map((k) => k.Name)).toEqual(['account', 'region', 'timestamp']);
      const parameters = Object.fromEntries(Object.entries(input.Parameters).map(([k, p]) => [k, render(p)]));
      const { accountProjection, cloudTrailTemplate } = expected(name);
      expect(parameters).toMatchObject({
        'projection.enabled': 'true',
        ...accountProjection,
        'projection.region.type': 'enum',
        'projection.region.values': DEFAULT_REGIONS.join(','),
        'projection.timestamp.type': 'date',
        'projection.timestamp.format': 'yyyy/MM/dd',
        'storage.location.template': cloudTrailTemplate,
      });
      if (name === 'default') expect(parameters).not.toHaveProperty('projection.account.values');
    });
  });

  describe('Athena', () => {
    it('enforces the workgroup’s encrypted result location and a scan cutoff', () => {
      const { template, stack, id } = v();
      template.resourceCountIs('AWS::Athena::WorkGroup', 1);
      const [[, workGroup]] = ofType(v(), 'AWS::Athena::WorkGroup');
      const config = workGroup.Properties?.WorkGroupConfiguration as {
        EnforceWorkGroupConfiguration: boolean;
        BytesScannedCutoffPerQuery: number;
        ResultConfiguration: { OutputLocation: unknown; EncryptionConfiguration: unknown };
      };
      expect(config.EnforceWorkGroupConfiguration).toBe(true);
      expect(config.BytesScannedCutoffPerQuery).toBeGreaterThan(0);
      expect(render(config.ResultConfiguration.OutputLocation)).toBe(
        `s3://\${${id(stack.store.resultsBucket)}}/results/`,
      );
      expect(config.ResultConfiguration.EncryptionConfiguration).toEqual({ EncryptionOption: 'SSE_S3' });
    });

    it('saves every queries/*.sql as a named query with the same SQL', () => {
      const { template } = v();
      const files = readdirSync(join(ROOT, 'queries')).filter((f) => f.endsWith('.sql'));
      expect(files.length).toBeGreaterThan(0);
      template.resourceCountIs('AWS::Athena::NamedQuery', files.length);
      const [[workGroup]] = ofType(v(), 'AWS::Athena::WorkGroup');
      const tables = new Set([...Object.keys(TABLES), 'cloudtrail']);
      for (const file of files) {
        const text = readFileSync(join(ROOT, 'queries', file), 'utf8');
        const sql = text
          .split('\n')
          .filter((line) => !line.startsWith('--'))
          .join('\n')
          .trim();
        template.hasResourceProperties('AWS::Athena::NamedQuery', {
          Name: /^-- name: (.+)$/m.exec(text)?.[1]?.trim(),
          Database: 'trailmap',
          WorkGroup: ref(workGroup),
          QueryString: sql,
        });
        // Names a query defines for itself (WITH x AS (…), y AS (…)) are not tables.
        const defined = new Set([...sql.matchAll(/\b([a-z_]+)\s+AS\s+\(/gi)].map((m) => m[1]));
        for (const [, table] of sql.matchAll(/\b(?:FROM|JOIN)\s+([a-z_]+)/gi)) {
          if (!defined.has(table)) expect(tables, `${file} reads ${table}`).toContain(table);
        }
      }
    });
  });

  describe('alarms', () => {
    const alarms = () =>
      ofType(v(), 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties as Record<string, unknown>);
    const dims = (alarm: Record<string, unknown>) =>
      Object.fromEntries(
        asArray(alarm.Dimensions as { Name: string; Value: unknown }[]).map((d) => [d.Name, d.Value]),
      );
    const find = (metricName: string, dimensions: Record<string, unknown>) =>
      alarms().filter(
        (a) => a.MetricName === metricName && JSON.stringify(dims(a)) === JSON.stringify(dimensions),
      );

    it('every alarm notifies the topic', () => {
      const topic = ofType(v(), 'AWS::SNS::Topic')[0][0];
      expect(alarms().length).toBeGreaterThan(0);
      for (const alarm of alarms())
        expect(alarm.AlarmActions, String(alarm.MetricName)).toEqual([ref(topic)]);
    });

    it('alarm on high and critical risky signals, flush lag, dead letters, errors and throttles', () => {
      const { stack, id } = v();
      for (const risk of ['high', 'critical']) {
        const [alarm] = find('RiskySignals', { Risk: risk, service: FLUSH_SERVICE });
        expect(alarm, risk).toMatchObject({ Namespace: METRICS_NAMESPACE, Statistic: 'Sum', Threshold: 1 });
      }
      expect(find('FlushLag', { service: FLUSH_SERVICE })).toEqual([
        expect.objectContaining({ Namespace: METRICS_NAMESPACE, Statistic: 'Maximum' }),
      ]);
      expect(
        find('ApproximateNumberOfMessagesVisible', {
          QueueName: { 'Fn::GetAtt': [id(stack.source.deadLetterQueue), 'QueueName'] },
        }),
      ).toEqual([expect.objectContaining({ Namespace: 'AWS/SQS', Threshold: 1 })]);
      for (const fn of [stack.pipeline.ingest.function, stack.pipeline.flush.function]) {
        for (const metric of ['Errors', 'Throttles']) {
          expect(find(metric, { FunctionName: ref(id(fn)) }), `${metric} ${fn.node.path}`).toEqual([
            expect.objectContaining({ Namespace: 'AWS/Lambda', Threshold: 1 }),
          ]);
        }
      }
    });

    it('subscribes the alarm email only when one is configured', () => {
      const { template } = v();
      template.resourceCountIs('AWS::SNS::Subscription', expected(name).subscriptions);
      if (name === 'orgTrail') {
        template.hasResourceProperties('AWS::SNS::Subscription', {
          Protocol: 'email',
          Endpoint: 'soc@example.com',
          TopicArn: ref(ofType(v(), 'AWS::SNS::Topic')[0][0]),
        });
      }
    });
  });

  describe('cdk-nag', () => {
    it('AwsSolutions reports no violations', () => {
      const report = new AwsSolutionsChecks().validateScope(v().stack);
      expect(findingPaths(report.violations)).toEqual([]);
      expect(report.success).toBe(true);
    });

    it('every acknowledgement is specific, reasoned, and suppresses a finding that exists', () => {
      const acks = acknowledgements(v().app);
      expect(acks.length).toBeGreaterThan(0);
      const generic =
        /^(n\/?a|none|todo|tbd|ok|fine|ignore[d]?|suppress(ed)?|false positive|not needed|needed|required|acceptable|by design)\.?$/i;
      const stackPath = v().stack.node.path;
      const findings = unacknowledgedFindings(v().stack);
      // Acknowledgements that suppress nothing today, on purpose. cdk-nag's S1 already exempts a
      // bucket that other buckets log into; this one keeps the access-log bucket quiet even if
      // that stops being so (it must never log into itself).
      const defensive = [`AwsSolutions-S1 @ ${stackPath}/AccessLogs`];
      for (const ack of acks) {
        const label = `${ack.id} @ ${ack.path}`;
        expect(ack.reason.trim(), label).not.toMatch(generic);
        expect(ack.reason.trim().length, label).toBeGreaterThanOrEqual(40);
        // Scoped to the resource, never the whole app or stack.
        expect(ack.path, label).not.toBe(stackPath);
        expect(ack.path.startsWith(`${stackPath}/`), label).toBe(true);
        // IAM5 findings are acknowledged one wildcard resource at a time, never wholesale.
        if (ack.id.startsWith('AwsSolutions-IAM5'))
          expect(ack.id, label).toMatch(/^AwsSolutions-IAM5\[Resource::.+\]$/);
        const suppressed = findings.some(
          (f) =>
            f.ruleName === ack.id &&
            f.violatingResources.some(
              (r) => r.constructPath === ack.path || (r.constructPath ?? '').startsWith(`${ack.path}/`),
            ),
        );
        if (!defensive.includes(label)) {
          expect(suppressed, `${label} suppresses nothing (stale or mistyped)`).toBe(true);
        }
      }
    });
  });
});

describe('TrailmapStack variants', () => {
  it('differ only in the trail source and the email subscription', () => {
    const count = (v: Variant) => {
      const counts: Record<string, number> = {};
      for (const resource of Object.values(v.resources))
        counts[resource.Type] = (counts[resource.Type] ?? 0) + 1;
      return counts;
    };
    const a = count(variants.default);
    const b = count(variants.orgTrail);
    const differing = [
      'AWS::CloudTrail::Trail',
      'AWS::S3::Bucket',
      'AWS::S3::BucketPolicy',
      'AWS::SNS::Subscription',
    ];
    expect(differing.map((type) => [type, a[type] ?? 0, b[type] ?? 0])).toEqual([
      ['AWS::CloudTrail::Trail', 1, 0],
      ['AWS::S3::Bucket', 4, 3],
      ['AWS::S3::BucketPolicy', 4, 3],
      ['AWS::SNS::Subscription', 0, 1],
    ]);
    for (const type of differing) {
      delete a[type];
      delete b[type];
    }
    expect(a).toEqual(b);
  });
});

describe('flush and ingest metrics (contract with the alarms)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  // Flush publishes the signal metrics and ingest the detection metrics: every alarm on a Trailmap
  // metric must watch one of them, dimensions included.
  it('every alarm on a Trailmap metric watches one flush or ingest publishes, with the same dimensions and unit', async () => {
    // Dev mode sends EMF to the global console (and would disable metrics unless told not to).
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('BUFFER_TABLE', 'buffer');
    vi.stubEnv('ENRICHED_BUCKET', 'enriched');
    const { publishMetrics } = await import('../../lambdas/flush-handler.ts');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    publishMetrics({
      partitions: 1,
      failedPartitions: 1,
      sessionsWritten: 1,
      objectsWritten: 1,
      objectsDeleted: 0,
      newSignals: 4,
      newRiskySignals: { medium: 1, high: 1, critical: 1 },
      unmappedEvents: 1,
      maxLagMs: 1000,
    });
    const { publishDetectionMetrics } = await import('../../lambdas/ingest-handler.ts');
    publishDetectionMetrics(
      (['medium', 'high', 'critical'] as const).map(
        (risk) => ({ risk }) as Parameters<typeof publishDetectionMetrics>[0][number],
      ),
    );
    interface Emf {
      _aws: {
        CloudWatchMetrics: {
          Namespace: string;
          Dimensions: string[][];
          Metrics: { Name: string; Unit: string }[];
        }[];
      };
      [key: string]: unknown;
    }
    const published = lines
      .map((line) => JSON.parse(line) as Emf)
      .flatMap((emf) =>
        emf._aws.CloudWatchMetrics.flatMap((m) =>
          m.Metrics.flatMap((metric) =>
            m.Dimensions.map((set) => ({
              key: `${m.Namespace}/${metric.Name} ${JSON.stringify(Object.fromEntries([...set].sort((x, y) => x.localeCompare(y)).map((d) => [d, emf[d]])))}`,
              unit: metric.Unit,
            })),
          ),
        ),
      );
    const watched = ofType(variants.orgTrail, 'AWS::CloudWatch::Alarm')
      .map(
        ([, a]) =>
          a.Properties as {
            Namespace: string;
            MetricName: string;
            Dimensions: { Name: string; Value: string }[];
          },
      )
      .filter((a) => a.Namespace === METRICS_NAMESPACE)
      .map(
        (a) =>
          `${a.Namespace}/${a.MetricName} ${JSON.stringify(
            Object.fromEntries(
              [...a.Dimensions].sort((x, y) => x.Name.localeCompare(y.Name)).map((d) => [d.Name, d.Value]),
            ),
          )}`,
      );
    expect(watched.length).toBeGreaterThan(0);
    const publishedKeys = new Set(published.map((p) => p.key));
    expect(watched.filter((key) => !publishedKeys.has(key))).toEqual([]);
    // The FlushLag threshold is Duration.toMilliseconds(): the metric must be in milliseconds.
    expect(published.find((p) => p.key.startsWith(`${METRICS_NAMESPACE}/FlushLag `))?.unit).toBe(
      'Milliseconds',
    );
  });
});

describe('cdk-nag is live', () => {
  it('reports an extra unencrypted, unlogged bucket and a wildcard grant', () => {
    // No bundling: cdk-nag only reads the construct tree.
    const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    outdirs.push(app.outdir);
    const stack = new TrailmapStack(app, 'Negative', {});
    new s3.CfnBucket(stack, 'Unencrypted');
    stack.pipeline.flush.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.success).toBe(false);
    const findings = findingPaths(report.violations);
    expect(findings).toEqual(
      expect.arrayContaining([
        'AwsSolutions-S1 @ Negative/Unencrypted',
        'AwsSolutions-S10 @ Negative/Unencrypted',
        'AwsSolutions-IAM5[Action::s3:*] @ Negative/Pipeline/Flush/Role/DefaultPolicy/Resource',
        'AwsSolutions-IAM5[Resource::*] @ Negative/Pipeline/Flush/Role/DefaultPolicy/Resource',
      ]),
    );
    // …and nothing else: the rest of the stack stays clean.
    expect(
      findings.filter(
        (f) => !f.endsWith(' @ Negative/Unencrypted') && !f.includes('/Flush/Role/DefaultPolicy/'),
      ),
    ).toEqual([]);
  });
});

/**
 * Writes `examples/trail/`: a small, synthetic organization trail (no recorded data) shaped like a
 * real organization's (DESIGN.md, "CloudTrail facts the design relies on").
 *
 * - `AWSLogs/o-…/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_<16>.json.gz`
 *   objects, one per account × region × 5-minute delivery window, named by delivery time; one digest
 *   file under `CloudTrail-Digest/` and one Insights file under `CloudTrail-Insight/` (two
 *   ApiCallRateInsight records) that readers must skip.
 * - Four console sign-ins: `alice` (IAM user, MFA: CheckMfa 10-20 s before ConsoleLogin),
 *   `bob@example.com` (IAM Identity Center: portal events, GetSigninToken, then ConsoleLogin, no MFA),
 *   a failed login for an unknown user name, and alice again 2-3 hours later from another browser
 *   and address. The first two overlap in time, across us-east-1 and eu-west-1, each some 35 actions
 *   over 35-45 minutes.
 * - As the real console does, a sign-in's calls use a separate temporary `ASIA…` key per service
 *   (eventSource), renewed after 15-60 minutes of use; AWS Health's background poll (every 5 minutes)
 *   gets a fresh key each time. All of a sign-in's calls share its principal and its
 *   `sessionContext.attributes.creationDate` (the ConsoleLogin's time). Some pages are fetched by the
 *   service's console back end (S3, RDS): same principal, creationDate and key, no console flag.
 * - The console actions are built from the signal rules: each story step names a rule label, and its
 *   burst of API calls is one of the rule's positive inline tests with the example names replaced by
 *   the organization's inventory (22 IAM users, 20 buckets, 14 instances…); list pages repeat their
 *   per-resource calls for the whole inventory, as the console does. Rules without a usable test get
 *   a burst from their anchor / required / optional events. Every burst is checked against the engine
 *   (mapped within its sign-in's calls) while generating, and actions are spaced so that no rule can
 *   reach from one into another. Scripted steps are console pages no rule describes (RDS, Lambda,
 *   releasing an Elastic IP): their calls stay unclaimed.
 * - Programmatic noise (CLI / SDK callers, some AccessDenied) that must stay outside console
 *   sessions, and AWS service events (KMS key rotation, AWS Backup jobs).
 * - `exampleSessionsTruth()` says which records form each console sign-in (and bob's portal visit),
 *   from the generator's own bookkeeping, never from the engine.
 *
 * Deterministic: seeded PRNG, fixed dates, no clock. `npx tsx scripts/make-example.ts` (npm run examples).
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type Enrichment, enrich } from '../engine/enrich.ts';
import { ANY_EVENT, mapSession, RuleIndex } from '../engine/map.ts';
import { readInputs, toTrailEvent } from '../engine/read.ts';
import { loadRules } from '../engine/rules/load.ts';
import type { RuleTest, SignalRule } from '../engine/rules/model.ts';
import { stringValuesAt } from '../engine/rules/path.ts';
import type { CloudTrailRecord, TrailEvent, UserIdentity } from '../engine/types.ts';
import { ConsoleKeys } from './example/keys.ts';
import {
  HEX,
  type IdSource,
  iso,
  LOWER_ALNUM,
  MIXED_ALNUM,
  Prng,
  prngIds,
  UPPER_ALNUM,
} from './example/random.ts';
import {
  BACK_ENDS,
  type BackEnd,
  insightRecords,
  portalEvents,
  type PortalUser,
  serviceEventRecord,
} from './example/shapes.ts';
import { append, maxOf, minOf, pushTo } from '../engine/arrays.ts';

export const EXAMPLE_DIR = fileURLToPath(new URL('../examples/trail', import.meta.url));

const BASE_TIME = Date.UTC(2026, 2, 2, 9, 0, 0);
const SEED = 20260302;
const MANAGEMENT_ACCOUNT = '111122223333';
const CI_ACCOUNT = '444455556666';
const PRIMARY_REGION = 'us-east-1';
const SECONDARY_REGION = 'eu-west-1';
const TRAIL_NAME = 'org-trail';
const TRAIL_BUCKET = 'example-org-cloudtrail-logs';
const DELIVERY_WINDOW_MS = 5 * 60_000;
const SIGNIN_TOKEN_AGENT = 'Jersey/${project.version} (HttpUrlConnection 17.0.1)';
/** Services whose console calls are global (and show up in us-east-1). */
const GLOBAL_SERVICES = new Set(['iam', 'organizations', 'ce', 'health', 'cost-optimization-hub', 'support']);
/** Calls the console makes through AWS's own back end: userAgent and sourceIPAddress "AWS Internal". */
const INTERNAL_SERVICES = new Set(['ce', 'cost-optimization-hub', 'health', 'notifications']);

/** Separate streams, so a change in the stories (the rules) does not reshuffle names or the noise. */
function streams() {
  return {
    ids: new Prng(SEED ^ 0x1d5),
    timing: new Prng(SEED ^ 0x71e),
    noise: new Prng(SEED ^ 0x401),
    noiseIds: new Prng(SEED ^ 0x402),
    names: new Prng(SEED ^ 0x9a3),
    /** Console session keys and their lifetimes. */
    keys: new Prng(SEED ^ 0x6e7),
    /** AWS service events and Insights. */
    aws: new Prng(SEED ^ 0x5e4),
  };
}

// ---------------------------------------------------------------------------------------------
// The story

/** What a console page is about, by name in the organization's inventory (see DEFAULT_FOCUS). */
export interface Focus {
  user?: string;
  role?: string;
  group?: string;
  bucket?: string;
  trail?: string;
  secret?: string;
  /** A customer managed KMS key, by alias (without `alias/`). */
  kmsKey?: string;
  /** EC2 resources by their Name tag (volumes by the instance they belong to). */
  instance?: string;
  securityGroup?: string;
  volume?: string;
  snapshot?: string;
}

/** Kinds of resources a list page can show many of. */
export type ListKind =
  'user' | 'accessKey' | 'group' | 'role' | 'bucket' | 'trail' | 'kmsKey' | 'finding' | 'instance' | 'volume';

export interface StoryStep {
  label: string;
  region: string;
  /** Which of the rule's anchors starts a synthesized burst (default: its first). */
  anchor?: string;
  /** The rule's positive inline test to build the burst from (default: its largest). */
  test?: string;
  /** What the page is about. */
  on?: Focus;
  /**
   * A list page: its per-resource calls (and per-resource array items) are repeated for every
   * resource of these kinds in the inventory, as the console does for a full page (access keys on
   * one user's page: that user's keys).
   */
  list?: ListKind[];
  /**
   * The page's S3 console calls are made by the S3 console's back end for the person: its agent and
   * address, no console flag (same principal, creationDate and S3 key).
   */
  backEnd?: 's3';
}

/** A call of a scripted step, spelled out. */
export interface ScriptedCall {
  ref: string;
  /** Seconds after the step starts. */
  at: number;
  requestParameters: Record<string, unknown> | null;
  responseElements?: Record<string, unknown>;
  /** Made by this console back end for the person (no console flag). */
  backEnd?: BackEnd;
}

/**
 * A console page or action that no signal rule describes (RDS, Lambda, releasing an Elastic IP):
 * its calls are spelled out, and the generator checks that no rule claims them.
 */
export interface ScriptedStep {
  /** What the person did, for people reading the story. */
  script: string;
  region: string;
  calls: ScriptedCall[];
}

export type Step = StoryStep | ScriptedStep;
export const isScripted = (step: Step): step is ScriptedStep => 'script' in step;

/** The console sign-ins of the example: alice, bob, and alice signing in again hours later. */
export type SignInName = 'alice' | 'bob' | 'alice2';

/** The label of AWS Health's background poll, which every console tab makes every 5 minutes. */
export const BACKGROUND = 'SuppressAutomatedBackgroundEvent';
const HEALTH_POLL = 'health:DescribeEventAggregates';
const POLL_EVERY_MS = 5 * 60_000;

const DELETED_DB = 'orders-staging-db';
const RELEASED_ADDRESS = 'eipalloc-0f3a9c1d27be84e65';

/**
 * What each console sign-in does, in order (the console's health poll, every 5 minutes, comes on
 * its own). Labels are rule labels from rules/signals/*.yaml; each
 * burst is one of the rule's positive inline tests, its example names replaced by the inventory's.
 *
 * alice (IAM user, MFA, us-east-1) reviews IAM, CloudTrail, S3, GuardDuty and KMS, and on the way
 * creates an access key for a CI user, grants a contractor AdministratorAccess and deactivates an
 * old key. bob (Identity Center, no MFA, eu-west-1 then us-east-1) exposes a bucket, opens SSH to
 * the world, makes a database snapshot public, reads a production secret, suspends GuardDuty and
 * stops the organization trail. alice, signing in again in the afternoon from another browser and
 * address, opens RDS and deletes a staging database, releases an Elastic IP and looks at Lambda:
 * pages no rule describes.
 */
export const STORIES: Record<SignInName, Step[]> = {
  alice: [
    { label: 'ConsoleHome', region: PRIMARY_REGION },
    { label: 'IAM', region: PRIMARY_REGION },
    { label: 'IAM_Users', region: PRIMARY_REGION, list: ['user', 'accessKey'] },
    {
      label: 'IAM_Users_SPECIFICUSER_Permissions',
      region: PRIMARY_REGION,
      on: { user: 'ci-deployer' },
      list: ['accessKey'],
    },
    {
      label: 'IAM_Users_SPECIFICUSER_SecurityCredentials',
      region: PRIMARY_REGION,
      on: { user: 'ci-deployer' },
      list: ['accessKey'],
    },
    {
      label: 'IAM_Users_SPECIFICUSER_SecurityCredentials_AccessKeys_CreateAccessKey',
      region: PRIMARY_REGION,
      on: { user: 'ci-deployer' },
    },
    { label: 'IAM_UserGroups', region: PRIMARY_REGION, list: ['group'] },
    { label: 'IAM_Users', region: PRIMARY_REGION, list: ['user', 'accessKey'] },
    {
      label: 'IAM_Users_SPECIFICUSER_Permissions',
      region: PRIMARY_REGION,
      on: { user: 'contractor-mwong', group: 'contractors' },
      list: ['accessKey'],
    },
    {
      label: 'IAM_Users_SPECIFICUSER_Permissions_AddPermissions_AttachPoliciesDirectly',
      region: PRIMARY_REGION,
      test: 'attaching AdministratorAccess to a user',
      on: { user: 'contractor-mwong' },
    },
    { label: 'IAM_Users_SPECIFICUSER_AccessAdvisor', region: PRIMARY_REGION, on: { user: 'old-ops-2019' } },
    {
      label: 'IAM_Users_SPECIFICUSER_SecurityCredentials',
      region: PRIMARY_REGION,
      on: { user: 'old-ops-2019' },
      list: ['accessKey'],
    },
    {
      label: 'IAM_Users_SPECIFICUSER_SecurityCredentials_AccessKeys_Deactivate',
      region: PRIMARY_REGION,
      on: { user: 'old-ops-2019' },
    },
    { label: 'IAM_Roles', region: PRIMARY_REGION, list: ['role'] },
    { label: 'IAM_Roles_SPECIFICROLE_Permissions', region: PRIMARY_REGION, on: { role: 'ci-deploy' } },
    { label: 'IAM_Policies', region: PRIMARY_REGION },
    { label: 'Expanded_SPECIFICMANAGEDPOLICY', region: PRIMARY_REGION },
    { label: 'IAM_AccountSettings', region: PRIMARY_REGION },
    { label: 'CloudTrail_Dashboard', region: PRIMARY_REGION, list: ['trail'] },
    { label: 'CloudTrail_Trails', region: PRIMARY_REGION, list: ['trail'] },
    {
      label: 'CloudTrail_Trails_SPECIFICTRAIL',
      region: PRIMARY_REGION,
      on: { trail: TRAIL_NAME, bucket: TRAIL_BUCKET },
    },
    { label: 'CloudTrail_EventHistory', region: PRIMARY_REGION },
    { label: 'S3_Buckets', region: PRIMARY_REGION, list: ['bucket'] },
    {
      label: 'S3_Buckets_SPECIFICBUCKET_Permissions',
      region: PRIMARY_REGION,
      on: { bucket: TRAIL_BUCKET },
      backEnd: 's3',
    },
    { label: 'GuardDuty_Summary', region: PRIMARY_REGION },
    { label: 'GuardDuty_Findings', region: PRIMARY_REGION, list: ['finding'] },
    { label: 'GuardDuty_Settings', region: PRIMARY_REGION },
    { label: 'KMS_CustomerManagedKeys', region: PRIMARY_REGION, list: ['kmsKey'] },
    {
      label: 'KMS_CustomerManagedKeys_SPECIFICKEY_KeyPolicy',
      region: PRIMARY_REGION,
      on: { kmsKey: 'cloudtrail-logs' },
    },
    {
      label: 'KMS_CustomerManagedKeys_SPECIFICKEY_KeyRotation',
      region: PRIMARY_REGION,
      on: { kmsKey: 'cloudtrail-logs' },
    },
    {
      label: 'KMS_CustomerManagedKeys_SPECIFICKEY_KeyRotation_Enable',
      region: PRIMARY_REGION,
      on: { kmsKey: 'cloudtrail-logs' },
    },
    { label: 'IAM_Users', region: PRIMARY_REGION, list: ['user', 'accessKey'] },
  ],
  bob: [
    { label: 'ConsoleHome', region: SECONDARY_REGION },
    { label: 'S3_Buckets', region: SECONDARY_REGION, list: ['bucket'] },
    {
      label: 'S3_Buckets_SPECIFICBUCKET_Objects',
      region: SECONDARY_REGION,
      on: { bucket: 'example-backups-eu' },
    },
    {
      label: 'S3_Buckets_SPECIFICBUCKET_Properties',
      region: SECONDARY_REGION,
      on: { bucket: 'example-backups-eu' },
      backEnd: 's3',
    },
    { label: 'EC2_EC2Dashboard', region: SECONDARY_REGION },
    { label: 'EC2_Instances_Instances', region: SECONDARY_REGION, list: ['instance'] },
    {
      label: 'EC2_Instances_Instances_SPECIFICINSTANCE_Details',
      region: SECONDARY_REGION,
      on: { instance: 'bastion' },
    },
    {
      label: 'EC2_Instances_Instances_SPECIFICINSTANCE_Security',
      region: SECONDARY_REGION,
      on: { instance: 'bastion', securityGroup: 'bastion-sg' },
    },
    {
      label: 'EC2_Instances_Instances_SPECIFICINSTANCE_Storage',
      region: SECONDARY_REGION,
      on: { instance: 'bastion' },
    },
    {
      label: 'S3_Buckets_SPECIFICBUCKET_Permissions',
      region: SECONDARY_REGION,
      on: { bucket: 'example-public-downloads' },
    },
    { label: 'EC2_NetworkSecurity_SecurityGroups', region: SECONDARY_REGION },
    {
      label: 'EC2_NetworkSecurity_SecurityGroups_SPECIFICGROUP',
      region: SECONDARY_REGION,
      on: { securityGroup: 'bastion-sg' },
    },
    {
      label: 'EC2_NetworkSecurity_SecurityGroups_SPECIFICGROUP_EditInboundRules',
      region: SECONDARY_REGION,
      test: 'SSH opened to the internet',
      on: { securityGroup: 'bastion-sg' },
    },
    {
      label: 'S3_Buckets_SPECIFICBUCKET_Permissions_BlockPublicAccess_Edit',
      region: SECONDARY_REGION,
      test: 'turning off "block public policies"',
      on: { bucket: 'example-public-downloads' },
    },
    { label: 'EC2_ElasticBlockStore_Volumes', region: SECONDARY_REGION, list: ['volume', 'instance'] },
    { label: 'EC2_ElasticBlockStore_Snapshots', region: SECONDARY_REGION },
    {
      label: 'EC2_ElasticBlockStore_Snapshots_SPECIFICSNAPSHOT_Details',
      region: SECONDARY_REGION,
      on: { snapshot: 'payments-db-2026-03-01' },
    },
    {
      label: 'S3_Buckets_SPECIFICBUCKET_Permissions_BucketPolicy_Edit',
      region: SECONDARY_REGION,
      test: 'a policy making every object readable by anyone',
      on: { bucket: 'example-public-downloads' },
    },
    {
      label: 'EC2_ElasticBlockStore_Snapshots_SPECIFICSNAPSHOT_ModifyPermissions_MakePublic',
      region: SECONDARY_REGION,
      on: { snapshot: 'payments-db-2026-03-01' },
    },
    {
      label: 'EC2_Instances_Instances_SPECIFICINSTANCE_InstanceState_StopInstance',
      region: SECONDARY_REGION,
      on: { instance: 'worker-2' },
    },
    { label: 'VPC_VPCDashboard', region: SECONDARY_REGION },
    { label: 'SecretsManager_Secrets', region: SECONDARY_REGION },
    {
      label: 'SecretsManager_Secrets_SPECIFICSECRET_Overview',
      region: SECONDARY_REGION,
      on: { secret: 'prod/payments/db-password' },
    },
    {
      label: 'SecretsManager_Secrets_SPECIFICSECRET_Overview_RetrieveSecretValue',
      region: SECONDARY_REGION,
      on: { secret: 'prod/payments/db-password' },
    },
    { label: 'GuardDuty_Summary', region: SECONDARY_REGION },
    { label: 'GuardDuty_Settings', region: SECONDARY_REGION },
    { label: 'GuardDuty_Settings_SuspendGuardDuty', region: SECONDARY_REGION },
    { label: 'IAM_Roles', region: PRIMARY_REGION, list: ['role'] },
    { label: 'IAM_Roles_SPECIFICROLE_Permissions', region: PRIMARY_REGION, on: { role: 'data-pipeline' } },
    { label: 'CloudTrail_Trails', region: PRIMARY_REGION, list: ['trail'] },
    {
      label: 'CloudTrail_Trails_SPECIFICTRAIL',
      region: PRIMARY_REGION,
      on: { trail: TRAIL_NAME, bucket: TRAIL_BUCKET },
    },
    {
      label: 'CloudTrail_Trails_SPECIFICTRAIL_StopLogging',
      region: PRIMARY_REGION,
      on: { trail: TRAIL_NAME },
    },
    { label: 'S3_Buckets', region: SECONDARY_REGION, list: ['bucket'] },
  ],
  alice2: [
    { label: 'ConsoleHome', region: SECONDARY_REGION },
    {
      script: 'RDS → Databases',
      region: SECONDARY_REGION,
      calls: [
        { ref: 'rds:DescribeDBInstances', at: 0, requestParameters: { maxRecords: 100 } },
        { ref: 'rds:DescribeDBClusters', at: 0, requestParameters: { maxRecords: 100 } },
        { ref: 'rds:DescribePendingMaintenanceActions', at: 1, requestParameters: null },
        {
          ref: 'rds:DescribeDBSnapshots',
          at: 1,
          requestParameters: { dBInstanceIdentifier: DELETED_DB, maxRecords: 100 },
        },
        { ref: 'rds:DescribeAccountAttributes', at: 1, requestParameters: null, backEnd: 'rds' },
        {
          ref: 'rds:DescribeDBEngineVersions',
          at: 2,
          requestParameters: { engine: 'postgres', engineVersion: '15.5', defaultOnly: false },
          backEnd: 'rds',
        },
        {
          ref: 'rds:DescribeEvents',
          at: 2,
          requestParameters: { sourceIdentifier: DELETED_DB, sourceType: 'db-instance', duration: 10080 },
          backEnd: 'rds',
        },
      ],
    },
    {
      script: `RDS → Databases → ${DELETED_DB} → Delete`,
      region: SECONDARY_REGION,
      calls: [
        {
          ref: 'rds:DeleteDBInstance',
          at: 0,
          requestParameters: {
            dBInstanceIdentifier: DELETED_DB,
            skipFinalSnapshot: true,
            deleteAutomatedBackups: true,
          },
          responseElements: {
            dBInstanceIdentifier: DELETED_DB,
            dBInstanceClass: 'db.t3.medium',
            engine: 'postgres',
            dBInstanceStatus: 'deleting',
            masterUsername: 'orders_admin',
            allocatedStorage: 100,
            instanceCreateTime: 'Nov 14, 2025, 10:21:37 AM',
            engineVersion: '15.5',
            multiAZ: false,
            deletionProtection: false,
            dbiResourceId: 'db-7QH3ZK5V2MXW4NCRJY6TB4LAEU',
            dBInstanceArn: `arn:aws:rds:${SECONDARY_REGION}:${MANAGEMENT_ACCOUNT}:db:${DELETED_DB}`,
          },
        },
        { ref: 'rds:DescribeDBInstances', at: 2, requestParameters: { maxRecords: 100 } },
      ],
    },
    { label: 'EC2_NetworkSecurity_ElasticIPs', region: SECONDARY_REGION },
    {
      script: 'EC2 → Elastic IPs → Release',
      region: SECONDARY_REGION,
      calls: [
        {
          ref: 'ec2:ReleaseAddress',
          at: 0,
          requestParameters: { allocationId: RELEASED_ADDRESS },
          responseElements: { requestId: '5b7f0d3e-9a41-4c2e-8f06-1d2c3b4a5e6f', _return: true },
        },
      ],
    },
    {
      script: 'Lambda → Functions',
      region: SECONDARY_REGION,
      calls: [
        { ref: 'lambda:ListFunctions20150331', at: 0, requestParameters: { maxItems: 50 } },
        { ref: 'lambda:GetAccountSettings20160819', at: 0, requestParameters: null },
        {
          ref: 'lambda:ListFunctions20150331',
          at: 1,
          requestParameters: { marker: 'orders-api-worker', maxItems: 50 },
        },
      ],
    },
    { label: 'CloudTrail_EventHistory', region: PRIMARY_REGION },
  ],
};

// ---------------------------------------------------------------------------------------------
// Identities

type SessionIssuer = NonNullable<NonNullable<UserIdentity['sessionContext']>['sessionIssuer']>;

/** The role behind an assumed-role session (typed loosely: the engine only reads arn and userName). */
function roleIssuer(principalId: string, arn: string, accountId: string, userName: string): SessionIssuer {
  const issuer = { type: 'Role', principalId, arn, accountId, userName };
  return issuer;
}

/** One console sign-in: who, from where, and when its session started. */
interface Actor {
  name: SignInName;
  accountId: string;
  /**
   * userIdentity on the sign-in's console calls, without the access key: each console service has
   * its own, renewed (see ConsoleKeys). creationDate is the ConsoleLogin's time.
   */
  identity: UserIdentity;
  sourceIp: string;
  browser: string;
  /** The ConsoleLogin's time. */
  loginTime: number;
}

/** What exists in the example organization: the names the console pages list and open. */
interface Inventory {
  users: string[];
  /** Access keys of each IAM user (users without keys are absent). */
  accessKeys: Record<string, string[]>;
  groups: string[];
  roles: string[];
  /** Customer managed policies. */
  policies: string[];
  instanceProfiles: string[];
  buckets: string[];
  trails: string[];
  secrets: string[];
  /** Customer managed KMS keys: alias (without `alias/`) → key id. */
  kmsKeys: Record<string, string>;
  /** GuardDuty detector of each region. */
  detectors: Record<string, string>;
  findings: string[];
  /** EC2 resources (eu-west-1) by Name tag: instances, security groups, volumes (by instance), snapshots. */
  instances: Record<string, string>;
  securityGroups: Record<string, string>;
  volumes: Record<string, string>;
  snapshots: Record<string, string>;
}

interface World {
  orgId: string;
  alice: Actor;
  bob: Actor;
  /** Key id of the role credentials the portal gave bob, which his GetSigninToken is called with. */
  bobPortalKey: string;
  /** bob as IAM Identity Center's portal names him. */
  bobPortalUser: PortalUser;
  keys: Record<'ci' | 'backupBot' | 'pipeline', string>;
  principalIds: Record<'alice' | 'ssoRole' | 'ciRole' | 'pipelineRole' | 'backupBot', string>;
  ssoRoleName: string;
  inventory: Inventory;
  /** The access key the console creates (alice, for ci-deployer). */
  newAccessKeyId: string;
}

const IAM_USERS = [
  'alice',
  'audit-readonly',
  'backup-bot',
  'breakglass-admin',
  'ci-deployer',
  'contractor-mwong',
  'contractor-pdias',
  'datadog-integration',
  'dev-sandbox',
  'github-actions-legacy',
  'grafana-reader',
  'jenkins',
  'legacy-reporting',
  'marketing-uploader',
  'old-ops-2019',
  'qa-automation',
  'ses-smtp-user',
  'support-tools',
  'svc-billing-export',
  'svc-etl',
  'tableau-connector',
  'terraform',
];
/** Users with long-lived access keys, and how many (at most two each; people sign in, machines use keys). */
const KEYED_USERS: Record<string, number> = {
  'backup-bot': 1,
  'ci-deployer': 1,
  'contractor-mwong': 1,
  'datadog-integration': 1,
  'github-actions-legacy': 1,
  'grafana-reader': 1,
  jenkins: 2,
  'legacy-reporting': 1,
  'marketing-uploader': 1,
  'old-ops-2019': 2,
  'ses-smtp-user': 1,
  'support-tools': 1,
  'svc-billing-export': 1,
  'svc-etl': 1,
  'tableau-connector': 1,
  terraform: 1,
};
const IAM_ROLES = [
  'AWSServiceRoleForAmazonGuardDuty',
  'AWSServiceRoleForAutoScaling',
  'AWSServiceRoleForCloudTrail',
  'AWSServiceRoleForElasticLoadBalancing',
  'AWSServiceRoleForOrganizations',
  'AWSServiceRoleForResourceExplorer',
  'AWSServiceRoleForSSO',
  'AWSServiceRoleForTrustedAdvisor',
  'backup-service',
  'ci-deploy',
  'config-recorder',
  'data-pipeline',
  'ecsTaskExecutionRole',
  'eks-cluster-prod',
  'eks-nodegroup-prod',
  'grafana-cloudwatch',
  'lambda-image-resizer',
  'lambda-orders-api',
  'OrganizationAccountAccessRole',
  'rds-monitoring-role',
  'security-audit',
  'vpc-flow-logs',
];
const S3_BUCKETS = [
  'example-access-logs',
  'example-app-assets',
  'example-athena-results',
  'example-backups-eu',
  'example-ci-artifacts',
  'example-config-snapshots',
  'example-customer-exports',
  'example-data-lake-curated',
  'example-data-lake-raw',
  'example-guardduty-findings',
  'example-invoices-archive',
  'example-lambda-packages',
  'example-legacy-ftp-mirror',
  'example-marketing-media',
  'example-ml-training-data',
  TRAIL_BUCKET,
  'example-public-downloads',
  'example-terraform-state',
  'example-vpc-flow-logs',
  'example-web-static',
];
const EC2_INSTANCES = [
  'api-1',
  'api-2',
  'api-3',
  'bastion',
  'db-migrator',
  'grafana',
  'jenkins',
  'vpn-gateway',
  'web-1',
  'web-2',
  'web-3',
  'web-4',
  'worker-1',
  'worker-2',
];

function makeWorld(names: Prng, loginTimes: { alice: number; bob: number }): World {
  const orgId = `o-${names.chars(10, LOWER_ALNUM)}`;
  const key = (prefix: string) => `${prefix}${names.chars(16, UPPER_ALNUM)}`;
  const principalIds = {
    alice: key('AIDA'),
    ssoRole: key('AROA'),
    ciRole: key('AROA'),
    pipelineRole: key('AROA'),
    backupBot: key('AIDA'),
  };
  const ssoRoleName = `AWSReservedSSO_AdministratorAccess_${names.chars(16, HEX)}`;
  const bobPortalKey = key('ASIA');
  const keys = {
    ci: key('ASIA'),
    backupBot: key('AKIA'),
    pipeline: key('ASIA'),
  };
  const newAccessKeyId = key('AKIA');
  const hexId = (prefix: string) => `${prefix}-0${names.chars(16, HEX)}`;
  const byName = (list: string[], make: () => string) =>
    Object.fromEntries(list.map((name) => [name, make()]));
  const accessKeys = Object.fromEntries(
    Object.entries(KEYED_USERS).map(([user, count]) => [
      user,
      Array.from({ length: count }, (_, i) =>
        user === 'backup-bot' && i === 0 ? keys.backupBot : key('AKIA'),
      ),
    ]),
  );
  const inventory: Inventory = {
    users: IAM_USERS,
    accessKeys,
    groups: ['admins', 'billing', 'contractors', 'deployers', 'developers', 'readonly-auditors'],
    roles: [...IAM_ROLES, ssoRoleName, `AWSReservedSSO_ReadOnlyAccess_${names.chars(16, HEX)}`].sort((a, b) =>
      a.localeCompare(b),
    ),
    policies: ['ci-deploy-policy', 'data-pipeline-access', 'billing-readonly'],
    instanceProfiles: ['bastion-profile', 'web-app-profile'],
    buckets: S3_BUCKETS,
    trails: [TRAIL_NAME, 'security-audit-trail', 'data-events-trail'],
    secrets: [
      'prod/payments/db-password',
      'prod/payments/stripe-api-key',
      'prod/orders/db-password',
      'prod/smtp/credentials',
      'staging/orders/db-password',
      'ci/github-token',
    ],
    kmsKeys: byName(
      // Six keys: with more, the key list's ListAliases anchors outnumber the mapper's context
      // rounds (engine/map.ts MAX_CONTEXT_ROUNDS) and the list maps to the create-key wizard.
      ['cloudtrail-logs', 'prod-payments', 'prod-orders', 'backups-eu', 'data-lake', 'secrets-prod'],
      () => names.uuid(),
    ),
    detectors: { [PRIMARY_REGION]: names.chars(32, HEX), [SECONDARY_REGION]: names.chars(32, HEX) },
    findings: Array.from({ length: 12 }, () => names.chars(32, HEX)),
    instances: byName(EC2_INSTANCES, () => hexId('i')),
    securityGroups: byName(['api-sg', 'bastion-sg', 'db-sg', 'default', 'jenkins-sg', 'web-sg'], () =>
      hexId('sg'),
    ),
    volumes: byName(EC2_INSTANCES, () => hexId('vol')),
    snapshots: byName(
      [
        'payments-db-2026-02-28',
        'payments-db-2026-03-01',
        'orders-db-2026-03-01',
        'jenkins-home-weekly',
        'ami-build-base',
      ],
      () => hexId('snap'),
    ),
  };
  const bobPortalUser: PortalUser = {
    accountId: MANAGEMENT_ACCOUNT,
    userId: names.uuid(),
    identityStoreArn: `arn:aws:identitystore::${MANAGEMENT_ACCOUNT}:identitystore/d-${names.chars(10, HEX)}`,
    credentialId: names.chars(64, `${MIXED_ALNUM}_-`),
  };
  const aliceArn = `arn:aws:iam::${MANAGEMENT_ACCOUNT}:user/alice`;
  const bobArn = `arn:aws:sts::${MANAGEMENT_ACCOUNT}:assumed-role/${ssoRoleName}/bob@example.com`;
  return {
    orgId,
    alice: {
      name: 'alice',
      accountId: MANAGEMENT_ACCOUNT,
      identity: {
        type: 'IAMUser',
        principalId: principalIds.alice,
        arn: aliceArn,
        accountId: MANAGEMENT_ACCOUNT,
        userName: 'alice',
        sessionContext: {
          attributes: { creationDate: iso(loginTimes.alice), mfaAuthenticated: 'true' },
        },
      },
      sourceIp: '198.51.100.23',
      browser:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
      loginTime: loginTimes.alice,
    },
    bob: {
      name: 'bob',
      accountId: MANAGEMENT_ACCOUNT,
      identity: {
        type: 'AssumedRole',
        principalId: `${principalIds.ssoRole}:bob@example.com`,
        arn: bobArn,
        accountId: MANAGEMENT_ACCOUNT,
        sessionContext: {
          sessionIssuer: roleIssuer(
            principalIds.ssoRole,
            `arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/aws-reserved/sso.amazonaws.com/${SECONDARY_REGION}/${ssoRoleName}`,
            MANAGEMENT_ACCOUNT,
            ssoRoleName,
          ),
          attributes: { creationDate: iso(loginTimes.bob), mfaAuthenticated: 'false' },
        },
      },
      sourceIp: '203.0.113.41',
      browser: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:123.0) Gecko/20100101 Firefox/123.0',
      loginTime: loginTimes.bob,
    },
    bobPortalKey,
    bobPortalUser,
    keys,
    principalIds,
    ssoRoleName,
    inventory,
    newAccessKeyId,
  };
}

/** The defaults of what a page is about. */
const DEFAULT_FOCUS: Required<Focus> = {
  user: 'ci-deployer',
  role: 'ci-deploy',
  group: 'deployers',
  bucket: 'example-backups-eu',
  trail: TRAIL_NAME,
  secret: 'prod/payments/db-password',
  kmsKey: 'prod-payments',
  instance: 'bastion',
  securityGroup: 'bastion-sg',
  volume: 'bastion',
  snapshot: 'payments-db-2026-03-01',
};

/** Names and ids of what a page is about, for request parameters the generator fills in itself. */
export interface Resources {
  users: string[];
  userName: string;
  roleName: string;
  buckets: string[];
  bucketName: string;
  secretName: string;
  keyId: string;
  trailName: string;
  instanceId: string;
  groupName: string;
  detectorId: string;
  /** The user's existing access key, and the one the console creates. */
  accessKeyId: string;
  newAccessKeyId: string;
}

function resourcesFor(world: World, focus: Required<Focus>, region: string): Resources {
  const inv = world.inventory;
  return {
    users: inv.users,
    userName: focus.user,
    roleName: focus.role,
    buckets: inv.buckets,
    bucketName: focus.bucket,
    secretName: focus.secret,
    keyId: inv.kmsKeys[focus.kmsKey],
    trailName: focus.trail,
    instanceId: inv.instances[focus.instance],
    groupName: focus.group,
    detectorId: inv.detectors[region] ?? inv.detectors[PRIMARY_REGION],
    accessKeyId: inv.accessKeys[focus.user]?.[0] ?? Object.values(inv.accessKeys)[0][0],
    newAccessKeyId: world.newAccessKeyId,
  };
}

// ---------------------------------------------------------------------------------------------
// Request parameters the console would send

const IAM_USER_CALLS = new Set([
  'AddUserToGroup',
  'AttachUserPolicy',
  'CreateAccessKey',
  'CreateLoginProfile',
  'DeleteAccessKey',
  'DeleteLoginProfile',
  'DeleteUser',
  'DeleteUserPolicy',
  'DetachUserPolicy',
  'GetLoginProfile',
  'GetUser',
  'GetUserPolicy',
  'ListAccessKeys',
  'ListAttachedUserPolicies',
  'ListGroupsForUser',
  'ListMFADevices',
  'ListSSHPublicKeys',
  'ListServiceSpecificCredentials',
  'ListSigningCertificates',
  'ListUserPolicies',
  'ListUserTags',
  'PutUserPolicy',
  'UpdateAccessKey',
  'UpdateLoginProfile',
]);
const IAM_ROLE_CALLS = new Set([
  'GetRole',
  'ListAttachedRolePolicies',
  'ListInstanceProfilesForRole',
  'ListRolePolicies',
  'ListRoleTags',
]);
const SECRET_CALLS = new Set([
  'DeleteSecret',
  'DescribeSecret',
  'GetResourcePolicy',
  'GetSecretValue',
  'ListSecretVersionIds',
  'RestoreSecret',
]);
const KEY_CALLS = new Set(['DescribeKey', 'GetKeyPolicy', 'GetKeyRotationStatus', 'ListResourceTags']);
const TRAIL_CALLS = new Set([
  'GetEventSelectors',
  'GetInsightSelectors',
  'GetTrail',
  'GetTrailStatus',
  'ListTags',
  'StartLogging',
  'StopLogging',
]);

const trailArn = (region: string, name: string) =>
  `arn:aws:cloudtrail:${region}:${MANAGEMENT_ACCOUNT}:trail/${name}`;
const secretArn = (region: string, name: string) =>
  `arn:aws:secretsmanager:${region}:${MANAGEMENT_ACCOUNT}:secret:${name}-AbCdEf`;

/** Leaf field names a rule extracts from requestParameters (userName, bucketName, …). */
function extractedKeys(rule: SignalRule): Set<string> {
  const keys = new Set<string>();
  for (const extraction of Object.values(rule.extract)) {
    for (const field of Array.isArray(extraction.field) ? extraction.field : [extraction.field]) {
      if (field.startsWith('requestParameters.')) keys.add(field.split('.').at(-1)!.replace('[]', ''));
    }
  }
  return keys;
}

/**
 * The request parameters of one call; several objects when a list page fans the call out per item
 * (the IAM users page asks for every user's keys, the S3 buckets page for every bucket's ACL…).
 */
function requestParametersFor(
  ref: string,
  region: string,
  res: Resources,
  specific: Set<string>,
): (Record<string, unknown> | null)[] {
  const [service, name] = ref.split(':');
  switch (service) {
    case 'iam':
      if (IAM_USER_CALLS.has(name)) {
        const users = specific.has('userName') ? [res.userName] : res.users;
        return users.map((userName) => ({ userName }));
      }
      if (IAM_ROLE_CALLS.has(name)) return [{ roleName: res.roleName }];
      if (name === 'GetGroup') return [{ groupName: res.groupName }];
      if (name === 'ListPolicies') return [{ scope: 'All', onlyAttached: false, maxItems: 1000 }];
      if (name === 'GetAccessKeyLastUsed') return [{ accessKeyId: res.accessKeyId }];
      return [null];
    case 's3': {
      if (!/Bucket/.test(name) || name === 'ListBuckets') return [null];
      const buckets = specific.has('bucketName') ? [res.bucketName] : res.buckets;
      return buckets.map((bucketName) => ({ bucketName, Host: `${bucketName}.s3.${region}.amazonaws.com` }));
    }
    case 'secretsmanager':
      if (SECRET_CALLS.has(name)) return [{ secretId: secretArn(region, res.secretName) }];
      if (name === 'ListSecrets') return [{ maxResults: 100, sortOrder: 'asc' }];
      return [null];
    case 'kms':
      if (KEY_CALLS.has(name)) return [{ keyId: res.keyId }];
      if (name === 'ListAliases') return [{ limit: 100 }];
      return [null];
    case 'cloudtrail':
      if (TRAIL_CALLS.has(name)) return [{ name: trailArn(PRIMARY_REGION, res.trailName) }];
      if (name === 'DescribeTrails') return [{ trailNameList: [], includeShadowTrails: true }];
      return [null];
    case 'ec2':
      if (name === 'DescribeInstances') {
        return specific.has('instanceId')
          ? [{ instancesSet: { items: [{ instanceId: res.instanceId }] }, filterSet: {} }]
          : [{ maxResults: 1000, instancesSet: {}, filterSet: {} }];
      }
      if (name === 'DescribeInstanceAttribute')
        return [{ instanceId: res.instanceId, attribute: 'disableApiStop' }];
      return [null];
    case 'guardduty':
      return [name === 'ListDetectors' ? null : { detectorId: res.detectorId }];
    case 'health':
      return [{ aggregateField: 'eventTypeCategory', filter: { eventStatusCodes: ['open', 'upcoming'] } }];
    case 'ce':
      return [
        {
          timePeriod: { start: '2026-02-01', end: '2026-03-02' },
          granularity: 'MONTHLY',
          metrics: ['UnblendedCost'],
        },
      ];
    default:
      return [null];
  }
}

/** A value for a request parameter the rule extracts, when the table above did not set it. */
function valueForKey(key: string, region: string, res: Resources): unknown {
  switch (key) {
    case 'userName':
      return res.userName;
    case 'roleName':
      return res.roleName;
    case 'bucketName':
      return res.bucketName;
    case 'secretId':
      return secretArn(region, res.secretName);
    case 'keyId':
      return res.keyId;
    case 'instanceId':
      return res.instanceId;
    case 'groupName':
      return res.groupName;
    case 'accessKeyId':
      return res.accessKeyId;
    case 'name':
    case 'trailARN':
    case 'trailNameList':
      return trailArn(PRIMARY_REGION, res.trailName);
    default:
      return undefined;
  }
}

function setPath(root: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split('.');
  let node = root;
  segments.forEach((raw, i) => {
    const spread = raw.endsWith('[]');
    const segment = spread ? raw.slice(0, -2) : raw;
    if (i === segments.length - 1) {
      node[segment] = spread ? [value] : value;
      return;
    }
    const child = node[segment];
    if (!child || typeof child !== 'object' || Array.isArray(child)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  });
}

// ---------------------------------------------------------------------------------------------
// Records

const READ_ONLY = /^(Get|List|Describe|Lookup|Head|Search|Generate|Validate|BatchGet|Check)/;

function hostFor(service: string, region: string): string {
  if (GLOBAL_SERVICES.has(service)) return `${service}.amazonaws.com`;
  return `${service}.${region}.amazonaws.com`;
}

interface CallOptions {
  region: string;
  requestParameters: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  userAgent: string;
  sourceIp: string;
  console: boolean;
  errorCode?: string;
  errorMessage?: string;
  data?: { resources: Record<string, unknown>[]; additionalEventData?: Record<string, unknown> };
}

function apiCall(
  ids: IdSource,
  identity: UserIdentity,
  accountId: string,
  ref: string,
  time: number,
  options: CallOptions,
): CloudTrailRecord {
  const [service, eventName] = ref.split(':');
  const internal = options.userAgent === 'AWS Internal';
  const record: CloudTrailRecord = {
    eventVersion: '1.08',
    userIdentity: structuredClone(identity),
    eventTime: iso(time),
    eventSource: `${service}.amazonaws.com`,
    eventName,
    awsRegion: options.region,
    sourceIPAddress: options.sourceIp,
    userAgent: options.userAgent,
  };
  if (options.errorCode) {
    record.errorCode = options.errorCode;
    record.errorMessage = options.errorMessage ?? null;
  }
  record.requestParameters = options.requestParameters;
  record.responseElements = options.responseElements ?? null;
  if (options.data?.additionalEventData) record.additionalEventData = options.data.additionalEventData;
  record.requestID = ids.requestId(service);
  record.eventID = ids.eventId();
  record.readOnly = READ_ONLY.test(eventName);
  if (options.data) record.resources = options.data.resources;
  record.eventType = 'AwsApiCall';
  record.managementEvent = !options.data;
  record.recipientAccountId = accountId;
  record.eventCategory = options.data ? 'Data' : 'Management';
  if (!internal) {
    record.tlsDetails = {
      tlsVersion: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      clientProvidedHostHeader: hostFor(service, options.region),
    };
  }
  if (options.console) record.sessionCredentialFromConsole = 'true';
  return record;
}

// ---------------------------------------------------------------------------------------------
// Bursts: the API calls of one console action

interface BurstItem {
  ref: string;
  /** Seconds after the burst starts. */
  at: number;
  requestParameters: Record<string, unknown> | null;
  /** Record fields a rule test sets (they win over the generated ones). */
  fields?: Record<string, unknown>;
  /** Made by this console back end for the person: its agent and address, no console flag. */
  backEnd?: BackEnd;
}

interface Burst {
  label: string;
  actor: string;
  eventIds: string[];
}

/** Spreads n calls over the first seconds of the rule's window, the way the console fires them. */
function spread(count: number, rule: SignalRule): number[] {
  const seconds = Math.min(Math.floor(rule.afterMs / 1000), 3);
  return Array.from({ length: count }, (_, i) => (count < 2 ? 0 : Math.round((i * seconds) / (count - 1))));
}

function synthesizedItems(rule: SignalRule, refs: string[], region: string, res: Resources): BurstItem[] {
  const specific = extractedKeys(rule);
  const calls: { ref: string; requestParameters: Record<string, unknown> | null }[] = [];
  for (const ref of refs) {
    for (const requestParameters of requestParametersFor(ref, region, res, specific)) {
      calls.push({ ref, requestParameters: requestParameters ? structuredClone(requestParameters) : null });
    }
  }
  // Make sure what the rule extracts is there (its summary names the user, bucket, trail…).
  for (const extraction of Object.values(rule.extract)) {
    const fields = (Array.isArray(extraction.field) ? extraction.field : [extraction.field]).filter((f) =>
      f.startsWith('requestParameters.'),
    );
    if (fields.length === 0) continue;
    const targets = calls.filter(
      (c) => !extraction.event || extraction.event === '*' || c.ref === extraction.event,
    );
    const has = targets.some((c) =>
      fields.some((f) => {
        let node: unknown = { requestParameters: c.requestParameters };
        for (const segment of f.replaceAll('[]', '').split('.')) {
          node = node && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
        }
        return node !== undefined && node !== null && !(Array.isArray(node) && node.length === 0);
      }),
    );
    const field = fields[0];
    const value = valueForKey(field.split('.').at(-1)!.replace('[]', ''), region, res);
    if (has || value === undefined || targets.length === 0) continue;
    const target = targets[0];
    target.requestParameters ??= {};
    setPath({ requestParameters: target.requestParameters }, field, value);
  }
  const offsets = spread(calls.length, rule);
  return calls.map((call, i) => ({ ...call, at: offsets[i] }));
}

// ---------------------------------------------------------------------------------------------
// Bursts from a rule's inline tests, with the organization's names

/*
 * Inline tests name example resources (alice, example-bucket, i-0123456789abcdef0, …). A burst
 * built from a test names the inventory's instead: each example identifier becomes a placeholder
 * `⟦kind#n⟧` (the n-th distinct value of that kind, what the page is about first); a list page
 * then repeats its per-resource calls and per-resource array items for every resource of the
 * listed kinds; finally the placeholders are resolved to inventory names.
 */

interface Found {
  kind: string;
  id: string;
}

const HEX_ID =
  /(?<![A-Za-z0-9-])(i|sg|sgr|snap|vol|ami|vpc|subnet|eni|rtb|acl|igw|pcx|lt|eipalloc)-[0-9a-f]{8,17}(?![A-Za-z0-9])/g;
const HEX_KINDS: Record<string, string> = {
  i: 'instance',
  sg: 'securityGroup',
  vol: 'volume',
  snap: 'snapshot',
};
const ACCESS_KEY_ID = /(?<![A-Z0-9])AKIA[A-Z0-9]{16}(?![A-Z0-9])/g;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Names AWS owns, which stay as they are: service-linked and SSO roles, KMS aliases. */
const AWS_OWNED = /^(AWSServiceRole|AWSReservedSSO|aws-service-role|alias\/)/;
const ARN_KINDS: [RegExp, string][] = [
  [/^arn:aws:iam::\d{12}:user\/(?:[^/]+\/)*([^/]+)$/, 'user'],
  [/^arn:aws:iam::\d{12}:role\/(?:[^/]+\/)*([^/]+)$/, 'role'],
  [/^arn:aws:iam::\d{12}:policy\/(?:[^/]+\/)*([^/]+)$/, 'policy'],
  [/^arn:aws:s3:::([^/]+)/, 'bucket'],
  [/:trail\/([^/]+)$/, 'trail'],
  [/:secret:(.+)-[A-Za-z0-9]{6}$/, 'secret'],
  [/:key\/([0-9a-f-]{36})$/, 'kmsKey'],
  [/:detector\/([0-9a-f]{32})$/, 'detector'],
];
/** Request fields that hold a resource's plain name. */
const KEY_KINDS: Record<string, string> = {
  userName: 'user',
  roleName: 'role',
  groupName: 'group',
  bucketName: 'bucket',
  bucket: 'bucket',
  s3BucketName: 'bucket',
  trailName: 'trail',
  secretId: 'secret',
  SecretARN: 'secret',
  detectorId: 'detector',
  findingIds: 'finding',
  instanceProfileName: 'instanceProfile',
};
/** Record fields that carry resource names. */
const DATA_FIELDS = ['requestParameters', 'responseElements', 'additionalEventData'];
const PLACEHOLDER = /⟦([A-Za-z:]+)#(\d+)⟧/g;

/** Example identifiers in one string of a test event. */
function findIds(value: string, key: string, path: string): Found[] {
  const found: Found[] = [];
  for (const m of value.matchAll(HEX_ID)) found.push({ kind: HEX_KINDS[m[1]] ?? `id:${m[1]}`, id: m[0] });
  for (const m of value.matchAll(ACCESS_KEY_ID)) {
    // The key the console just created is a new one, not one of the inventory's.
    const kind = path === 'responseElements.accessKey.accessKeyId' ? 'newAccessKey' : 'accessKey';
    found.push({ kind, id: m[0] });
  }
  if (value.startsWith('arn:')) {
    for (const [pattern, kind] of ARN_KINDS) {
      const m = pattern.exec(value);
      if (m) found.push({ kind, id: m[1] });
    }
  } else if (key === 'keyId') {
    if (UUID.test(value)) found.push({ kind: 'kmsKey', id: value });
  } else if (KEY_KINDS[key] && found.length === 0) {
    found.push({ kind: KEY_KINDS[key], id: value });
  }
  return found.filter((f) => !AWS_OWNED.test(f.id));
}

type Visit = (value: string, key: string, path: string, inArray: boolean) => string;

/** Copies a JSON value, passing every string through `visit` (arrays give their key to their items). */
function mapStrings(node: unknown, visit: Visit, key = '', path = '', inArray = false): unknown {
  if (typeof node === 'string') return visit(node, key, path, inArray);
  if (Array.isArray(node)) return node.map((item) => mapStrings(item, visit, key, `${path}[]`, true));
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [k, mapStrings(v, visit, k, path ? `${path}.${k}` : k, inArray)]),
    );
  }
  return node;
}

/** Applies `visit` to the strings of an event's data fields (requestParameters, …). */
function mapData(fields: Record<string, unknown>, visit: Visit): Record<string, unknown> {
  const out = { ...fields };
  for (const field of DATA_FIELDS) if (field in out) out[field] = mapStrings(out[field], visit, field, field);
  return out;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Values the rule extracts as a single value (the page's subject): their identifiers sort first. */
function subjectValues(
  rule: SignalRule,
  events: { ref: string; fields: Record<string, unknown> }[],
): string[] {
  const values: string[] = [];
  for (const extraction of Object.values(rule.extract)) {
    if ((extraction.as ?? 'first') !== 'first') continue;
    const fields = Array.isArray(extraction.field) ? extraction.field : [extraction.field];
    for (const event of events) {
      if (extraction.event && extraction.event !== '*' && event.ref !== extraction.event) continue;
      for (const field of fields) append(values, stringValuesAt(event.fields, field));
    }
  }
  return values;
}

interface TestEvent {
  ref: string;
  at: number;
  fields: Record<string, unknown>;
}

/** The names the placeholders of a kind resolve to: the page's subject first, or the inventory's order for a list. */
function targetsOf(
  kind: string,
  world: World,
  focus: Required<Focus>,
  region: string,
  list: readonly string[],
): string[] {
  const inv = world.inventory;
  const listed = list.includes(kind);
  const first = (subject: string, all: string[]) =>
    listed ? all : [subject, ...all.filter((v) => v !== subject)];
  switch (kind) {
    case 'user':
      return first(focus.user, inv.users);
    case 'accessKey': {
      // Listed on the users page: every key; on one user's page: that user's keys.
      const all = Object.values(inv.accessKeys).flat();
      const own = inv.accessKeys[focus.user] ?? [];
      if (listed) return list.includes('user') ? all : own;
      return [...own, ...all.filter((k) => !own.includes(k))];
    }
    case 'newAccessKey':
      return [world.newAccessKeyId];
    case 'group':
      return first(focus.group, inv.groups);
    case 'role':
      return first(focus.role, inv.roles);
    case 'policy':
      return inv.policies;
    case 'instanceProfile':
      return first(`${focus.instance}-profile`, inv.instanceProfiles);
    case 'bucket':
      return first(focus.bucket, inv.buckets);
    case 'trail':
      return first(focus.trail, inv.trails);
    case 'secret':
      return first(focus.secret, inv.secrets);
    case 'kmsKey':
      return first(inv.kmsKeys[focus.kmsKey], Object.values(inv.kmsKeys));
    case 'detector':
      return [inv.detectors[region] ?? inv.detectors[PRIMARY_REGION]];
    case 'finding':
      return inv.findings;
    case 'instance':
      return first(inv.instances[focus.instance], Object.values(inv.instances));
    case 'securityGroup':
      return first(inv.securityGroups[focus.securityGroup], Object.values(inv.securityGroups));
    case 'volume':
      return first(inv.volumes[focus.volume], Object.values(inv.volumes));
    case 'snapshot':
      return first(inv.snapshots[focus.snapshot], Object.values(inv.snapshots));
    default:
      return [];
  }
}

/** An identifier for kinds the inventory does not hold (AMIs, VPCs, rule ids…): stable per kind and index. */
function derivedId(kind: string, index: number): string {
  const prefix = kind.replace(/^id:/, '');
  return `${prefix}-0${sha256(`${SEED}/${kind}/${index}`).slice(0, 16)}`;
}

/** The distinct placeholder indexes of `kind` in a JSON value. */
function indexesOf(node: unknown, kind: string): Set<string> {
  const found = [...JSON.stringify(node).matchAll(PLACEHOLDER)].filter((m) => m[1] === kind);
  return new Set(found.map((m) => m[2]));
}

/**
 * Repeats, once per resource (n in all), the array items that name one resource of `kind`
 * (innermost arrays first: a filter's value list grows, not the list of filters).
 */
function expandArrays(node: unknown, kind: string, n: number): unknown {
  if (Array.isArray(node)) {
    const items = node.map((item) => expandArrays(item, kind, n));
    const single = items.map((item) => indexesOf(item, kind).size === 1);
    const first = single.indexOf(true);
    if (first < 0) return items;
    const index = [...indexesOf(items[first], kind)][0];
    const template = JSON.stringify(items[first]);
    const copies = Array.from({ length: n }, (_, j) =>
      JSON.parse(template.replaceAll(`⟦${kind}#${index}⟧`, `⟦${kind}#${j}⟧`)),
    );
    const others = (from: number, to?: number) => items.slice(from, to).filter((_, i) => !single[from + i]);
    return [...others(0, first), ...copies, ...others(first + 1)];
  }
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, expandArrays(v, kind, n)]));
  }
  return node;
}

/** The placeholder index of `kind` an event is about, when it names exactly one resource outside arrays. */
function perResourceIndex(event: TestEvent, kind: string): string | null {
  const indexes = new Set<string>();
  let inArrays = false;
  mapData(event.fields, (value, _key, _path, inArray) => {
    for (const m of value.matchAll(PLACEHOLDER)) {
      if (m[1] !== kind) continue;
      indexes.add(m[2]);
      inArrays ||= inArray;
    }
    return value;
  });
  return indexes.size === 1 && !inArrays ? [...indexes][0] : null;
}

/**
 * The burst of one positive inline test, with the inventory's names; for a list page, its
 * per-resource calls repeated for every listed resource over `spreadSeconds`. Null when the test
 * shows none of a listed kind.
 */
function testBurst(
  rule: SignalRule,
  test: RuleTest,
  step: StoryStep,
  world: World,
  focus: Required<Focus>,
  spreadSeconds: number,
): TestEvent[] | null {
  let events: TestEvent[] = test.events.map(({ event, at, ...fields }) => ({
    ref: event,
    at: at ?? 0,
    fields: structuredClone(fields),
  }));
  // The region the console is in (trails keep their home region).
  if (step.region !== PRIMARY_REGION) {
    events = events.map((e) =>
      GLOBAL_SERVICES.has(e.ref.split(':')[0])
        ? e
        : {
            ...e,
            fields: mapData(e.fields, (value) =>
              value.includes(':trail/')
                ? value
                : value.replace(/(?<![a-z0-9-])us-east-1(?![a-z0-9-])/g, step.region),
            ),
          },
    );
  }
  // Example identifiers → placeholders, the page's subject first within each kind.
  const kinds = new Map<string, string>();
  const order: string[] = [];
  for (const event of events) {
    mapData(event.fields, (value, key, path) => {
      for (const { kind, id } of findIds(value, key, path)) {
        if (!kinds.has(id)) order.push(id);
        if (!kinds.has(id) || kind === 'newAccessKey') kinds.set(id, kind);
      }
      return value;
    });
  }
  const subjects = subjectValues(rule, events);
  const isSubject = (id: string) => subjects.some((value) => value.includes(id));
  const ranked = [...order.filter(isSubject), ...order.filter((id) => !isSubject(id))];
  const replacement = new Map<string, string>([
    ['123456789012', MANAGEMENT_ACCOUNT],
    ['o-exampleorgid', world.orgId],
    // A list's "next page" token.
    ['EXAMPLEMARKER', `AAE${sha256(`${SEED}/marker`).slice(0, 40)}`],
  ]);
  const counters = new Map<string, number>();
  for (const id of ranked) {
    const kind = kinds.get(id)!;
    const n = counters.get(kind) ?? 0;
    counters.set(kind, n + 1);
    replacement.set(id, `⟦${kind}#${n}⟧`);
  }
  const alternatives = [...replacement.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = new RegExp(
    `(?<![A-Za-z0-9_-])(${alternatives.join('|')})(?=(-[A-Za-z0-9]{6})?(?:$|[^A-Za-z0-9_-]))`,
    'g',
  );
  events = events.map((e) => ({
    ...e,
    fields: mapData(e.fields, (value) =>
      value.replace(pattern, (match: string, id: string, suffix: string | undefined) =>
        // Only a secret's ARN ends in its name plus a six-character suffix.
        suffix && kinds.get(id) !== 'secret' ? match : replacement.get(id)!,
      ),
    ),
  }));
  // A list page: every listed resource gets the calls (and array items) the test shows for one.
  for (const kind of step.list ?? []) {
    if (!counters.has(kind)) return null;
    const n = targetsOf(kind, world, focus, step.region, step.list ?? []).length;
    events = events.map((e) => ({
      ...e,
      fields: expandArrays(e.fields, kind, n) as Record<string, unknown>,
    }));
    const single = events.map((e) => perResourceIndex(e, kind));
    const prototypes = new Map<string, { index: string; events: TestEvent[] }>();
    events.forEach((e, i) => {
      const index = single[i];
      if (index === null) return;
      const prototype = prototypes.get(e.ref) ?? { index, events: [] };
      if (prototype.index === index) prototype.events.push(e);
      prototypes.set(e.ref, prototype);
    });
    const repeated: TestEvent[] = [];
    for (let j = 0; j < n; j++) {
      const shift = Math.floor((j * spreadSeconds) / n);
      for (const { index, events: group } of prototypes.values()) {
        for (const e of group) {
          const text = JSON.stringify(e.fields).replaceAll(`⟦${kind}#${index}⟧`, `⟦${kind}#${j}⟧`);
          repeated.push({ ref: e.ref, at: e.at + shift, fields: JSON.parse(text) });
        }
      }
    }
    events = [...events.filter((_, i) => single[i] === null), ...repeated];
  }
  // Placeholders → names.
  const resolved = new Map<string, string[]>();
  const nameOf = (kind: string, index: number) => {
    if (!resolved.has(kind)) resolved.set(kind, targetsOf(kind, world, focus, step.region, step.list ?? []));
    const names = resolved.get(kind)!;
    return names.length > 0 ? names[index % names.length] : derivedId(kind, index);
  };
  return events.map((e) => ({
    ...e,
    fields: mapData(e.fields, (value) =>
      value.replace(PLACEHOLDER, (_match: string, kind: string, index: string) =>
        nameOf(kind, Number(index)),
      ),
    ),
  }));
}

/** How far apart a list page's per-resource calls may be, most spread out first (within the rule's window). */
function spreads(rule: SignalRule, test: RuleTest): number[] {
  const last = maxOf(
    test.events.map((e) => e.at ?? 0),
    0,
  );
  const widest = Math.max(0, Math.min(20, Math.floor(rule.afterMs / 1000 - last - 1)));
  return [...new Set([widest, Math.floor(widest / 2), 0])];
}

// ---------------------------------------------------------------------------------------------
// Building the dataset

/**
 * Which records form one console sign-in (failed ones too), or bob's visit to the IAM Identity
 * Center portal before his console sign-in: the generator's own bookkeeping, not the engine's.
 */
export interface SessionTruth {
  kind: 'console' | 'portal';
  /** The sign-in's story (alice, bob, alice2), `failed` or `bob-portal`. */
  name: string;
  /** userIdentity.arn of its console calls; null when its records name none (failed sign-in, portal). */
  principalArn: string | null;
  /** sessionContext.attributes.creationDate of its console calls: its ConsoleLogin's time. */
  creationDate: string | null;
  /** eventIDs of its records, sorted: sign-in events, console calls, console back-end calls. */
  eventIds: string[];
}

interface Dataset {
  world: World;
  records: CloudTrailRecord[];
  bursts: Burst[];
  /** Calls of scripted steps: console pages no rule describes. */
  unclaimed: Burst[];
  truth: SessionTruth[];
  /** The temporary keys each sign-in's console calls use, in the order issued. */
  keys: Record<SignInName, string[]>;
  /** The records of the Insights file (not in `records`: not API events). */
  insight: CloudTrailRecord[];
  /** eventIDs of records delivered twice (CloudTrail does that now and then). */
  redelivered: string[];
  /** Steps whose burst is not the first candidate (their rule's largest positive test). */
  notes: string[];
}

/** Fields a rule test may not override: they tie the record to its session and its place in the trail. */
const FIXED_FIELDS = new Set([
  'userIdentity',
  'eventID',
  'eventTime',
  'recipientAccountId',
  'sessionCredentialFromConsole',
]);

function consoleRecord(
  ids: IdSource,
  actor: Actor,
  item: BurstItem,
  time: number,
  region: string,
  res: Resources,
): CloudTrailRecord {
  const [service] = item.ref.split(':');
  const internal =
    INTERNAL_SERVICES.has(service) ||
    item.ref.endsWith('Internal') ||
    item.fields?.userAgent === 'AWS Internal';
  const effectiveRegion = GLOBAL_SERVICES.has(service) ? PRIMARY_REGION : region;
  let responseElements: Record<string, unknown> | null = null;
  if (item.ref === 'iam:CreateAccessKey') {
    responseElements = {
      accessKey: {
        userName: (item.requestParameters as { userName?: string } | null)?.userName ?? res.userName,
        accessKeyId: res.newAccessKeyId,
        status: 'Active',
        createDate: iso(time),
      },
    };
  }
  const record = apiCall(ids, actor.identity, actor.accountId, item.ref, time, {
    region: effectiveRegion,
    requestParameters: item.requestParameters,
    responseElements,
    userAgent: internal ? 'AWS Internal' : actor.browser,
    sourceIp: internal ? 'AWS Internal' : actor.sourceIp,
    console: true,
  });
  for (const [key, value] of Object.entries(item.fields ?? {})) {
    if (!FIXED_FIELDS.has(key)) record[key] = structuredClone(value);
  }
  if (item.backEnd) {
    record.sourceIPAddress = BACK_ENDS[item.backEnd].sourceIp;
    record.userAgent = BACK_ENDS[item.backEnd].userAgent;
    delete record.tlsDetails;
    delete record.sessionCredentialFromConsole;
  }
  return record;
}

/** The events a synthesized burst starts from (anchor + required) and the optional ones it may add. */
function ruleRefs(
  rule: SignalRule,
  anchor: string | undefined,
): { base: string[]; optional: string[] } | null {
  const start = anchor ?? [...rule.anchors].find((a) => a !== ANY_EVENT);
  if (!start) return null;
  if (!rule.anchors.has(start)) throw new Error(`make-example: ${start} is not an anchor of ${rule.label}`);
  const base = [...new Set([start, ...rule.required])];
  // Other anchors are alternatives to the chosen one, not part of the same click.
  const optional = [...rule.members].filter(
    (m) => !base.includes(m) && !rule.anchors.has(m) && m !== ANY_EVENT,
  );
  return { base, optional };
}

/** What a step's page is about: its `on` names (checked against the inventory) over the defaults. */
function focusOf(step: StoryStep, world: World): Required<Focus> {
  const focus = { ...DEFAULT_FOCUS, ...step.on };
  const inv = world.inventory;
  const known: Record<keyof Focus, readonly string[]> = {
    user: inv.users,
    role: inv.roles,
    group: inv.groups,
    bucket: inv.buckets,
    trail: inv.trails,
    secret: inv.secrets,
    kmsKey: Object.keys(inv.kmsKeys),
    instance: Object.keys(inv.instances),
    securityGroup: Object.keys(inv.securityGroups),
    volume: Object.keys(inv.volumes),
    snapshot: Object.keys(inv.snapshots),
  };
  for (const [kind, name] of Object.entries(focus) as [keyof Focus, string][]) {
    if (!known[kind].includes(name))
      throw new Error(`make-example: no ${kind} named ${name} (${step.label})`);
  }
  return focus;
}

interface Candidate {
  items: BurstItem[];
  /** Where the burst comes from, for the notes. */
  source: string;
}

/**
 * Candidate bursts for a step, best first: the chosen (or largest) positive inline test with the
 * inventory's names, list pages spread out most first; then, without a chosen test, the rule's
 * events synthesized.
 */
function* candidateBursts(
  rule: SignalRule,
  step: StoryStep,
  world: World,
  focus: Required<Focus>,
  res: Resources,
): Generator<Candidate> {
  const specific = extractedKeys(rule);
  const positive = rule.tests.filter((t) => t.maps && !(t.context && t.context.length > 0));
  const tests = step.test
    ? positive.filter((t) => t.name === step.test)
    : [...positive].sort((a, b) => b.events.length - a.events.length);
  if (step.test && tests.length === 0)
    throw new Error(`make-example: ${rule.label} has no positive inline test named "${step.test}"`);
  for (const test of tests) {
    for (const spreadSeconds of step.list ? spreads(rule, test) : [0]) {
      const events = testBurst(rule, test, step, world, focus, spreadSeconds);
      if (!events) continue;
      yield {
        source: `test "${test.name}"${step.list ? ` spread over ${spreadSeconds}s` : ''}`,
        items: events.map(({ ref, at, fields }) => ({
          ref,
          at,
          requestParameters: requestParametersFor(ref, step.region, res, specific)[0],
          fields,
        })),
      };
    }
  }
  if (step.test) return;
  const refs = ruleRefs(rule, step.anchor);
  if (!refs) return;
  if (refs.optional.length > 0)
    yield {
      source: 'all its events',
      items: synthesizedItems(rule, [...refs.base, ...refs.optional], step.region, res),
    };
  yield {
    source: 'its anchor and required events',
    items: synthesizedItems(rule, refs.base, step.region, res),
  };
}

/** True when the burst alone maps to exactly one signal of the rule, with every event in it. */
function mapsAlone(
  rule: SignalRule,
  items: BurstItem[],
  actor: Actor,
  region: string,
  res: Resources,
  index: RuleIndex,
): boolean {
  let n = 0;
  const probeIds: IdSource = {
    eventId: () => `probe-${String(n++).padStart(5, '0')}`,
    requestId: () => 'probe',
  };
  const events = items.map((item, i) =>
    toTrailEvent(consoleRecord(probeIds, actor, item, BASE_TIME + item.at * 1000, region, res), 'probe', i),
  );
  const { matches, unmapped } = mapSession(events, index);
  return unmapped.length === 0 && matches.length === 1 && matches[0].rule.label === rule.label;
}

/** A back-end step's S3 console calls, made by the S3 console's back end instead. */
function withBackEnd(step: StoryStep, items: BurstItem[]): BurstItem[] {
  if (!step.backEnd) return items;
  const marked = items.map((item) =>
    /^\[S3Console\//.test(String(item.fields?.userAgent ?? '')) ? { ...item, backEnd: step.backEnd } : item,
  );
  if (!marked.some((item) => item.backEnd))
    throw new Error(`make-example: ${step.label} has no S3 console calls for the back end to make`);
  return marked;
}

/**
 * The burst for a step: the first candidate that maps alone to the rule, else its anchor + required
 * events plus every optional one that keeps it so. Throws, naming the rule, when nothing does.
 */
function burstFor(
  rule: SignalRule,
  step: StoryStep,
  actor: Actor,
  world: World,
  index: RuleIndex,
  notes: string[],
): { items: BurstItem[]; res: Resources } {
  const { region } = step;
  const focus = focusOf(step, world);
  const res = resourcesFor(world, focus, region);
  const tried: string[] = [];
  for (const candidate of candidateBursts(rule, step, world, focus, res)) {
    const items = withBackEnd(step, candidate.items);
    if (mapsAlone(rule, items, actor, region, res, index)) {
      if (tried.length > 0)
        notes.push(
          `${actor.name}: ${rule.label} from ${candidate.source} (${tried.join('; ')} did not map alone)`,
        );
      return { items, res };
    }
    tried.push(candidate.source);
  }
  const refs = step.test ? null : ruleRefs(rule, step.anchor);
  if (refs && mapsAlone(rule, synthesizedItems(rule, refs.base, region, res), actor, region, res, index)) {
    const chosen = [...refs.base];
    for (const optional of refs.optional) {
      const items = synthesizedItems(rule, [...chosen, optional], region, res);
      if (mapsAlone(rule, items, actor, region, res, index)) chosen.push(optional);
    }
    notes.push(`${actor.name}: ${rule.label} synthesized (${tried.join('; ')} did not map alone)`);
    return { items: synthesizedItems(rule, chosen, region, res), res };
  }
  const why = rule.tests.some((t) => t.maps)
    ? `none of its candidate bursts maps alone (${tried.join('; ')})`
    : rule.conditions.size > 0
      ? 'it has `when` conditions and no positive inline test to build events from'
      : 'its anchor + required events map to another rule';
  throw new Error(`make-example: cannot build a burst for ${rule.label} (${rule.file}): ${why}`);
}

/** Rules that could claim events around a record: those anchored on it (or on any event, if it qualifies). */
function anchoredRules(record: CloudTrailRecord, ref: string, index: RuleIndex): SignalRule[] {
  const rules = [...(index.byAnchor.get(ref) ?? [])];
  for (const rule of index.byAnchor.get(ANY_EVENT) ?? []) {
    const conditions = rule.conditions.get(ANY_EVENT) ?? [];
    if (conditions.every((test) => test(record as Record<string, unknown>))) rules.push(rule);
  }
  return rules;
}

/** Whether a rule's candidates care about events of these kinds (absorb them, or are ruled out by them). */
function touches(rule: SignalRule, refs: ReadonlySet<string>): boolean {
  if (rule.members.has(ANY_EVENT)) return true;
  for (const ref of refs) if (rule.members.has(ref) || rule.forbidden.has(ref)) return true;
  return false;
}

/**
 * The earliest start of a burst so that no rule anchored on an earlier event of the session can
 * reach into it, and no rule anchored on one of its events can reach back into earlier events.
 */
function earliestStart(
  previous: { ref: string; time: number; record: CloudTrailRecord }[],
  items: BurstItem[],
  probe: CloudTrailRecord[],
  index: RuleIndex,
): number {
  const refs = new Set(items.map((i) => i.ref));
  const previousRefs = new Set(previous.map((p) => p.ref));
  const firstAt = minOf(items.map((i) => i.at)) * 1000;
  let earliest = -Infinity;
  for (const event of previous) {
    for (const rule of anchoredRules(event.record, event.ref, index)) {
      if (touches(rule, refs)) earliest = Math.max(earliest, event.time + rule.afterMs + 1000 - firstAt);
    }
  }
  items.forEach((item, i) => {
    for (const rule of anchoredRules(probe[i], item.ref, index)) {
      if (!touches(rule, previousRefs)) continue;
      const last = maxOf(
        previous
          .filter((p) => rule.members.has(ANY_EVENT) || rule.members.has(p.ref) || rule.forbidden.has(p.ref))
          .map((p) => p.time),
      );
      earliest = Math.max(earliest, last + rule.beforeMs + 1000 - item.at * 1000);
    }
  });
  return earliest;
}

interface Timeline {
  /** The sign-in's records: its sign-in events and its console calls. */
  records: CloudTrailRecord[];
  /** Its console calls, without their access keys yet (see assignKeys). */
  calls: CloudTrailRecord[];
  bursts: Burst[];
  /** The calls of scripted steps, which no rule claims (label: the step's script). */
  unclaimed: Burst[];
  end: number;
}

/** Rules that describe a specific console action (not a generic fallback for calls no rule claims). */
const isSpecific = (label: string) => !label.startsWith('Generic');

/** A scripted step's calls, checked to be ones no rule claims when they are made alone. */
function scriptedItems(step: ScriptedStep, actor: Actor, world: World, index: RuleIndex): BurstItem[] {
  const items: BurstItem[] = step.calls.map((call) => ({
    ref: call.ref,
    at: call.at,
    requestParameters: call.requestParameters,
    ...(call.responseElements ? { fields: { responseElements: call.responseElements } } : {}),
    ...(call.backEnd ? { backEnd: call.backEnd } : {}),
  }));
  const res = resourcesFor(world, DEFAULT_FOCUS, step.region);
  let n = 0;
  const probeIds: IdSource = {
    eventId: () => `probe-${String(n++).padStart(5, '0')}`,
    requestId: () => 'probe',
  };
  const events = items.map((item, i) =>
    toTrailEvent(
      consoleRecord(probeIds, actor, item, BASE_TIME + item.at * 1000, step.region, res),
      'probe',
      i,
    ),
  );
  const claimed = mapSession(events, index).matches.filter((m) => isSpecific(m.rule.label));
  if (claimed.length > 0) {
    throw new Error(
      `make-example: "${step.script}" is scripted as a page no rule describes, but ${claimed.map((m) => m.rule.label).join(', ')} maps it: make it a story step`,
    );
  }
  return items;
}

function playStory(
  actor: Actor,
  steps: Step[],
  start: { time: number; records: CloudTrailRecord[]; eventIds: string[] },
  world: World,
  rules: Map<string, SignalRule>,
  index: RuleIndex,
  ids: IdSource,
  timing: Prng,
  notes: string[],
): Timeline {
  const records = [...start.records];
  const calls: CloudTrailRecord[] = [];
  const bursts: Burst[] = [{ label: 'ConsoleLogin', actor: actor.name, eventIds: start.eventIds }];
  const unclaimed: Burst[] = [];
  const previous = start.records.map((record) => ({
    ref: `signin:${record.eventName as string}`,
    time: Date.parse(record.eventTime as string),
    record,
  }));
  let last = { start: start.time, end: start.time };
  const play = (step: Step) => {
    let items: BurstItem[];
    let res: Resources;
    if (isScripted(step)) {
      items = scriptedItems(step, actor, world, index);
      res = resourcesFor(world, DEFAULT_FOCUS, step.region);
    } else {
      const rule = rules.get(step.label);
      if (!rule)
        throw new Error(`make-example: no rule has the label ${step.label} (story of ${actor.name})`);
      ({ items, res } = burstFor(rule, step, actor, world, index, notes));
    }
    const probe = items.map((item) => consoleRecord(prngIds(new Prng(0)), actor, item, 0, step.region, res));
    // A person reads the page a while before the next click; and no two actions may reach into each other.
    const think = last.start + timing.int(25, 90) * 1000;
    const time = Math.max(think, last.end + 5000, earliestStart(previous, items, probe, index));
    const burstRecords = items.map((item) =>
      consoleRecord(ids, actor, item, time + item.at * 1000, step.region, res),
    );
    append(records, burstRecords);
    append(calls, burstRecords);
    append(
      previous,
      burstRecords.map((record, i) => ({ ref: items[i].ref, time: time + items[i].at * 1000, record })),
    );
    (isScripted(step) ? unclaimed : bursts).push({
      label: isScripted(step) ? step.script : step.label,
      actor: actor.name,
      eventIds: burstRecords.map((r) => r.eventID as string),
    });
    last = { start: time, end: time + maxOf(items.map((i) => i.at)) * 1000 };
  };
  // The console polls AWS Health in the background every 5 minutes, whatever the page.
  let lastPoll = start.time;
  for (const step of steps) {
    if (last.start - lastPoll >= POLL_EVERY_MS) {
      play({ label: BACKGROUND, region: step.region, anchor: HEALTH_POLL });
      lastPoll = last.start;
    }
    play(step);
  }
  return { records, calls, bursts, unclaimed, end: last.end };
}

/**
 * Gives a sign-in's console calls their keys, in time order: one key per service, renewed after a
 * while, a fresh one for each health poll (ConsoleKeys). Returns the keys, in the order issued.
 */
function assignKeys(actor: Actor, calls: readonly CloudTrailRecord[], prng: Prng): string[] {
  const keys = new ConsoleKeys(prng);
  const ordered = [...calls].sort(
    (a, b) =>
      (a.eventTime as string).localeCompare(b.eventTime as string) ||
      (a.eventID as string).localeCompare(b.eventID as string),
  );
  for (const record of ordered) {
    const key = keys.keyFor(record.eventSource as string, Date.parse(record.eventTime as string));
    record.userIdentity = withKey(actor.identity, key);
  }
  return keys.issued;
}

/** A copy of a userIdentity with its access key (placed where CloudTrail writes it). */
function withKey(identity: UserIdentity, accessKeyId: string): UserIdentity {
  const { type, principalId, arn, accountId, ...rest } = structuredClone(identity);
  return { type, principalId, arn, accountId, accessKeyId, ...rest };
}

function signInRecord(
  ids: IdSource,
  identity: UserIdentity,
  eventName: 'ConsoleLogin' | 'GetSigninToken' | 'CheckMfa',
  time: number,
  region: string,
  sourceIp: string,
  userAgent: string,
  responseElements: Record<string, unknown>,
  additionalEventData: Record<string, unknown>,
  errorMessage?: string,
): CloudTrailRecord {
  const record: CloudTrailRecord = {
    eventVersion: '1.08',
    userIdentity: identity,
    eventTime: iso(time),
    eventSource: 'signin.amazonaws.com',
    eventName,
    awsRegion: region,
    sourceIPAddress: sourceIp,
    userAgent,
  };
  if (errorMessage) record.errorMessage = errorMessage;
  record.requestParameters = null;
  record.responseElements = responseElements;
  record.additionalEventData = additionalEventData;
  record.eventID = ids.eventId();
  record.readOnly = false;
  record.eventType = 'AwsConsoleSignIn';
  record.managementEvent = true;
  record.recipientAccountId = identity.accountId;
  record.eventCategory = 'Management';
  record.tlsDetails = {
    tlsVersion: 'TLSv1.3',
    cipherSuite: 'TLS_AES_128_GCM_SHA256',
    clientProvidedHostHeader: 'signin.aws.amazon.com',
  };
  return record;
}

/** An IAM user's password + MFA sign-in: CheckMfa 10-20 s before its ConsoleLogin. */
function iamUserSignIn(
  ids: IdSource,
  actor: Actor,
  region: string,
  mfaLead: number,
): { checkMfa: CloudTrailRecord; login: CloudTrailRecord } {
  const { type, principalId, arn, accountId, userName } = actor.identity;
  const loginTo = `https://console.aws.amazon.com/console/home?state=hashArgsFromTB_${region}&isauthcode=true`;
  const checkMfa = signInRecord(
    ids,
    { type, principalId, accountId, userName },
    'CheckMfa',
    actor.loginTime - mfaLead * 1000,
    region,
    actor.sourceIp,
    actor.browser,
    { CheckMfa: 'Success' },
    { MfaType: 'U2F MFA' },
  );
  const login = signInRecord(
    ids,
    { type, principalId, arn, accountId, userName },
    'ConsoleLogin',
    actor.loginTime,
    region,
    actor.sourceIp,
    actor.browser,
    { ConsoleLogin: 'Success' },
    {
      LoginTo: loginTo,
      MobileVersion: 'No',
      MFAIdentifier: `arn:aws:iam::${MANAGEMENT_ACCOUNT}:mfa/alice-yubikey`,
      MFAUsed: 'Yes',
    },
  );
  return { checkMfa, login };
}

/** The same person signing in again: another browser and address, a new session start. */
function signInAgain(
  actor: Actor,
  name: SignInName,
  loginTime: number,
  sourceIp: string,
  browser: string,
): Actor {
  const identity = structuredClone(actor.identity);
  identity.sessionContext!.attributes!.creationDate = iso(loginTime);
  return { ...actor, name, identity, sourceIp, browser, loginTime };
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedIds = (records: readonly CloudTrailRecord[]) =>
  records.map((r) => r.eventID as string).sort(byCodeUnit);

function buildDataset(rules: readonly SignalRule[]): Dataset {
  const index = new RuleIndex(rules);
  const byLabel = new Map(rules.map((r) => [r.label, r]));
  const prng = streams();
  const ids = prngIds(prng.ids);
  const failedLoginTime = BASE_TIME + 95_000;
  const aliceLogin = BASE_TIME + 140_000;
  const bobToken = BASE_TIME + 205_000;
  const world = makeWorld(prng.names, { alice: aliceLogin, bob: bobToken + 2000 });
  const { alice, bob } = world;

  // A failed sign-in for a user name that does not exist (AWS hides it).
  const failed = signInRecord(
    ids,
    {
      type: 'IAMUser',
      accountId: MANAGEMENT_ACCOUNT,
      accessKeyId: '',
      userName: 'HIDDEN_DUE_TO_SECURITY_REASONS',
    },
    'ConsoleLogin',
    failedLoginTime,
    PRIMARY_REGION,
    '203.0.113.77',
    'Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0',
    { ConsoleLogin: 'Failure' },
    {
      LoginTo: 'https://console.aws.amazon.com/console/home?state=hashArgsFromTB_us-east-1&isauthcode=true',
      MobileVersion: 'No',
      MFAUsed: 'No',
    },
    'No username found in supplied account',
  );

  // alice: IAM user, password + MFA.
  const aliceSignIn = iamUserSignIn(ids, alice, PRIMARY_REGION, prng.timing.int(10, 20));

  // bob: IAM Identity Center. In the portal he picks the account and role (the portal hands the role
  // credentials to his browser); with them, GetSigninToken issues the console session's first key,
  // then the browser signs in.
  const getRoleCredentials = bobToken - 4000;
  const portal = portalEvents(
    ids,
    world.bobPortalUser,
    { region: SECONDARY_REGION, sourceIp: bob.sourceIp, userAgent: bob.browser },
    {
      accountId: MANAGEMENT_ACCOUNT,
      roleName: world.ssoRoleName.replace(/^AWSReservedSSO_(.+)_[0-9a-f]{16}$/, '$1'),
    },
    { listAccounts: bobToken - 13_000, listAccountRoles: bobToken - 10_000, getRoleCredentials },
  );
  const bobFederated: UserIdentity = structuredClone(bob.identity);
  bobFederated.accessKeyId = world.bobPortalKey;
  bobFederated.sessionContext!.attributes!.creationDate = iso(getRoleCredentials);
  const bobTokenRecord = signInRecord(
    ids,
    bobFederated,
    'GetSigninToken',
    bobToken,
    SECONDARY_REGION,
    bob.sourceIp,
    SIGNIN_TOKEN_AGENT,
    // The key is the one bob's first console call is made with (set once keys are given out).
    { credentials: { accessKeyId: '' }, GetSigninToken: 'Success' },
    { MobileVersion: 'No' },
  );
  const bobLoginRecord = signInRecord(
    ids,
    structuredClone(bob.identity),
    'ConsoleLogin',
    bobToken + 2000,
    SECONDARY_REGION,
    bob.sourceIp,
    bob.browser,
    { ConsoleLogin: 'Success' },
    {
      LoginTo: `https://${SECONDARY_REGION}.console.aws.amazon.com/console/home?region=${SECONDARY_REGION}`,
      MobileVersion: 'No',
      MFAUsed: 'No',
    },
  );

  const notes: string[] = [];
  const play = (actor: Actor, start: CloudTrailRecord[], login: CloudTrailRecord[]) =>
    playStory(
      actor,
      STORIES[actor.name],
      { time: actor.loginTime, records: start, eventIds: login.map((r) => r.eventID as string) },
      world,
      byLabel,
      index,
      ids,
      prng.timing,
      notes,
    );
  const aliceTimeline = play(alice, [aliceSignIn.checkMfa, aliceSignIn.login], [aliceSignIn.login]);
  const bobTimeline = play(bob, [bobTokenRecord, bobLoginRecord], [bobTokenRecord, bobLoginRecord]);
  const morningEnd = Math.max(aliceTimeline.end, bobTimeline.end);

  // alice again in the afternoon, 2-3 hours later, from another browser and address.
  const alice2 = signInAgain(
    alice,
    'alice2',
    aliceTimeline.end + prng.timing.int(120 * 60, 180 * 60) * 1000,
    '192.0.2.146',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.80',
  );
  const alice2SignIn = iamUserSignIn(ids, alice2, SECONDARY_REGION, prng.timing.int(10, 20));
  const alice2Timeline = play(alice2, [alice2SignIn.checkMfa, alice2SignIn.login], [alice2SignIn.login]);

  // Each sign-in's calls get their keys: per service, renewed, a fresh one per health poll.
  const keys = {
    alice: assignKeys(alice, aliceTimeline.calls, prng.keys),
    bob: assignKeys(bob, bobTimeline.calls, prng.keys),
    alice2: assignKeys(alice2, alice2Timeline.calls, prng.keys),
  };
  (bobTokenRecord.responseElements as { credentials: { accessKeyId: string } }).credentials.accessKeyId =
    keys.bob[0];

  const noiseIds = prngIds(prng.noiseIds);
  const noise = [
    ...programmaticNoise(world, noiseIds, prng.noise, BASE_TIME - 240_000, morningEnd + 150_000),
    ...programmaticNoise(
      world,
      noiseIds,
      prng.noise,
      alice2.loginTime - 8 * 60_000,
      alice2Timeline.end + 150_000,
    ),
  ];
  const awsIds = prngIds(prng.aws);
  const service = awsServiceEvents(world, awsIds, prng.aws, {
    rotation: morningEnd + 31 * 60_000 + 7000,
    backup: alice2.loginTime - 75 * 60_000 + 4000,
  });
  const insight = iamListInsight(awsIds, alice, aliceTimeline);

  const records = [
    failed,
    ...aliceTimeline.records,
    ...portal,
    ...bobTimeline.records,
    ...alice2Timeline.records,
    ...noise,
    ...service,
  ];
  records.sort((a, b) => (a.eventTime as string).localeCompare(b.eventTime as string));
  const redelivered = [noise[Math.floor(noise.length / 3)].eventID as string];
  const consoleTruth = (name: SignInName, actor: Actor, timeline: Timeline): SessionTruth => ({
    kind: 'console',
    name,
    principalArn: actor.identity.arn ?? null,
    creationDate: iso(actor.loginTime),
    eventIds: sortedIds(timeline.records),
  });
  return {
    world,
    records,
    bursts: [
      { label: 'ConsoleLogin', actor: 'unknown', eventIds: [failed.eventID as string] },
      ...aliceTimeline.bursts,
      ...bobTimeline.bursts,
      ...alice2Timeline.bursts,
    ],
    unclaimed: [...aliceTimeline.unclaimed, ...bobTimeline.unclaimed, ...alice2Timeline.unclaimed],
    truth: [
      {
        kind: 'console',
        name: 'failed',
        principalArn: null,
        creationDate: null,
        eventIds: sortedIds([failed]),
      },
      consoleTruth('alice', alice, aliceTimeline),
      {
        kind: 'portal',
        name: 'bob-portal',
        principalArn: null,
        creationDate: null,
        eventIds: sortedIds(portal),
      },
      consoleTruth('bob', bob, bobTimeline),
      consoleTruth('alice2', alice2, alice2Timeline),
    ],
    keys,
    insight,
    redelivered,
    notes,
  };
}

/** AWS acting on its own: KMS rotating two customer managed keys, an AWS Backup job of a volume. */
function awsServiceEvents(
  world: World,
  ids: IdSource,
  prng: Prng,
  times: { rotation: number; backup: number },
): CloudTrailRecord[] {
  const inv = world.inventory;
  const records: CloudTrailRecord[] = [];
  ['prod-orders', 'data-lake'].forEach((alias, i) => {
    const keyId = inv.kmsKeys[alias];
    const keyArn = `arn:aws:kms:${PRIMARY_REGION}:${MANAGEMENT_ACCOUNT}:key/${keyId}`;
    records.push(
      serviceEventRecord(ids, {
        accountId: MANAGEMENT_ACCOUNT,
        region: PRIMARY_REGION,
        service: 'kms',
        eventName: 'RotateKey',
        time: times.rotation + i * 2000,
        resources: [{ accountId: MANAGEMENT_ACCOUNT, type: 'AWS::KMS::Key', ARN: keyArn }],
        serviceEventDetails: { keyId },
      }),
    );
  });
  const vault = `arn:aws:backup:${SECONDARY_REGION}:${MANAGEMENT_ACCOUNT}:backup-vault:Default`;
  const volume = `arn:aws:ec2:${SECONDARY_REGION}:${MANAGEMENT_ACCOUNT}:volume/${inv.volumes.jenkins}`;
  const job = {
    backupJobId: prng.uuid().toUpperCase(),
    backupPlanId: prng.uuid(),
    backupRuleId: prng.uuid(),
    backupVaultName: 'Default',
    backupVaultArn: vault,
    resourceArn: volume,
    resourceType: 'EBS',
    iamRoleArn: `arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/backup-service`,
    creationDate: iso(times.backup),
  };
  const completed = times.backup + prng.int(300, 600) * 1000;
  const common = { accountId: MANAGEMENT_ACCOUNT, region: SECONDARY_REGION, service: 'backup' };
  const resources = [{ accountId: MANAGEMENT_ACCOUNT, type: 'AWS::EC2::Volume', ARN: volume }];
  records.push(
    serviceEventRecord(ids, {
      ...common,
      eventName: 'BackupJobStarted',
      time: times.backup,
      resources,
      serviceEventDetails: { ...job, state: 'RUNNING' },
    }),
    serviceEventRecord(ids, {
      ...common,
      eventName: 'BackupJobCompleted',
      time: completed,
      resources,
      serviceEventDetails: {
        ...job,
        state: 'COMPLETED',
        completionDate: iso(completed),
        backupSizeInBytes: prng.int(8, 40) * 1_073_741_824,
        recoveryPointArn: `arn:aws:ec2:${SECONDARY_REGION}::snapshot/snap-0${prng.chars(16, HEX)}`,
      },
    }),
  );
  return records;
}

/**
 * The Insights file's records: alice's first visit of the IAM users page calls GetLoginProfile for
 * every user, far above the usual rate (a security-audit role now and then).
 */
function iamListInsight(ids: IdSource, alice: Actor, timeline: Timeline): CloudTrailRecord[] {
  const all = timeline.calls.filter((r) => r.eventName === 'GetLoginProfile');
  const first = minOf(all.map((r) => Date.parse(r.eventTime as string)));
  // The first visit of the users page.
  const calls = all.filter((r) => Date.parse(r.eventTime as string) < first + 120_000);
  const times = calls.map((r) => Date.parse(r.eventTime as string));
  const start = Math.floor(minOf(times) / 60_000) * 60_000;
  const end = Math.floor(maxOf(times) / 60_000) * 60_000 + 60_000;
  const minutes = (end - start) / 60_000;
  return insightRecords(ids, {
    accountId: MANAGEMENT_ACCOUNT,
    region: PRIMARY_REGION,
    eventSource: 'iam.amazonaws.com',
    eventName: 'GetLoginProfile',
    start,
    end,
    baselineAverage: 0.0208333333,
    insightAverage: Math.round((calls.length / minutes) * 100) / 100,
    caller: { arn: alice.identity.arn!, userAgent: calls[0].userAgent as string },
    baselineCaller: {
      arn: `arn:aws:sts::${MANAGEMENT_ACCOUNT}:assumed-role/security-audit/prowler`,
      userAgent: BOTO_AGENT,
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Programmatic noise: CI and service principals using the CLI and SDKs

const CLI_AGENT = (command: string) =>
  `aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-azure md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#${command}`;
const BOTO_AGENT =
  'Boto3/1.34.60 md/Botocore#1.34.60 ua/2.0 os/linux#5.10.209-198.858.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.60';

interface NoiseCall {
  who: 'ci' | 'backupBot' | 'pipeline';
  ref: string;
  region: string;
  agent: string;
  params: (prng: Prng) => Record<string, unknown>;
  error?: string;
  data?: boolean;
}

const NOISE_CALLS: NoiseCall[] = [
  {
    who: 'ci',
    ref: 's3:PutObject',
    region: PRIMARY_REGION,
    agent: CLI_AGENT('s3.cp'),
    params: (p) => ({ bucketName: 'example-ci-artifacts', key: `builds/${p.chars(8, HEX)}/app.zip` }),
    data: true,
  },
  {
    who: 'ci',
    ref: 'sts:GetCallerIdentity',
    region: PRIMARY_REGION,
    agent: CLI_AGENT('sts.get-caller-identity'),
    params: () => ({}),
  },
  {
    who: 'ci',
    ref: 'lambda:Invoke',
    region: SECONDARY_REGION,
    agent: BOTO_AGENT,
    params: () => ({ functionName: `arn:aws:lambda:${SECONDARY_REGION}:${CI_ACCOUNT}:function:smoke-test` }),
    data: true,
  },
  {
    who: 'ci',
    ref: 'ec2:DescribeInstances',
    region: SECONDARY_REGION,
    agent: BOTO_AGENT,
    params: () => ({
      instancesSet: {},
      filterSet: { items: [{ name: 'tag:app', valueSet: { items: [{ value: 'web' }] } }] },
    }),
  },
  {
    who: 'backupBot',
    ref: 'sts:AssumeRole',
    region: SECONDARY_REGION,
    agent: BOTO_AGENT,
    params: () => ({
      roleArn: `arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/data-pipeline`,
      roleSessionName: 'nightly-backup',
      durationSeconds: 3600,
    }),
  },
  {
    who: 'pipeline',
    ref: 's3:GetObject',
    region: SECONDARY_REGION,
    agent: BOTO_AGENT,
    params: (p) => ({
      bucketName: 'example-backups-eu',
      key: `daily/2026-03-01/part-${p.int(0, 63)}.parquet`,
    }),
    data: true,
  },
  {
    who: 'pipeline',
    ref: 's3:PutObject',
    region: SECONDARY_REGION,
    agent: BOTO_AGENT,
    params: (p) => ({
      bucketName: 'example-backups-eu',
      key: `daily/2026-03-02/part-${p.int(0, 63)}.parquet`,
    }),
    data: true,
  },
  {
    who: 'backupBot',
    ref: 's3:DeleteObject',
    region: SECONDARY_REGION,
    agent: BOTO_AGENT,
    params: () => ({ bucketName: 'example-backups-eu', key: 'daily/2026-02-01/manifest.json' }),
    error: 'AccessDenied',
    data: true,
  },
  {
    who: 'ci',
    ref: 's3:GetObject',
    region: PRIMARY_REGION,
    agent: CLI_AGENT('s3.cp'),
    params: () => ({ bucketName: 'example-ci-artifacts', key: 'config/deploy.json' }),
    data: true,
  },
  {
    who: 'pipeline',
    ref: 'secretsmanager:GetSecretValue',
    region: SECONDARY_REGION,
    agent: BOTO_AGENT,
    params: () => ({ secretId: 'prod/payments/db-password' }),
    error: 'AccessDenied',
  },
  {
    who: 'ci',
    ref: 'lambda:UpdateFunctionCode20150331v2',
    region: SECONDARY_REGION,
    agent: CLI_AGENT('lambda.update-function-code'),
    params: () => ({ functionName: 'smoke-test', publish: true, dryRun: false }),
  },
  {
    who: 'ci',
    ref: 'sts:AssumeRole',
    region: PRIMARY_REGION,
    agent: CLI_AGENT('sts.assume-role'),
    params: () => ({
      roleArn: `arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/OrganizationAccountAccessRole`,
      roleSessionName: 'ci-probe',
    }),
    error: 'AccessDenied',
  },
];

function programmaticNoise(
  world: World,
  ids: IdSource,
  prng: Prng,
  from: number,
  to: number,
): CloudTrailRecord[] {
  const ciRoleArn = `arn:aws:iam::${CI_ACCOUNT}:role/ci-deploy`;
  const pipelineRoleArn = `arn:aws:iam::${MANAGEMENT_ACCOUNT}:role/data-pipeline`;
  const principals: Record<
    NoiseCall['who'],
    { identity: UserIdentity; accountId: string; sourceIp: string }
  > = {
    ci: {
      accountId: CI_ACCOUNT,
      sourceIp: '192.0.2.15',
      identity: {
        type: 'AssumedRole',
        principalId: `${world.principalIds.ciRole}:gha-run-4411`,
        arn: `arn:aws:sts::${CI_ACCOUNT}:assumed-role/ci-deploy/gha-run-4411`,
        accountId: CI_ACCOUNT,
        accessKeyId: world.keys.ci,
        sessionContext: {
          sessionIssuer: roleIssuer(world.principalIds.ciRole, ciRoleArn, CI_ACCOUNT, 'ci-deploy'),
          attributes: { creationDate: iso(from - 60_000), mfaAuthenticated: 'false' },
        },
      },
    },
    backupBot: {
      accountId: MANAGEMENT_ACCOUNT,
      sourceIp: '198.51.100.200',
      identity: {
        type: 'IAMUser',
        principalId: world.principalIds.backupBot,
        arn: `arn:aws:iam::${MANAGEMENT_ACCOUNT}:user/backup-bot`,
        accountId: MANAGEMENT_ACCOUNT,
        accessKeyId: world.keys.backupBot,
        userName: 'backup-bot',
      },
    },
    pipeline: {
      accountId: MANAGEMENT_ACCOUNT,
      sourceIp: '198.51.100.200',
      identity: {
        type: 'AssumedRole',
        principalId: `${world.principalIds.pipelineRole}:nightly-backup`,
        arn: `arn:aws:sts::${MANAGEMENT_ACCOUNT}:assumed-role/data-pipeline/nightly-backup`,
        accountId: MANAGEMENT_ACCOUNT,
        accessKeyId: world.keys.pipeline,
        sessionContext: {
          sessionIssuer: roleIssuer(
            world.principalIds.pipelineRole,
            pipelineRoleArn,
            MANAGEMENT_ACCOUNT,
            'data-pipeline',
          ),
          attributes: { creationDate: iso(from), mfaAuthenticated: 'false' },
        },
      },
    },
  };
  const records: CloudTrailRecord[] = [];
  let i = 0;
  for (let time = from; time < to; time += prng.int(15, 55) * 1000) {
    // Errors at fixed positions, the rest drawn.
    const call =
      i % 6 === 5
        ? NOISE_CALLS.filter((c) => c.error)[Math.floor(i / 6) % 3]
        : prng.pick(NOISE_CALLS.filter((c) => !c.error));
    i++;
    const who = principals[call.who];
    const [service, eventName] = call.ref.split(':');
    const params = call.params(prng);
    let data: CallOptions['data'];
    if (call.data && service === 's3') {
      const bucket = params.bucketName as string;
      params.Host = `${bucket}.s3.${call.region}.amazonaws.com`;
      data = {
        resources: [
          { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${params.key as string}` },
          { accountId: who.accountId, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
        ],
        additionalEventData: {
          SignatureVersion: 'SigV4',
          CipherSuite: 'TLS_AES_128_GCM_SHA256',
          bytesTransferredIn: eventName === 'PutObject' ? prng.int(1000, 900_000) : 0,
          AuthenticationMethod: 'AuthHeader',
          bytesTransferredOut: eventName === 'GetObject' ? prng.int(1000, 900_000) : 0,
        },
      };
    } else if (call.data) {
      data = {
        resources: [
          { accountId: who.accountId, type: 'AWS::Lambda::Function', ARN: params.functionName as string },
        ],
      };
    }
    const responseElements =
      call.ref === 'sts:AssumeRole' && !call.error
        ? {
            credentials: {
              accessKeyId: world.keys.pipeline,
              sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE',
              expiration: new Date(time + 3_600_000).toUTCString().replace('GMT', '+0000'),
            },
            assumedRoleUser: {
              assumedRoleId: `${world.principalIds.pipelineRole}:nightly-backup`,
              arn: `arn:aws:sts::${MANAGEMENT_ACCOUNT}:assumed-role/data-pipeline/nightly-backup`,
            },
          }
        : null;
    records.push(
      apiCall(ids, who.identity, who.accountId, call.ref, time, {
        region: call.region,
        requestParameters: params,
        responseElements,
        userAgent: call.agent,
        sourceIp: who.sourceIp,
        console: false,
        errorCode: call.error,
        errorMessage: call.error
          ? `User: ${who.identity.arn} is not authorized to perform: ${service}:${eventName} because no identity-based policy allows the action`
          : undefined,
        data,
      }),
    );
  }
  return records;
}

// ---------------------------------------------------------------------------------------------
// Writing the trail

interface LogObject {
  key: string;
  accountId: string;
  region: string;
  delivery: number;
  records: CloudTrailRecord[];
}

/** `YYYYMMDDTHHmmZ` (log objects) or `YYYYMMDDTHHmmssZ` (digests). */
const stamp = (time: number, seconds = false) =>
  iso(time)
    .replace(/[-:]/g, '')
    .slice(0, seconds ? 15 : 13)
    .concat('Z');
const datePath = (time: number) => iso(time).slice(0, 10).replaceAll('-', '/');

/** Splits records into 5-minute delivery objects per account × region, named by delivery time. */
function deliveryObjects(dataset: Dataset, names: Prng): LogObject[] {
  const groups = new Map<
    string,
    { accountId: string; region: string; window: number; records: CloudTrailRecord[] }
  >();
  for (const record of dataset.records) {
    const accountId = record.recipientAccountId as string;
    const region = record.awsRegion as string;
    const window = Math.floor(Date.parse(record.eventTime as string) / DELIVERY_WINDOW_MS);
    const key = `${accountId}|${region}|${String(window).padStart(12, '0')}`;
    const group = groups.get(key) ?? { accountId, region, window, records: [] };
    group.records.push(record);
    groups.set(key, group);
  }
  const objects: LogObject[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!;
    const delivery = (group.window + 1) * DELIVERY_WINDOW_MS + names.int(60, 260) * 1000;
    const name = `${group.accountId}_CloudTrail_${group.region}_${stamp(delivery)}_${names.chars(16, MIXED_ALNUM)}.json.gz`;
    objects.push({
      key: `AWSLogs/${dataset.world.orgId}/${group.accountId}/CloudTrail/${group.region}/${datePath(delivery)}/${name}`,
      accountId: group.accountId,
      region: group.region,
      delivery,
      records: group.records,
    });
  }
  // A record delivered a second time, in a later object of the same account and region.
  for (const eventId of dataset.redelivered) {
    const first = objects.find((o) => o.records.some((r) => r.eventID === eventId))!;
    const later = objects.find(
      (o) => o.accountId === first.accountId && o.region === first.region && o.delivery > first.delivery,
    );
    const record = first.records.find((r) => r.eventID === eventId)!;
    (later ?? first).records.push(record);
  }
  return objects;
}

const encode = (records: CloudTrailRecord[]) => `${JSON.stringify({ Records: records })}\n`;
const gzip = (text: string) => gzipSync(Buffer.from(text, 'utf8'), { level: 9 });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** An hourly digest for one account × region: hashes of the log objects, not events. */
function digestObject(orgId: string, objects: LogObject[], names: Prng): { key: string; body: string } {
  const accountId = MANAGEMENT_ACCOUNT;
  const region = PRIMARY_REGION;
  const mine = objects.filter((o) => o.accountId === accountId && o.region === region);
  const start = Math.floor(mine[0].delivery / 3_600_000) * 3_600_000;
  const end = start + 3_600_000;
  const covered = mine.filter((o) => o.delivery >= start && o.delivery < end);
  const times = covered.flatMap((o) => o.records.map((r) => r.eventTime as string)).sort();
  const key = `AWSLogs/${orgId}/${accountId}/CloudTrail-Digest/${region}/${datePath(end)}/${accountId}_CloudTrail-Digest_${region}_${TRAIL_NAME}_${region}_${stamp(end, true)}.json.gz`;
  const digest = {
    awsAccountId: accountId,
    digestStartTime: iso(start),
    digestEndTime: iso(end),
    digestS3Bucket: TRAIL_BUCKET,
    digestS3Object: key,
    digestPublicKeyFingerprint: names.chars(32, HEX),
    digestSignatureAlgorithm: 'SHA256withRSA',
    newestEventTime: times.at(-1),
    oldestEventTime: times[0],
    previousDigestS3Bucket: null,
    previousDigestS3Object: null,
    previousDigestHashValue: null,
    previousDigestHashAlgorithm: null,
    previousDigestSignature: null,
    logFiles: covered.map((o) => {
      const eventTimes = o.records.map((r) => r.eventTime as string).sort();
      return {
        s3Bucket: TRAIL_BUCKET,
        s3Object: o.key,
        hashValue: sha256(encode(o.records)),
        hashAlgorithm: 'SHA-256',
        newestEventTime: eventTimes.at(-1),
        oldestEventTime: eventTimes[0],
      };
    }),
  };
  return { key, body: `${JSON.stringify(digest)}\n` };
}

/** The Insights file: CloudTrail-Insight/ records (a different shape, not API events: readers skip it). */
function insightObject(
  orgId: string,
  records: CloudTrailRecord[],
  names: Prng,
): { key: string; body: string } {
  const accountId = records[0].recipientAccountId as string;
  const region = records[0].awsRegion as string;
  const last = maxOf(records.map((r) => Date.parse(r.eventTime as string)));
  const delivery = last + names.int(300, 900) * 1000;
  const name = `${accountId}_CloudTrail-Insight_${region}_${stamp(delivery)}_${names.chars(16, MIXED_ALNUM)}.json.gz`;
  return {
    key: `AWSLogs/${orgId}/${accountId}/CloudTrail-Insight/${region}/${datePath(delivery)}/${name}`,
    body: encode(records),
  };
}

// ---------------------------------------------------------------------------------------------
// Verification and report

export interface Report {
  dir: string;
  orgId: string;
  /** Event objects written (digest and Insights file not included). */
  objects: number;
  digests: number;
  insights: number;
  /** Records written, redelivered copies included. */
  records: number;
  uniqueEvents: number;
  duplicates: number;
  /** Events the engine puts in console sessions, and outside them. */
  consoleEvents: number;
  programmaticEvents: number;
  /** The engine's sessions. */
  sessions: {
    principal: string | null;
    mfaUsed: boolean | null;
    login: string | null;
    events: number;
    signals: number;
    summary: string;
  }[];
  /** The sign-ins the generator made (and bob's portal visit), with their temporary keys. */
  signIns: {
    kind: SessionTruth['kind'];
    name: string;
    principal: string | null;
    creationDate: string | null;
    events: number;
    keys: number;
  }[];
  /** Whether the engine's console sessions are exactly the generator's sign-ins (see sessionDifferences). */
  sessionsMatchTruth: boolean;
  signalsByLabel: Record<string, number>;
  /** The labels the stories asked for, all checked. */
  labels: string[];
  /** Scripted steps (pages no rule describes), whose calls stay unclaimed by the rules. */
  scripted: string[];
  /** Steps whose burst is not their first candidate (e.g. a list spread less, or another test). */
  notes: string[];
}

function fail(message: string): never {
  throw new Error(`make-example: verification failed: ${message}`);
}

function comparable(enrichment: Enrichment): string {
  return JSON.stringify(enrichment.sessions.map((s) => ({ summary: s.summary, signals: s.signals })));
}

const idList = (list: readonly string[]) => list.join(' ');

/**
 * How the engine's console sessions differ from the generator's sign-ins (empty: they are the
 * same). Each engine session must be exactly one sign-in's records; the portal visit may be a
 * session of its own or stay outside sessions, but never join the console sign-in.
 */
export function sessionDifferences(
  truth: readonly SessionTruth[],
  enrichment: Pick<Enrichment, 'sessions' | 'events'>,
): string[] {
  const members = new Map<string, string[]>();
  for (const entry of enrichment.events) {
    if (entry.sessionId === null) continue;
    pushTo(members, entry.sessionId, entry.eventId);
  }
  const found = new Map(
    enrichment.sessions
      .filter((s) => s.summary.kind === 'console')
      .map((s) => [idList((members.get(s.summary.id) ?? []).sort(byCodeUnit)), s.summary]),
  );
  const inSession = new Set([...members.values()].flat());
  const differences: string[] = [];
  const expected = new Set<string>();
  for (const entry of truth) {
    const key = idList(entry.eventIds);
    expected.add(key);
    if (found.has(key)) continue;
    if (entry.kind === 'portal' && entry.eventIds.every((id) => !inSession.has(id))) continue;
    differences.push(`${entry.name} (${entry.eventIds.length} events) is not one engine session`);
  }
  for (const [key, summary] of found) {
    if (!expected.has(key))
      differences.push(
        `engine session ${summary.id} of ${summary.principalArn} (${summary.eventCount} events) is no sign-in`,
      );
  }
  return differences;
}

/**
 * Checks every burst against the engine's mapper within its sign-in's records (what the engine
 * maps once it has grouped them as one session): one signal of the intended label holding the
 * whole burst and nothing of another burst. Calls outside bursts (CheckMfa, scripted pages) may
 * stay unmapped or form signals of their own.
 */
function verifyBursts(dataset: Dataset, index: RuleIndex): void {
  const byId = new Map(dataset.records.map((r) => [r.eventID as string, r]));
  const burstOf = new Map(dataset.bursts.flatMap((b) => b.eventIds.map((id) => [id, b] as const)));
  const scripted = new Map(dataset.unclaimed.flatMap((b) => b.eventIds.map((id) => [id, b] as const)));
  for (const entry of dataset.truth.filter((t) => t.kind === 'console')) {
    const events = entry.eventIds
      .map((id, i) => toTrailEvent(byId.get(id)!, entry.name, i))
      .sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const { matches } = mapSession(events, index);
    const matchOf = new Map(matches.flatMap((m) => m.events.map((e) => [e.id, m] as const)));
    const bursts = new Set(entry.eventIds.flatMap((id) => (burstOf.has(id) ? [burstOf.get(id)!] : [])));
    for (const burst of bursts) {
      const found = new Set(burst.eventIds.map((id) => matchOf.get(id)));
      const match = [...found][0];
      if (found.size !== 1 || !match || match.rule.label !== burst.label) {
        const labels = [...found].map((m) => m?.rule.label ?? 'unmapped');
        fail(`${burst.actor}'s ${burst.label} burst came out as ${labels.join(', ')}`);
      }
      const others = match.events.filter((e) => burstOf.has(e.id) && burstOf.get(e.id) !== burst);
      if (others.length > 0)
        fail(`${burst.actor}'s ${burst.label} signal took ${others.length} events of other actions`);
    }
    for (const id of entry.eventIds) {
      const match = matchOf.get(id);
      if (scripted.has(id) && match && isSpecific(match.rule.label))
        fail(
          `${match.rule.label} claims ${scripted.get(id)!.actor}'s "${scripted.get(id)!.label}", scripted as no rule's`,
        );
    }
  }
}

/** Checks the sign-ins' records: disjoint, one principal and creationDate each, keys per service. */
function verifyTruth(dataset: Dataset): void {
  const byId = new Map(dataset.records.map((r) => [r.eventID as string, r]));
  const owner = new Map<string, string>();
  for (const entry of dataset.truth) {
    for (const id of entry.eventIds) {
      if (!byId.has(id)) fail(`${entry.name}'s event ${id} is not in the trail`);
      if (owner.has(id)) fail(`event ${id} is in both ${owner.get(id)} and ${entry.name}`);
      owner.set(id, entry.name);
    }
    if (entry.kind !== 'console' || !entry.principalArn) continue;
    for (const id of entry.eventIds) {
      const record = byId.get(id)!;
      if (record.eventSource === 'signin.amazonaws.com') continue;
      const identity = record.userIdentity;
      if (
        identity?.arn !== entry.principalArn ||
        identity.sessionContext?.attributes?.creationDate !== entry.creationDate ||
        !identity.accessKeyId?.startsWith('ASIA')
      )
        fail(`${entry.name}'s call ${id} names another principal, session start or no temporary key`);
    }
  }
  // Console credentials and sign-ins are always some sign-in's; nothing else is.
  for (const record of dataset.records) {
    const isConsole =
      record.sessionCredentialFromConsole === 'true' || record.eventSource === 'signin.amazonaws.com';
    if (isConsole && !owner.has(record.eventID as string))
      fail(
        `console record ${record.eventID as string} (${record.eventName as string}) belongs to no sign-in`,
      );
  }
}

function verify(
  dataset: Dataset,
  index: RuleIndex,
  fromMemory: Enrichment,
  fromDisk: Enrichment,
  diskEvents: TrailEvent[],
): void {
  const unique = new Set(dataset.records.map((r) => r.eventID as string));
  if (unique.size !== dataset.records.length) fail('two generated records share an eventID');
  if (diskEvents.length !== dataset.records.length + dataset.redelivered.length) {
    fail(
      `read ${diskEvents.length} records back, wrote ${dataset.records.length + dataset.redelivered.length}`,
    );
  }
  for (const [name, result] of [
    ['in memory', fromMemory],
    ['from disk', fromDisk],
  ] as const) {
    if (result.events.length !== unique.size)
      fail(`${name}: ${result.events.length} enriched events for ${unique.size} records`);
    const seen = new Set(result.events.map((e) => e.eventId));
    for (const id of unique) if (!seen.has(id)) fail(`${name}: event ${id} was lost`);
  }
  if (fromDisk.duplicateEventCount !== dataset.redelivered.length) {
    fail(`expected ${dataset.redelivered.length} duplicate, engine saw ${fromDisk.duplicateEventCount}`);
  }
  if (comparable(fromMemory) !== comparable(fromDisk))
    fail('reading the folder back gives other sessions or signals');
  verifyTruth(dataset);
  verifyBursts(dataset, index);
}

/** Writes the example trail into `dir` (its AWSLogs/ folder is replaced), checks it, and reports. */
export async function writeExample(dir: string, rules: readonly SignalRule[] = loadRules()): Promise<Report> {
  const dataset = buildDataset(rules);
  const names = new Prng(SEED ^ 0x5ee); // object names, digest and Insights fields
  const objects = deliveryObjects(dataset, names);
  const digest = digestObject(dataset.world.orgId, objects, names);
  const insight = insightObject(dataset.world.orgId, dataset.insight, names);

  await rm(join(dir, 'AWSLogs'), { recursive: true, force: true });
  for (const object of [...objects.map((o) => ({ key: o.key, body: encode(o.records) })), digest, insight]) {
    const path = join(dir, ...object.key.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, gzip(object.body));
  }

  const index = new RuleIndex(rules);
  const memoryEvents = dataset.records.map((record, i) => toTrailEvent(record, 'memory', i));
  const fromMemory = enrich(memoryEvents, index);
  const read = await readInputs([dir]);
  if (read.problems.length > 0)
    fail(`reading back: ${read.problems.map((p) => `${p.source}: ${p.reason}`).join('; ')}`);
  for (const [what, object] of [
    ['digest', digest],
    ['Insights', insight],
  ] as const) {
    const path = join(dir, ...object.key.split('/'));
    if (!read.skipped.some((s) => path.startsWith(s.source))) fail(`the ${what} file was not skipped`);
  }
  if (read.sources.length !== objects.length)
    fail(`read ${read.sources.length} objects, wrote ${objects.length}`);
  const fromDisk = enrich(read.events, index);
  verify(dataset, index, fromMemory, fromDisk, read.events);

  const signalsByLabel: Record<string, number> = {};
  for (const signal of fromDisk.sessions
    .flatMap((s) => s.signals)
    .sort((a, b) => a.label.localeCompare(b.label))) {
    signalsByLabel[signal.label] = (signalsByLabel[signal.label] ?? 0) + 1;
  }
  const consoleEvents = fromDisk.events.filter((e) => e.sessionId !== null).length;
  const keyCount = (name: string) => (name in dataset.keys ? dataset.keys[name as SignInName].length : 0);
  return {
    dir,
    orgId: dataset.world.orgId,
    objects: objects.length,
    digests: 1,
    insights: 1,
    records: read.events.length,
    uniqueEvents: fromDisk.events.length,
    duplicates: fromDisk.duplicateEventCount,
    consoleEvents,
    programmaticEvents: fromDisk.other.length,
    sessions: fromDisk.sessions.map((s) => ({
      principal: s.summary.principalArn,
      mfaUsed: s.summary.mfaUsed,
      login: s.summary.loginResult,
      events: s.summary.eventCount,
      signals: s.signals.length,
      summary: s.summary.summary,
    })),
    signIns: dataset.truth.map((t) => ({
      kind: t.kind,
      name: t.name,
      principal: t.principalArn,
      creationDate: t.creationDate,
      events: t.eventIds.length,
      keys: keyCount(t.name),
    })),
    sessionsMatchTruth: sessionDifferences(dataset.truth, fromDisk).length === 0,
    signalsByLabel,
    labels: [...new Set(dataset.bursts.map((b) => b.label))].sort(),
    scripted: dataset.unclaimed.map((u) => `${u.actor}: ${u.label}`),
    notes: dataset.notes,
  };
}

/**
 * Which records form each console sign-in of the example (and bob's Identity Center portal visit),
 * from the generator's own deterministic build, not from the engine: what `enrich` on
 * examples/trail must find as console sessions.
 */
export function exampleSessionsTruth(rules: readonly SignalRule[] = loadRules()): SessionTruth[] {
  return buildDataset(rules).truth;
}

function printReport(report: Report): void {
  const where = relative(process.cwd(), report.dir) || '.';
  console.log(
    `wrote ${where}: ${report.objects} log objects + ${report.digests} digest + ${report.insights} Insights file (${report.orgId})`,
  );
  console.log(
    `records ${report.records} (${report.uniqueEvents} unique, ${report.duplicates} redelivered): ` +
      `${report.consoleEvents} in console sessions, ${report.programmaticEvents} programmatic`,
  );
  console.log('sign-ins:');
  for (const s of report.signIns) {
    const who = s.principal ?? '(no ARN)';
    console.log(
      `  ${s.kind} ${s.name}: ${who} since ${s.creationDate ?? '-'}, ${s.events} events, ${s.keys} keys`,
    );
  }
  for (const script of report.scripted) console.log(`scripted (no rule): ${script}`);
  console.log(`engine sessions ${report.sessions.length}:`);
  for (const session of report.sessions) console.log(`  ${session.summary}`);
  if (!report.sessionsMatchTruth)
    console.log("warning: the engine's console sessions are not the sign-ins above (engine/sessionize.ts)");
  console.log('signals per label:');
  for (const [label, count] of Object.entries(report.signalsByLabel))
    console.log(`  ${String(count).padStart(3)}  ${label}`);
  for (const note of report.notes) console.log(`note: ${note}`);
  console.log(
    `verified: all ${report.labels.length} chosen labels map as intended; every record accounted for`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    printReport(await writeExample(EXAMPLE_DIR));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}

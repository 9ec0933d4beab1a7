/**
 * Writes `examples/trail/`: a small, synthetic organization trail (no recorded data).
 *
 * - `AWSLogs/o-…/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_<16>.json.gz`
 *   objects, one per account × region × 5-minute delivery window, named by delivery time;
 *   one digest file under `CloudTrail-Digest/` that readers must skip.
 * - Three console sign-ins: `alice` (IAM user, MFA), `bob@example.com` (IAM Identity Center role,
 *   GetSigninToken then ConsoleLogin, no MFA) and a failed login for an unknown user name; the two
 *   sessions overlap in time, across us-east-1 and eu-west-1.
 * - The console actions are built from the signal rules: each story step names a rule label, and its
 *   burst of API calls comes from the rule's positive inline test, or from its anchor / required /
 *   optional events. Every burst is checked against the engine while generating.
 * - Programmatic noise (CLI / SDK callers, some AccessDenied) that must stay outside console sessions.
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
import type { SignalRule } from '../engine/rules/model.ts';
import type { CloudTrailRecord, TrailEvent, UserIdentity } from '../engine/types.ts';

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

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const MIXED_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

/** mulberry32: small, fast, and the same on every platform. */
class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  chars(length: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }
  uuid(): string {
    const h = this.chars(32, HEX).split('');
    h[12] = '4';
    h[16] = '89ab'[HEX.indexOf(h[16]) % 4];
    const s = h.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
}

/** Separate streams, so a change in the stories (the rules) does not reshuffle names or the noise. */
function streams() {
  return {
    ids: new Prng(SEED ^ 0x1d5),
    timing: new Prng(SEED ^ 0x71e),
    noise: new Prng(SEED ^ 0x401),
    noiseIds: new Prng(SEED ^ 0x402),
    names: new Prng(SEED ^ 0x9a3),
  };
}

const iso = (time: number) => new Date(time).toISOString().replace('.000Z', 'Z');

// ---------------------------------------------------------------------------------------------
// The story

/** Names of things the console pages are about; a step may override some. */
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

export interface StoryStep {
  label: string;
  region: string;
  /** Which of the rule's anchors starts the burst (default: its first). */
  anchor?: string;
  resources?: Partial<Resources>;
}

const BACKGROUND = 'SuppressAutomatedBackgroundEvent';

/** What each console user does, in order. Labels are rule labels from rules/signals/*.yaml. */
export const STORIES: Record<'alice' | 'bob', StoryStep[]> = {
  alice: [
    { label: 'ConsoleHome', region: PRIMARY_REGION },
    { label: 'IAM', region: PRIMARY_REGION },
    { label: 'IAM_Users', region: PRIMARY_REGION },
    {
      label: 'IAM_Users_SPECIFICUSER_Permissions',
      region: PRIMARY_REGION,
      resources: { userName: 'ci-deployer' },
    },
    { label: BACKGROUND, region: PRIMARY_REGION, anchor: 'health:DescribeEventAggregates' },
    {
      label: 'IAM_Users_SPECIFICUSER_SecurityCredentials',
      region: PRIMARY_REGION,
      resources: { userName: 'ci-deployer' },
    },
    {
      label: 'IAM_Users_SPECIFICUSER_SecurityCredentials_AccessKeys_CreateAccessKey',
      region: PRIMARY_REGION,
      resources: { userName: 'ci-deployer' },
    },
    { label: 'IAM_Roles', region: PRIMARY_REGION, resources: { roleName: 'ci-deploy' } },
    { label: 'CloudTrail_Trails', region: PRIMARY_REGION },
    { label: 'CloudTrail_Trails_SPECIFICTRAIL', region: PRIMARY_REGION },
    { label: 'GuardDuty_Summary', region: SECONDARY_REGION },
    { label: 'GuardDuty_Findings', region: SECONDARY_REGION },
    { label: BACKGROUND, region: PRIMARY_REGION, anchor: 'health:DescribeEventAggregates' },
    { label: 'KMS_CustomerManagedKeys', region: SECONDARY_REGION },
  ],
  bob: [
    { label: 'ConsoleHome', region: SECONDARY_REGION },
    { label: 'S3_Buckets', region: SECONDARY_REGION },
    { label: 'S3_Buckets_SPECIFICBUCKET_Objects', region: SECONDARY_REGION },
    { label: 'S3_Buckets_SPECIFICBUCKET_Permissions', region: SECONDARY_REGION },
    { label: 'EC2_Instances_Instances', region: SECONDARY_REGION },
    { label: BACKGROUND, region: SECONDARY_REGION, anchor: 'health:DescribeEventAggregates' },
    { label: 'EC2_Instances_Instances_SPECIFICINSTANCE_Details', region: SECONDARY_REGION },
    { label: 'SecretsManager_Secrets', region: SECONDARY_REGION },
    { label: 'SecretsManager_Secrets_SPECIFICSECRET_Overview', region: SECONDARY_REGION },
    { label: 'SecretsManager_Secrets_SPECIFICSECRET_Overview_RetrieveSecretValue', region: SECONDARY_REGION },
    { label: 'IAM_Roles', region: PRIMARY_REGION, resources: { roleName: 'data-pipeline' } },
    { label: 'CloudTrail_Trails_SPECIFICTRAIL_StopLogging', region: PRIMARY_REGION },
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

interface Actor {
  name: 'alice' | 'bob';
  accountId: string;
  /** userIdentity on the console session's API calls. */
  identity: UserIdentity;
  sourceIp: string;
  browser: string;
  resources: Resources;
}

interface World {
  orgId: string;
  alice: Actor;
  bob: Actor;
  /** Key id of the SSO role credentials bob's GetSigninToken is called with. */
  bobPortalKey: string;
  keys: Record<'ci' | 'backupBot' | 'pipeline', string>;
  principalIds: Record<'alice' | 'ssoRole' | 'ciRole' | 'pipelineRole' | 'backupBot', string>;
  ssoRoleName: string;
}

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
  const aliceKey = key('ASIA');
  const bobKey = key('ASIA');
  const bobPortalKey = key('ASIA');
  const keys = {
    ci: key('ASIA'),
    backupBot: key('AKIA'),
    pipeline: key('ASIA'),
  };
  const resources: Resources = {
    users: ['alice', 'backup-bot', 'ci-deployer', 'legacy-reporting'],
    userName: 'ci-deployer',
    roleName: 'ci-deploy',
    buckets: ['example-app-assets', 'example-backups-eu', 'example-org-cloudtrail-logs'],
    bucketName: 'example-backups-eu',
    secretName: 'prod/payments/db-password',
    keyId: names.uuid(),
    trailName: TRAIL_NAME,
    instanceId: `i-0${names.chars(16, HEX)}`,
    groupName: 'deployers',
    detectorId: names.chars(32, HEX),
    accessKeyId: key('AKIA'),
    newAccessKeyId: key('AKIA'),
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
        accessKeyId: aliceKey,
        userName: 'alice',
        sessionContext: {
          attributes: { creationDate: iso(loginTimes.alice), mfaAuthenticated: 'true' },
        },
      },
      sourceIp: '198.51.100.23',
      browser:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
      resources,
    },
    bob: {
      name: 'bob',
      accountId: MANAGEMENT_ACCOUNT,
      identity: {
        type: 'AssumedRole',
        principalId: `${principalIds.ssoRole}:bob@example.com`,
        arn: bobArn,
        accountId: MANAGEMENT_ACCOUNT,
        accessKeyId: bobKey,
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
      resources,
    },
    bobPortalKey,
    keys,
    principalIds,
    ssoRoleName,
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

interface IdSource {
  eventId(): string;
  requestId(service: string): string;
}

function prngIds(prng: Prng): IdSource {
  return {
    eventId: () => prng.uuid(),
    requestId: (service) => (service === 's3' ? prng.chars(16, '0123456789ABCDEF') : prng.uuid()),
  };
}

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
// Building the dataset

interface Dataset {
  world: World;
  records: CloudTrailRecord[];
  bursts: Burst[];
  /** eventIDs of records delivered twice (CloudTrail does that now and then). */
  redelivered: string[];
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
): CloudTrailRecord {
  const [service] = item.ref.split(':');
  const internal = INTERNAL_SERVICES.has(service) || item.ref.endsWith('Internal');
  const effectiveRegion = GLOBAL_SERVICES.has(service) ? PRIMARY_REGION : region;
  let responseElements: Record<string, unknown> | null = null;
  if (item.ref === 'iam:CreateAccessKey') {
    responseElements = {
      accessKey: {
        userName:
          (item.requestParameters as { userName?: string } | null)?.userName ?? actor.resources.userName,
        accessKeyId: actor.resources.newAccessKeyId,
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

/** Candidate bursts for a rule, best first: its positive inline tests, then all its events, then fewer. */
function* candidateBursts(rule: SignalRule, step: StoryStep, res: Resources): Generator<BurstItem[]> {
  const specific = extractedKeys(rule);
  for (const test of rule.tests.filter((t) => t.maps)) {
    yield test.events.map(({ event, at, ...fields }) => ({
      ref: event,
      at: at ?? 0,
      requestParameters: requestParametersFor(event, step.region, res, specific)[0],
      fields,
    }));
  }
  const refs = ruleRefs(rule, step.anchor);
  if (!refs) return;
  if (refs.optional.length > 0)
    yield synthesizedItems(rule, [...refs.base, ...refs.optional], step.region, res);
  yield synthesizedItems(rule, refs.base, step.region, res);
}

/** True when the burst alone maps to exactly one signal of the rule, with every event in it. */
function mapsAlone(
  rule: SignalRule,
  items: BurstItem[],
  actor: Actor,
  region: string,
  index: RuleIndex,
): boolean {
  let n = 0;
  const probeIds: IdSource = {
    eventId: () => `probe-${String(n++).padStart(5, '0')}`,
    requestId: () => 'probe',
  };
  const events = items.map((item, i) =>
    toTrailEvent(consoleRecord(probeIds, actor, item, BASE_TIME + item.at * 1000, region), 'probe', i),
  );
  const { matches, unmapped } = mapSession(events, index);
  return unmapped.length === 0 && matches.length === 1 && matches[0].rule.label === rule.label;
}

/**
 * The burst for a step: the first candidate that maps alone to the rule, else its anchor + required
 * events plus every optional one that keeps it so. Throws, naming the rule, when nothing does.
 */
function burstFor(
  rule: SignalRule,
  step: StoryStep,
  actor: Actor,
  res: Resources,
  index: RuleIndex,
): BurstItem[] {
  const { region } = step;
  for (const items of candidateBursts(rule, step, res))
    if (mapsAlone(rule, items, actor, region, index)) return items;
  const refs = ruleRefs(rule, step.anchor);
  if (refs && mapsAlone(rule, synthesizedItems(rule, refs.base, region, res), actor, region, index)) {
    const chosen = [...refs.base];
    for (const optional of refs.optional) {
      if (mapsAlone(rule, synthesizedItems(rule, [...chosen, optional], region, res), actor, region, index)) {
        chosen.push(optional);
      }
    }
    return synthesizedItems(rule, chosen, region, res);
  }
  const why = rule.tests.some((t) => t.maps)
    ? 'none of its positive inline tests maps alone'
    : rule.conditions.size > 0
      ? 'it has `when` conditions and no positive inline test to build events from'
      : 'its anchor + required events map to another rule';
  throw new Error(`make-example: cannot build a burst for ${rule.label} (${rule.file}): ${why}`);
}

/** Rules that could claim events around a record: those anchored on it (or on any event, if it qualifies). */
function reach(record: CloudTrailRecord, ref: string, index: RuleIndex): { before: number; after: number } {
  let before = 0;
  let after = 0;
  const rules = [...(index.byAnchor.get(ref) ?? [])];
  for (const rule of index.byAnchor.get(ANY_EVENT) ?? []) {
    const conditions = rule.conditions.get(ANY_EVENT) ?? [];
    if (conditions.every((test) => test(record as Record<string, unknown>))) rules.push(rule);
  }
  for (const rule of rules) {
    before = Math.max(before, rule.beforeMs);
    after = Math.max(after, rule.afterMs);
  }
  return { before, after };
}

interface Timeline {
  records: CloudTrailRecord[];
  bursts: Burst[];
  end: number;
}

function playStory(
  actor: Actor,
  steps: StoryStep[],
  start: { time: number; records: CloudTrailRecord[]; eventIds: string[] },
  rules: Map<string, SignalRule>,
  index: RuleIndex,
  ids: IdSource,
  timing: Prng,
): Timeline {
  const records = [...start.records];
  const bursts: Burst[] = [{ label: 'ConsoleLogin', actor: actor.name, eventIds: start.eventIds }];
  const startReach = start.records.map((r) => reach(r, `signin:${r.eventName}`, index).after);
  let previous = { start: start.time, last: start.time, after: Math.max(...startReach) };
  for (const step of steps) {
    const rule = rules.get(step.label);
    if (!rule) throw new Error(`make-example: no rule has the label ${step.label} (story of ${actor.name})`);
    const res = { ...actor.resources, ...step.resources };
    const items = burstFor(rule, step, actor, res, index);
    const probe = items.map((item) => consoleRecord(prngIds(new Prng(0)), actor, item, 0, step.region));
    const before = Math.max(0, ...probe.map((r, i) => reach(r, items[i].ref, index).before));
    // Far enough from the previous action that neither can reach into the other's events.
    const earliest = previous.last + previous.after + before + 1000;
    const time = Math.max(previous.start + timing.int(20, 90) * 1000, earliest);
    const burstRecords = items.map((item) =>
      consoleRecord(ids, actor, item, time + item.at * 1000, step.region),
    );
    records.push(...burstRecords);
    bursts.push({
      label: step.label,
      actor: actor.name,
      eventIds: burstRecords.map((r) => r.eventID as string),
    });
    const last = time + Math.max(...items.map((i) => i.at)) * 1000;
    const after = Math.max(...burstRecords.map((r, i) => reach(r, items[i].ref, index).after));
    previous = { start: time, last, after };
  }
  return { records, bursts, end: previous.last };
}

function signInRecord(
  ids: IdSource,
  identity: UserIdentity,
  eventName: 'ConsoleLogin' | 'GetSigninToken',
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
  const aliceLoginRecord = signInRecord(
    ids,
    {
      type: 'IAMUser',
      principalId: world.principalIds.alice,
      arn: alice.identity.arn,
      accountId: MANAGEMENT_ACCOUNT,
      userName: 'alice',
    },
    'ConsoleLogin',
    aliceLogin,
    PRIMARY_REGION,
    alice.sourceIp,
    alice.browser,
    { ConsoleLogin: 'Success' },
    {
      LoginTo: 'https://console.aws.amazon.com/console/home?state=hashArgsFromTB_us-east-1&isauthcode=true',
      MobileVersion: 'No',
      MFAIdentifier: `arn:aws:iam::${MANAGEMENT_ACCOUNT}:mfa/alice-yubikey`,
      MFAUsed: 'Yes',
    },
  );

  // bob: IAM Identity Center. The portal's GetSigninToken issues the console session key, then ConsoleLogin.
  const bobFederated: UserIdentity = structuredClone(bob.identity);
  bobFederated.accessKeyId = world.bobPortalKey;
  bobFederated.sessionContext!.attributes!.creationDate = iso(bobToken - 4000);
  const bobTokenRecord = signInRecord(
    ids,
    bobFederated,
    'GetSigninToken',
    bobToken,
    SECONDARY_REGION,
    bob.sourceIp,
    SIGNIN_TOKEN_AGENT,
    { credentials: { accessKeyId: bob.identity.accessKeyId }, GetSigninToken: 'Success' },
    { MobileVersion: 'No' },
  );
  const bobLoginIdentity = structuredClone(bob.identity);
  delete bobLoginIdentity.accessKeyId;
  const bobLoginRecord = signInRecord(
    ids,
    bobLoginIdentity,
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

  const aliceTimeline = playStory(
    alice,
    STORIES.alice,
    { time: aliceLogin, records: [aliceLoginRecord], eventIds: [aliceLoginRecord.eventID as string] },
    byLabel,
    index,
    ids,
    prng.timing,
  );
  const bobTimeline = playStory(
    bob,
    STORIES.bob,
    {
      time: bobToken + 2000,
      records: [bobTokenRecord, bobLoginRecord],
      eventIds: [bobTokenRecord.eventID as string, bobLoginRecord.eventID as string],
    },
    byLabel,
    index,
    ids,
    prng.timing,
  );

  const noise = programmaticNoise(
    world,
    prngIds(prng.noiseIds),
    prng.noise,
    BASE_TIME - 240_000,
    Math.max(aliceTimeline.end, bobTimeline.end) + 150_000,
  );
  const records = [failed, ...aliceTimeline.records, ...bobTimeline.records, ...noise];
  records.sort((a, b) => (a.eventTime as string).localeCompare(b.eventTime as string));
  const redelivered = [noise[Math.floor(noise.length / 3)].eventID as string];
  return {
    world,
    records,
    bursts: [
      { label: 'ConsoleLogin', actor: 'unknown', eventIds: [failed.eventID as string] },
      ...aliceTimeline.bursts,
      ...bobTimeline.bursts,
    ],
    redelivered,
  };
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

// ---------------------------------------------------------------------------------------------
// Verification and report

export interface Report {
  dir: string;
  orgId: string;
  /** Event objects written (digest not included). */
  objects: number;
  digests: number;
  /** Records written, redelivered copies included. */
  records: number;
  uniqueEvents: number;
  duplicates: number;
  consoleEvents: number;
  programmaticEvents: number;
  sessions: {
    principal: string | null;
    mfaUsed: boolean | null;
    login: string | null;
    events: number;
    signals: number;
    summary: string;
  }[];
  signalsByLabel: Record<string, number>;
  /** The labels the stories asked for, all checked. */
  labels: string[];
}

function fail(message: string): never {
  throw new Error(`make-example: verification failed: ${message}`);
}

function comparable(enrichment: Enrichment): string {
  return JSON.stringify(enrichment.sessions.map((s) => ({ summary: s.summary, signals: s.signals })));
}

function verify(
  dataset: Dataset,
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

  const byEvent = new Map(fromDisk.events.map((e) => [e.eventId, e]));
  const signals = new Map(fromDisk.sessions.flatMap((s) => s.signals).map((s) => [s.id, s]));
  const sessionOf = new Map<string, string>();
  for (const burst of dataset.bursts) {
    const entries = burst.eventIds.map((id) => byEvent.get(id)!);
    const labels = [...new Set(entries.map((e) => e.label))];
    const signalIds = [...new Set(entries.map((e) => e.signalId))];
    if (labels.length !== 1 || labels[0] !== burst.label || signalIds.length !== 1 || !signalIds[0]) {
      fail(
        `${burst.actor}'s ${burst.label} burst came out as ${labels.join(', ')} (${signalIds.length} signals)`,
      );
    }
    const signal = signals.get(signalIds[0])!;
    if (signal.eventCount !== burst.eventIds.length) {
      fail(
        `${burst.actor}'s ${burst.label} signal has ${signal.eventCount} events, the burst ${burst.eventIds.length}`,
      );
    }
    const sessionId = entries[0].sessionId!;
    const previous = sessionOf.get(burst.actor);
    if (previous && previous !== sessionId) fail(`${burst.actor}'s actions are split over several sessions`);
    sessionOf.set(burst.actor, sessionId);
  }
  const consoleSessions = fromDisk.sessions.filter((s) => s.summary.kind === 'console');
  const principals = new Set(consoleSessions.map((s) => s.summary.principalArn));
  if (consoleSessions.length < 2 || principals.size < 2)
    fail(`only ${consoleSessions.length} console sessions`);
  if (new Set(sessionOf.values()).size !== sessionOf.size) fail('two actors share a session');
  const burstIds = new Set(dataset.bursts.flatMap((b) => b.eventIds));
  for (const event of fromDisk.events) {
    if (burstIds.has(event.eventId) !== (event.sessionId !== null)) {
      fail(
        `event ${event.eventId} (${event.ref}) is ${event.sessionId ? 'in a session' : 'outside every session'}`,
      );
    }
  }
}

/** Writes the example trail into `dir` (its AWSLogs/ folder is replaced), checks it, and reports. */
export async function writeExample(dir: string, rules: readonly SignalRule[] = loadRules()): Promise<Report> {
  const dataset = buildDataset(rules);
  const names = new Prng(SEED ^ 0x5ee); // object names and digest fields
  const objects = deliveryObjects(dataset, names);
  const digest = digestObject(dataset.world.orgId, objects, names);

  await rm(join(dir, 'AWSLogs'), { recursive: true, force: true });
  for (const object of [...objects.map((o) => ({ key: o.key, body: encode(o.records) })), digest]) {
    const path = join(dir, ...object.key.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, gzip(object.body));
  }

  const memoryEvents = dataset.records.map((record, i) => toTrailEvent(record, 'memory', i));
  const fromMemory = enrich(memoryEvents, rules);
  const read = await readInputs([dir]);
  if (read.problems.length > 0)
    fail(`reading back: ${read.problems.map((p) => `${p.source}: ${p.reason}`).join('; ')}`);
  const digestPath = join(dir, ...digest.key.split('/'));
  if (!read.skipped.some((s) => digestPath.startsWith(s.source))) fail('the digest file was not skipped');
  if (read.sources.length !== objects.length)
    fail(`read ${read.sources.length} objects, wrote ${objects.length}`);
  const fromDisk = enrich(read.events, rules);
  verify(dataset, fromMemory, fromDisk, read.events);

  const signalsByLabel: Record<string, number> = {};
  for (const signal of fromDisk.sessions
    .flatMap((s) => s.signals)
    .sort((a, b) => a.label.localeCompare(b.label))) {
    signalsByLabel[signal.label] = (signalsByLabel[signal.label] ?? 0) + 1;
  }
  const consoleEvents = fromDisk.events.filter((e) => e.sessionId !== null).length;
  return {
    dir,
    orgId: dataset.world.orgId,
    objects: objects.length,
    digests: 1,
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
    signalsByLabel,
    labels: [...new Set(dataset.bursts.map((b) => b.label))].sort(),
  };
}

function printReport(report: Report): void {
  const where = relative(process.cwd(), report.dir) || '.';
  console.log(`wrote ${where}: ${report.objects} log objects + ${report.digests} digest (${report.orgId})`);
  console.log(
    `records ${report.records} (${report.uniqueEvents} unique, ${report.duplicates} redelivered): ` +
      `${report.consoleEvents} in console sessions, ${report.programmaticEvents} programmatic`,
  );
  console.log(`sessions ${report.sessions.length}:`);
  for (const session of report.sessions) console.log(`  ${session.summary}`);
  console.log('signals per label:');
  for (const [label, count] of Object.entries(report.signalsByLabel))
    console.log(`  ${String(count).padStart(3)}  ${label}`);
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

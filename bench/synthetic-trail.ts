/**
 * A synthetic organization trail of any size, for benchmarks, load tests and the sessions check.
 *
 * Console sessions are copies of the bundled example's console sign-ins (real console bursts, as
 * the example's generator writes them), each copy a new sign-in with its own event ids, keys,
 * source address and start time. Copies keep the identity shapes a real sign-in has (DESIGN.md,
 * "CloudTrail facts"): every distinct access key of the template maps to its own fresh key (a
 * sign-in has one per console service, renewed), `sessionContext.attributes.creationDate` moves with
 * the event times (so it still equals the copy's ConsoleLogin time), GetSigninToken names the copy's
 * key, and CheckMfa (no arn) names the copy's principal. About a third of the copies are a principal
 * signing in again (same user ARN or role session name, same account), at least 30 minutes after
 * that principal's previous session ended; a principal's sessions never overlap.
 *
 * The rest is noise outside any console session: programmatic callers (SDK and service callers:
 * KMS, STS, EC2, S3, SSM, Lambda…), AWS service events (eventType AwsServiceEvent), and the
 * console principals themselves scripting with the CLI (same arn, their own keys).
 *
 * Records are written as CloudTrail delivers them: one gzip object per account × region × 5
 * minutes, named by delivery time. Deterministic for a seed. The generator also returns the truth:
 * for every sign-in copy, its principal, creationDate and exactly the eventIDs it made.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { readInputs } from '../engine/read.ts';
import type { CloudTrailRecord, UserIdentity } from '../engine/types.ts';
import { random } from '../bin/simulate.ts';
import { maxOf, minOf } from '../engine/arrays.ts';

export const EXAMPLE_TRAIL = fileURLToPath(new URL('../examples/trail', import.meta.url));
const ORG = 'o-bench00001';
const FIVE_MINUTES = 300_000;
/** A principal signs in again no sooner than this after its previous session's last event. */
export const SIGN_IN_AGAIN_AFTER_MS = 30 * 60_000;
/** The share of copies that are a principal's second (or later) sign-in, when the span allows. */
const SIGN_IN_AGAIN_SHARE = 1 / 3;
/** How long before its ConsoleLogin a sign-in's CheckMfa and GetSigninToken can come. */
const SIGN_IN_LEAD_MS = 120_000;
/** The share of console principals that also script with the CLI (noise with their arn). */
const SCRIPTING_SHARE = 0.5;
/** The share of the other noise that is AWS service events. */
const SERVICE_EVENT_SHARE = 0.01;

export interface SyntheticTrailOptions {
  /** Total events to write (about). */
  events: number;
  /** Share of events from console sessions. @default 0.2 */
  consoleShare?: number;
  accounts?: number;
  regions?: string[];
  /** Hours the trail spans. @default 6 */
  hours?: number;
  seed?: number;
  start?: number;
  /** Put every record in one object (for the single-object ingest benchmark). */
  singleObject?: boolean;
  /**
   * When a template sign-in's console calls all carry one key, give each console service of its
   * copies its own key, renewed, as the console does. Templates with several keys keep theirs.
   * @default true
   */
  perServiceKeys?: boolean;
  /** Also write the truth as JSON: `true` writes `truth.json` in the trail dir's parent; a string is the path. */
  truthFile?: string | boolean;
}

/** One console sign-in of a synthetic trail and exactly the events that belong to it. */
export interface TruthSession {
  /** `t-<n>`, n counting the copies in the order they were made. */
  id: string;
  principalArn: string;
  /** The ConsoleLogin's time, which is the `creationDate` of every call the session made. */
  creationDate: string;
  accountId: string;
  /** The example sign-in this is a copy of (its index in `exampleSignIns()`). */
  template: number;
  /** 1 for the principal's first sign-in in the trail, 2 for its second, … */
  signIn: number;
  startTime: string;
  endTime: string;
  /** Distinct access keys its records carry or are issued (GetSigninToken). */
  accessKeys: string[];
  /** In time order. */
  eventIds: string[];
}

export interface SessionsTruth {
  seed: number;
  events: number;
  /** Which example sign-ins the copies are of: as the example's generator says, or derived from its records. */
  templates: TemplateSource;
  sessions: TruthSession[];
}

export interface SyntheticTrail {
  dir: string;
  objects: number;
  events: number;
  /** Events of console sign-ins (the truth sessions' events). */
  consoleEvents: number;
  /** Console sign-ins (copies), = truth.sessions.length. */
  consoleSessions: number;
  /** Distinct console principals; fewer than sign-ins when some sign in more than once. */
  principals: number;
  compressedBytes: number;
  truth: SessionsTruth;
  /** Where the truth was written, when asked. */
  truthFile: string | null;
}

/** One console sign-in found in a trail: its principal, creationDate and records. */
export interface SignIn {
  principalArn: string;
  /** The ConsoleLogin's eventTime. */
  creationDate: string;
  /** Sorted by time, then eventID. */
  records: CloudTrailRecord[];
}

const SIGNIN_SOURCE = 'signin.amazonaws.com';
const SIGN_IN_STEPS = new Set(['CheckMfa', 'GetSigninToken', 'ConsoleLogin']);
const isSignInStep = (r: CloudTrailRecord) =>
  r.eventSource === SIGNIN_SOURCE && SIGN_IN_STEPS.has(r.eventName ?? '');
/** Whole seconds of a CloudTrail time (creationDate and eventTime agree to the second). */
const seconds = (time: unknown) => (typeof time === 'string' ? Math.floor(Date.parse(time) / 1000) : NaN);
const byTime = (a: CloudTrailRecord, b: CloudTrailRecord) =>
  Date.parse(a.eventTime as string) - Date.parse(b.eventTime as string) ||
  ((a.eventID ?? '') < (b.eventID ?? '') ? -1 : (a.eventID ?? '') > (b.eventID ?? '') ? 1 : 0);
const creationDateOf = (r: CloudTrailRecord) => r.userIdentity?.sessionContext?.attributes?.creationDate;

/** A script's user agent (CLI, SDK, IaC): its calls are not clicks, even with console credentials. */
function scripted(agent: string | undefined): boolean {
  if (!agent || /aws-internal/i.test(agent)) return false;
  return /^aws-cli\/|aws-sdk|Boto3|botocore|aws-cdk|terraform|HashiCorp|AWSPowerShell/i.test(agent);
}

/**
 * Whether a call carrying a sign-in's arn and creationDate was made by the console: a temporary
 * (ASIA) key and either the console flag or a user agent that is not a script's (browser, console
 * front end, `AWS Internal`, `[S3Console… aws-internal…]`, `RDS Console, aws-internal/3 aws-sdk-java…`).
 */
function madeByConsole(r: CloudTrailRecord): boolean {
  if (r.eventType === 'AwsServiceEvent') return false;
  if (!r.userIdentity?.accessKeyId?.startsWith('ASIA')) return false;
  return r.sessionCredentialFromConsole === 'true' || !scripted(r.userAgent);
}

/** Whether a sign-in step (CheckMfa names no arn) is the same principal as a ConsoleLogin. */
function samePrincipal(step: CloudTrailRecord, login: CloudTrailRecord): boolean {
  const a = step.userIdentity;
  const b = login.userIdentity;
  if (!a || !b) return false;
  if (a.arn) return a.arn === b.arn;
  if (a.accountId !== b.accountId) return false;
  const name = b.arn?.slice(b.arn.lastIndexOf('/') + 1);
  return (
    (a.principalId !== undefined && a.principalId === b.principalId) ||
    (a.userName !== undefined && (a.userName === b.userName || a.userName === name))
  );
}

/**
 * The console sign-ins of a trail, decided from the records alone (never from the engine's
 * grouping): each successful ConsoleLogin with an arn is a sign-in at its time; it holds its
 * sign-in steps (the latest CheckMfa and GetSigninToken of that principal in the two minutes
 * before it) and every record carrying that arn with that creationDate made by the console (see
 * `madeByConsole`). Sign-in steps that fail (or name nobody) and everything else belong to none.
 */
export function consoleSignIns(input: readonly CloudTrailRecord[]): SignIn[] {
  const records = [...input].sort(byTime);
  const sessions = new Map<string, { login: CloudTrailRecord; records: CloudTrailRecord[] }>();
  for (const r of records) {
    const arn = r.userIdentity?.arn;
    if (r.eventSource !== SIGNIN_SOURCE || r.eventName !== 'ConsoleLogin' || !arn) continue;
    if ((r.responseElements as { ConsoleLogin?: unknown } | null)?.ConsoleLogin !== 'Success') continue;
    const key = `${arn}|${seconds(r.eventTime)}`;
    if (!sessions.has(key)) sessions.set(key, { login: r, records: [r] });
  }
  const steps = records.filter((r) => isSignInStep(r) && r.eventName !== 'ConsoleLogin');
  const claimed = new Set<CloudTrailRecord>();
  for (const session of sessions.values()) {
    const loginAt = Date.parse(session.login.eventTime as string);
    for (const name of ['CheckMfa', 'GetSigninToken']) {
      let best: CloudTrailRecord | undefined;
      for (const r of steps) {
        const at = Date.parse(r.eventTime as string);
        if (r.eventName !== name || claimed.has(r) || at > loginAt || loginAt - at > SIGN_IN_LEAD_MS)
          continue;
        if (samePrincipal(r, session.login)) best = r; // steps are in time order: the latest wins
      }
      if (best) {
        claimed.add(best);
        session.records.push(best);
      }
    }
  }
  for (const r of records) {
    const arn = r.userIdentity?.arn;
    const created = creationDateOf(r);
    if (isSignInStep(r) || !arn || !created || !madeByConsole(r)) continue;
    sessions.get(`${arn}|${seconds(created)}`)?.records.push(r);
  }
  return [...sessions.values()].map(({ login, records: own }) => ({
    principalArn: login.userIdentity!.arn!,
    creationDate: iso(Date.parse(login.eventTime as string)),
    records: own.sort(byTime),
  }));
}

/** The access keys a sign-in's records carry, and the ones GetSigninToken issues. */
export function accessKeysOf(records: readonly CloudTrailRecord[]): string[] {
  const keys = new Set<string>();
  for (const r of records) {
    const key = r.userIdentity?.accessKeyId;
    if (key) keys.add(key);
    const issued = (r.responseElements as { credentials?: { accessKeyId?: unknown } } | null)?.credentials
      ?.accessKeyId;
    if (typeof issued === 'string' && issued) keys.add(issued);
  }
  return [...keys];
}

/** Where the templates came from: the example generator's own truth, or `consoleSignIns` on its records. */
export type TemplateSource = 'exampleSessionsTruth' | 'derived';

let example: Promise<{ signIns: SignIn[]; source: TemplateSource }> | undefined;

/**
 * The bundled example's console sign-ins (the templates of every copy), read once: as the example
 * generator's own bookkeeping says (`exampleSessionsTruth()` of scripts/make-example.ts, its
 * console sign-ins with an arn) when it describes the example on disk, else `consoleSignIns`.
 */
export async function exampleSignIns(): Promise<SignIn[]> {
  return (await exampleTemplates()).signIns;
}

export function exampleTemplates(): Promise<{ signIns: SignIn[]; source: TemplateSource }> {
  example ??= (async () => {
    const { events, problems } = await readInputs([EXAMPLE_TRAIL]);
    const records = events.map((e) => e.record);
    const told = await exampleTruthSignIns(records);
    const signIns = told ?? consoleSignIns(records);
    if (signIns.length > 0) return { signIns, source: told ? 'exampleSessionsTruth' : 'derived' };
    example = undefined; // the example may be being rewritten: read it again next time
    const why = problems.map((p) => `${p.source}: ${p.reason}`).join('; ');
    throw new Error(
      `no console sign-in in ${EXAMPLE_TRAIL} to copy (${events.length} events${why ? `; ${why}` : ''})`,
    );
  })();
  return example;
}

/**
 * The example generator's truth as sign-ins of the example's records, or null when the script
 * does not say (no such export, it fails) or says something else than the files on disk hold.
 */
async function exampleTruthSignIns(records: readonly CloudTrailRecord[]): Promise<SignIn[] | null> {
  let truth: unknown;
  try {
    const script = (await import('../scripts/make-example.ts')) as { exampleSessionsTruth?: unknown };
    if (typeof script.exampleSessionsTruth !== 'function') return null;
    truth = (script.exampleSessionsTruth as () => unknown)();
  } catch {
    return null;
  }
  if (!Array.isArray(truth)) return null;
  const byId = new Map(records.map((r) => [r.eventID, r]));
  const signIns: SignIn[] = [];
  for (const entry of truth as Partial<
    Record<'kind' | 'principalArn' | 'creationDate', string | null> & { eventIds: unknown }
  >[]) {
    if (entry.kind !== 'console' || !entry.principalArn || !entry.creationDate) continue;
    if (!Array.isArray(entry.eventIds)) return null;
    const own = (entry.eventIds as string[]).map((id) => byId.get(id));
    if (own.some((r) => !r)) return null; // the files on disk are not what the script makes now
    const login = own.find((r) => r!.eventSource === SIGNIN_SOURCE && r!.eventName === 'ConsoleLogin');
    if (!login || seconds(login.eventTime) !== seconds(entry.creationDate)) return null;
    signIns.push({
      principalArn: entry.principalArn,
      creationDate: iso(Date.parse(entry.creationDate)),
      records: (own as CloudTrailRecord[]).sort(byTime),
    });
  }
  // In sign-in order, as consoleSignIns gives them.
  signIns.sort(
    (a, b) => seconds(a.creationDate) - seconds(b.creationDate) || (a.principalArn < b.principalArn ? -1 : 1),
  );
  return signIns.length > 0 ? signIns : null;
}

interface Template {
  index: number;
  records: CloudTrailRecord[];
  start: number;
  end: number;
  /** Names to rewrite per principal (the arn's last part: user name, role session name), longest first. */
  names: string[];
  /** Account ids to rewrite to the copy's account. */
  accounts: string[];
  /** The one key all its console calls carry, when they share one (an example older than per-service keys). */
  sharedKey: string | null;
}

function template(signIn: SignIn, index: number): Template {
  const times = signIn.records.map((r) => Date.parse(r.eventTime as string));
  const names = new Set<string>();
  const accounts = new Set<string>();
  for (const r of signIn.records) {
    const identity = r.userIdentity;
    if (identity?.arn) names.add(identity.arn.slice(identity.arn.lastIndexOf('/') + 1));
    for (const account of [
      identity?.accountId,
      (identity?.sessionContext?.sessionIssuer as { accountId?: string } | undefined)?.accountId,
      r.recipientAccountId,
    ]) {
      if (account && /^\d{12}$/.test(account)) accounts.add(account);
    }
  }
  const consoleKeys = new Set(
    signIn.records.filter((r) => !isSignInStep(r)).map((r) => r.userIdentity?.accessKeyId),
  );
  const [sharedKey] = consoleKeys;
  return {
    index,
    records: signIn.records,
    sharedKey: consoleKeys.size === 1 && sharedKey?.startsWith('ASIA') ? sharedKey : null,
    start: minOf(times),
    end: maxOf(times),
    names: [...names].filter((n) => n.length >= 3).sort((a, b) => b.length - a.length),
    accounts: [...accounts],
  };
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const accountId = (i: number) => `${pad(200000000000 + i * 7919, 12)}`;
const eventId = (seed: string) => {
  const h = createHash('sha1').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};
function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
const key20 = (prefix: string, n: number) => `${prefix}${n.toString(36).toUpperCase().padStart(16, '0')}`;
/** A 20-character AWS id (`ASIA…`, `AKIA…`, `AIDA…`, `AROA…`) derived from a seed string. */
const id20 = (prefix: string, seed: string) =>
  `${prefix}${BigInt(`0x${createHash('sha1').update(seed).digest('hex').slice(0, 20)}`)
    .toString(36)
    .toUpperCase()
    .padStart(16, '0')
    .slice(-16)}`;

/** First octets of widely allocated public IPv4 space (none is private, reserved or documentation). */
const PUBLIC_FIRST_OCTETS = [
  23, 31, 37, 45, 52, 62, 77, 81, 89, 91, 94, 109, 151, 176, 185, 193, 195, 212, 213, 217,
];
const publicAddress = (n: number) =>
  `${PUBLIC_FIRST_OCTETS[n % PUBLIC_FIRST_OCTETS.length]}.${(n >> 4) % 250}.${(n * 7) % 250}.${(n % 250) + 1}`;

/** A console principal of the synthetic trail: one template, one account, signing in one or more times. */
interface Principal {
  index: number;
  template: Template;
  account: string;
  /** Last event time of its latest sign-in. */
  end: number;
  signIns: number;
  /** Its identity in a console call of its first sign-in (for its CLI calls). */
  identity?: UserIdentity;
}

/** A template's name made the principal's own (`alice` → `alice-p7`, `bob@example.com` → `bob-p7@example.com`). */
function principalName(name: string, principal: number): string {
  const at = name.indexOf('@');
  return at > 0 ? `${name.slice(0, at)}-p${principal}${name.slice(at)}` : `${name}-p${principal}`;
}

/**
 * One sign-in copy: the principal's names and account, fresh keys (each of the template's keys its
 * own, new for every sign-in), a public address, new ids, times and creationDates moved to `start`.
 */
function copySignIn(
  template: Template,
  copy: number,
  principal: Principal,
  start: number,
  perServiceKeys: boolean,
): CloudTrailRecord[] {
  const fresh = new Map<string, string>();
  let text = JSON.stringify(template.records).replace(
    /\b(ASIA|AKIA|AIDA|AROA)[A-Z0-9]{16}\b/g,
    (old: string, prefix: string) => {
      let id = fresh.get(old);
      if (!id) {
        // Temporary keys are new at every sign-in; a user's ids are the user's; a role's, its account's.
        const scope =
          prefix === 'ASIA'
            ? `copy ${copy}`
            : prefix === 'AROA'
              ? `account ${principal.account}`
              : `principal ${principal.index}`;
        fresh.set(old, (id = id20(prefix, `${scope}/${old}`)));
      }
      return id;
    },
  );
  for (const name of template.names) text = text.replaceAll(name, principalName(name, principal.index));
  for (const old of template.accounts) text = text.replaceAll(old, principal.account);
  // A public address per copy (people sign in from the internet), so GeoIP has real work to do.
  text = text.replace(/\b(198\.51\.100|203\.0\.113|192\.0\.2)\.\d+\b/g, publicAddress(copy));
  const shift = start - template.start;
  const records = (JSON.parse(text) as CloudTrailRecord[]).map((r, i) => {
    const attributes = r.userIdentity?.sessionContext?.attributes;
    if (attributes?.creationDate) attributes.creationDate = iso(Date.parse(attributes.creationDate) + shift);
    return {
      ...r,
      eventTime: iso(Date.parse(r.eventTime as string) + shift),
      eventID: eventId(`c${copy}/${i}`),
      requestID: eventId(`rc${copy}/${i}`),
    };
  });
  if (perServiceKeys && template.sharedKey) keyPerService(records, fresh.get(template.sharedKey)!, copy);
  return records;
}

/** How long the console uses a service's key before it gets a new one (15-60 minutes in real trails). */
const KEY_RENEWAL_MS = 30 * 60_000;
/** AWS Health's background poll (every 5 minutes) gets a fresh key each time. */
const HEALTH_KEY_RENEWAL_MS = 4 * 60_000;

/**
 * Replaces the one key of a sign-in's console calls (in time order) by a key per console service
 * (eventSource), renewed every KEY_RENEWAL_MS, AWS Health's poll a new one at each poll (DESIGN.md,
 * "CloudTrail facts"); GetSigninToken then issues the first call's key.
 */
function keyPerService(records: CloudTrailRecord[], shared: string, copy: number): void {
  const keys = new Map<string, { key: string; since: number }>();
  let first: string | undefined;
  for (const r of records) {
    const identity = r.userIdentity;
    if (!identity || identity.accessKeyId !== shared || isSignInStep(r)) continue;
    const service = r.eventSource ?? '';
    const at = Date.parse(r.eventTime as string);
    const life = service === 'health.amazonaws.com' ? HEALTH_KEY_RENEWAL_MS : KEY_RENEWAL_MS;
    let current = keys.get(service);
    if (!current || at - current.since >= life) {
      keys.set(service, (current = { key: id20('ASIA', `copy ${copy}/${service}/${at}`), since: at }));
    }
    identity.accessKeyId = current.key;
    first ??= current.key;
  }
  for (const r of records) {
    const credentials = (r.responseElements as { credentials?: { accessKeyId?: unknown } } | null)
      ?.credentials;
    if (first && credentials?.accessKeyId === shared) credentials.accessKeyId = first;
  }
}

const NOISE: { source: string; name: string; readOnly: boolean; params: (n: number) => object | null }[] = [
  {
    source: 'kms',
    name: 'Decrypt',
    readOnly: true,
    params: () => ({ encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }),
  },
  { source: 'kms', name: 'GenerateDataKey', readOnly: true, params: () => ({ keySpec: 'AES_256' }) },
  {
    source: 'sts',
    name: 'AssumeRole',
    readOnly: true,
    params: (n) => ({ roleArn: `arn:aws:iam::000000000000:role/app-${n % 40}`, roleSessionName: `s-${n}` }),
  },
  { source: 'ec2', name: 'DescribeInstances', readOnly: true, params: () => ({ maxResults: 1000 }) },
  { source: 'ec2', name: 'DescribeVolumes', readOnly: true, params: () => null },
  { source: 's3', name: 'ListBuckets', readOnly: true, params: () => null },
  {
    source: 's3',
    name: 'GetBucketLocation',
    readOnly: true,
    params: (n) => ({ bucketName: `data-${n % 90}` }),
  },
  {
    source: 'ssm',
    name: 'GetParameter',
    readOnly: true,
    params: (n) => ({ name: `/app/${n % 30}/endpoint` }),
  },
  { source: 'lambda', name: 'ListFunctions20150331', readOnly: true, params: () => null },
  {
    source: 'logs',
    name: 'CreateLogStream',
    readOnly: false,
    params: (n) => ({ logGroupName: `/aws/lambda/fn-${n % 50}`, logStreamName: `2026/03/02/[$LATEST]${n}` }),
  },
  { source: 'ecr', name: 'GetAuthorizationToken', readOnly: true, params: () => null },
  { source: 'autoscaling', name: 'DescribeAutoScalingGroups', readOnly: true, params: () => null },
  {
    source: 'dynamodb',
    name: 'DescribeTable',
    readOnly: true,
    params: (n) => ({ tableName: `table-${n % 20}` }),
  },
];

function noiseRecord(
  n: number,
  account: string,
  region: string,
  time: number,
  rand: () => number,
): CloudTrailRecord {
  const call = NOISE[Math.floor(rand() * NOISE.length)];
  const roleIndex = Math.floor(rand() * 40);
  const role = `app-${roleIndex}`;
  const instance = n % 25; // 25 instance sessions per role: about 1,000 principals per account
  const service = rand() < 0.1;
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole',
      principalId: `AROA${pad(n % 997, 12)}:${role}`,
      arn: `arn:aws:sts::${account}:assumed-role/${role}/i-${instance.toString(16).padStart(17, '0')}`,
      accountId: account,
      accessKeyId: key20('ASIA', 9_000_000 + roleIndex * 25 + instance),
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: `AROA${pad(n % 997, 12)}`,
          arn: `arn:aws:iam::${account}:role/${role}`,
          accountId: account,
          userName: role,
        },
        attributes: { creationDate: iso(time - 600_000), mfaAuthenticated: 'false' },
      },
    },
    eventTime: iso(time),
    eventSource: `${call.source}.amazonaws.com`,
    eventName: call.name,
    awsRegion: region,
    sourceIPAddress: service
      ? `${call.source}.amazonaws.com`
      : `10.${n % 250}.${(n >> 8) % 250}.${(n >> 16) % 250}`,
    userAgent: service
      ? `${call.source}.amazonaws.com`
      : 'aws-sdk-java/2.25.1 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9 ua/2.0 os/Linux lang/java',
    requestParameters: call.params(n),
    responseElements: null,
    requestID: eventId(`rn${n}`),
    eventID: eventId(`n${n}`),
    readOnly: call.readOnly,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
    tlsDetails: service
      ? undefined
      : {
          tlsVersion: 'TLSv1.3',
          cipherSuite: 'TLS_AES_128_GCM_SHA256',
          clientProvidedHostHeader: `${call.source}.${region}.amazonaws.com`,
        },
  } as CloudTrailRecord;
}

const CLI_CALLS: { source: string; name: string; command: string; params: object | null }[] = [
  { source: 'sts', name: 'GetCallerIdentity', command: 'sts.get-caller-identity', params: null },
  { source: 's3', name: 'ListBuckets', command: 's3.ls', params: null },
  {
    source: 'ec2',
    name: 'DescribeInstances',
    command: 'ec2.describe-instances',
    params: { maxResults: 1000 },
  },
  {
    source: 'cloudformation',
    name: 'DescribeStacks',
    command: 'cloudformation.describe-stacks',
    params: null,
  },
];

/**
 * A console principal's own CLI call (noise: not a click): its arn, but its long-term key (an IAM
 * user) or the key and creationDate of a CLI role session that is no console sign-in's.
 */
function scriptedCall(
  n: number,
  principal: Principal,
  identity: UserIdentity,
  trailStart: number,
  region: string,
  time: number,
  rand: () => number,
): CloudTrailRecord {
  const call = CLI_CALLS[Math.floor(rand() * CLI_CALLS.length)];
  const user = identity.type === 'IAMUser';
  const { sessionContext, ...rest } = identity;
  const userIdentity: UserIdentity = user
    ? { ...rest, accessKeyId: id20('AKIA', `principal ${principal.index}/cli`) }
    : {
        ...rest,
        accessKeyId: id20('ASIA', `principal ${principal.index}/cli`),
        sessionContext: {
          ...sessionContext,
          // Before the trail starts, so never a sign-in's creationDate.
          attributes: { creationDate: iso(trailStart - 3_600_000), mfaAuthenticated: 'false' },
        },
      };
  return {
    eventVersion: '1.09',
    userIdentity,
    eventTime: iso(time),
    eventSource: `${call.source}.amazonaws.com`,
    eventName: call.name,
    awsRegion: region,
    sourceIPAddress: publicAddress(10_000 + principal.index),
    userAgent: `aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#${call.command}`,
    requestParameters: call.params,
    responseElements: null,
    requestID: eventId(`rp${principal.index}/${n}`),
    eventID: eventId(`p${principal.index}/${n}`),
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: principal.account,
    eventCategory: 'Management',
    tlsDetails: {
      tlsVersion: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      clientProvidedHostHeader: `${call.source}.${region}.amazonaws.com`,
    },
  } as CloudTrailRecord;
}

/** An AWS service event (a KMS key rotated by AWS): no principal, no session. */
function serviceEvent(n: number, account: string, region: string, time: number): CloudTrailRecord {
  const keyId = eventId(`key ${account}/${n % 20}`);
  return {
    eventVersion: '1.09',
    userIdentity: { accountId: account, invokedBy: 'AWS Internal' },
    eventTime: iso(time),
    eventSource: 'kms.amazonaws.com',
    eventName: 'RotateKey',
    awsRegion: region,
    sourceIPAddress: 'AWS Internal',
    userAgent: 'AWS Internal',
    requestParameters: null,
    responseElements: null,
    eventID: eventId(`n${n}`),
    readOnly: false,
    resources: [
      { accountId: account, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${region}:${account}:key/${keyId}` },
    ],
    eventType: 'AwsServiceEvent',
    managementEvent: true,
    recipientAccountId: account,
    serviceEventDetails: { keyId },
    eventCategory: 'Management',
  } as CloudTrailRecord;
}

/** Streams `{"Records":[…]}` through gzip to a file (documents may exceed the longest JS string). */
async function writeGzipDocument(file: string, records: CloudTrailRecord[]): Promise<number> {
  const gzip = createGzip();
  const done = pipeline(gzip, createWriteStream(file));
  const write = (text: string) =>
    gzip.write(text)
      ? Promise.resolve()
      : new Promise<void>((resolve) => gzip.once('drain', () => resolve()));
  await write('{"Records":[');
  for (let i = 0; i < records.length; i += 500) {
    const part = records
      .slice(i, i + 500)
      .map((r) => JSON.stringify(r))
      .join(',');
    await write(i === 0 ? part : `,${part}`);
  }
  gzip.end(']}');
  await done;
  return (await stat(file)).size;
}

/** Writes the trail under `dir/AWSLogs/…` and says what it wrote, with the truth of its sign-ins. */
export async function writeSyntheticTrail(
  dir: string,
  options: SyntheticTrailOptions,
): Promise<SyntheticTrail> {
  const seed = options.seed ?? 1;
  const rand = random(seed);
  const consoleShare = options.consoleShare ?? 0.2;
  const accounts = Array.from({ length: options.accounts ?? 12 }, (_, i) => accountId(i));
  const regions = options.regions ?? ['us-east-1', 'eu-west-1', 'us-west-2', 'ap-southeast-2'];
  const start = options.start ?? Date.UTC(2026, 2, 2, 0, 0, 0);
  const span = (options.hours ?? 6) * 3_600_000;
  const objects = new Map<string, CloudTrailRecord[]>();
  const add = (record: CloudTrailRecord) => {
    const window = Math.floor(Date.parse(record.eventTime as string) / FIVE_MINUTES) * FIVE_MINUTES;
    const key = options.singleObject
      ? `${accounts[0]}|${regions[0]}|${start}`
      : `${record.recipientAccountId}|${record.awsRegion}|${window}`;
    let list = objects.get(key);
    if (!list) objects.set(key, (list = []));
    list.push(record);
  };
  const fromExample = await exampleTemplates();
  const templates = fromExample.signIns.map(template);

  // Console sign-ins: a new principal, or (about a third of the time, when the span leaves room)
  // a principal signing in again, at least SIGN_IN_AGAIN_AFTER_MS after its last session ended.
  const principals: Principal[] = [];
  const truth: TruthSession[] = [];
  let consoleEvents = 0;
  while (consoleEvents < options.events * consoleShare) {
    let principal: Principal | undefined;
    let at = 0;
    if (rand() < SIGN_IN_AGAIN_SHARE) {
      const ready = principals.filter(
        (p) => p.end + SIGN_IN_AGAIN_AFTER_MS + (p.template.end - p.template.start) <= start + span,
      );
      if (ready.length > 0) {
        principal = ready[Math.floor(rand() * ready.length)];
        const earliest = principal.end + SIGN_IN_AGAIN_AFTER_MS;
        const latest = start + span - (principal.template.end - principal.template.start);
        at = earliest + Math.floor(rand() * (latest - earliest));
      }
    }
    if (!principal) {
      const template = templates[principals.length % templates.length];
      principal = {
        index: principals.length,
        template,
        account: accounts[Math.floor(rand() * accounts.length)],
        end: 0,
        signIns: 0,
      };
      principals.push(principal);
      at = start + Math.floor(rand() * Math.max(1, span - (template.end - template.start)));
    }
    at = Math.ceil(at / 1000) * 1000; // whole seconds, so creationDate and ConsoleLogin stay equal
    const copy = copySignIn(principal.template, truth.length, principal, at, options.perServiceKeys ?? true);
    const login = copy.find((r) => r.eventSource === SIGNIN_SOURCE && r.eventName === 'ConsoleLogin')!;
    principal.identity ??= copy.find(
      (r) => !isSignInStep(r) && creationDateOf(r) === login.eventTime,
    )?.userIdentity;
    principal.end = at + (principal.template.end - principal.template.start);
    principal.signIns++;
    truth.push({
      id: `t-${truth.length}`,
      principalArn: login.userIdentity!.arn!,
      creationDate: login.eventTime as string,
      accountId: principal.account,
      template: principal.template.index,
      signIn: principal.signIns,
      startTime: copy[0].eventTime as string,
      endTime: copy[copy.length - 1].eventTime as string,
      accessKeys: accessKeysOf(copy),
      eventIds: copy.map((r) => r.eventID as string),
    });
    copy.forEach(add);
    consoleEvents += copy.length;
  }

  // Noise: console principals scripting with the CLI, AWS service events, programmatic callers.
  let noise = Math.max(0, options.events - consoleEvents);
  for (const principal of principals) {
    if (!principal.identity || rand() >= SCRIPTING_SHARE) continue;
    if (principal.identity.type !== 'IAMUser' && principal.identity.type !== 'AssumedRole') continue;
    const calls = Math.min(noise, 5 + Math.floor(rand() * 16));
    const region = regions[Math.floor(rand() * regions.length)];
    for (let n = 0; n < calls; n++) {
      const time = start + Math.floor(rand() * span);
      add(scriptedCall(n, principal, principal.identity, start, region, time, rand));
    }
    noise -= calls;
  }
  for (let n = 0; n < noise; n++) {
    const account = accounts[Math.floor(rand() * accounts.length)];
    const region = regions[Math.floor(rand() * regions.length)];
    const time = start + Math.floor(rand() * span);
    add(
      rand() < SERVICE_EVENT_SHARE
        ? serviceEvent(n, account, region, time)
        : noiseRecord(n, account, region, time, rand),
    );
  }

  let compressedBytes = 0;
  let written = 0;
  for (const [key, records] of objects) {
    const [account, region, window] = key.split('|');
    const delivered = new Date(Number(window) + FIVE_MINUTES);
    const stamp = delivered.toISOString().replace(/[-:]/g, '').slice(0, 13);
    const day = delivered.toISOString().slice(0, 10).replaceAll('-', '/');
    const path = join(dir, 'AWSLogs', ORG, account, 'CloudTrail', region, day);
    const name = `${account}_CloudTrail_${region}_${stamp}Z_${eventId(key).replaceAll('-', '').slice(0, 16)}.json.gz`;
    records.sort((a, b) => (a.eventTime as string).localeCompare(b.eventTime as string));
    await mkdir(path, { recursive: true });
    compressedBytes += await writeGzipDocument(join(path, name), records);
    written += records.length;
  }
  const sessionsTruth: SessionsTruth = {
    seed,
    events: written,
    templates: fromExample.source,
    sessions: truth,
  };
  const truthFile =
    options.truthFile === true
      ? join(dirname(dir), 'truth.json')
      : typeof options.truthFile === 'string'
        ? options.truthFile
        : null;
  if (truthFile) {
    await mkdir(dirname(truthFile), { recursive: true });
    await writeFile(truthFile, `${JSON.stringify(sessionsTruth)}\n`);
  }
  return {
    dir,
    objects: objects.size,
    events: written,
    consoleEvents,
    consoleSessions: truth.length,
    principals: principals.length,
    compressedBytes,
    truth: sessionsTruth,
    truthFile,
  };
}

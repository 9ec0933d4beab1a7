/**
 * A synthetic organization trail of any size, for benchmarks and load tests.
 *
 * Console sessions are copies of the bundled example's sessions (real console bursts, as mapped by
 * the rules), each with its own principal, access keys, event ids, account, source address and start
 * time, so many run concurrently. The rest is programmatic noise (SDK and service callers: KMS,
 * STS, EC2, S3, SSM, Lambda…). Records are written as CloudTrail delivers them: one gzip object per
 * account × region × 5 minutes, named by delivery time. Deterministic for a seed.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { enrich } from '../engine/enrich.ts';
import { readInputs } from '../engine/read.ts';
import { loadRules } from '../engine/rules/load.ts';
import type { CloudTrailRecord } from '../engine/types.ts';
import { random } from '../bin/simulate.ts';

export const EXAMPLE_TRAIL = fileURLToPath(new URL('../examples/trail', import.meta.url));
const TEMPLATE_ACCOUNTS = ['111122223333', '444455556666'];
const ORG = 'o-bench00001';
const FIVE_MINUTES = 300_000;

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
}

export interface SyntheticTrail {
  dir: string;
  objects: number;
  events: number;
  consoleEvents: number;
  consoleSessions: number;
  compressedBytes: number;
}

interface Template {
  records: CloudTrailRecord[];
  start: number;
  end: number;
  names: string[];
  keys: string[];
}

/** The example's console sessions, as record lists with the names and keys to rewrite in copies. */
async function templates(): Promise<Template[]> {
  const { events } = await readInputs([EXAMPLE_TRAIL]);
  const enrichment = enrich(events, loadRules());
  const byId = new Map(events.map((e) => [e.id, e]));
  return enrichment.sessions.map(({ summary }) => {
    const ids = enrichment.events.filter((e) => e.sessionId === summary.id).map((e) => e.eventId);
    const records = ids.map((id) => byId.get(id)!.record);
    const times = records.map((r) => Date.parse(r.eventTime as string));
    const keys = new Set<string>();
    const names = new Set<string>();
    for (const r of records) {
      const key = r.userIdentity?.accessKeyId;
      if (key) keys.add(key);
      const arn = r.userIdentity?.arn;
      if (arn) names.add(arn.slice(arn.lastIndexOf('/') + 1));
      const issued = JSON.stringify(r.responseElements ?? '').match(/ASIA[A-Z0-9]{12,}/g);
      issued?.forEach((k) => keys.add(k));
    }
    return {
      records,
      start: Math.min(...times),
      end: Math.max(...times),
      names: [...names].filter((n) => n.length > 3),
      keys: [...keys],
    };
  });
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const accountId = (i: number) => `${pad(200000000000 + i * 7919, 12)}`;
const eventId = (seed: string) => {
  const h = createHash('sha1').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const key20 = (prefix: string, n: number) => `${prefix}${n.toString(36).toUpperCase().padStart(16, '0')}`;

/** First octets of widely allocated public IPv4 space (none is private, reserved or documentation). */
const PUBLIC_FIRST_OCTETS = [
  23, 31, 37, 45, 52, 62, 77, 81, 89, 91, 94, 109, 151, 176, 185, 193, 195, 212, 213, 217,
];

/** One console session copy: new principal name, keys, account, address, ids and start. */
function copySession(template: Template, copy: number, account: string, start: number): CloudTrailRecord[] {
  let text = JSON.stringify(template.records);
  for (const old of TEMPLATE_ACCOUNTS) text = text.replaceAll(old, account);
  template.keys.forEach((k, i) => (text = text.replaceAll(k, key20('ASIA', copy * 16 + i))));
  for (const name of template.names) {
    const at = name.indexOf('@');
    const renamed = at > 0 ? `${name.slice(0, at)}-c${copy}${name.slice(at)}` : `${name}-c${copy}`;
    text = text.replaceAll(name, renamed);
  }
  // A public address per copy (people sign in from the internet), so GeoIP has real work to do.
  const firstOctet = PUBLIC_FIRST_OCTETS[copy % PUBLIC_FIRST_OCTETS.length];
  text = text.replace(
    /(198\.51\.100|203\.0\.113)\.\d+/g,
    `${firstOctet}.${(copy >> 4) % 250}.${(copy * 7) % 250}.${(copy % 250) + 1}`,
  );
  const shift = start - template.start;
  return (JSON.parse(text) as CloudTrailRecord[]).map((r, i) => {
    const attributes = r.userIdentity?.sessionContext?.attributes as { creationDate?: string } | undefined;
    if (attributes?.creationDate) attributes.creationDate = iso(Date.parse(attributes.creationDate) + shift);
    return {
      ...r,
      eventTime: iso(Date.parse(r.eventTime as string) + shift),
      eventID: eventId(`c${copy}/${i}`),
      requestID: eventId(`rc${copy}/${i}`),
    };
  });
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

/** Writes the trail under `dir/AWSLogs/…` and says what it wrote. */
export async function writeSyntheticTrail(
  dir: string,
  options: SyntheticTrailOptions,
): Promise<SyntheticTrail> {
  const rand = random(options.seed ?? 1);
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
  const sessionTemplates = await templates();
  let consoleEvents = 0;
  let sessions = 0;
  while (consoleEvents < options.events * consoleShare) {
    const template = sessionTemplates[sessions % sessionTemplates.length];
    const at = start + Math.floor(rand() * Math.max(1, span - (template.end - template.start)));
    const copy = copySession(template, sessions, accounts[Math.floor(rand() * accounts.length)], at);
    copy.forEach(add);
    consoleEvents += copy.length;
    sessions++;
  }
  for (let n = 0; n < options.events - consoleEvents; n++) {
    const account = accounts[Math.floor(rand() * accounts.length)];
    add(
      noiseRecord(
        n,
        account,
        regions[Math.floor(rand() * regions.length)],
        start + Math.floor(rand() * span),
        rand,
      ),
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
  return {
    dir,
    objects: objects.size,
    events: written,
    consoleEvents,
    consoleSessions: sessions,
    compressedBytes,
  };
}

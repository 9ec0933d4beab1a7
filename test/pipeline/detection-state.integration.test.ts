/**
 * Stateful detections across objects in AWS: `ingest` keeps `firstSeen` baselines and threshold
 * events in the buffer table (dynalite over the real SDK), so a new country or a burst of failed
 * logins split over two objects is found, and redeliveries give the same hits.
 */
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DetectionHit, loadDetections, type SourceLookup } from '../../engine/detect.ts';
import type { CloudTrailRecord } from '../../engine/types.ts';
import { SessionBuffer } from '../../lambdas/buffer.ts';
import { DetectionStateStore, FirstSightConflict } from '../../lambdas/detection-state.ts';
import { createIngestHandler } from '../../lambdas/ingest.ts';
import { type LocalAws, startLocalAws } from '../../lambdas/local/emulators.ts';
import { MemoryLogger } from '../../lambdas/log.ts';
import { toTrailEvent } from '../../engine/read.ts';
import {
  ACCOUNT,
  createBufferTable,
  eventId,
  iso,
  logObject,
  s3Message,
  sqsEvent,
  trailKey,
  userArn,
} from './helpers.ts';

const T0 = Date.parse('2026-05-04T08:00:00Z');
const MINUTE = 60_000;
const COUNTRIES: Record<string, string> = { '198.51.100.7': 'US', '203.0.113.9': 'FR', '192.0.2.44': 'BR' };
const lookup: SourceLookup = (address) => ({
  kind: 'public',
  country: COUNTRIES[address ?? ''] ?? null,
  asn: null,
  asOrg: null,
});

function login(user: string, time: number, ip: string, outcome: 'Success' | 'Failure'): CloudTrailRecord {
  return {
    eventVersion: '1.08',
    userIdentity: {
      type: 'IAMUser',
      principalId: `AIDA${user.toUpperCase()}`,
      arn: userArn(user),
      accountId: ACCOUNT,
    },
    eventTime: iso(time),
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    awsRegion: 'us-east-1',
    sourceIPAddress: ip,
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
    requestParameters: null,
    responseElements: { ConsoleLogin: outcome },
    additionalEventData: { MFAUsed: 'Yes' },
    eventID: eventId('login'),
    eventType: 'AwsConsoleSignIn',
    recipientAccountId: ACCOUNT,
  } as CloudTrailRecord;
}

let aws: LocalAws;
let counter = 0;
beforeAll(async () => {
  aws = await startLocalAws({ buckets: [], tableName: 'state-unused' });
});
afterAll(async () => {
  await aws?.close();
});

async function setup() {
  counter++;
  const bucket = `trail-state-${counter}`;
  const table = `buffer-state-${counter}`;
  await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await createBufferTable(aws.ddb, table);
  const found: DetectionHit[][] = [];
  const handler = createIngestHandler({
    s3: aws.s3,
    buffer: new SessionBuffer(aws.ddb, { tableName: table, dueShards: 2, sleep: async () => {} }),
    config: { maxObjectBytes: 1 << 20, settleDelayMs: 15 * MINUTE, bufferTtlMs: 7 * 86_400_000 },
    logger: new MemoryLogger(),
    now: () => T0 + 30 * MINUTE,
    detections: loadDetections(),
    lookup,
    detectionState: new DetectionStateStore(aws.ddb, table),
    onDetections: (hits) => found.push(hits),
  });
  let objects = 0;
  return {
    table,
    /** Stores `records` as a new object (or again under `key`) and ingests it; the hits of that object. */
    async deliver(records: CloudTrailRecord[], key = trailKey(T0 + ++objects * 5 * MINUTE, `Obj${objects}`)) {
      const body = logObject(records);
      await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      found.length = 0;
      const response = await handler(sqsEvent([s3Message(`m-${key}`, bucket, key, body.length)]));
      expect(response.batchItemFailures).toEqual([]);
      return { key, hits: found.flat() };
    },
  };
}

const ruleHits = (hits: DetectionHit[], ruleId: string) => hits.filter((h) => h.ruleId === ruleId);

describe('detection state across objects (buffer table)', () => {
  it('a sign-in from a new country fires in the object that shows it, once; redeliveries give the same hits', async () => {
    const ctx = await setup();
    const first = await ctx.deliver([login('alice', T0, '198.51.100.7', 'Success')]);
    expect(ruleHits(first.hits, 'console-login-new-country')).toEqual([]); // the baseline
    const again = await ctx.deliver([login('alice', T0 + 3_600_000, '198.51.100.7', 'Success')]);
    expect(ruleHits(again.hits, 'console-login-new-country')).toEqual([]);
    const france = login('alice', T0 + 7_200_000, '203.0.113.9', 'Success');
    const news = await ctx.deliver([france, login('bob', T0 + 7_200_000, '203.0.113.9', 'Success')]);
    const [hit] = ruleHits(news.hits, 'console-login-new-country');
    expect(ruleHits(news.hits, 'console-login-new-country')).toHaveLength(1); // bob has no baseline yet
    expect(hit).toMatchObject({
      eventIds: [france.eventID],
      principalArn: userArn('alice'),
      sourceCountry: 'FR',
    });
    // SQS delivers at least once: the same object again must alert again, identically.
    const redelivered = await ctx.deliver(
      [france, login('bob', T0 + 7_200_000, '203.0.113.9', 'Success')],
      news.key,
    );
    expect(ruleHits(redelivered.hits, 'console-login-new-country').map((h) => h.id)).toEqual([hit.id]);
    // A later sign-in from France is known by now; the first object redelivered stays quiet.
    const later = await ctx.deliver([login('alice', T0 + 9_000_000, '203.0.113.9', 'Success')]);
    expect(ruleHits(later.hits, 'console-login-new-country')).toEqual([]);
    const firstAgain = await ctx.deliver([login('alice', T0, '198.51.100.7', 'Success')], first.key);
    expect(ruleHits(firstAgain.hits, 'console-login-new-country')).toEqual([]);
  });

  it('failed logins from one source split over two objects reach the threshold in the second', async () => {
    const ctx = await setup();
    const ip = '192.0.2.44';
    const early = [0, 1, 2].map((i) => login('carol', T0 + i * 30_000, ip, 'Failure'));
    const late = [3, 4].map((i) => login('dave', T0 + i * 30_000, ip, 'Failure'));
    const a = await ctx.deliver(early);
    expect(ruleHits(a.hits, 'console-login-failures-by-source')).toEqual([]);
    const b = await ctx.deliver(late);
    const hits = ruleHits(b.hits, 'console-login-failures-by-source');
    expect(hits).toHaveLength(1);
    expect(hits[0].eventIds).toEqual([...early, ...late].map((r) => r.eventID));
    expect(hits[0].sourceCountry).toBe('BR');
    // Redelivering the second object gives the same hit; failures from elsewhere do not count.
    expect(ruleHits((await ctx.deliver(late, b.key)).hits, 'console-login-failures-by-source')).toEqual(hits);
    const other = [0, 1].map((i) => login('erin', T0 + i * 1000, '198.51.100.7', 'Failure'));
    expect(ruleHits((await ctx.deliver(other)).hits, 'console-login-failures-by-source')).toEqual([]);
  });

  it('failed logins further apart than the window never add up', async () => {
    const ctx = await setup();
    const ip = '192.0.2.44';
    await ctx.deliver([0, 1, 2].map((i) => login('carol', T0 + i * 1000, ip, 'Failure')));
    const far = await ctx.deliver(
      [0, 1].map((i) => login('carol', T0 + 11 * MINUTE + i * 1000, ip, 'Failure')),
    );
    expect(ruleHits(far.hits, 'console-login-failures-by-source')).toEqual([]);
  });

  it('two events racing to introduce the same value: the second to save gets a retryable conflict', async () => {
    const ctx = await setup();
    const store = new DetectionStateStore(aws.ddb, ctx.table);
    const key = 'console-login-new-country\n[["arn:aws:iam::111122223333:user/zoe"]]';
    const empty = await store.loadFirstSeen([key]);
    const mine = new Map([[key, new Map([['FR', { eventId: 'e-1', novel: false }]])]]);
    const theirs = new Map([[key, new Map([['FR', { eventId: 'e-2', novel: false }]])]]);
    await store.saveFirstSeen(empty, mine);
    await store.saveFirstSeen(empty, mine); // the same event again is fine
    await expect(store.saveFirstSeen(empty, theirs)).rejects.toBeInstanceOf(FirstSightConflict);
    expect((await store.loadFirstSeen([key])).get(key)).toEqual(
      new Map([['FR', { eventId: 'e-1', novel: false }]]),
    );
  });

  it('threshold events of huge records are trimmed to fit an item, keeping the latest', async () => {
    const ctx = await setup();
    const store = new DetectionStateStore(aws.ddb, ctx.table);
    const big = (i: number) =>
      toTrailEvent(
        {
          ...login('carol', T0 + i * 1000, '192.0.2.44', 'Failure'),
          padding: randomText(120_000),
        } as CloudTrailRecord,
        'big.json',
        i,
      );
    const events = [0, 1, 2, 3, 4].map(big);
    const history = await store.exchangeThresholdEvents(
      'big-object',
      new Map([['k', { within: 600, count: 5, events }]]),
    );
    const kept = history.get('k')!;
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(5);
    expect(kept.at(-1)!.id).toBe(events.at(-1)!.id);
  });
});

/** Incompressible text, so the gzip body really is large. */
function randomText(length: number): string {
  let text = '';
  let x = 12345;
  while (text.length < length) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    text += x.toString(36);
  }
  return text.slice(0, length);
}

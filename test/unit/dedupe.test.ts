/**
 * De-duplication by eventID: exact copies (trails deliver some records twice) collapse into the
 * first; copies with different content are all kept, reported, and told apart by their content
 * (never by which arrived first), in one place, on reader threads' body-less records, and across
 * enrich threads that own different principals.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentKey, dedupe, enrich } from '../../engine/enrich.ts';
import { enrichFilesInThreads } from '../../engine/enrich-parallel.ts';
import { listInputFiles, readEventsFromBytes, readInputs, toTrailEvent } from '../../engine/read.ts';
import { threadOf } from '../../engine/route.ts';
import { loadRules } from '../../engine/rules/load.ts';
import type { CloudTrailRecord, TrailEvent } from '../../engine/types.ts';

const ACCOUNT = '111122223333';
const T0 = Date.parse('2026-03-02T09:00:00Z');
const iso = (time: number) => new Date(time).toISOString().replace('.000Z', 'Z');

/** A console call of IAM user `user` (eventVersion 1.08), `seconds` after T0. */
function consoleCall(
  user: string,
  id: string,
  seconds: number,
  extra: Partial<CloudTrailRecord> = {},
): CloudTrailRecord {
  return {
    eventVersion: '1.08',
    userIdentity: {
      type: 'IAMUser',
      principalId: `AIDA${user.toUpperCase()}EXAMPLE`,
      arn: `arn:aws:iam::${ACCOUNT}:user/${user}`,
      accountId: ACCOUNT,
      accessKeyId: `ASIA${user.toUpperCase().padEnd(12, 'X')}0001`,
      userName: user,
      sessionContext: {
        sessionIssuer: {},
        attributes: { creationDate: iso(T0 - 60_000), mfaAuthenticated: 'true' },
      },
    },
    eventTime: iso(T0 + seconds * 1000),
    eventSource: 'iam.amazonaws.com',
    eventName: 'ListUsers',
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/122.0',
    requestParameters: { maxItems: 20 },
    responseElements: null,
    requestID: `req-${id}`,
    eventID: id,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    sessionCredentialFromConsole: 'true',
    tlsDetails: {
      tlsVersion: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      clientProvidedHostHeader: 'iam.amazonaws.com',
    },
    ...extra,
  };
}

/** A CLI call (no console session can hold it: readers drop its body with `bodies: 'console'`). */
function cliCall(user: string, id: string, seconds: number, extra: Partial<CloudTrailRecord> = {}) {
  return consoleCall(user, id, seconds, {
    userAgent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.5 exe/x86_64',
    sessionCredentialFromConsole: undefined,
    userIdentity: {
      type: 'IAMUser',
      principalId: `AIDA${user.toUpperCase()}EXAMPLE`,
      arn: `arn:aws:iam::${ACCOUNT}:user/${user}`,
      accountId: ACCOUNT,
      accessKeyId: `AKIA${user.toUpperCase().padEnd(12, 'X')}0001`,
      userName: user,
    },
    eventSource: 's3.amazonaws.com',
    eventName: 'ListBuckets',
    requestParameters: { Host: 's3.amazonaws.com' },
    ...extra,
  });
}

const event = (record: CloudTrailRecord, source: string, index: number) =>
  toTrailEvent(record, source, index, T0 + 86_400_000);

/** Every permutation of `items`. */
function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

/** What each kept copy became: id → its record's content. */
const byId = (events: TrailEvent[]) => new Map(events.map((e) => [e.id, contentKey(e.record)]));

describe('dedupe', () => {
  it('collapses copies with the same content into the first read, and counts them', () => {
    const record = consoleCall('alice', 'evt-1', 0);
    const events = [
      event(record, 'a.json', 0),
      event(consoleCall('alice', 'evt-2', 1), 'a.json', 1),
      // The same record delivered again, its keys in another order: same content.
      event(JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(record).reverse()))), 'b.json', 3),
    ];
    const result = dedupe(events);
    expect(result.unique.map((e) => [e.id, e.origin])).toEqual([
      ['evt-1', { source: 'a.json', index: 0 }],
      ['evt-2', { source: 'a.json', index: 1 }],
    ]);
    expect(result.duplicates).toBe(1);
    expect(result.conflicts).toEqual([]);
  });

  it('keeps every copy with different content, the later in content order as eventID#2, and warns naming both', () => {
    const original = consoleCall('alice', 'evt-1', 0);
    // Same eventID, another principal: a forged or mangled record must not hide the original.
    const forged = consoleCall('mallory', 'evt-1', 0, {
      eventName: 'DeleteUser',
      requestParameters: { userName: 'bob' },
    });
    const events = [event(original, 'a.json', 0), event(forged, 'b.json', 4)];
    const result = dedupe(events);
    expect(result.duplicates).toBe(0);
    expect(result.unique).toHaveLength(2);
    const [first, second] = [original, forged].sort((a, b) => (contentKey(a) < contentKey(b) ? -1 : 1));
    const kept = new Map(result.unique.map((e) => [e.id, e]));
    expect(kept.get('evt-1')?.record).toBe(first);
    expect(kept.get('evt-1#2')?.record).toBe(second);
    // The records themselves are untouched.
    for (const e of result.unique) expect(e.record.eventID).toBe('evt-1');
    const renamed = kept.get('evt-1#2')!;
    const other = kept.get('evt-1')!;
    expect(result.conflicts).toEqual([
      {
        source: renamed.origin.source,
        index: renamed.origin.index,
        reason: `eventID "evt-1" is also at ${other.origin.source} (record ${other.origin.index}) with different content: both kept, this one as evt-1#2`,
      },
    ]);
    // The input is not changed either.
    expect(events.map((e) => e.id)).toEqual(['evt-1', 'evt-1']);
  });

  it('gives each content the same id whatever order the copies arrive in, and counts exact copies apart', () => {
    const a = consoleCall('alice', 'evt-9', 0);
    const b = consoleCall('alice', 'evt-9', 0, { errorCode: 'AccessDenied', errorMessage: 'denied' });
    const c = consoleCall('alice', 'evt-9', 0, { requestParameters: { maxItems: 100 } });
    const copies = [
      { record: a, source: 'x.json' },
      { record: b, source: 'y.json' },
      { record: c, source: 'z.json' },
      { record: structuredClone(a), source: 'w.json' },
    ];
    const answers = new Set<string>();
    for (const order of permutations(copies)) {
      const result = dedupe(order.map((copy, i) => event(copy.record, copy.source, i)));
      expect(result.duplicates).toBe(1);
      expect(result.conflicts).toHaveLength(2);
      expect([...byId(result.unique).keys()].sort()).toEqual(['evt-9', 'evt-9#2', 'evt-9#3']);
      answers.add(JSON.stringify([...byId(result.unique)].sort()));
      // The copy of a kept in the output is the first of its two copies in this order.
      const firstA = order.find((copy) => contentKey(copy.record) === contentKey(a))!;
      expect(result.unique.find((e) => contentKey(e.record) === contentKey(a))?.origin.source).toBe(
        firstA.source,
      );
    }
    expect(answers.size).toBe(1);
  });

  it('compares body-less records by what they keep: time, source, name and principal', () => {
    const read = (records: CloudTrailRecord[], source: string) =>
      readEventsFromBytes(
        Buffer.from(JSON.stringify({ Records: records })),
        source,
        undefined,
        'console',
        T0 + 86_400_000,
      ).events;
    const events = [
      ...read([cliCall('ci', 'cli-1', 5), cliCall('ci', 'cli-2', 6)], 'a.json'),
      ...read(
        [
          // Another body, same time, source, name and caller: the same as far as a body-less record goes.
          cliCall('ci', 'cli-1', 5, { requestParameters: { Host: 'other' } }),
          // Another caller: kept apart.
          cliCall('deploy', 'cli-2', 6),
        ],
        'b.json',
      ),
    ];
    expect(events.every((e) => e.record.userAgent === undefined)).toBe(true);
    const result = dedupe(events);
    expect(result.duplicates).toBe(1);
    expect(result.unique.map((e) => e.id).sort()).toEqual(['cli-1', 'cli-2', 'cli-2#2']);
    expect(result.conflicts).toHaveLength(1);
    expect(result.conflicts[0].reason).toMatch(
      /^eventID "cli-2" is also at [ab]\.json \(record 1\) with different content/,
    );
  });

  it('hashes records nested deeper than the stack allows', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const a = event(consoleCall('alice', 'deep-1', 0, { additionalEventData: deep }), 'a.json', 0);
    const b = event(consoleCall('alice', 'deep-1', 0, { additionalEventData: deep }), 'b.json', 0);
    const c = event(consoleCall('alice', 'deep-1', 0, { additionalEventData: [deep] }), 'c.json', 0);
    const result = dedupe([a, b, c]);
    expect(result.duplicates).toBe(1);
    expect(result.unique.map((e) => e.id).sort()).toEqual(['deep-1', 'deep-1#2']);
  });

  it('hashes canonical JSON: key order does not matter, values and absent fields as JSON.stringify writes them', () => {
    expect(contentKey({ a: 1, b: [1, 'x', null] })).toBe(contentKey({ b: [1, 'x', null], a: 1 }));
    expect(contentKey({ a: 1, gone: undefined })).toBe(contentKey({ a: 1 }));
    expect(contentKey({ a: 1 })).not.toBe(contentKey({ a: '1' }));
    expect(contentKey({ a: [1, 2] })).not.toBe(contentKey({ a: [2, 1] }));
    expect(contentKey({ a: { b: 1 } })).not.toBe(contentKey({ a: { b: 1, c: null } }));
  });

  it('lets enrich keep both copies as events of their own, with distinct ids', () => {
    const original = consoleCall('alice', 'evt-1', 0);
    const edited = consoleCall('alice', 'evt-1', 0, { sourceIPAddress: '203.0.113.66' });
    const result = enrich([event(original, 'a.json', 0), event(edited, 'b.json', 0)], loadRules());
    expect(result.events.map((e) => e.eventId).sort()).toEqual(['evt-1', 'evt-1#2']);
    expect(result.duplicateEventCount).toBe(0);
    const ids = result.sessions.flatMap((s) => s.signals.flatMap((signal) => signal.eventIds));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('dedupe across enrich threads', () => {
  let dir: string;
  let files: string[];
  const rules = loadRules();
  const THREADS = [2, 3];

  /** Users whose records two and three threads place apart (so their copies meet only in the main thread). */
  function usersOnDifferentThreads(): [string, string] {
    const candidates = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];
    for (const a of candidates)
      for (const b of candidates) {
        const apart = THREADS.every(
          (n) => threadOf(consoleCall(a, 'x', 0), 'f', n) !== threadOf(consoleCall(b, 'x', 0), 'f', n),
        );
        if (apart) return [a, b];
      }
    throw new Error('no two users on different threads');
  }

  /** Two file names whose identity-less records two and three threads place apart. */
  function filesOnDifferentThreads(): [string, string] {
    const anonymous: CloudTrailRecord = {
      eventTime: iso(T0),
      eventSource: 's3.amazonaws.com',
      eventName: 'ListBuckets',
    };
    for (let i = 0; i < 100; i++)
      for (let j = i + 1; j < 100; j++) {
        const [a, b] = [`anonymous-${i}.json`, `anonymous-${j}.json`];
        const apart = THREADS.every(
          (n) => threadOf(anonymous, join(dir, a), n) !== threadOf(anonymous, join(dir, b), n),
        );
        if (apart) return [a, b];
      }
    throw new Error('no two files on different threads');
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trailmap-dedupe-'));
    mkdirSync(join(dir, 'more'));
    const [owner, forger] = usersOnDifferentThreads();
    const write = (name: string, records: CloudTrailRecord[]) =>
      writeFileSync(join(dir, name), gzipSync(JSON.stringify({ Records: records })));
    // Eight files of ordinary console and CLI calls of several people: enough for the threads.
    const people = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
    people.forEach((user, n) =>
      write(`part-${n}.json.gz`, [
        consoleCall(user, `${user}-1`, n * 60),
        consoleCall(user, `${user}-2`, n * 60 + 1, { eventName: 'GetAccountSummary' }),
        cliCall(`${user}-ci`, `${user}-cli`, n * 60 + 2),
      ]),
    );
    // Copies of one eventID: the owner's record, an exact redelivery, the same record edited
    // (same owner: same thread), and a forged one naming someone else (another thread).
    const original = consoleCall(owner, 'evt-x', 30);
    write('more/copy-a.json.gz', [original]);
    write('more/copy-b.json.gz', [
      structuredClone(original),
      consoleCall(owner, 'evt-x', 30, { errorCode: 'AccessDenied' }),
    ]);
    write('more/copy-c.json.gz', [consoleCall(forger, 'evt-x', 30, { eventName: 'DeleteUser' })]);
    // Body-less copies: a CLI call delivered twice with different bodies (a duplicate as far as
    // they go), and once more by another caller (kept apart).
    write('more/cli-a.json.gz', [cliCall('ci', 'cli-x', 40)]);
    write('more/cli-b.json.gz', [
      cliCall('ci', 'cli-x', 40, { requestParameters: null }),
      cliCall('deploy', 'cli-x', 40),
    ]);
    // Identity-less records (one session per file) delivered in two files on two threads.
    const [one, two] = filesOnDifferentThreads();
    const anonymous: CloudTrailRecord[] = [
      {
        eventID: 'anon-1',
        eventTime: iso(T0 + 50_000),
        eventSource: 's3.amazonaws.com',
        eventName: 'ListBuckets',
      },
    ];
    writeFileSync(join(dir, one), JSON.stringify(anonymous));
    writeFileSync(
      join(dir, two),
      JSON.stringify([...anonymous, { ...anonymous[0], eventName: 'GetBucketAcl' }]),
    );
    files = (await listInputFiles([dir])).files;
    expect(files.length).toBeGreaterThanOrEqual(15);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps, renames and reports exactly what de-duplicating in one place does', async () => {
    const read = await readInputs(files, { bodies: 'console' });
    const here = enrich(read.events, rules);
    const { conflicts, duplicates } = dedupe(read.events);
    // What one place says, to begin with.
    expect(
      here.events
        .map((e) => e.eventId)
        .filter((id) => /-x|anon/.test(id))
        .sort(),
    ).toEqual(['anon-1', 'anon-1#2', 'cli-x', 'cli-x#2', 'evt-x', 'evt-x#2', 'evt-x#3']);
    expect(duplicates).toBe(3);
    expect(conflicts.map((c) => c.reason.slice(0, 16))).toEqual(
      expect.arrayContaining(['eventID "evt-x" ', 'eventID "cli-x" ', 'eventID "anon-1"']),
    );
    expect(conflicts).toHaveLength(4);
    for (const threads of THREADS) {
      const threaded = await enrichFilesInThreads(files, {
        threads,
        maxBytes: 1 << 30,
        rules: () => rules,
        filter: {},
        eventList: true,
      });
      expect(threaded.conflicts).toEqual(conflicts);
      expect(threaded.enrichment.duplicateEventCount).toBe(duplicates);
      expect(threaded.enrichment.events).toEqual(here.events);
      expect(threaded.enrichment.sessions).toEqual(here.sessions);
      expect(threaded.enrichment.otherCount).toBe(here.otherCount);
    }
  });
});

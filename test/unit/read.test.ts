import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeInput,
  parseItems,
  readEventsFromBytes,
  readInputs,
  serviceOf,
  skipReason,
  toTrailEvent,
} from '../../engine/read.ts';
import type { CloudTrailRecord } from '../../engine/types.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailmap-read-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function record(id: string | undefined, overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventVersion: '1.08',
    ...(id === undefined ? {} : { eventID: id }),
    eventTime: '2024-05-01T10:00:00Z',
    eventSource: 'iam.amazonaws.com',
    eventName: 'ListUsers',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.7',
    userAgent: 'Mozilla/5.0',
    ...overrides,
  };
}

async function put(relative: string, content: string | Buffer): Promise<string> {
  const path = join(dir, relative);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
  return path;
}

const ids = (events: { id: string }[]) => events.map((e) => e.id).sort();

describe('skipReason', () => {
  it('skips digest folders and digest files, with a reason', () => {
    expect(skipReason('AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/x.json.gz')).toMatch(
      /digest/i,
    );
    expect(skipReason('CloudTrail-Digest/')).toMatch(/digest/i);
    expect(
      skipReason('logs/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20240501T100000Z.json.gz'),
    ).toMatch(/digest/i);
    expect(skipReason('C:\\logs\\CloudTrail-Digest\\a.json.gz')).toMatch(/digest/i);
  });

  it('skips Insights folders', () => {
    expect(skipReason('AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2024/05/01/x.json.gz')).toMatch(
      /insight/i,
    );
  });

  it('reads ordinary CloudTrail objects', () => {
    expect(
      skipReason(
        'AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T1000Z_abcdefghijklmnop.json.gz',
      ),
    ).toBeNull();
    expect(skipReason('events.json')).toBeNull();
    // Only the folder name counts, not a look-alike.
    expect(skipReason('my-CloudTrail-Digest-notes/events.json')).toBeNull();
  });
});

describe('decodeInput', () => {
  it('returns plain text unchanged', () => {
    expect(decodeInput(Buffer.from('{"Records":[]}'))).toBe('{"Records":[]}');
  });

  it('gunzips gzip input', () => {
    expect(decodeInput(gzipSync('hello trail'))).toBe('hello trail');
  });

  it('rejects plain input over the limit', () => {
    expect(() => decodeInput(Buffer.alloc(101, 0x20), 100)).toThrow(/101 bytes exceeds the 100-byte limit/);
    expect(decodeInput(Buffer.alloc(100, 0x20), 100)).toHaveLength(100);
  });

  it('rejects gzip that decompresses past the limit, though its compressed size is small', () => {
    const bomb = gzipSync(Buffer.alloc(2_000_000, 0x20));
    expect(bomb.length).toBeLessThan(10_000);
    expect(() => decodeInput(bomb, 100_000)).toThrow(/decompressed size exceeds the 100000-byte limit/);
  });

  it('reports a corrupt gzip stream clearly', () => {
    expect(() => decodeInput(Buffer.from([0x1f, 0x8b, 0x01, 0x02, 0x03]))).toThrow(/not a valid gzip stream/);
    const truncated = gzipSync('{"Records":[]}').subarray(0, 12);
    expect(() => decodeInput(truncated)).toThrow(/not a valid gzip stream/);
  });
});

describe('parseItems', () => {
  it('reads {"Records":[…]}', () => {
    const { items, lineProblems } = parseItems(JSON.stringify({ Records: [record('a'), record('b')] }));
    expect(items).toHaveLength(2);
    expect(lineProblems).toEqual([]);
  });

  it('reads a JSON array and a single event object', () => {
    expect(parseItems(JSON.stringify([record('a'), record('b'), record('c')])).items).toHaveLength(3);
    expect(parseItems(JSON.stringify(record('a'))).items).toEqual([record('a')]);
  });

  it('reads lookup-events output as its Events list', () => {
    const text = JSON.stringify({ Events: [{ EventId: 'a', CloudTrailEvent: JSON.stringify(record('a')) }] });
    expect(parseItems(text).items).toHaveLength(1);
  });

  it('treats empty input (zero-byte marker objects) as no items', () => {
    expect(parseItems('')).toEqual({ items: [], lineProblems: [] });
    expect(parseItems('  \n ')).toEqual({ items: [], lineProblems: [] });
  });

  it('reads NDJSON and reports bad lines by line number', () => {
    const text = [JSON.stringify(record('a')), '{not json', '', JSON.stringify(record('b')), '42'].join(
      '\r\n',
    );
    const { items, lineProblems } = parseItems(text);
    expect(items).toHaveLength(2);
    expect(lineProblems.map((p) => p.index)).toEqual([2, 5]);
    expect(lineProblems[0].reason).toMatch(/not valid JSON/);
    expect(lineProblems[1].reason).toMatch(/not a CloudTrail event/);
  });

  it('throws for a document that is not an event shape', () => {
    expect(() => parseItems('{"hello":"world"}')).toThrow(/neither/);
    expect(() => parseItems('garbage')).toThrow();
    // Multi-line garbage: no line is readable either, so the whole input fails.
    expect(() => parseItems('garbage\nmore garbage\n')).toThrow();
  });
});

describe('toTrailEvent', () => {
  it('builds ref as service:EventName without .amazonaws.com', () => {
    const event = toTrailEvent(
      record('a', { eventSource: 's3.amazonaws.com', eventName: 'ListBuckets' }),
      'f',
      3,
    );
    expect(event.ref).toBe('s3:ListBuckets');
    expect(event.id).toBe('a');
    expect(event.time).toBe(Date.UTC(2024, 4, 1, 10, 0, 0));
    expect(event.origin).toEqual({ source: 'f', index: 3 });
    expect(toTrailEvent(record('b', { eventSource: 'resource-explorer-2.amazonaws.com' }), 'f', 0).ref).toBe(
      'resource-explorer-2:ListUsers',
    );
    expect(serviceOf('signin.amazonaws.com')).toBe('signin');
    expect(serviceOf('custom-source')).toBe('custom-source');
  });

  it('names every missing core field', () => {
    expect(() => toTrailEvent({ eventSource: 'iam.amazonaws.com' }, 'f', 0)).toThrow(/eventTime, eventName/);
    expect(() => toTrailEvent(record('a', { eventName: '' }), 'f', 0)).toThrow(/missing eventName/);
  });

  it('rejects an eventTime that is not a timestamp', () => {
    expect(() => toTrailEvent(record('a', { eventTime: 'yesterday' }), 'f', 0)).toThrow(/not a timestamp/);
  });

  it('gives records without eventID a stable content-derived synthetic id', () => {
    const first = toTrailEvent(record(undefined), 'file-a', 0);
    const again = toTrailEvent(record(undefined), 'file-b', 9);
    const other = toTrailEvent(record(undefined, { eventName: 'ListRoles' }), 'file-a', 0);
    expect(first.id).toMatch(/^synthetic-[0-9a-f]+$/);
    expect(again.id).toBe(first.id);
    expect(other.id).not.toBe(first.id);
    expect(toTrailEvent(record(''), 'f', 0).id).toBe(toTrailEvent(record(''), 'g', 1).id);
    expect(toTrailEvent(record(''), 'f', 0).id).toMatch(/^synthetic-/);
  });
});

describe('readEventsFromBytes', () => {
  it('reads {"Records":[…]} plain and gzipped to the same events', () => {
    const text = JSON.stringify({ Records: [record('a'), record('b')] });
    const plain = readEventsFromBytes(Buffer.from(text), 'x.json');
    const zipped = readEventsFromBytes(gzipSync(text), 'x.json.gz');
    expect(plain.problems).toEqual([]);
    expect(ids(plain.events)).toEqual(['a', 'b']);
    expect(zipped.events.map((e) => [e.id, e.ref, e.time])).toEqual(
      plain.events.map((e) => [e.id, e.ref, e.time]),
    );
    expect(zipped.events.map((e) => e.origin)).toEqual([
      { source: 'x.json.gz', index: 0 },
      { source: 'x.json.gz', index: 1 },
    ]);
  });

  it('reports a record missing eventTime or eventName with its index and keeps the others', () => {
    const bad1 = record('b');
    delete bad1.eventTime;
    const bad3 = record('d');
    delete bad3.eventName;
    const { events, problems } = readEventsFromBytes(
      Buffer.from(JSON.stringify({ Records: [record('a'), bad1, record('c'), bad3, 'not an object'] })),
      'src.json',
    );
    expect(ids(events)).toEqual(['a', 'c']);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatchObject({ source: 'src.json', index: 1 });
    expect(problems[0].reason).toMatch(/eventTime/);
    expect(problems[1]).toMatchObject({ source: 'src.json', index: 3 });
    expect(problems[1].reason).toMatch(/eventName/);
    expect(problems[2]).toMatchObject({ source: 'src.json', index: 4 });
  });

  it('unwraps lookup-events output and reports a malformed CloudTrailEvent', () => {
    const text = JSON.stringify({
      Events: [
        { EventId: 'a', EventName: 'ListUsers', CloudTrailEvent: JSON.stringify(record('a')) },
        { EventId: 'b', EventName: 'ListUsers', CloudTrailEvent: '{"eventID": "b", broken' },
        { EventId: 'c', EventName: 'ListUsers', CloudTrailEvent: '[1,2]' },
        {
          EventId: 'd',
          CloudTrailEvent: JSON.stringify(
            record('d', { eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' }),
          ),
        },
      ],
    });
    const { events, problems } = readEventsFromBytes(Buffer.from(text), 'lookup.json');
    expect(events.map((e) => [e.id, e.ref])).toEqual([
      ['a', 'iam:ListUsers'],
      ['d', 'ec2:RunInstances'],
    ]);
    // The unwrapped record is CloudTrail's, not the lookup-events envelope.
    expect(events[0].record.EventId).toBeUndefined();
    expect(events[0].record.eventSource).toBe('iam.amazonaws.com');
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatchObject({ source: 'lookup.json', index: 1 });
    expect(problems[0].reason).toMatch(/CloudTrailEvent is not valid JSON/);
    expect(problems[1]).toMatchObject({ source: 'lookup.json', index: 2 });
    expect(problems[1].reason).toMatch(/CloudTrailEvent is not a JSON object/);
  });

  it('enforces the size limit after decompression', () => {
    const text = JSON.stringify({ Records: [record('a')] });
    expect(() => readEventsFromBytes(gzipSync(text), 'x.json.gz', text.length - 1)).toThrow(/limit/);
    expect(readEventsFromBytes(gzipSync(text), 'x.json.gz', text.length).events).toHaveLength(1);
  });
});

describe('readInputs', () => {
  it('reads a CloudTrail log object, plain and gzipped', async () => {
    const text = JSON.stringify({ Records: [record('p1'), record('p2')] });
    const plain = await put('single/plain.json', text);
    const zipped = await put(
      'single/111122223333_CloudTrail_us-east-1_20240501T1000Z_abcdefghijklmnop.json.gz',
      gzipSync(JSON.stringify({ Records: [record('g1')] })),
    );
    const result = await readInputs([plain, zipped]);
    expect(result.problems).toEqual([]);
    expect(result.sources).toEqual([plain, zipped]);
    expect(ids(result.events)).toEqual(['g1', 'p1', 'p2']);
    expect(result.events.find((e) => e.id === 'g1')?.origin).toEqual({ source: zipped, index: 0 });
  });

  it('reads a JSON array file', async () => {
    const path = await put('array/events.json', JSON.stringify([record('x1'), record('x2'), record('x3')]));
    const result = await readInputs([path]);
    expect(ids(result.events)).toEqual(['x1', 'x2', 'x3']);
    expect(result.problems).toEqual([]);
  });

  it('reads NDJSON: a bad line is a problem naming source and line, the other lines still read', async () => {
    const path = await put(
      'ndjson/events.jsonl',
      `${JSON.stringify(record('n1'))}\n{"eventID": "n2", oops\n${JSON.stringify(record('n3'))}\n`,
    );
    const result = await readInputs([path]);
    expect(ids(result.events)).toEqual(['n1', 'n3']);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ source: path, index: 2 });
    expect(result.problems[0].reason).toMatch(/not valid JSON/);
    expect(result.sources).toEqual([path]);
  });

  it('reads folders recursively, skipping digests, Insights and files that are not CloudTrail, with a reason', async () => {
    const root = join(dir, 'bucket');
    const account = 'AWSLogs/111122223333';
    const a = await put(
      `bucket/${account}/CloudTrail/us-east-1/2024/05/01/a.json.gz`,
      gzipSync(JSON.stringify({ Records: [record('t1')] })),
    );
    const b = await put(
      `bucket/${account}/CloudTrail/eu-west-1/2024/05/02/b.json`,
      JSON.stringify({ Records: [record('t2'), record('t3')] }),
    );
    await put(
      `bucket/${account}/CloudTrail-Digest/us-east-1/2024/05/01/digest.json.gz`,
      gzipSync(JSON.stringify({ awsAccountId: '111122223333', logFiles: [] })),
    );
    const digestFile = await put(
      `bucket/${account}/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240501T100000Z.json.gz`,
      gzipSync('{"digest":true}'),
    );
    await put(
      `bucket/${account}/CloudTrail-Insight/us-east-1/2024/05/01/i.json.gz`,
      gzipSync('{"Records":[]}'),
    );
    await put('bucket/README.txt', 'not events');
    await put(`bucket/${account}/CloudTrail/notes.md`, '# notes');

    const result = await readInputs([root]);
    expect(result.problems).toEqual([]);
    expect(ids(result.events)).toEqual(['t1', 't2', 't3']);
    expect([...result.sources].sort()).toEqual([a, b].sort());
    const skipped = new Map(result.skipped.map((s) => [s.source, s.reason]));
    expect([...skipped.keys()].sort()).toEqual(
      [
        join(root, account, 'CloudTrail-Digest'),
        join(root, account, 'CloudTrail-Insight'),
        digestFile,
        join(root, 'README.txt'),
        join(root, account, 'CloudTrail', 'notes.md'),
      ].sort(),
    );
    expect(skipped.get(digestFile)).toMatch(/digest/i);
    expect(skipped.get(join(root, account, 'CloudTrail-Insight'))).toMatch(/insights/i);
    expect(skipped.get(join(root, 'README.txt'))).toBe('not CloudTrail content (neither gzip nor JSON)');
    expect(result.empty).toEqual([]);
  });

  it('reports a missing path and a garbage file with their paths; other inputs still produce events', async () => {
    const good = await put('mixed/good.json', JSON.stringify({ Records: [record('m1')] }));
    const garbage = await put('mixed/garbage.json', 'this is not json at all');
    const badGzip = await put('mixed/broken.json.gz', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01]));
    const missing = join(dir, 'mixed', 'does-not-exist.json');
    const result = await readInputs([missing, garbage, good, badGzip]);
    expect(ids(result.events)).toEqual(['m1']);
    expect(result.sources).toEqual([good]);
    const bySource = new Map(result.problems.map((p) => [p.source, p]));
    expect(bySource.get(missing)?.reason).toBe('no such file or folder');
    expect(bySource.get(garbage)?.reason).toBeTruthy();
    expect(bySource.get(badGzip)?.reason).toMatch(/gzip/);
    expect(result.problems).toHaveLength(3);
    for (const problem of result.problems) expect(problem.index).toBeUndefined();
  });

  it('reads - from the injected stdin reader', async () => {
    const stdin = Buffer.from(JSON.stringify({ Records: [record('in1'), record('in2')] }));
    let calls = 0;
    const result = await readInputs(['-'], {
      readStdin: async () => {
        calls++;
        return stdin;
      },
    });
    expect(calls).toBe(1);
    expect(ids(result.events)).toEqual(['in1', 'in2']);
    expect(result.events.every((e) => e.origin.source === '-')).toBe(true);
    expect(result.sources).toEqual(['-']);
  });

  it('reads gzipped stdin', async () => {
    const result = await readInputs(['-'], {
      readStdin: async () => gzipSync(`${JSON.stringify(record('z1'))}\n${JSON.stringify(record('z2'))}\n`),
    });
    expect(ids(result.events)).toEqual(['z1', 'z2']);
  });

  it('rejects a plain file over maxInputBytes with a clear reason', async () => {
    const text = JSON.stringify({ Records: [record('big')] });
    const path = await put('limits/plain.json', text);
    const small = await put('limits/small.json', JSON.stringify([record('s')]));
    const limit = text.length - 1;
    const result = await readInputs([path, small], { maxInputBytes: limit });
    // small.json is shorter than the limit, so it is still read.
    expect(ids(result.events)).toEqual(['s']);
    expect(result.problems).toEqual([
      { source: path, reason: `size ${text.length} bytes exceeds the ${limit}-byte limit` },
    ]);
    const fits = await readInputs([path], { maxInputBytes: text.length });
    expect(ids(fits.events)).toEqual(['big']);
  });

  it('rejects a small gzip file that decompresses past maxInputBytes without crashing', async () => {
    const records = Array.from({ length: 5000 }, (_, i) => record(`b${i}`));
    const bombText = JSON.stringify({ Records: records });
    const bomb = await put('limits/bomb.json.gz', gzipSync(bombText));
    const good = await put('limits/good.json.gz', gzipSync(JSON.stringify({ Records: [record('ok')] })));
    const limit = 64 * 1024;
    expect(bombText.length).toBeGreaterThan(limit * 10);
    const result = await readInputs([bomb, good], { maxInputBytes: limit });
    expect(ids(result.events)).toEqual(['ok']);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0].source).toBe(bomb);
    expect(result.problems[0].reason).toMatch(
      new RegExp(`decompressed size exceeds the ${limit}-byte limit`),
    );
  });

  it('applies maxInputBytes to stdin too', async () => {
    const result = await readInputs(['-'], {
      maxInputBytes: 1000,
      readStdin: async () => gzipSync(Buffer.alloc(50_000, 0x20)),
    });
    expect(result.events).toEqual([]);
    expect(result.problems).toEqual([
      { source: '-', reason: 'decompressed size exceeds the 1000-byte limit' },
    ]);
  });

  it('calls onProgress once per input file with (done, total)', async () => {
    const folder = join(dir, 'progress');
    await put('progress/1.json', JSON.stringify([record('q1')]));
    await put('progress/2.json.gz', gzipSync(JSON.stringify([record('q2')])));
    // Not CloudTrail by its first bytes: skipped while listing, not a file to read.
    await put('progress/skip.txt', 'ignored');
    const bad = await put('progress-bad.json', '%%%');
    const calls: [number, number][] = [];
    const result = await readInputs([folder, join(dir, 'nope.json'), bad], {
      onProgress: (done, total) => calls.push([done, total]),
    });
    // The folder expands to 2 files, the bad file is the third; the missing path is not a file.
    expect(calls).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(ids(result.events)).toEqual(['q1', 'q2']);
  });

  it('reads the same record as the same synthetic id from two inputs', async () => {
    const content = record(undefined, { eventName: 'GetUser' });
    const one = await put('synthetic/one.json', JSON.stringify([content]));
    const two = await put('synthetic/two.json.gz', gzipSync(JSON.stringify({ Records: [content] })));
    const result = await readInputs([one, two]);
    expect(result.events).toHaveLength(2);
    expect(result.events[0].id).toMatch(/^synthetic-/);
    expect(result.events[1].id).toBe(result.events[0].id);
  });

  it('reads a zero-byte marker object as no events and no problem', async () => {
    const empty = await put('marker/empty.json', '');
    const result = await readInputs([empty]);
    expect(result).toMatchObject({ events: [], problems: [], sources: [empty] });
  });
});

describe('eventTime: ISO-8601 UTC, from 2013 to a day after now', () => {
  const NOW = Date.parse('2026-03-02T12:00:00Z');
  const at = (eventTime: string) => toTrailEvent(record('t', { eventTime }), 'f.json', 4, NOW);

  it('accepts CloudTrail times, with or without fractions of a second', () => {
    expect(at('2024-05-01T10:00:00Z').time).toBe(Date.UTC(2024, 4, 1, 10, 0, 0));
    expect(at('2024-05-01T10:00:00.123Z').time).toBe(Date.UTC(2024, 4, 1, 10, 0, 0, 123));
    expect(at('2024-02-29T23:59:59Z').time).toBe(Date.UTC(2024, 1, 29, 23, 59, 59));
    expect(at('2013-01-01T00:00:00Z').time).toBe(Date.UTC(2013, 0, 1));
    expect(at('2026-03-03T12:00:00Z').time).toBe(NOW + 86_400_000);
  });

  it.each([
    ['0', /not a timestamp in ISO-8601 UTC/],
    ['March 7', /not a timestamp in ISO-8601 UTC/],
    ['275760-09-13T00:00:00Z', /not a timestamp in ISO-8601 UTC/],
    ['+275760-09-13T00:00:00.000Z', /not a timestamp in ISO-8601 UTC/],
    ['2024-05-01', /not a timestamp in ISO-8601 UTC/],
    ['2024-05-01 10:00:00Z', /not a timestamp in ISO-8601 UTC/],
    ['2024-05-01T10:00:00+02:00', /not a timestamp in ISO-8601 UTC/],
    ['2024-05-01T10:00:00', /not a timestamp in ISO-8601 UTC/],
    ['2023-02-29T10:00:00Z', /not a timestamp in ISO-8601 UTC/],
    ['2024-04-31T10:00:00Z', /not a timestamp in ISO-8601 UTC/],
    ['2024-05-01T24:00:00Z', /not a timestamp in ISO-8601 UTC/],
    ['2024-05-01T10:60:00Z', /not a timestamp in ISO-8601 UTC/],
    ['2012-12-31T23:59:59Z', /is before 2013-01-01/],
    ['1970-01-01T00:00:00Z', /is before 2013-01-01/],
    ['2026-03-03T12:00:00.001Z', /is more than a day after now \(2026-03-02T12:00:00.000Z\)/],
  ])('refuses %s, naming it', (eventTime, reason) => {
    expect(() => at(eventTime)).toThrow(reason);
    expect(() => at(eventTime)).toThrow(`eventTime ${JSON.stringify(eventTime)}`);
  });

  it('is checked for its format only when an event is built without a clock (readers always give one)', () => {
    expect(toTrailEvent(record('t', { eventTime: '2030-01-01T00:00:00Z' }), 'f', 0).time).toBe(
      Date.UTC(2030, 0, 1),
    );
    expect(() => toTrailEvent(record('t', { eventTime: 'March 7' }), 'f', 0)).toThrow(
      /not a timestamp in ISO-8601 UTC/,
    );
  });

  it('is refused by the reader as a problem naming source and index, against the injected now', async () => {
    const path = await put(
      'times/trail.json',
      JSON.stringify({
        Records: [
          record('ok'),
          record('zero', { eventTime: '0' }),
          record('later', { eventTime: '2026-03-04T00:00:00Z' }),
        ],
      }),
    );
    const result = await readInputs([path], { now: NOW });
    expect(ids(result.events)).toEqual(['ok']);
    expect(result.problems).toEqual([
      {
        source: path,
        index: 1,
        reason: 'eventTime "0" is not a timestamp in ISO-8601 UTC (YYYY-MM-DDTHH:MM:SS[.fff]Z)',
      },
      {
        source: path,
        index: 2,
        reason: 'eventTime "2026-03-04T00:00:00Z" is more than a day after now (2026-03-02T12:00:00.000Z)',
      },
    ]);
    // A day later, the same record is a record like any other.
    const later = await readInputs([path], { now: NOW + 86_400_000 });
    expect(ids(later.events)).toEqual(['later', 'ok']);
    // Reader threads are told the same now.
    const copies = await Promise.all(
      [1, 2, 3, 4, 5, 6, 7].map((n) => put(`times/copy-${n}.json`, JSON.stringify([record(`c${n}`)]))),
    );
    const threaded = await readInputs([path, ...copies], { now: NOW, workers: 2 });
    expect(threaded.problems).toEqual(result.problems);
  });
});

/** An Insights record as CloudTrail writes it (no eventSource or eventName of its own). */
const insightRecord = (id: string, state: 'Start' | 'End'): CloudTrailRecord => ({
  eventVersion: '1.08',
  eventTime: '2024-05-01T10:05:00Z',
  awsRegion: 'us-east-1',
  eventID: id,
  eventType: 'AwsCloudTrailInsight',
  recipientAccountId: '111122223333',
  sharedEventID: 'c1e4b1c3-5fd7-4a2b-8c61-2a1b9d3e0f11',
  insightDetails: {
    state,
    eventSource: 'iam.amazonaws.com',
    eventName: 'ListUsers',
    insightType: 'ApiCallRateInsight',
    insightContext: {
      statistics: {
        baseline: { average: 0.0000882145 },
        insight: { average: 6 },
        insightDuration: 5,
        baselineDuration: 11336,
      },
      attributions: [
        {
          attribute: 'userIdentityArn',
          insight: [{ value: 'arn:aws:iam::111122223333:user/alice', average: 6 }],
          baseline: [{ value: 'arn:aws:iam::111122223333:user/alice', average: 0.0000882145 }],
        },
      ],
    },
  },
  eventCategory: 'Insight',
});

describe('Insights records', () => {
  it('are skipped and counted inside ordinary files, not read as events nor refused', async () => {
    const path = await put(
      'insights/mixed.json',
      JSON.stringify({
        Records: [record('i1'), insightRecord('ins-1', 'Start'), record('i2'), insightRecord('ins-2', 'End')],
      }),
    );
    const lookup = await put(
      'insights/lookup.json',
      JSON.stringify({
        Events: [
          { EventId: 'ins-3', CloudTrailEvent: JSON.stringify(insightRecord('ins-3', 'Start')) },
          { EventId: 'i3', CloudTrailEvent: JSON.stringify(record('i3')) },
        ],
      }),
    );
    const result = await readInputs([path, lookup]);
    expect(ids(result.events)).toEqual(['i1', 'i2', 'i3']);
    expect(result.problems).toEqual([]);
    expect(result.insightsSkipped).toBe(3);
    expect(result.sources).toEqual([path, lookup]);
    const threaded = await readInputs([path, lookup, path, lookup, path, lookup, path, lookup], {
      workers: 2,
    });
    expect(threaded.insightsSkipped).toBe(12);
    expect(threaded.problems).toEqual([]);
  });

  it('files are skipped by folder and by name, even when named directly', async () => {
    const byName = await put(
      'insights/111122223333_CloudTrail-Insight_us-east-1_20240501T1000Z_abcdefghijklmnop.json.gz',
      gzipSync(JSON.stringify({ Records: [insightRecord('ins-4', 'Start')] })),
    );
    expect(skipReason(byName)).toMatch(/insights/i);
    const result = await readInputs([byName]);
    expect(result.skipped).toEqual([{ source: byName, reason: 'CloudTrail Insights file (not API events)' }]);
    expect(result.problems).toEqual([]);
  });
});

describe('files named otherwise', () => {
  const logDocument = (...records: CloudTrailRecord[]) => JSON.stringify({ Records: records });

  it('are read in a folder when their content is CloudTrail (gzip or not, any shape), and skipped with a reason otherwise', async () => {
    const root = join(dir, 'odd-names');
    const read = [
      await put('odd-names/AddUserToGroup.json.cloudtrail', JSON.stringify([record('o1')])),
      await put('odd-names/foo', logDocument(record('o2'), record('o3'))),
      await put(
        'odd-names/zipped',
        gzipSync(`${JSON.stringify(record('o4'))}\n${JSON.stringify(record('o5'))}\n`),
      ),
      await put(
        'odd-names/lookup.out',
        JSON.stringify({ Events: [{ EventId: 'o6', CloudTrailEvent: JSON.stringify(record('o6')) }] }),
      ),
      await put('odd-names/nested/trail.log', `\ufeff  ${logDocument(record('o7'))}`),
      await put('odd-names/empty-list.json.cloudtrail', '[]'),
    ];
    const skipped = {
      [await put('odd-names/index.html', '<!DOCTYPE html><html></html>')]:
        /^not CloudTrail content \(neither gzip nor JSON\)$/,
      [await put('odd-names/script.js', '// viewer\nconst a = 1;\n')]:
        /^not CloudTrail content \(neither gzip nor JSON\)$/,
      [await put('odd-names/config', JSON.stringify({ name: 'trailmap', version: '1.0.0' }, null, 2))]:
        /^not CloudTrail content \(.+\)$/,
      [await put('odd-names/numbers.cloudtrail', '[1, 2, 3]')]:
        /^not CloudTrail content \(record 0: record is not a JSON object\)$/,
      [await put('odd-names/archive', gzipSync('not json at all'))]: /^not CloudTrail content \(/,
      [await put('odd-names/broken', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01]))]:
        /^not CloudTrail content \(not a valid gzip stream/,
      [await put('odd-names/blank', '')]: /^empty file, not CloudTrail content$/,
    };
    for (const workers of [1, 2]) {
      const result = await readInputs([root], { workers });
      expect(result.problems).toEqual([]);
      expect(ids(result.events)).toEqual(['o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7']);
      expect([...result.sources].sort()).toEqual([...read].sort());
      expect(result.skipped.map((s) => s.source).sort()).toEqual(Object.keys(skipped).sort());
      for (const entry of result.skipped) expect(entry.reason).toMatch(skipped[entry.source]);
      expect(result.empty).toEqual([]);
    }
  });

  it('named on the command line are read whatever their name; content that is not CloudTrail is a problem there', async () => {
    const good = await put('odd-direct/trail.cloudtrail', logDocument(record('d1')));
    const bad = await put('odd-direct/notes', 'just some notes');
    const result = await readInputs([good, bad]);
    expect(ids(result.events)).toEqual(['d1']);
    expect(result.skipped).toEqual([]);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0].source).toBe(bad);
  });

  it('a record problem in a file read by content is reported as usual once the file holds an event', async () => {
    const path = await put(
      'odd-partly/trail.json.cloudtrail',
      JSON.stringify([record('p1'), record('p2', { eventTime: '0' })]),
    );
    const result = await readInputs([join(dir, 'odd-partly')]);
    expect(ids(result.events)).toEqual(['p1']);
    expect(result.problems).toMatchObject([{ source: path, index: 1 }]);
  });
});

describe('inputs that yield no event', () => {
  it('are named with what was found instead, and inputs with events are not', async () => {
    const emptyFolder = join(dir, 'nothing', 'empty');
    await mkdir(emptyFolder, { recursive: true });
    const emptyFile = await put('nothing/empty.json', '');
    const emptyList = await put('nothing/list.json', '[]');
    const onlyDigests = join(dir, 'nothing', 'digests');
    await put(
      'nothing/digests/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/d.json.gz',
      gzipSync('{}'),
    );
    const onlyInsights = await put(
      'nothing/insights.json',
      JSON.stringify([insightRecord('ins-9', 'Start')]),
    );
    const onlyBad = join(dir, 'nothing', 'bad');
    await put('nothing/bad/a.json', 'garbage');
    await put('nothing/bad/b.json', JSON.stringify([record('b', { eventTime: 'March 7' })]));
    const good = await put('nothing/good.json', JSON.stringify([record('g')]));
    const missing = join(dir, 'nothing', 'missing.json');
    const broken = await put('nothing/broken.json.gz', 'not gzip');

    const inputs = [
      emptyFolder,
      emptyFile,
      emptyList,
      onlyDigests,
      onlyInsights,
      onlyBad,
      good,
      missing,
      broken,
    ];
    const result = await readInputs(inputs);
    expect(ids(result.events)).toEqual(['g']);
    expect(result.empty).toEqual([
      { source: emptyFolder, reason: 'no events (nothing to read in it)' },
      { source: emptyFile, reason: 'no events (1 file read)' },
      { source: emptyList, reason: 'no events (1 file read)' },
      { source: onlyDigests, reason: 'no events (1 skipped)' },
      { source: onlyInsights, reason: 'no events (1 file read, 1 Insights records skipped)' },
      { source: onlyBad, reason: 'no events (1 file read, 1 unreadable)' },
    ]);
    // A missing path and an unreadable file are problems already, not repeated.
    expect(result.problems.filter((p) => p.index === undefined).map((p) => p.source)).toEqual([
      missing,
      join(onlyBad, 'a.json'),
      broken,
    ]);
    // Enough files for reader threads (one per 4 files).
    const threaded = await readInputs([...inputs, good, good], { workers: 2 });
    expect(threaded.empty).toEqual(result.empty);
  });
});

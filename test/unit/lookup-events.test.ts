/**
 * The LookupEvents source against a mocked CloudTrail client: NextToken paging, calls spaced
 * ≥ 500 ms apart on an injected clock, ThrottlingException retried with backoff, attribute
 * parsing, and malformed CloudTrailEvent strings reported as problems instead of crashing.
 */
import {
  CloudTrailClient,
  type Event,
  InvalidLookupAttributesException,
  LookupEventsCommand,
  ThrottlingException,
} from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  LOOKUP_ATTRIBUTE_KEYS,
  LOOKUP_EVENTS_SOURCE,
  LOOKUP_MIN_INTERVAL_MS,
  parseLookupAttribute,
  readLookupEvents,
} from '../../bin/lookup-events.ts';

const cloudtrail = mockClient(CloudTrailClient);
const client = new CloudTrailClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 's' },
});

/** A fake clock: time moves only when the code under test sleeps. */
let clock: number;
let sleeps: number[];
let callTimes: number[];
const fake = {
  now: () => clock,
  sleep: async (ms: number) => {
    sleeps.push(ms);
    clock += ms;
  },
};

function entry(n: number, overrides: Partial<Event> = {}): Event {
  const id = `evt-${n}`;
  return {
    EventId: id,
    EventName: 'GetObject',
    EventSource: 's3.amazonaws.com',
    CloudTrailEvent: JSON.stringify({
      eventVersion: '1.08',
      eventID: id,
      eventTime: new Date(Date.UTC(2024, 4, 1, 10, 0, n)).toISOString(),
      eventSource: 's3.amazonaws.com',
      eventName: 'GetObject',
      awsRegion: 'us-east-1',
      userIdentity: { type: 'IAMUser', userName: 'alice' },
    }),
    ...overrides,
  };
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

beforeEach(() => {
  cloudtrail.reset();
  clock = 1_000_000;
  sleeps = [];
  callTimes = [];
  cloudtrail.on(LookupEventsCommand).callsFake(() => {
    throw new Error('unexpected call');
  });
});

afterAll(() => {
  cloudtrail.restore();
});

/** Pages served by NextToken (`p1`, `p2`…), recording the clock at every call. */
function servePages(pages: Event[][]) {
  pages.forEach((events, i) => {
    cloudtrail.on(LookupEventsCommand, { NextToken: i === 0 ? undefined : `p${i}` }).callsFake(() => {
      callTimes.push(clock);
      return { Events: events, NextToken: i < pages.length - 1 ? `p${i + 1}` : undefined };
    });
  });
}

describe('paging', () => {
  it('L1 reads 3 pages with NextToken, 50 per request, in API order with global indexes', async () => {
    servePages([range(0, 50).map((n) => entry(n)), range(50, 50).map((n) => entry(n)), [entry(100)]]);
    const result = await readLookupEvents(client, {
      ...fake,
      attributes: [parseLookupAttribute('Username=alice')],
      startTime: new Date('2024-05-01T00:00:00Z'),
      endTime: new Date('2024-05-02T00:00:00Z'),
    });
    expect(result.problems).toEqual([]);
    expect(result.events).toHaveLength(101);
    expect(result.requests).toBe(3);
    expect(result.truncated).toBe(false);
    expect(result.events.map((e) => e.id).slice(48, 52)).toEqual(['evt-48', 'evt-49', 'evt-50', 'evt-51']);
    expect(result.events[100]).toMatchObject({
      id: 'evt-100',
      ref: 's3:GetObject',
      time: Date.UTC(2024, 4, 1, 10, 1, 40),
      origin: { source: LOOKUP_EVENTS_SOURCE, index: 100 },
    });
    expect(cloudtrail).toHaveReceivedCommandTimes(LookupEventsCommand, 3);
    const inputs = cloudtrail.commandCalls(LookupEventsCommand).map((call) => call.args[0].input);
    expect(inputs.map((i) => i.NextToken)).toEqual([undefined, 'p1', 'p2']);
    for (const input of inputs) {
      expect(input).toMatchObject({
        MaxResults: 50,
        LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'alice' }],
        StartTime: new Date('2024-05-01T00:00:00Z'),
        EndTime: new Date('2024-05-02T00:00:00Z'),
      });
    }
  });

  it('L2 sends no attributes or times when none are given and stops on an empty NextToken', async () => {
    cloudtrail.on(LookupEventsCommand).resolves({ Events: [entry(1)], NextToken: '' });
    const result = await readLookupEvents(client, fake);
    expect(result.events).toHaveLength(1);
    expect(cloudtrail.commandCalls(LookupEventsCommand)[0].args[0].input).toEqual({ MaxResults: 50 });
  });

  it('L3 stops at maxEvents, asking only for what is still needed', async () => {
    servePages([range(0, 50).map((n) => entry(n)), range(50, 50).map((n) => entry(n)), [entry(100)]]);
    const result = await readLookupEvents(client, { ...fake, maxEvents: 70 });
    expect(result.events).toHaveLength(70);
    expect(result.truncated).toBe(true);
    const inputs = cloudtrail.commandCalls(LookupEventsCommand).map((call) => call.args[0].input);
    expect(inputs.map((i) => i.MaxResults)).toEqual([50, 20]);
  });

  it('L4 an empty answer is no events and no problems', async () => {
    cloudtrail.on(LookupEventsCommand).resolves({});
    expect(await readLookupEvents(client, fake)).toMatchObject({ events: [], problems: [], requests: 1 });
  });
});

describe('request spacing', () => {
  it('L5 waits so calls start at least 500 ms apart, and not before the first call', async () => {
    servePages([[entry(0)], [entry(1)], [entry(2)], [entry(3)]]);
    await readLookupEvents(client, fake);
    expect(callTimes).toHaveLength(4);
    expect(callTimes[0]).toBe(1_000_000);
    for (let i = 1; i < callTimes.length; i++) {
      expect(callTimes[i] - callTimes[i - 1]).toBeGreaterThanOrEqual(LOOKUP_MIN_INTERVAL_MS);
    }
    expect(sleeps).toEqual([500, 500, 500]);
  });

  it('L6 does not wait when the previous call was long enough ago', async () => {
    servePages([[entry(0)], [entry(1)]]);
    cloudtrail.on(LookupEventsCommand, { NextToken: undefined }).callsFake(() => {
      callTimes.push(clock);
      clock += 800; // a slow response
      return { Events: [entry(0)], NextToken: 'p1' };
    });
    await readLookupEvents(client, fake);
    expect(callTimes[1] - callTimes[0]).toBeGreaterThanOrEqual(500);
    expect(sleeps).toEqual([]);
  });

  it('L7 waits only the rest of the interval after a quick response', async () => {
    cloudtrail.on(LookupEventsCommand, { NextToken: undefined }).callsFake(() => {
      callTimes.push(clock);
      clock += 120;
      return { Events: [entry(0)], NextToken: 'p1' };
    });
    cloudtrail.on(LookupEventsCommand, { NextToken: 'p1' }).callsFake(() => {
      callTimes.push(clock);
      return { Events: [entry(1)] };
    });
    await readLookupEvents(client, fake);
    expect(sleeps).toEqual([380]);
    expect(callTimes[1] - callTimes[0]).toBe(500);
  });
});

describe('throttling', () => {
  const throttled = () => new ThrottlingException({ message: 'Rate exceeded', $metadata: {} });

  it('L8 retries ThrottlingException with growing backoff, then succeeds', async () => {
    cloudtrail
      .on(LookupEventsCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolvesOnce({ Events: [entry(1), entry(2)] });
    const result = await readLookupEvents(client, fake);
    expect(result.events.map((e) => e.id)).toEqual(['evt-1', 'evt-2']);
    expect(result).toMatchObject({ requests: 3, throttled: 2, problems: [] });
    expect(sleeps).toEqual([1000, 2000]);
    expect(cloudtrail).toHaveReceivedCommandTimes(LookupEventsCommand, 3);
  });

  it('L9 also treats an HTTP 429 as throttling, and keeps paging afterwards', async () => {
    const tooMany = Object.assign(new Error('slow down'), { $metadata: { httpStatusCode: 429 } });
    cloudtrail
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: [entry(1)], NextToken: 'p1' })
      .rejectsOnce(tooMany)
      .resolvesOnce({ Events: [entry(2)] });
    const result = await readLookupEvents(client, { ...fake, backoffMs: 250 });
    expect(result.events.map((e) => e.id)).toEqual(['evt-1', 'evt-2']);
    // spacing before the 2nd call, then the 250 ms backoff (plus the rest of the 500 ms interval)
    expect(sleeps).toEqual([500, 250, 250]);
  });

  it('L10 gives up after maxRetries with a clear error', async () => {
    cloudtrail.on(LookupEventsCommand).rejects(throttled());
    await expect(readLookupEvents(client, { ...fake, maxRetries: 3 })).rejects.toThrow(
      /still throttled after 3 retries/,
    );
    expect(cloudtrail).toHaveReceivedCommandTimes(LookupEventsCommand, 4);
    expect(sleeps).toEqual([1000, 2000, 4000]);
  });

  it('L11 does not retry other errors', async () => {
    cloudtrail
      .on(LookupEventsCommand)
      .rejects(new InvalidLookupAttributesException({ message: 'bad attribute', $metadata: {} }));
    await expect(readLookupEvents(client, fake)).rejects.toThrow(/bad attribute/);
    expect(cloudtrail).toHaveReceivedCommandTimes(LookupEventsCommand, 1);
  });
});

describe('attributes', () => {
  it.each(LOOKUP_ATTRIBUTE_KEYS.map((key, i) => [i + 1, key] as const))('P%i parses %s=value', (_n, key) => {
    const value = key === 'ReadOnly' ? 'true' : 'some=value';
    expect(parseLookupAttribute(`${key}=${value}`)).toEqual({ AttributeKey: key, AttributeValue: value });
  });

  it('P9 accepts any key case and keeps the value as written', () => {
    expect(parseLookupAttribute('accesskeyid=ASIAEXAMPLE')).toEqual({
      AttributeKey: 'AccessKeyId',
      AttributeValue: 'ASIAEXAMPLE',
    });
  });

  const bad: [string, string, RegExp][] = [
    ['P10 no =', 'AccessKeyId', /expected KEY=VALUE/],
    ['P11 no key', '=ASIA', /expected KEY=VALUE/],
    ['P12 unknown key', 'UserName2=alice', /unknown key "UserName2".*AccessKeyId/],
    ['P13 empty value', 'EventName=', /the value is empty/],
    ['P14 ReadOnly not boolean', 'ReadOnly=yes', /ReadOnly must be true or false/],
    ['P15 value too long', `ResourceName=${'x'.repeat(2001)}`, /longer than 2000/],
  ];
  it.each(bad)('%s: %j is rejected', (_name, text, message) => {
    expect(() => parseLookupAttribute(text)).toThrow(message);
  });

  it('P16 more than one attribute is refused before any call (an API limit)', async () => {
    await expect(
      readLookupEvents(client, {
        ...fake,
        attributes: [parseLookupAttribute('Username=alice'), parseLookupAttribute('EventName=GetObject')],
      }),
    ).rejects.toThrow(/at most 1 lookup attribute, got 2 \(Username=alice, EventName=GetObject\)/);
    expect(cloudtrail).not.toHaveReceivedCommand(LookupEventsCommand);
  });

  it('P17 bad times and maxEvents are refused before any call', async () => {
    await expect(
      readLookupEvents(client, {
        ...fake,
        startTime: new Date('2024-05-02T00:00:00Z'),
        endTime: new Date('2024-05-01T00:00:00Z'),
      }),
    ).rejects.toThrow(/start time must not be after the end time/);
    await expect(readLookupEvents(client, { ...fake, startTime: new Date('nope') })).rejects.toThrow(
      /start time is not a valid date/,
    );
    await expect(readLookupEvents(client, { ...fake, maxEvents: 0 })).rejects.toThrow(/positive integer/);
    expect(cloudtrail).not.toHaveReceivedCommand(LookupEventsCommand);
  });
});

describe('malformed events', () => {
  it('L12 reports each malformed CloudTrailEvent with its position and keeps the others', async () => {
    servePages([
      [
        entry(0),
        entry(1, { CloudTrailEvent: '{"eventID": "evt-1", ' }),
        entry(2, { CloudTrailEvent: undefined }),
      ],
      [
        entry(3, { CloudTrailEvent: '[1, 2]' }),
        entry(4, { CloudTrailEvent: JSON.stringify({ eventID: 'evt-4', eventSource: 's3.amazonaws.com' }) }),
        entry(5),
      ],
    ]);
    const result = await readLookupEvents(client, fake);
    expect(result.events.map((e) => [e.id, e.origin.index])).toEqual([
      ['evt-0', 0],
      ['evt-5', 5],
    ]);
    expect(result.problems).toHaveLength(4);
    expect(result.problems.map((p) => [p.source, p.index])).toEqual([
      [LOOKUP_EVENTS_SOURCE, 1],
      [LOOKUP_EVENTS_SOURCE, 2],
      [LOOKUP_EVENTS_SOURCE, 3],
      [LOOKUP_EVENTS_SOURCE, 4],
    ]);
    expect(result.problems[0].reason).toMatch(/^event evt-1: CloudTrailEvent is not valid JSON/);
    expect(result.problems[1].reason).toBe('event evt-2: no CloudTrailEvent');
    expect(result.problems[2].reason).toBe('event evt-3: CloudTrailEvent is not a JSON object');
    expect(result.problems[3].reason).toBe('event evt-4: missing eventTime, eventName');
  });
});

/**
 * Turning a rule's inline test events (`{event: 'svc:Name', at: seconds, …fields}`) into
 * CloudTrail records, so tests and the example generator describe bursts compactly.
 */
import { readEventsFromBytes } from '../read.ts';
import type { CloudTrailRecord, TrailEvent } from '../types.ts';
import type { RuleTestEvent } from './model.ts';

export const FIXTURE_START = Date.parse('2026-01-05T10:00:00Z');

export function fixtureRecord(
  spec: RuleTestEvent,
  index: number,
  start = FIXTURE_START,
  idPrefix = 'test',
): CloudTrailRecord {
  const { event, at, ...fields } = spec;
  const [service, name] = event.split(':');
  return {
    eventVersion: '1.08',
    eventID: `${idPrefix}-${String(index).padStart(4, '0')}`,
    eventTime: new Date(start + Math.round((at ?? 0) * 1000)).toISOString().replace('.000Z', 'Z'),
    eventSource: `${service}.amazonaws.com`,
    eventName: name,
    awsRegion: 'us-east-1',
    userAgent:
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
    requestParameters: null,
    responseElements: null,
    ...fields,
  };
}

/** Builds engine events from test specs (as one identity-less input, like a recorded session). */
export function fixtureEvents(specs: RuleTestEvent[], source = 'inline-test'): TrailEvent[] {
  const records = specs.map((spec, i) => fixtureRecord(spec, i));
  return readEventsFromBytes(Buffer.from(JSON.stringify({ Records: records })), source).events;
}

/**
 * A live source: the last 90 days of management events from the CloudTrail LookupEvents API.
 * Pages of 50 with NextToken, calls spaced ≥ 500 ms apart (the API allows 2 per second per
 * account and region), ThrottlingException retried with exponential backoff. Each event's
 * `CloudTrailEvent` JSON becomes a TrailEvent; a malformed one is an InputProblem, not a crash.
 */
import {
  type CloudTrailClient,
  type LookupAttribute,
  type LookupAttributeKey,
  LookupEventsCommand,
  type LookupEventsCommandInput,
  type LookupEventsCommandOutput,
} from '@aws-sdk/client-cloudtrail';
import { toTrailEvent } from '../engine/read.ts';
import type { CloudTrailRecord, InputProblem, TrailEvent } from '../engine/types.ts';

/** The `source` of every event and problem read from LookupEvents. */
export const LOOKUP_EVENTS_SOURCE = 'lookup-events';
/** The API's largest page. */
export const LOOKUP_PAGE_SIZE = 50;
/** The API allows 2 requests per second: calls start at least this far apart. */
export const LOOKUP_MIN_INTERVAL_MS = 500;
/** The API's limit on lookup attributes per request. */
export const LOOKUP_MAX_ATTRIBUTES = 1;

export const LOOKUP_ATTRIBUTE_KEYS = [
  'EventId',
  'EventName',
  'ReadOnly',
  'Username',
  'ResourceType',
  'ResourceName',
  'EventSource',
  'AccessKeyId',
] as const satisfies readonly LookupAttributeKey[];

const THROTTLING_ERRORS = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);

/** `Key=Value` (e.g. `AccessKeyId=ASIA…`, `EventName=ConsoleLogin`) as a LookupAttribute; keys ignore case. */
export function parseLookupAttribute(text: string): LookupAttribute {
  const at = text.indexOf('=');
  const usage = `expected KEY=VALUE with KEY one of ${LOOKUP_ATTRIBUTE_KEYS.join(', ')}`;
  if (at <= 0) throw new Error(`lookup attribute ${JSON.stringify(text)}: ${usage}`);
  const rawKey = text.slice(0, at).trim();
  const value = text.slice(at + 1);
  const key = LOOKUP_ATTRIBUTE_KEYS.find((k) => k.toLowerCase() === rawKey.toLowerCase());
  if (!key)
    throw new Error(
      `lookup attribute ${JSON.stringify(text)}: unknown key ${JSON.stringify(rawKey)}; ${usage}`,
    );
  if (value.trim() === '') throw new Error(`lookup attribute ${JSON.stringify(text)}: the value is empty`);
  if (value.length > 2000)
    throw new Error(`lookup attribute ${key}: the value is longer than 2000 characters`);
  if (key === 'ReadOnly' && value !== 'true' && value !== 'false') {
    throw new Error(`lookup attribute ${JSON.stringify(text)}: ReadOnly must be true or false`);
  }
  return { AttributeKey: key, AttributeValue: value };
}

export interface LookupEventsOptions {
  /** At most one (an API limit); parse with parseLookupAttribute. */
  attributes?: LookupAttribute[];
  startTime?: Date;
  endTime?: Date;
  /** Stop after this many events (counting malformed ones); default: every page. */
  maxEvents?: number;
  /** Waits between calls; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Clock in epoch milliseconds that spaces the calls; injectable for tests. */
  now?: () => number;
  /** Retries of one throttled call before giving up (default 6). */
  maxRetries?: number;
  /** First backoff after a throttled call, doubled on each retry up to 20 s (default 1000). */
  backoffMs?: number;
  /** Called after each page with the number of events read so far. */
  onPage?: (eventsSoFar: number) => void;
}

export interface LookupEventsResult {
  events: TrailEvent[];
  problems: InputProblem[];
  /** LookupEvents calls made, retries included. */
  requests: number;
  /** Calls answered with throttling and retried. */
  throttled: number;
  /** True when maxEvents stopped the paging before the last page. */
  truncated: boolean;
}

const MAX_BACKOFF_MS = 20_000;

function isThrottling(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (name !== undefined && THROTTLING_ERRORS.has(name)) || $metadata?.httpStatusCode === 429;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Turns one lookup entry into an event, or says why it cannot. */
function entryToEvent(
  entry: NonNullable<LookupEventsCommandOutput['Events']>[number],
  index: number,
): TrailEvent {
  const label = entry.EventId ? `event ${entry.EventId}: ` : '';
  if (typeof entry.CloudTrailEvent !== 'string') throw new Error(`${label}no CloudTrailEvent`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry.CloudTrailEvent);
  } catch (error) {
    throw new Error(`${label}CloudTrailEvent is not valid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${label}CloudTrailEvent is not a JSON object`);
  }
  try {
    return toTrailEvent(parsed as CloudTrailRecord, LOOKUP_EVENTS_SOURCE, index);
  } catch (error) {
    throw new Error(`${label}${(error as Error).message}`, { cause: error });
  }
}

/**
 * Reads events from LookupEvents, newest first as the API returns them. Bad options and
 * non-throttling API errors throw; a malformed event becomes a problem and the rest go on.
 */
export async function readLookupEvents(
  client: Pick<CloudTrailClient, 'send'>,
  options: LookupEventsOptions = {},
): Promise<LookupEventsResult> {
  const attributes = options.attributes ?? [];
  if (attributes.length > LOOKUP_MAX_ATTRIBUTES) {
    throw new Error(
      `LookupEvents accepts at most ${LOOKUP_MAX_ATTRIBUTES} lookup attribute, got ${attributes.length} ` +
        `(${attributes.map((a) => `${a.AttributeKey}=${a.AttributeValue}`).join(', ')}); ` +
        'narrow further with the event filters instead',
    );
  }
  const { startTime, endTime, maxEvents } = options;
  for (const [name, time] of [
    ['start time', startTime],
    ['end time', endTime],
  ] as const) {
    if (time !== undefined && Number.isNaN(time.getTime()))
      throw new Error(`LookupEvents ${name} is not a valid date`);
  }
  if (startTime && endTime && startTime.getTime() > endTime.getTime()) {
    throw new Error('LookupEvents start time must not be after the end time');
  }
  if (maxEvents !== undefined && (!Number.isInteger(maxEvents) || maxEvents <= 0)) {
    throw new Error(`maxEvents must be a positive integer, got ${maxEvents}`);
  }
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const maxRetries = options.maxRetries ?? 6;
  const backoffMs = options.backoffMs ?? 1000;

  const result: LookupEventsResult = {
    events: [],
    problems: [],
    requests: 0,
    throttled: 0,
    truncated: false,
  };
  let lastCallAt: number | undefined;

  const send = async (input: LookupEventsCommandInput): Promise<LookupEventsCommandOutput> => {
    for (let attempt = 0; ; attempt++) {
      if (lastCallAt !== undefined) {
        const wait = lastCallAt + LOOKUP_MIN_INTERVAL_MS - now();
        if (wait > 0) await sleep(wait);
      }
      lastCallAt = now();
      result.requests++;
      try {
        return await client.send(new LookupEventsCommand(input));
      } catch (error) {
        if (!isThrottling(error)) throw error;
        if (attempt >= maxRetries) {
          throw new Error(`LookupEvents still throttled after ${maxRetries} retries`, { cause: error });
        }
        result.throttled++;
        await sleep(Math.min(backoffMs * 2 ** attempt, MAX_BACKOFF_MS));
      }
    }
  };

  let position = 0;
  let nextToken: string | undefined;
  do {
    const remaining = maxEvents === undefined ? LOOKUP_PAGE_SIZE : maxEvents - position;
    const page = await send({
      ...(attributes.length > 0 ? { LookupAttributes: attributes } : {}),
      ...(startTime ? { StartTime: startTime } : {}),
      ...(endTime ? { EndTime: endTime } : {}),
      MaxResults: Math.min(LOOKUP_PAGE_SIZE, remaining),
      ...(nextToken ? { NextToken: nextToken } : {}),
    });
    for (const entry of page.Events ?? []) {
      if (maxEvents !== undefined && position >= maxEvents) {
        result.truncated = true;
        break;
      }
      try {
        result.events.push(entryToEvent(entry, position));
      } catch (error) {
        result.problems.push({
          source: LOOKUP_EVENTS_SOURCE,
          index: position,
          reason: (error as Error).message,
        });
      }
      position++;
    }
    nextToken = page.NextToken || undefined;
    options.onPage?.(result.events.length);
    if (maxEvents !== undefined && position >= maxEvents && nextToken) result.truncated = true;
  } while (nextToken && !result.truncated);
  return result;
}

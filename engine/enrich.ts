/** The engine's one entry point: events in, sessions, signals and per-event enrichment out. */
import { createHash } from 'node:crypto';
import { explainGenerically } from './generic.ts';
import { compareEvents, mapSession, RuleIndex } from './map.ts';
import type { SignalRule } from './rules/model.ts';
import { summarizeSession } from './session-summary.ts';
import { sessionize } from './sessionize.ts';
import { buildGenericSignal, buildSignal } from './signals.ts';
import { contextOf, type SignalContext } from './tables.ts';
import type {
  AddressLookup,
  EventEnrichment,
  EventOrigin,
  InputProblem,
  SessionSummary,
  Signal,
  TrailEvent,
} from './types.ts';

export interface EnrichedSession {
  summary: SessionSummary;
  /** The session's first event (by time, then eventID): sessions are listed in this order. */
  start: { time: number; eventId: string };
  /** Every signal (actions, background and generic), sorted by first event. */
  signals: Signal[];
  /** Where each signal happened (account, region, caller), parallel to `signals`. */
  contexts: SignalContext[];
  /** Events no specific rule explains (the generic signals among `signals` explain them). */
  unmapped: TrailEvent[];
}

/** What enriching says, whether the events were enriched in one place or in partitions. */
export interface EnrichmentSummary {
  sessions: EnrichedSession[];
  /** One entry per input event (duplicates by eventID collapsed), in time order. */
  readonly events: EventEnrichment[];
  /** How many events are outside console sessions. */
  otherCount: number;
  duplicateEventCount: number;
}

export interface Enrichment extends EnrichmentSummary {
  /** Events outside console sessions. */
  other: TrailEvent[];
  /** `events`, each with its time in epoch milliseconds (to merge lists enriched apart). */
  readonly timedEvents: TimedEventEnrichment[];
}

export interface TimedEventEnrichment {
  time: number;
  entry: EventEnrichment;
}

/** The order of sessions: by first event (time, then eventID), then id. */
export function compareSessions(a: EnrichedSession, b: EnrichedSession): number {
  return (
    a.start.time - b.start.time ||
    compareText(a.start.eventId, b.start.eventId) ||
    compareText(a.summary.id, b.summary.id)
  );
}

/** The order of per-event entries: by time, then eventID. */
export function compareTimedEvents(a: TimedEventEnrichment, b: TimedEventEnrichment): number {
  return a.time - b.time || compareText(a.entry.eventId, b.entry.eventId);
}

/** Merges per-event lists that are each in order into one list in order. */
export function mergeTimedEvents(lists: readonly TimedEventEnrichment[][]): TimedEventEnrichment[] {
  const merged: TimedEventEnrichment[] = [];
  const at = lists.map(() => 0);
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      if (at[i] >= lists[i].length) continue;
      if (best < 0 || compareTimedEvents(lists[i][at[i]], lists[best][at[best]]) < 0) best = i;
    }
    if (best < 0) return merged;
    merged.push(lists[best][at[best]++]);
  }
}

// Code units: no locale-aware comparison of a million ids.
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const isoSeconds = (time: number) => new Date(time).toISOString().replace('.000Z', 'Z');
const CANONICAL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
/** An event's time as ISO-8601 seconds: CloudTrail's own text when it already is (most are). */
export const eventTimeText = (eventTime: unknown, time: number): string =>
  typeof eventTime === 'string' && CANONICAL_TIME.test(eventTime) ? eventTime : isoSeconds(time);

/** What de-duplicating by eventID gives. */
export interface Deduplicated {
  unique: TrailEvent[];
  /** Copies dropped: the same eventID with the same content as a copy kept. */
  duplicates: number;
  /** One warning per record kept under a new id: same eventID, different content (sorted). */
  conflicts: InputProblem[];
}

/**
 * Keeps one copy of each record: trails deliver some records twice (same eventID, same content),
 * and the first copy in input order stays. Records with one eventID and different content are all
 * kept, each reported: ordered by the hash of their content (so the answer never depends on which
 * object arrived first), the first keeps the eventID as its id and the next get `${eventID}#2`,
 * `#3`… (`record.eventID` is untouched). Linear: only ids seen twice are hashed.
 */
export function dedupe(events: readonly TrailEvent[]): Deduplicated {
  const first = new Map<string, number>();
  let copies: Map<string, number[]> | undefined;
  for (let i = 0; i < events.length; i++) {
    const id = events[i].id;
    const at = first.get(id);
    if (at === undefined) first.set(id, i);
    else {
      copies ??= new Map();
      const list = copies.get(id);
      if (list) list.push(i);
      else copies.set(id, [at, i]);
    }
  }
  if (!copies) return { unique: events.slice(), duplicates: 0, conflicts: [] };
  const decided = new Map<number, string | null>();
  const conflicts: InputProblem[] = [];
  let duplicates = 0;
  for (const [id, positions] of copies) {
    const resolved = resolveCopies(
      id,
      positions.map((at) => ({ key: contentKey(events[at].record), order: at, origin: events[at].origin })),
    );
    positions.forEach((at, k) => decided.set(at, resolved.ids[k]));
    duplicates += resolved.duplicates;
    for (const warning of resolved.conflicts) conflicts.push(warning);
  }
  const unique: TrailEvent[] = [];
  events.forEach((event, at) => {
    const id = decided.get(at);
    if (id === undefined || id === event.id) unique.push(event);
    else if (id !== null) unique.push({ ...event, id });
  });
  return { unique, duplicates, conflicts: conflicts.sort(compareProblems) };
}

/** One copy of a record whose eventID was seen more than once. */
export interface RecordCopy {
  /** `contentKey` of its record. */
  key: string;
  /** Its place in the input (lower: read first). */
  order: number;
  origin: EventOrigin;
}

/**
 * What becomes of the copies of one eventID: per copy its id, or null when it is a duplicate of a
 * copy kept (same content, read later). Distinct contents are ordered by content key.
 */
export function resolveCopies(
  id: string,
  copies: readonly RecordCopy[],
): { ids: (string | null)[]; duplicates: number; conflicts: InputProblem[] } {
  const kept = new Map<string, number>();
  copies.forEach((copy, k) => {
    const other = kept.get(copy.key);
    if (other === undefined || copy.order < copies[other].order) kept.set(copy.key, k);
  });
  const ids: (string | null)[] = copies.map(() => null);
  const distinct = [...kept.values()].sort((a, b) => compareText(copies[a].key, copies[b].key));
  const conflicts: InputProblem[] = [];
  const where = (origin: EventOrigin) => `${origin.source} (record ${origin.index})`;
  distinct.forEach((k, n) => {
    ids[k] = n === 0 ? id : `${id}#${n + 1}`;
    if (n === 0) return;
    conflicts.push({
      source: copies[k].origin.source,
      index: copies[k].origin.index,
      reason:
        `eventID ${JSON.stringify(id)} is also at ${where(copies[distinct[0]].origin)} with different ` +
        `content: both kept, this one as ${ids[k]}`,
    });
  });
  return { ids, duplicates: copies.length - distinct.length, conflicts };
}

/** The order warnings and problems are listed in: by source, index, then reason. */
export function compareProblems(a: InputProblem, b: InputProblem): number {
  return (
    compareText(a.source, b.source) || (a.index ?? -1) - (b.index ?? -1) || compareText(a.reason, b.reason)
  );
}

/** Marks text to write as is while serializing. */
class Literal {
  constructor(readonly text: string) {}
}

/**
 * A hash of a value's canonical JSON (keys sorted, as JSON.stringify writes values), built without
 * recursion: records may nest deeper than the stack allows.
 */
export function contentKey(value: unknown): string {
  const hash = createHash('sha256');
  let pending = '';
  const write = (text: string) => {
    pending += text;
    if (pending.length > 65_536) {
      hash.update(pending);
      pending = '';
    }
  };
  const work: unknown[] = [value];
  while (work.length > 0) {
    const item = work.pop();
    if (item instanceof Literal) write(item.text);
    else if (item === null || typeof item !== 'object') write(JSON.stringify(item) ?? 'null');
    else if (Array.isArray(item)) {
      write('[');
      work.push(new Literal(']'));
      for (let i = item.length - 1; i >= 0; i--) {
        work.push(item[i] === undefined || typeof item[i] === 'function' ? null : item[i]);
        if (i > 0) work.push(new Literal(','));
      }
    } else {
      const fields = item as Record<string, unknown>;
      const keys = Object.keys(fields)
        .filter((key) => fields[key] !== undefined && typeof fields[key] !== 'function')
        .sort();
      write('{');
      work.push(new Literal('}'));
      for (let i = keys.length - 1; i >= 0; i--) {
        work.push(fields[keys[i]]);
        work.push(new Literal(`${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:`));
      }
    }
  }
  return hash.update(pending).digest('hex');
}

export function enrich(
  input: readonly TrailEvent[],
  rules: readonly SignalRule[] | RuleIndex,
  options: { lookup?: AddressLookup } = {},
): Enrichment {
  const index = rules instanceof RuleIndex ? rules : new RuleIndex(rules);
  const { unique, duplicates } = dedupe(input);
  const { sessions: groups, other } = sessionize(unique);
  const sessions: EnrichedSession[] = [];
  const explained: Explained[] = [];
  for (const group of groups) {
    const { matches, unmapped } = mapSession(group.events, index);
    // Recognised actions first; what no rule claims is still explained, generically.
    const parts = [
      ...matches.map((match) => ({ signal: buildSignal(match, group.id), events: match.events })),
      ...explainGenerically(unmapped).map((g) => ({
        signal: buildGenericSignal(g, group.id),
        events: g.events,
      })),
    ].sort((a, b) => compareEvents(a.events[0], b.events[0]));
    const signals = parts.map((part) => part.signal);
    const summary = summarizeSession(group, signals, unmapped, options.lookup);
    const contexts = parts.map((part) => contextOf(part.events[0], summary));
    const start = { time: group.events[0].time, eventId: group.events[0].id };
    sessions.push({ summary, start, signals, contexts, unmapped });
    for (const { signal, events } of parts) explained.push({ sessionId: group.id, signal, events });
  }
  explained.push({ sessionId: null, signal: null, events: other });
  // The per-event list is built on first use: a million entries that timelines and signal
  // output never read.
  let timedEvents: TimedEventEnrichment[] | undefined;
  let events: EventEnrichment[] | undefined;
  return {
    sessions,
    get timedEvents() {
      return (timedEvents ??= eventEnrichments(explained));
    },
    get events() {
      return (events ??= this.timedEvents.map((t) => t.entry));
    },
    other,
    otherCount: other.length,
    duplicateEventCount: duplicates,
  };
}

/** Events with the session and signal that explain them (null: none). */
interface Explained {
  sessionId: string | null;
  signal: Signal | null;
  events: readonly TrailEvent[];
}

function eventEnrichments(explained: readonly Explained[]): TimedEventEnrichment[] {
  const timed: TimedEventEnrichment[] = [];
  for (const { sessionId, signal, events } of explained) {
    for (const event of events) {
      timed.push({
        time: event.time,
        entry: {
          eventId: event.id,
          eventTime: eventTimeText(event.record.eventTime, event.time),
          ref: event.ref,
          sessionId,
          signalId: signal?.id ?? null,
          label: signal?.label ?? null,
          origin: event.origin,
        },
      });
    }
  }
  return timed.sort(compareTimedEvents);
}

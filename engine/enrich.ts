/** The engine's one entry point: events in, sessions, signals and per-event enrichment out. */
import { explainGenerically } from './generic.ts';
import { compareEvents, mapSession, RuleIndex } from './map.ts';
import type { SignalRule } from './rules/model.ts';
import { summarizeSession } from './session-summary.ts';
import { sessionize } from './sessionize.ts';
import { buildGenericSignal, buildSignal } from './signals.ts';
import { contextOf, type SignalContext } from './tables.ts';
import type { AddressLookup, EventEnrichment, SessionSummary, Signal, TrailEvent } from './types.ts';

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

/** Keeps the first copy of each eventID: trails deliver some records twice. */
export function dedupe(events: readonly TrailEvent[]): { unique: TrailEvent[]; duplicates: number } {
  const seen = new Set<string>();
  const unique: TrailEvent[] = [];
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    unique.push(event);
  }
  return { unique, duplicates: events.length - unique.length };
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

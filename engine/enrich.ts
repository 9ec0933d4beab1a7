/** The engine's one entry point: events in, sessions, signals and per-event enrichment out. */
import { mapSession, RuleIndex } from './map.ts';
import type { SignalRule } from './rules/model.ts';
import { summarizeSession } from './session-summary.ts';
import { sessionize } from './sessionize.ts';
import { buildSignal } from './signals.ts';
import { contextOf, type SignalContext } from './tables.ts';
import type { AddressLookup, EventEnrichment, SessionSummary, Signal, TrailEvent } from './types.ts';

export interface EnrichedSession {
  summary: SessionSummary;
  /** Every signal, Suppress ones included, sorted by first event. */
  signals: Signal[];
  /** Where each signal happened (account, region, caller), parallel to `signals`. */
  contexts: SignalContext[];
  unmapped: TrailEvent[];
}

export interface Enrichment {
  sessions: EnrichedSession[];
  /** One entry per input event (duplicates by eventID collapsed), in time order. */
  events: EventEnrichment[];
  /** Events outside console sessions. */
  other: TrailEvent[];
  duplicateEventCount: number;
}

const isoSeconds = (time: number) => new Date(time).toISOString().replace('.000Z', 'Z');
const CANONICAL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
/** The event's time as ISO-8601 seconds: CloudTrail's own text when it already is (most are). */
const timeText = (event: TrailEvent) =>
  typeof event.record.eventTime === 'string' && CANONICAL_TIME.test(event.record.eventTime)
    ? event.record.eventTime
    : isoSeconds(event.time);

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
    const signals = matches.map((match) => buildSignal(match, group.id));
    const suppressed = signals
      .filter((s) => s.label.startsWith('Suppress'))
      .reduce((n, s) => n + s.eventCount, 0);
    const summary = summarizeSession(group, signals, unmapped, suppressed, options.lookup);
    const contexts = matches.map((match) => contextOf(match.events[0], summary));
    sessions.push({ summary, signals, contexts, unmapped });
    matches.forEach((match, i) =>
      explained.push({ sessionId: group.id, signal: signals[i], events: match.events }),
    );
    explained.push({ sessionId: group.id, signal: null, events: unmapped });
  }
  explained.push({ sessionId: null, signal: null, events: other });
  // The per-event list is built on first use: a million entries that timelines and signal
  // output never read.
  let events: EventEnrichment[] | undefined;
  return {
    sessions,
    get events() {
      return (events ??= eventEnrichments(explained));
    },
    other,
    duplicateEventCount: duplicates,
  };
}

/** Events with the session and signal that explain them (null: none). */
interface Explained {
  sessionId: string | null;
  signal: Signal | null;
  events: readonly TrailEvent[];
}

function eventEnrichments(explained: readonly Explained[]): EventEnrichment[] {
  const timed: { time: number; entry: EventEnrichment }[] = [];
  for (const { sessionId, signal, events } of explained) {
    for (const event of events) {
      timed.push({
        time: event.time,
        entry: {
          eventId: event.id,
          eventTime: timeText(event),
          ref: event.ref,
          sessionId,
          signalId: signal?.id ?? null,
          label: signal?.label ?? null,
          origin: event.origin,
        },
      });
    }
  }
  // By time, then eventID (code units: no locale-aware comparison of a million ids).
  timed.sort(
    (a, b) =>
      a.time - b.time || (a.entry.eventId < b.entry.eventId ? -1 : a.entry.eventId > b.entry.eventId ? 1 : 0),
  );
  return timed.map((t) => t.entry);
}

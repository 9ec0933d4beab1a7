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
  const events: EventEnrichment[] = [];
  const entry = (event: TrailEvent, sessionId: string | null, signal: Signal | null): EventEnrichment => ({
    eventId: event.id,
    eventTime: isoSeconds(event.time),
    ref: event.ref,
    sessionId,
    signalId: signal?.id ?? null,
    label: signal?.label ?? null,
    origin: event.origin,
  });

  for (const group of groups) {
    const { matches, unmapped } = mapSession(group.events, index);
    const signals = matches.map((match) => buildSignal(match, group.id));
    const suppressed = signals
      .filter((s) => s.label.startsWith('Suppress'))
      .reduce((n, s) => n + s.eventCount, 0);
    const summary = summarizeSession(group, signals, unmapped, suppressed, options.lookup);
    const contexts = matches.map((match) => contextOf(match.events[0], summary));
    sessions.push({ summary, signals, contexts, unmapped });
    matches.forEach((match, i) => {
      for (const event of match.events) events.push(entry(event, group.id, signals[i]));
    });
    for (const event of unmapped) events.push(entry(event, group.id, null));
  }
  for (const event of other) events.push(entry(event, null, null));
  events.sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.eventId.localeCompare(b.eventId));
  return { sessions, events, other, duplicateEventCount: duplicates };
}

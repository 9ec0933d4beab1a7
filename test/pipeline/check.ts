/**
 * What the enriched prefix must hold once everything settled, compared with `trailmap enrich` on
 * the same records. Each check returns readable problems (empty: it holds).
 */
import type { Enrichment } from '../../engine/enrich.ts';
import { datasetRows } from '../../engine/tables.ts';
import type { WrittenRow } from './harness.ts';
import { pushTo } from '../../engine/arrays.ts';

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}

/** JSON with sorted keys, after a JSON round trip (what a reader of the objects sees). */
export const canonical = (value: unknown): string =>
  JSON.stringify(sortKeys(JSON.parse(JSON.stringify(value))));

const describeSignal = (row: Record<string, unknown>, key?: string) =>
  `${String(row.label)} ${String(row.id)} (session ${String(row.session_id)}, ${String(row.event_count)} events${key ? `, in ${key}` : ''})`;

/** (1) The signal rows written equal the offline signal rows, as a multiset of canonical JSON. */
export function checkSignalRows(written: WrittenRow[], offline: Enrichment): string[] {
  const expected = datasetRows(offline.sessions, offline.events).signals.map((row) => ({
    text: canonical(row),
    row: row as Record<string, unknown>,
  }));
  const remaining = new Map<string, number>();
  for (const { text } of expected) remaining.set(text, (remaining.get(text) ?? 0) + 1);
  const problems: string[] = [];
  for (const { key, row } of written) {
    const text = canonical(row);
    const left = remaining.get(text) ?? 0;
    if (left > 0) remaining.set(text, left - 1);
    else problems.push(`extra or different signal row: ${describeSignal(row, key)}`);
  }
  for (const { text, row } of expected) {
    const left = remaining.get(text) ?? 0;
    if (left === 0) continue;
    remaining.set(text, left - 1);
    problems.push(`missing signal row: ${describeSignal(row)}`);
  }
  return problems;
}

/**
 * (2) Every console event is explained exactly once: by one written signal's event_ids, or as an
 * unmapped event of its session (event_signals row without signal); no event_signals row is
 * written twice; each session row counts the events no specific rule explains (no signal, or a
 * generic one).
 */
export function checkEventCoverage(rows: Record<string, WrittenRow[]>, offline: Enrichment): string[] {
  const problems: string[] = [];
  const consoleEvents = new Map<string, string>();
  for (const e of offline.events) if (e.sessionId) consoleEvents.set(e.eventId, e.sessionId);

  const eventRows = new Map<string, WrittenRow[]>();
  for (const written of rows.event_signals) {
    const id = String(written.row.event_id);
    pushTo(eventRows, id, written);
    if (!consoleEvents.has(id))
      problems.push(`event_signals row for a non-console event ${id} (${written.key})`);
  }
  for (const [id, list] of eventRows) {
    if (list.length > 1)
      problems.push(
        `event ${id} has ${list.length} event_signals rows: ${list.map((w) => w.key).join(', ')}`,
      );
  }

  const signalsOf = new Map<string, WrittenRow[]>();
  for (const written of rows.signals) {
    for (const id of written.row.event_ids as string[]) pushTo(signalsOf, id, written);
  }
  const sessions = new Map<string, WrittenRow[]>();
  for (const written of rows.sessions) {
    const id = String(written.row.id);
    pushTo(sessions, id, written);
  }
  for (const [id, list] of sessions) {
    if (list.length > 1)
      problems.push(`session ${id} has ${list.length} rows: ${list.map((w) => w.key).join(', ')}`);
  }

  for (const [eventId, sessionId] of consoleEvents) {
    const inSignals = signalsOf.get(eventId) ?? [];
    const row = eventRows.get(eventId)?.[0]?.row;
    const unmapped =
      row !== undefined && row.signal_id === null && row.session_id === sessionId && sessions.has(sessionId);
    const explained = inSignals.length + (unmapped ? 1 : 0);
    if (explained !== 1) {
      const where = [
        ...inSignals.map((w) => `signal ${describeSignal(w.row, w.key)}`),
        ...(unmapped ? [`unmapped in session ${sessionId}`] : []),
      ];
      problems.push(
        `console event ${eventId} (session ${sessionId}) is explained ${explained} times${where.length ? `: ${where.join('; ')}` : ''}`,
      );
      continue;
    }
    if (!row) {
      problems.push(`console event ${eventId} has no event_signals row`);
    } else if (inSignals.length === 1 && row.signal_id !== inSignals[0].row.id) {
      problems.push(
        `event ${eventId}: event_signals says ${String(row.signal_id)}, signal ${String(inSignals[0].row.id)} lists it`,
      );
    } else if (inSignals.length === 1 && inSignals[0].row.session_id !== sessionId) {
      problems.push(
        `event ${eventId} of session ${sessionId} explained by a signal of ${String(inSignals[0].row.session_id)}`,
      );
    }
  }

  // Unmapped: explained by no specific rule (no signal, or a generic one).
  const generic = new Set(rows.signals.filter((w) => w.row.kind === 'generic').map((w) => w.row.id));
  const unmappedBySession = new Map<unknown, number>();
  for (const { row } of rows.event_signals) {
    if (row.signal_id === null || generic.has(row.signal_id))
      unmappedBySession.set(row.session_id, (unmappedBySession.get(row.session_id) ?? 0) + 1);
  }
  for (const [id, list] of sessions) {
    const unmappedRows = unmappedBySession.get(id) ?? 0;
    if (list[0].row.unmapped_event_count !== unmappedRows) {
      problems.push(
        `session ${id} counts ${String(list[0].row.unmapped_event_count)} unmapped events, event_signals has ${unmappedRows}`,
      );
    }
  }
  return problems;
}

/**
 * The report from an enriched dataset (`enrich --out`, `simulate --out`, or the `enriched/` prefix
 * copied from S3): rows of `sessions`, `signals`, `event_signals` and `detections`. The dataset
 * keeps no raw records, so the report lists each event's time, name and id only.
 */
import {
  maxRisk,
  type ReportData,
  type ReportDetection,
  type ReportEvent,
  type ReportSession,
  type ReportSignal,
} from './report-data.ts';
import { RISK_LEVELS, type Risk } from './types.ts';
import { pushTo } from './arrays.ts';

export type DatasetTables = Record<
  'sessions' | 'signals' | 'event_signals' | 'detections',
  Record<string, unknown>[]
>;

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const strs = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const risk = (value: unknown): Risk => (RISK_LEVELS.includes(value as Risk) ? (value as Risk) : 'info');

export function reportFromDataset(input: {
  tables: DatasetTables;
  breadcrumbs: ReadonlyMap<string, string | null>;
  attack: ReadonlyMap<string, string[]>;
  inputs: string[];
  filters: string[];
  /** Keeps an event row (time and service:EventName filters); all when omitted. */
  keep?: (event: ReportEvent) => boolean;
  now?: Date;
}): ReportData {
  const keep = input.keep ?? (() => true);
  const rows = new Map<string, Record<string, unknown>>();
  for (const row of input.tables.event_signals) {
    const id = str(row.event_id);
    if (id && !rows.has(id)) rows.set(id, row);
  }
  const events: ReportEvent[] = [...rows.values()]
    .map((r): ReportEvent => [str(r.event_time) ?? '', str(r.event_ref) ?? '', str(r.event_id)!])
    .filter(keep)
    .sort((a, b) => a[0].localeCompare(b[0]) || a[2].localeCompare(b[2]));
  const index = new Map(events.map((e, i) => [e[2], i]));
  const indexesOf = (ids: string[]) => ids.flatMap((id) => (index.has(id) ? [index.get(id)!] : []));

  // Sessions none of whose events passed the filters are left out.
  const keptSessions = new Set(
    [...rows.values()].filter((r) => index.has(str(r.event_id)!)).map((r) => str(r.session_id)),
  );
  const sessionRows = [...new Map(input.tables.sessions.map((r) => [str(r.id), r])).values()].filter((r) =>
    keptSessions.has(str(r.id)),
  );
  const sessionIndex = new Map(sessionRows.map((r, i) => [str(r.id), i]));
  // Unmapped: explained by no specific rule (no signal, or only a generic one).
  const generic = new Set(
    input.tables.signals.filter((r) => str(r.kind) === 'generic').map((r) => str(r.id)),
  );
  const unmapped = new Map<string, number[]>();
  for (const row of rows.values()) {
    const session = str(row.session_id);
    const at = index.get(str(row.event_id)!);
    const signal = str(row.signal_id);
    if (!session || (signal && !generic.has(signal)) || at === undefined) continue;
    pushTo(unmapped, session, at);
  }
  const signals: ReportSignal[] = [...new Map(input.tables.signals.map((r) => [str(r.id), r])).values()]
    .map((r) => ({
      id: str(r.id) ?? '',
      session: sessionIndex.get(str(r.session_id)) ?? -1,
      start: str(r.first_event_time) ?? '',
      end: str(r.last_event_time) ?? '',
      label: str(r.label) ?? '',
      name: str(r.name) ?? '',
      breadcrumb: input.breadcrumbs.get(str(r.label) ?? '') ?? null,
      summary: str(r.summary) ?? '',
      url: str(r.url),
      service: str(r.service) ?? '',
      risk: risk(r.risk),
      background: str(r.kind) === 'background',
      generic: str(r.kind) === 'generic',
      events: indexesOf(strs(r.event_ids)),
    }))
    .filter((s) => s.session >= 0 && s.events.length > 0)
    .sort((a, b) => a.start.localeCompare(b.start) || a.id.localeCompare(b.id));
  const detections: ReportDetection[] = [
    ...new Map(input.tables.detections.map((r) => [str(r.id), r])).values(),
  ]
    .map((r) => ({
      id: str(r.id) ?? '',
      rule: str(r.rule_id) ?? '',
      title: str(r.title) ?? '',
      risk: risk(r.risk),
      attack: input.attack.get(str(r.rule_id) ?? '') ?? [],
      time: str(r.event_time) ?? '',
      principal: str(r.principal_arn),
      sourceIp: str(r.source_ip),
      country: str(r.source_country),
      account: str(r.account_id),
      region: str(r.region),
      summary: str(r.summary) ?? '',
      session: sessionIndex.get(str(r.session_id)) ?? -1,
      events: indexesOf(strs([r.event_id])),
      ref: str(r.event_ref) ?? '',
    }))
    // Detections of programmatic calls have no event row in a pipeline dataset: kept, by their own time.
    .filter((d) => keep([d.time, d.ref, d.id]))
    .map(({ ref: _ref, ...d }) => d)
    .sort((a, b) => a.time.localeCompare(b.time) || a.id.localeCompare(b.id));
  const risks = new Map<number, Risk[]>();
  for (const item of [...signals.filter((s) => !s.background), ...detections]) {
    pushTo(risks, item.session, item.risk);
  }
  const sessions: ReportSession[] = sessionRows.map((r, i) => ({
    id: str(r.id) ?? '',
    principal: str(r.principal_arn),
    principalType: str(r.principal_type),
    account: str(r.account_id),
    sourceIps: strs(r.source_ips),
    places: [...strs(r.source_countries), ...strs(r.source_networks)],
    mfa: typeof r.mfa_used === 'boolean' ? r.mfa_used : null,
    login: str(r.login_result),
    start: str(r.start_time) ?? '',
    end: str(r.end_time) ?? '',
    eventCount: num(r.event_count),
    signalCount: num(r.signal_count),
    unmappedCount: num(r.unmapped_event_count),
    risk: maxRisk(risks.get(i) ?? []),
    services: strs(r.services),
    summary: str(r.summary) ?? '',
    unmapped: unmapped.get(str(r.id) ?? '') ?? [],
  }));
  return {
    title: 'Trailmap report',
    generatedAt: (input.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    inputs: input.inputs,
    filters: input.filters,
    otherEventCount: [...rows.values()].filter((r) => !str(r.session_id) && index.has(str(r.event_id)!))
      .length,
    sessions,
    signals,
    detections,
    events,
    raw: null,
  };
}

/**
 * What the HTML report shows, as plain data: sessions, their signals and unmapped events,
 * detections, and every event (time, name, id) with its raw record. Built from an enrichment
 * (trail files) or from an enriched dataset (rows, no raw records). Rendering is `report/render.ts`.
 */
import type { DetectionHit } from './detect.ts';
import type { Enrichment } from './enrich.ts';
import { RISK_LEVELS, type Risk, type TrailEvent } from './types.ts';
import { pushTo } from './arrays.ts';

export interface ReportSession {
  id: string;
  principal: string | null;
  principalType: string | null;
  account: string | null;
  sourceIps: string[];
  /** "FR", "AS3215 Orange" … of the public source addresses. */
  places: string[];
  mfa: boolean | null;
  login: string | null;
  start: string;
  end: string;
  eventCount: number;
  signalCount: number;
  unmappedCount: number;
  /** Highest risk among its signals and detections. */
  risk: Risk;
  services: string[];
  summary: string;
  /** Indexes into `events` of the events no rule explained. */
  unmapped: number[];
}

export interface ReportSignal {
  id: string;
  /** Index into `sessions`. */
  session: number;
  start: string;
  end: string;
  label: string;
  name: string;
  breadcrumb: string | null;
  summary: string;
  url: string | null;
  service: string;
  risk: Risk;
  background: boolean;
  /** Explained by the generic layer (no rule recognises it): a write, or a page view. */
  generic: boolean;
  /** Indexes into `events`. */
  events: number[];
}

export interface ReportDetection {
  id: string;
  rule: string;
  title: string;
  risk: Risk;
  attack: string[];
  time: string;
  principal: string | null;
  sourceIp: string | null;
  country: string | null;
  account: string | null;
  region: string | null;
  summary: string;
  /** Index into `sessions`, or -1 outside console sessions. */
  session: number;
  events: number[];
}

/** One event: [ISO time, service:EventName, eventID]. */
export type ReportEvent = [string, string, string];

export interface ReportData {
  title: string;
  generatedAt: string;
  inputs: string[];
  /** The filters the events went through, as given on the command line. */
  filters: string[];
  /** Events outside console sessions (programmatic calls). */
  otherEventCount: number;
  sessions: ReportSession[];
  signals: ReportSignal[];
  detections: ReportDetection[];
  events: ReportEvent[];
  /** Raw records parallel to `events` (null where the source had none, e.g. a dataset). */
  raw: (Record<string, unknown> | null)[] | null;
}

/** The highest of some risks (info when there are none). */
export const maxRisk = (risks: Iterable<Risk>): Risk => {
  let best = 0;
  for (const risk of risks) best = Math.max(best, RISK_LEVELS.indexOf(risk));
  return RISK_LEVELS[best];
};

const isoSeconds = (time: number) => new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');

const placesOf = (locations: { country: string | null; asn: number | null; asOrg: string | null }[]) => [
  ...new Set(
    locations.flatMap((l) => [
      ...(l.country ? [l.country] : []),
      ...(l.asn ? [`AS${l.asn} ${l.asOrg ?? ''}`.trim()] : []),
    ]),
  ),
];

export function reportFromEnrichment(input: {
  events: readonly TrailEvent[];
  enrichment: Enrichment;
  detections: readonly DetectionHit[];
  breadcrumbs: ReadonlyMap<string, string | null>;
  inputs: string[];
  filters: string[];
  title?: string;
  now?: Date;
}): ReportData {
  const byId = new Map<string, TrailEvent>();
  for (const event of input.events) if (!byId.has(event.id)) byId.set(event.id, event);
  const ordered = [...byId.values()].sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
  const index = new Map(ordered.map((e, i) => [e.id, i]));
  const indexesOf = (ids: readonly string[]) => ids.flatMap((id) => (index.has(id) ? [index.get(id)!] : []));
  const sessionIndex = new Map(input.enrichment.sessions.map((s, i) => [s.summary.id, i]));
  const sessionOfEvent = new Map(input.enrichment.events.map((e) => [e.eventId, e.sessionId]));
  const detections: ReportDetection[] = input.detections.map((hit) => ({
    id: hit.id,
    rule: hit.ruleId,
    title: hit.title,
    risk: hit.risk,
    attack: hit.attack,
    time: hit.eventTime,
    principal: hit.principalArn,
    sourceIp: hit.sourceIp,
    country: hit.sourceCountry,
    account: hit.accountId,
    region: hit.region,
    summary: hit.summary,
    session: sessionIndex.get(sessionOfEvent.get(hit.eventIds[0]) ?? '') ?? -1,
    events: indexesOf(hit.eventIds),
  }));
  const detectionRisks = new Map<number, Risk[]>();
  for (const d of detections) pushTo(detectionRisks, d.session, d.risk);
  const sessions: ReportSession[] = input.enrichment.sessions.map(({ summary, signals, unmapped }, i) => ({
    id: summary.id,
    principal: summary.principalArn,
    principalType: summary.principalType,
    account: summary.accountId,
    sourceIps: summary.sourceIps,
    places: placesOf(summary.sourceLocations),
    mfa: summary.mfaUsed,
    login: summary.loginResult,
    start: summary.startTime,
    end: summary.endTime,
    eventCount: summary.eventCount,
    signalCount: summary.signalCount,
    unmappedCount: summary.unmappedEventCount,
    risk: maxRisk([
      ...signals.filter((s) => s.kind !== 'background').map((s) => s.risk),
      ...(detectionRisks.get(i) ?? []),
    ]),
    services: summary.services,
    summary: summary.summary,
    unmapped: indexesOf(unmapped.map((e) => e.id)),
  }));
  const signals: ReportSignal[] = input.enrichment.sessions.flatMap(({ signals: list }, session) =>
    list.map((s) => ({
      id: s.id,
      session,
      start: s.firstEventTime,
      end: s.lastEventTime,
      label: s.label,
      name: s.name,
      breadcrumb: input.breadcrumbs.get(s.label) ?? null,
      summary: s.summary,
      url: s.url,
      service: s.service,
      risk: s.risk,
      background: s.kind === 'background',
      generic: s.kind === 'generic',
      events: indexesOf(s.eventIds),
    })),
  );
  return {
    title: input.title ?? 'Trailmap report',
    generatedAt: isoSeconds((input.now ?? new Date()).getTime()),
    inputs: input.inputs,
    filters: input.filters,
    otherEventCount: input.enrichment.otherCount,
    sessions,
    signals,
    detections,
    events: ordered.map((e) => [isoSeconds(e.time), e.ref, e.id]),
    raw: ordered.map((e) => e.record as Record<string, unknown>),
  };
}

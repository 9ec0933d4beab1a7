/**
 * The enriched dataset's tables: one column list per table, used by the writers here, and (later)
 * by the Glue catalog and DuckDB views, so the three cannot drift apart.
 */
import type { DetectionHit } from './detect.ts';
import type { EnrichedSession } from './enrich.ts';
import type { EventEnrichment, SessionSummary, Signal, TrailEvent } from './types.ts';

export type ColumnType = 'string' | 'bigint' | 'boolean' | 'array<string>';

export interface Column {
  name: string;
  type: ColumnType;
  description: string;
}

export const TABLES = {
  signals: [
    { name: 'id', type: 'string', description: 'Signal id (stable: session, label, first event)' },
    { name: 'session_id', type: 'string', description: 'Console session the signal belongs to' },
    { name: 'label', type: 'string', description: 'Console action identifier (catalog label)' },
    {
      name: 'kind',
      type: 'string',
      description:
        'action (a rule recognised it), background (console polling) or generic (no rule: a write or a page view)',
    },
    { name: 'name', type: 'string', description: 'Human name of the action' },
    { name: 'summary', type: 'string', description: 'What the person did, in one sentence' },
    { name: 'url', type: 'string', description: 'Console URL of the page or action' },
    { name: 'service', type: 'string', description: 'Console service' },
    { name: 'risk', type: 'string', description: 'info, low, medium, high or critical' },
    { name: 'correlation_id', type: 'string', description: 'eventID of the first event' },
    { name: 'event_ids', type: 'array<string>', description: 'Every eventID the signal explains' },
    { name: 'event_count', type: 'bigint', description: 'Number of events explained' },
    { name: 'first_event_time', type: 'string', description: 'ISO-8601 time of the first event' },
    { name: 'last_event_time', type: 'string', description: 'ISO-8601 time of the last event' },
    { name: 'additional_data', type: 'string', description: 'JSON object of values the action exposed' },
    { name: 'account_id', type: 'string', description: 'Account the calls were made in' },
    { name: 'region', type: 'string', description: 'Region of the first event' },
    { name: 'principal_arn', type: 'string', description: 'Who acted' },
    { name: 'source_ip', type: 'string', description: 'Caller address of the first event' },
    { name: 'user_agent', type: 'string', description: 'User agent of the first event' },
  ],
  sessions: [
    { name: 'id', type: 'string', description: 'Session id' },
    { name: 'kind', type: 'string', description: 'console, or file for identity-less inputs' },
    { name: 'principal_arn', type: 'string', description: 'Who signed in' },
    { name: 'principal_type', type: 'string', description: 'IAMUser, AssumedRole, Root…' },
    { name: 'account_id', type: 'string', description: 'Account' },
    { name: 'access_key_id', type: 'string', description: 'The key most of its calls used' },
    { name: 'access_key_ids', type: 'array<string>', description: 'Every temporary key its calls used' },
    { name: 'source_ips', type: 'array<string>', description: 'Caller addresses' },
    {
      name: 'source_countries',
      type: 'array<string>',
      description: 'Countries of the public caller addresses (offline GeoIP)',
    },
    {
      name: 'source_networks',
      type: 'array<string>',
      description: 'Networks of the public caller addresses: "AS<number> <owner>"',
    },
    { name: 'user_agents', type: 'array<string>', description: 'Browser and tool user agents' },
    { name: 'regions', type: 'array<string>', description: 'Regions called' },
    { name: 'mfa_used', type: 'boolean', description: 'MFA at sign-in (null: unknown)' },
    { name: 'login_result', type: 'string', description: 'Success, Failure or null' },
    { name: 'start_time', type: 'string', description: 'First event' },
    { name: 'end_time', type: 'string', description: 'Last event' },
    { name: 'event_count', type: 'bigint', description: 'Events in the session' },
    {
      name: 'signal_count',
      type: 'bigint',
      description: 'Recognised actions (background and generic excluded)',
    },
    {
      name: 'generic_signal_count',
      type: 'bigint',
      description: 'Generic signals: writes and page views no rule recognises',
    },
    { name: 'unmapped_event_count', type: 'bigint', description: 'Events no specific rule explained' },
    { name: 'error_count', type: 'bigint', description: 'Events with an errorCode' },
    { name: 'services', type: 'array<string>', description: 'Services touched' },
    { name: 'risky_signal_ids', type: 'array<string>', description: 'Signals of risk medium or above' },
    { name: 'summary', type: 'string', description: 'Readable summary' },
  ],
  event_signals: [
    { name: 'event_id', type: 'string', description: 'CloudTrail eventID' },
    { name: 'event_time', type: 'string', description: 'ISO-8601 event time' },
    { name: 'event_ref', type: 'string', description: 'service:EventName' },
    { name: 'session_id', type: 'string', description: 'Console session (null: programmatic)' },
    { name: 'signal_id', type: 'string', description: 'Signal explaining the event (null: unmapped)' },
    { name: 'label', type: 'string', description: 'Label of that signal' },
  ],
  detections: [
    { name: 'id', type: 'string', description: 'Detection hit id (stable: rule, event)' },
    { name: 'rule_id', type: 'string', description: 'Detection rule id' },
    { name: 'title', type: 'string', description: 'What was detected' },
    { name: 'risk', type: 'string', description: 'info, low, medium, high or critical' },
    { name: 'event_id', type: 'string', description: 'CloudTrail eventID that matched' },
    { name: 'event_time', type: 'string', description: 'ISO-8601 event time' },
    { name: 'event_ref', type: 'string', description: 'service:EventName' },
    { name: 'account_id', type: 'string', description: 'Account' },
    { name: 'region', type: 'string', description: 'Region' },
    { name: 'principal_arn', type: 'string', description: 'Who' },
    { name: 'source_ip', type: 'string', description: 'Caller address' },
    { name: 'source_country', type: 'string', description: 'Country of the caller address (offline GeoIP)' },
    {
      name: 'source_network',
      type: 'string',
      description: 'Network of the caller address: "AS<number> <owner>"',
    },
    { name: 'session_id', type: 'string', description: 'Console session, when the event is in one' },
    { name: 'summary', type: 'string', description: 'Readable description' },
  ],
} as const satisfies Record<string, readonly Column[]>;

export type TableName = keyof typeof TABLES;
type RowOf<T extends TableName> = { [C in (typeof TABLES)[T][number] as C['name']]: unknown };

export interface SignalContext {
  accountId: string | null;
  region: string | null;
  principalArn: string | null;
  sourceIp: string | null;
  userAgent: string | null;
}

export function contextOf(first: TrailEvent, session: SessionSummary): SignalContext {
  const record = first.record;
  return {
    accountId: record.recipientAccountId ?? record.userIdentity?.accountId ?? session.accountId,
    region: record.awsRegion ?? null,
    principalArn: session.principalArn,
    sourceIp: record.sourceIPAddress ?? null,
    userAgent: record.userAgent ?? null,
  };
}

export function signalRow(signal: Signal, context: SignalContext): RowOf<'signals'> {
  return {
    id: signal.id,
    session_id: signal.sessionId,
    label: signal.label,
    kind: signal.kind,
    name: signal.name,
    summary: signal.summary,
    url: signal.url,
    service: signal.service,
    risk: signal.risk,
    correlation_id: signal.correlationId,
    event_ids: signal.eventIds,
    event_count: signal.eventCount,
    first_event_time: signal.firstEventTime,
    last_event_time: signal.lastEventTime,
    additional_data: JSON.stringify(signal.additionalData),
    account_id: context.accountId,
    region: context.region,
    principal_arn: context.principalArn,
    source_ip: context.sourceIp,
    user_agent: context.userAgent,
  };
}

export function sessionRow(s: SessionSummary): RowOf<'sessions'> {
  return {
    id: s.id,
    kind: s.kind,
    principal_arn: s.principalArn,
    principal_type: s.principalType,
    account_id: s.accountId,
    access_key_id: s.accessKeyId,
    access_key_ids: s.accessKeyIds,
    source_ips: s.sourceIps,
    source_countries: [...new Set(s.sourceLocations.map((l) => l.country).filter((c): c is string => !!c))],
    source_networks: [
      ...new Set(
        s.sourceLocations.filter((l) => l.asn !== null).map((l) => `AS${l.asn} ${l.asOrg ?? ''}`.trim()),
      ),
    ],
    user_agents: s.userAgents,
    regions: s.regions,
    mfa_used: s.mfaUsed,
    login_result: s.loginResult,
    start_time: s.startTime,
    end_time: s.endTime,
    event_count: s.eventCount,
    signal_count: s.signalCount,
    generic_signal_count: s.genericSignalCount,
    unmapped_event_count: s.unmappedEventCount,
    error_count: s.errorCount,
    services: s.services,
    risky_signal_ids: s.riskySignals.map((r) => r.id),
    summary: s.summary,
  };
}

export function eventSignalRow(e: EventEnrichment): RowOf<'event_signals'> {
  return {
    event_id: e.eventId,
    event_time: e.eventTime,
    event_ref: e.ref,
    session_id: e.sessionId,
    signal_id: e.signalId,
    label: e.label,
  };
}

/** `dt` partition value of an ISO time. */
export const partitionOf = (isoTime: string): string => isoTime.slice(0, 10);

/** Partition column of every enriched table. */
export const PARTITION_COLUMN = 'dt';

export interface DatasetRows {
  signals: RowOf<'signals'>[];
  sessions: RowOf<'sessions'>[];
  event_signals: RowOf<'event_signals'>[];
  detections?: RowOf<'detections'>[];
}

/** A detection hit as a `detections` row; `sessionId` when its event is in a console session. */
export function detectionRow(hit: DetectionHit, sessionId: string | null): RowOf<'detections'> {
  return {
    id: hit.id,
    rule_id: hit.ruleId,
    title: hit.title,
    risk: hit.risk,
    event_id: hit.eventIds[0],
    event_time: hit.eventTime,
    event_ref: hit.eventRef,
    account_id: hit.accountId,
    region: hit.region,
    principal_arn: hit.principalArn,
    source_ip: hit.sourceIp,
    source_country: hit.sourceCountry,
    source_network: hit.sourceNetwork,
    session_id: sessionId,
    summary: hit.summary,
  };
}

/** Every row of the dataset for some enriched sessions and their events. */
export function datasetRows(sessions: EnrichedSession[], events: EventEnrichment[]): DatasetRows {
  return {
    signals: sessions.flatMap((s) => s.signals.map((signal, i) => signalRow(signal, s.contexts[i]))),
    sessions: sessions.map((s) => sessionRow(s.summary)),
    event_signals: events.map(eventSignalRow),
  };
}

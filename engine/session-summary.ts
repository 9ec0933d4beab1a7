/** The readable account of one console session: who, from where, how, what they did, what was risky. */
import { isSignIn, principalOf, type SessionGroup, usableKey } from './sessionize.ts';
import type { AddressLookup, Risk, SessionSummary, Signal, TrailEvent } from './types.ts';
import { RISK_LEVELS } from './types.ts';
import { userAgentFamily } from './useragent.ts';

const isoSeconds = (time: number) => new Date(time).toISOString().replace('.000Z', 'Z');

function distinct(values: (string | null | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v !== ''))].sort();
}

/** A caller address, not a stand-in such as "AWS Internal" or a service host name. */
function isAddress(value: string | undefined): value is string {
  return !!value && value !== 'AWS Internal' && !/\.amazonaws\.com$/.test(value);
}

function mfaOf(events: TrailEvent[]): boolean | null {
  for (const event of events) {
    const used = (event.record.additionalEventData as { MFAUsed?: unknown } | undefined)?.MFAUsed;
    const failed =
      (event.record.responseElements as { ConsoleLogin?: unknown } | null)?.ConsoleLogin === 'Failure';
    // A failed sign-in never reached the MFA step, so its "No" says nothing about MFA.
    if (event.record.eventName === 'ConsoleLogin' && !failed && (used === 'Yes' || used === 'No')) {
      return used === 'Yes';
    }
  }
  for (const event of events) {
    const flag = event.record.userIdentity?.sessionContext?.attributes?.mfaAuthenticated;
    if (flag === 'true' || flag === 'false') return flag === 'true';
  }
  return null;
}

function loginResultOf(events: TrailEvent[]): 'Success' | 'Failure' | null {
  const login = events.find((e) => e.record.eventName === 'ConsoleLogin');
  const result = (login?.record.responseElements as { ConsoleLogin?: unknown } | null | undefined)
    ?.ConsoleLogin;
  return result === 'Success' || result === 'Failure' ? result : null;
}

/**
 * The session's keys (sign-in calls are made with other credentials), the one its calls use most
 * first: the console takes a key per service and renews them.
 */
function sessionKeysOf(events: TrailEvent[]): string[] {
  const counts = new Map<string, number>();
  for (const event of events) {
    const key = event.record.userIdentity?.accessKeyId;
    if (usableKey(key) && !isSignIn(event.record)) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const [most] = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return most ? [most[0], ...[...counts.keys()].filter((k) => k !== most[0]).sort()] : [];
}

export function riskAtLeast(risk: Risk, floor: Risk): boolean {
  return RISK_LEVELS.indexOf(risk) >= RISK_LEVELS.indexOf(floor);
}

export function summarizeSession(
  group: SessionGroup,
  signals: Signal[],
  unmapped: TrailEvent[],
  lookup?: AddressLookup,
): SessionSummary {
  const { events } = group;
  const sourceIps = distinct(events.map((e) => e.record.sourceIPAddress).filter(isAddress));
  // A call's identity names the session's principal best; sign-in events (CheckMfa names no ARN) last.
  const identitySource =
    events.find((e) => e.record.userIdentity && !isSignIn(e.record)) ??
    events.find((e) => e.record.userIdentity?.arn) ??
    events.find((e) => e.record.userIdentity);
  const identity = identitySource?.record.userIdentity;
  const principalArn = identitySource ? principalOf(identitySource.record) : null;
  const visible = signals.filter((s) => s.kind !== 'background');
  const risky = visible.filter((s) => riskAtLeast(s.risk, 'medium'));
  const countEvents = (kind: Signal['kind']) =>
    signals.reduce((sum, s) => sum + (s.kind === kind ? s.eventCount : 0), 0);
  const keys = sessionKeysOf(events);
  const agents = distinct(
    events
      .map((e) => e.record.userAgent)
      .filter((a) => {
        const family = userAgentFamily(a);
        return family !== 'aws-internal' && family !== 'service' && family !== 'signin';
      }),
  );
  const summary: SessionSummary = {
    id: group.id,
    kind: group.kind,
    principalArn,
    principalType: identity?.type ?? null,
    accountId:
      identity?.accountId ??
      events.find((e) => e.record.recipientAccountId)?.record.recipientAccountId ??
      null,
    accessKeyId: keys[0] ?? null,
    accessKeyIds: keys,
    sourceIps,
    sourceLocations: [],
    userAgents: agents,
    regions: distinct(events.map((e) => e.record.awsRegion)),
    mfaUsed: mfaOf(events),
    loginResult: loginResultOf(events),
    startTime: isoSeconds(events[0].time),
    endTime: isoSeconds(events[events.length - 1].time),
    eventCount: events.length,
    signalCount: visible.filter((s) => s.kind === 'action').length,
    genericSignalCount: visible.filter((s) => s.kind === 'generic').length,
    mappedEventCount: countEvents('action') + countEvents('background'),
    unmappedEventCount: unmapped.length,
    suppressedEventCount: countEvents('background'),
    errorCount: events.filter((e) => e.record.errorCode).length,
    services: distinct(visible.map((s) => s.service)),
    riskySignals: risky.map((s) => ({ id: s.id, label: s.label, risk: s.risk, summary: s.summary })),
    unmappedEventIds: unmapped.map((e) => e.id),
    summary: '',
  };
  return locateSession(summary, lookup);
}

/**
 * Places the session's source addresses (when a lookup is given) and writes its one-line summary,
 * which names those places. Sessions summarized without a lookup (on reader threads) get it here.
 */
export function locateSession(summary: SessionSummary, lookup?: AddressLookup): SessionSummary {
  summary.sourceLocations = lookup ? summary.sourceIps.map((ip) => ({ ip, ...lookup(ip) })) : [];
  summary.summary = describe(summary);
  return summary;
}

export const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function describe(s: SessionSummary): string {
  const who = s.principalArn ?? (s.kind === 'file' ? 'an unidentified principal' : 'an unknown principal');
  const where = (ip: string) => {
    const place = s.sourceLocations.find((l) => l.ip === ip);
    // Private, AWS-internal and service sources are labelled as such, never located.
    const parts =
      place && place.kind !== 'public' ? [place.kind] : [place?.country, place?.asOrg].filter(Boolean);
    return parts.length > 0 ? `${ip} (${parts.join(', ')})` : ip;
  };
  const from = s.sourceIps.length > 0 ? ` from ${s.sourceIps.map(where).join(', ')}` : '';
  const mfa = s.mfaUsed === null ? '' : s.mfaUsed ? ' with MFA' : ' without MFA';
  const login = s.loginResult === 'Failure' ? ' (failed sign-in)' : '';
  const minutes = Math.max(1, Math.round((Date.parse(s.endTime) - Date.parse(s.startTime)) / 60_000));
  const services = s.services.length > 0 ? ` in ${s.services.join(', ')}` : '';
  const risky = s.riskySignals.length > 0 ? `; ${s.riskySignals.length} risky` : '';
  const generic = s.genericSignalCount > 0 ? ` and ${plural(s.genericSignalCount, 'generic signal')}` : '';
  return (
    `${who}${from}${mfa}${login}: ${plural(s.signalCount, 'action')}${generic}${services} over ${minutes} min` +
    ` (${plural(s.eventCount, 'event')}, ${s.unmappedEventCount} without a specific rule${risky})`
  );
}

/**
 * Grouping events into console sessions (DESIGN.md, "Console sessions" and "Sign-in").
 *
 * - A console event carries console credentials (`sessionCredentialFromConsole`), is a sign-in
 *   event, or comes from a browser/console user agent. Its session is its temporary access key,
 *   or failing that its principal + session creation date (+ source IP).
 * - `GetSigninToken` names the console session key it issues; `ConsoleLogin` joins the session of
 *   the same principal that starts right after it (or the `GetSigninToken` just before it).
 * - Records with no identity fields at all form one session per input source.
 * - Everything else is programmatic activity: kept, with no session.
 */
import { createHash } from 'node:crypto';
import { compareEvents } from './map.ts';
import type { CloudTrailRecord, TrailEvent } from './types.ts';
import { userAgentFamily } from './useragent.ts';

export interface SessionGroup {
  id: string;
  kind: 'console' | 'file';
  /** Sorted by time, then eventID. */
  events: TrailEvent[];
}

export interface Sessionized {
  sessions: SessionGroup[];
  /** Events outside any console session (programmatic calls), in input order. */
  other: TrailEvent[];
}

/** How long after a sign-in the session it starts may make its first call. */
const LOGIN_LINK_MS = 5 * 60_000;
/** How close a ConsoleLogin follows the GetSigninToken that issued its session key. */
const TOKEN_LINK_MS = 60_000;

export function sessionIdFor(key: string): string {
  return `s-${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
}

function hasIdentity(record: CloudTrailRecord): boolean {
  return (
    record.userIdentity !== undefined ||
    record.sourceIPAddress !== undefined ||
    record.sessionCredentialFromConsole !== undefined ||
    record.recipientAccountId !== undefined
  );
}

export function isSignIn(record: CloudTrailRecord): boolean {
  return (
    record.eventType === 'AwsConsoleSignIn' ||
    (record.eventSource === 'signin.amazonaws.com' &&
      (record.eventName === 'ConsoleLogin' || record.eventName === 'GetSigninToken'))
  );
}

export function isConsoleEvent(record: CloudTrailRecord): boolean {
  if (record.sessionCredentialFromConsole === 'true' || isSignIn(record)) return true;
  const family = userAgentFamily(record.userAgent);
  // Without the 1.08 flag, only a browser or console front end identifies console traffic.
  return family === 'browser' || family === 'console';
}

/**
 * A non-console call that joins the console session whose temporary key it carries: made by AWS on
 * the session's behalf, not by a CLI or SDK (someone scripting with exported keys is not clicking).
 */
export function joinsConsoleSessionByKey(record: CloudTrailRecord): boolean {
  if (!record.userIdentity?.accessKeyId?.startsWith('ASIA')) return false;
  const family = userAgentFamily(record.userAgent);
  return family !== 'cli' && family !== 'sdk';
}

export function principalOf(record: CloudTrailRecord): string | null {
  const identity = record.userIdentity;
  if (!identity) return null;
  if (identity.arn) return identity.arn;
  if (identity.sessionContext?.sessionIssuer?.arn) return identity.sessionContext.sessionIssuer.arn;
  if (identity.userName) return `${identity.accountId ?? '?'}:${identity.userName}`;
  if (identity.principalId) return `${identity.accountId ?? '?'}:${identity.principalId}`;
  return null;
}

/** The principal + session-start identity of a record, used when its access key is absent. */
function principalKey(record: CloudTrailRecord): string | null {
  const principal = principalOf(record);
  if (!principal) return null;
  const created = record.userIdentity?.sessionContext?.attributes?.creationDate ?? '';
  return `principal:${principal}|${created}|${created ? '' : (record.sourceIPAddress ?? '')}`;
}

/**
 * A console record's session key: its access key; else the access key that other records of the
 * same principal and session start carry (the key "may be absent" on some records); else the
 * principal and session start themselves.
 */
function consoleKey(record: CloudTrailRecord, keyByPrincipal: ReadonlyMap<string, string>): string | null {
  const key = record.userIdentity?.accessKeyId;
  if (key) return `key:${key}`;
  const principal = principalKey(record);
  if (!principal) return null;
  return keyByPrincipal.get(principal) ?? principal;
}

/** Maps principal + session start to the one access key its console records carry (if only one). */
function accessKeysByPrincipal(events: readonly TrailEvent[]): Map<string, string> {
  const keys = new Map<string, Set<string>>();
  for (const { record } of events) {
    const key = record.userIdentity?.accessKeyId;
    const created = record.userIdentity?.sessionContext?.attributes?.creationDate;
    if (!key || !created || !isConsoleEvent(record)) continue;
    const principal = principalKey(record);
    if (!principal) continue;
    keys.set(principal, (keys.get(principal) ?? new Set()).add(`key:${key}`));
  }
  const unique = new Map<string, string>();
  for (const [principal, set] of keys) if (set.size === 1) unique.set(principal, [...set][0]);
  return unique;
}

function issuedKey(record: CloudTrailRecord): string | null {
  const credentials = (record.responseElements as { credentials?: { accessKeyId?: unknown } } | null)
    ?.credentials;
  return typeof credentials?.accessKeyId === 'string' ? `key:${credentials.accessKeyId}` : null;
}

/**
 * Groups events into sessions; deterministic whatever the input order. Only the sessions' events
 * are sorted: most of a trail is programmatic calls, which stay in input order in `other`.
 */
export function sessionize(input: readonly TrailEvent[]): Sessionized {
  const found = new Map<string, { kind: 'console' | 'file'; events: TrailEvent[] }>();
  const add = (key: string, kind: 'console' | 'file', event: TrailEvent) => {
    const group = found.get(key) ?? { kind, events: [] };
    group.events.push(event);
    found.set(key, group);
  };
  const other: TrailEvent[] = [];
  const logins: TrailEvent[] = [];
  const tokens: { event: TrailEvent; key: string }[] = [];
  const keyByPrincipal = accessKeysByPrincipal(input);

  for (const event of input) {
    const record = event.record;
    if (!hasIdentity(record)) {
      add(`file:${event.origin.source}`, 'file', event);
    } else if (record.eventName === 'ConsoleLogin' || (isSignIn(record) && !issuedKey(record))) {
      logins.push(event);
    } else if (isSignIn(record)) {
      const key = issuedKey(record)!;
      tokens.push({ event, key });
      add(key, 'console', event);
    } else if (isConsoleEvent(record)) {
      const key = consoleKey(record, keyByPrincipal);
      if (key) add(key, 'console', event);
      else other.push(event);
    } else {
      other.push(event);
    }
  }
  // From here on in time order: groups by their first event, then sign-ins and tokens, so which
  // session a sign-in joins never depends on the input order.
  for (const group of found.values()) group.events.sort(compareEvents);
  const groups = new Map([...found].sort(([, a], [, b]) => compareEvents(a.events[0], b.events[0])));
  logins.sort(compareEvents);
  tokens.sort((a, b) => compareEvents(a.event, b.event));

  // Calls AWS made with a console session's key (AWS Internal, a service) belong to that session.
  const stillOther: TrailEvent[] = [];
  const joined: { event: TrailEvent; group: { events: TrailEvent[] } }[] = [];
  for (const event of other) {
    const key = joinsConsoleSessionByKey(event.record)
      ? `key:${event.record.userIdentity?.accessKeyId}`
      : null;
    const group = key ? groups.get(key) : undefined;
    if (group?.kind === 'console') joined.push({ event, group });
    else stillOther.push(event);
  }
  joined.sort((a, b) => compareEvents(a.event, b.event));
  for (const { event, group } of joined) group.events.push(event);

  for (const login of logins) {
    const key = loginSessionKey(login, groups, tokens);
    const group = groups.get(key) ?? { kind: 'console' as const, events: [] };
    group.events.push(login);
    groups.set(key, group);
  }

  const sessions = [...groups.entries()].map(([key, group]) => ({
    id: sessionIdFor(key),
    kind: group.kind,
    events: group.events.sort(compareEvents),
  }));
  sessions.sort((a, b) => compareEvents(a.events[0], b.events[0]) || (a.id < b.id ? -1 : 1));
  return { sessions, other: stillOther };
}

/** The session a sign-in starts: the token's session, else the principal's next session, else its own. */
function loginSessionKey(
  login: TrailEvent,
  groups: Map<string, { kind: string; events: TrailEvent[] }>,
  tokens: { event: TrailEvent; key: string }[],
): string {
  const principal = principalOf(login.record);
  const token = tokens.find(
    (t) =>
      principalOf(t.event.record) === principal &&
      login.time >= t.event.time &&
      login.time - t.event.time <= TOKEN_LINK_MS,
  );
  if (token) return token.key;
  const succeeded =
    (login.record.responseElements as { ConsoleLogin?: unknown } | null)?.ConsoleLogin !== 'Failure';
  if (principal && succeeded) {
    let best: { key: string; start: number; sameIp: boolean } | null = null;
    for (const [key, group] of groups) {
      if (group.kind !== 'console') continue;
      const first = group.events.find((e) => !isSignIn(e.record));
      if (!first || principalOf(first.record) !== principal) continue;
      const gap = first.time - login.time;
      if (gap < -2000 || gap > LOGIN_LINK_MS) continue;
      const sameIp = first.record.sourceIPAddress === login.record.sourceIPAddress;
      if (!best || (sameIp && !best.sameIp) || (sameIp === best.sameIp && first.time < best.start)) {
        best = { key, start: first.time, sameIp };
      }
    }
    if (best) return best.key;
  }
  return `login:${principal ?? 'unknown'}|${login.record.sourceIPAddress ?? ''}|${login.id}`;
}

/**
 * Grouping events into console sessions (DESIGN.md, "Console sessions" and "Sign-in").
 *
 * A console session is a principal plus its sign-in, never an access key: the console takes a
 * temporary key per service (and per tab) and renews them, and every one of them carries the same
 * principal and `sessionContext.attributes.creationDate` (the sign-in time).
 *
 * - A console event carries console credentials (`sessionCredentialFromConsole`), is a sign-in
 *   event, or comes from a browser/console user agent. Its session is its principal + creationDate;
 *   without a creationDate, the creationDate its access key has on other records, else the key
 *   itself; without either, the principal's events split at quiet gaps and at new sign-ins.
 * - Calls AWS makes for the session without the console flag (console back ends, `AWS Internal`)
 *   join the session of their principal + creationDate, or of their key; never CLI or SDK calls.
 * - `GetSigninToken` joins the session of the key it issues; `ConsoleLogin` the session whose
 *   creationDate is its time; `CheckMfa` and other sign-in steps (which name no arn) the session of
 *   the same account and user whose sign-in follows them within a minute.
 * - No session lasts more than 12 hours. Records with no identity fields at all form one session
 *   per input source. Everything else is programmatic activity: kept, with no session.
 */
import { createHash } from 'node:crypto';
import { compareEvents } from './map.ts';
import type { CloudTrailRecord, TrailEvent } from './types.ts';
import { userAgentFamily } from './useragent.ts';
import { append } from './arrays.ts';

export interface SessionGroup {
  id: string;
  kind: 'console' | 'file';
  /** Sorted by time, then eventID. */
  events: TrailEvent[];
}

export interface Sessionized {
  sessions: SessionGroup[];
  /** Events outside any console session (programmatic calls). */
  other: TrailEvent[];
}

/** How far a sign-in may be from the creationDate of the session it starts (both are to the second). */
const SIGN_IN_MATCH_MS = 5_000;
/** How long before its sign-in a CheckMfa (or a GetSigninToken) may come. */
const SIGN_IN_STEP_MS = 60_000;
/** Sessions known without a creationDate: how long after a sign-in their first call may come. */
const LOGIN_LINK_MS = 5 * 60_000;
/** Role, federated and Identity Center console sessions last at most 12 hours. */
export const MAX_SESSION_MS = 12 * 3600_000;
/** A principal's console calls with neither creationDate nor key: a quiet gap this long ends a session. */
export const QUIET_GAP_MS = 30 * 60_000;

/** The grouping key of one sign-in's session: its principal key and creationDate (epoch ms). */
export const signInKey = (principal: string, created: number) => `signin:${principal}|${created}`;

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
      (record.eventName === 'ConsoleLogin' ||
        record.eventName === 'GetSigninToken' ||
        record.eventName === 'CheckMfa'))
  );
}

export function isConsoleEvent(record: CloudTrailRecord): boolean {
  if (record.sessionCredentialFromConsole === 'true' || isSignIn(record)) return true;
  const family = userAgentFamily(record.userAgent);
  // Without the 1.08 flag, only a browser or console front end identifies console traffic.
  return family === 'browser' || family === 'console';
}

/** An access key that identifies credentials: not empty, not masked (`ASIA****…`, `ASIAXXXX…`). */
export function usableKey(key: unknown): key is string {
  return typeof key === 'string' && /^[A-Z0-9]{16,128}$/.test(key) && !/^A[SK]IAX+$/.test(key);
}

/** The session start CloudTrail states for the credentials, in epoch ms (null: absent or not a time). */
export function creationTimeOf(record: CloudTrailRecord): number | null {
  const created = record.userIdentity?.sessionContext?.attributes?.creationDate;
  if (typeof created !== 'string' || created === '') return null;
  const time = Date.parse(created);
  return Number.isFinite(time) ? time : null;
}

/**
 * A call that is not itself a console call but joins the console session of its principal and
 * creationDate (or temporary key) when there is one: made by AWS for the session (console back
 * ends, `AWS Internal`), never by a CLI or SDK (someone scripting with exported keys is not clicking).
 */
export function joinsConsoleSession(record: CloudTrailRecord): boolean {
  if (isConsoleEvent(record)) return false;
  const identity = record.userIdentity;
  if (!identity) return false;
  const temporary = usableKey(identity.accessKeyId) && identity.accessKeyId.startsWith('ASIA');
  if (!temporary && creationTimeOf(record) === null) return false;
  const family = userAgentFamily(record.userAgent);
  return family !== 'cli' && family !== 'sdk';
}

const IAM_USER_ARN = /^arn:[a-z-]+:iam::(\d{12}):user\/(?:.*\/)?([^/]+)$/;
const ROOT_ARN = /^arn:[a-z-]+:iam::(\d{12}):root$/;

/** Who made the call, as shown to people: the ARN when the trail gives one. */
export function principalOf(record: CloudTrailRecord): string | null {
  const identity = record.userIdentity;
  if (!identity) return null;
  if (identity.arn) return identity.arn;
  if (identity.sessionContext?.sessionIssuer?.arn) return identity.sessionContext.sessionIssuer.arn;
  const person = identityCenterUserOf(record);
  if (person) return person;
  if (identity.userName) return `${identity.accountId ?? '?'}:${identity.userName}`;
  if (identity.principalId) return `${identity.accountId ?? '?'}:${identity.principalId}`;
  return null;
}

/** The Identity Center user a call was made for (`onBehalfOf`), as the identity store's user ARN. */
function identityCenterUserOf(record: CloudTrailRecord): string | null {
  const onBehalfOf = record.userIdentity?.onBehalfOf as { userId?: unknown } | undefined;
  if (record.userIdentity?.type !== 'IdentityCenterUser' || typeof onBehalfOf?.userId !== 'string')
    return null;
  return `arn:aws:identitystore:::user/${onBehalfOf.userId}`;
}

/**
 * The principal as one key for every record it makes: an IAM user's console calls name its ARN,
 * its CheckMfa only account and user name, so both become `ACCOUNT:user/NAME` (user names are
 * unique in an account, whatever the path). Sessions never span principal keys, which is what lets
 * the cloud pipeline and the enrich threads partition by it.
 */
export function principalKeyOf(record: CloudTrailRecord): string | null {
  const identity = record.userIdentity;
  if (!identity) return null;
  if (identity.arn) {
    const user = IAM_USER_ARN.exec(identity.arn);
    if (user) return `${user[1]}:user/${user[2]}`;
    const root = ROOT_ARN.exec(identity.arn);
    if (root) return `${root[1]}:root`;
    return identity.arn;
  }
  const account = identity.accountId ?? '?';
  if (identity.type === 'Root') return `${account}:root`;
  if (identity.type === 'IAMUser' && identity.userName) return `${account}:user/${identity.userName}`;
  return principalOf(record);
}

function issuedKey(record: CloudTrailRecord): string | null {
  const credentials = (record.responseElements as { credentials?: { accessKeyId?: unknown } } | null)
    ?.credentials;
  return usableKey(credentials?.accessKeyId) ? credentials.accessKeyId : null;
}

const loginFailed = (record: CloudTrailRecord) =>
  (record.responseElements as { ConsoleLogin?: unknown } | null)?.ConsoleLogin === 'Failure';

/** One session being built: its principal, when it signed in (if known) and its events. */
interface Group {
  key: string;
  principal: string;
  kind: 'console' | 'file';
  /** Sign-in time: the creationDate, else the ConsoleLogin or GetSigninToken that started it. */
  signIn: number | null;
  events: TrailEvent[];
}

/** Groups of one principal, sorted by a time, searched by range (binary search: linear overall). */
class Timeline {
  private readonly sorted: { time: number; group: Group }[];
  constructor(entries: { time: number; group: Group }[]) {
    this.sorted = entries.sort((a, b) => a.time - b.time || (a.group.key < b.group.key ? -1 : 1));
  }
  /** Entries with from ≤ time ≤ to, in time order. */
  *within(from: number, to: number): Generator<{ time: number; group: Group }> {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid].time < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.sorted.length && this.sorted[i].time <= to; i++) yield this.sorted[i];
  }
  /** The entry within [from, to] closest to `time` (earlier one on a tie). */
  nearest(time: number, from: number, to: number): Group | null {
    let best: { time: number; group: Group } | null = null;
    for (const entry of this.within(from, to)) {
      if (!best || Math.abs(entry.time - time) < Math.abs(best.time - time)) best = entry;
    }
    return best?.group ?? null;
  }
}

/** Per principal, a timeline built from some of the groups. */
function timelines(groups: Iterable<Group>, timeOf: (group: Group) => number | null): Map<string, Timeline> {
  const entries = new Map<string, { time: number; group: Group }[]>();
  for (const group of groups) {
    const time = timeOf(group);
    if (time === null || group.kind !== 'console') continue;
    let list = entries.get(group.principal);
    if (!list) entries.set(group.principal, (list = []));
    list.push({ time, group });
  }
  return new Map([...entries].map(([principal, list]) => [principal, new Timeline(list)]));
}

class Groups {
  readonly byKey = new Map<string, Group>();
  add(key: string, principal: string, kind: Group['kind'], signIn: number | null, event: TrailEvent): Group {
    let group = this.byKey.get(key);
    if (!group) this.byKey.set(key, (group = { key, principal, kind, signIn, events: [] }));
    group.events.push(event);
    return group;
  }
}

interface Classified {
  files: TrailEvent[];
  signIns: TrailEvent[];
  console: TrailEvent[];
  joiners: TrailEvent[];
  other: TrailEvent[];
}

function classify(input: readonly TrailEvent[]): Classified {
  const out: Classified = { files: [], signIns: [], console: [], joiners: [], other: [] };
  for (const event of input) {
    const record = event.record;
    if (!hasIdentity(record)) out.files.push(event);
    else if (principalKeyOf(record) === null) out.other.push(event);
    else if (isSignIn(record)) out.signIns.push(event);
    else if (isConsoleEvent(record)) out.console.push(event);
    else if (joinsConsoleSession(record)) out.joiners.push(event);
    else out.other.push(event);
  }
  return out;
}

/**
 * Groups events into sessions; deterministic whatever the input order. Only the sessions' events
 * are sorted: most of a trail is programmatic calls, which stay unsorted in `other`.
 */
export function sessionize(input: readonly TrailEvent[]): Sessionized {
  const { files, signIns, console, joiners, other } = classify(input);
  const groups = new Groups();
  for (const event of files) groups.add(`file:${event.origin.source}`, '', 'file', null, event);

  // Which sign-in each key belongs to, from the records that name both (the earliest, should a
  // hostile trail give one key two: never the input order).
  const createdByKey = new Map<string, { principal: string; created: number }>();
  for (const { record } of console) {
    const key = record.userIdentity?.accessKeyId;
    const created = creationTimeOf(record);
    if (!usableKey(key) || created === null) continue;
    const principal = principalKeyOf(record)!;
    const known = createdByKey.get(`${principal}\n${key}`);
    if (!known || created < known.created) createdByKey.set(`${principal}\n${key}`, { principal, created });
  }
  const loose: TrailEvent[] = [];
  const groupByKey = new Map<string, Group>();
  for (const event of console) {
    const principal = principalKeyOf(event.record)!;
    const key = event.record.userIdentity?.accessKeyId;
    const created =
      creationTimeOf(event.record) ??
      (usableKey(key) ? createdByKey.get(`${principal}\n${key}`)?.created : undefined);
    if (created !== undefined)
      groups.add(signInKey(principal, created), principal, 'console', created, event);
    else if (usableKey(key)) {
      const group = groups.add(`key:${principal}|${key}`, principal, 'console', null, event);
      groupByKey.set(`${principal}\n${key}`, group);
    } else loose.push(event);
  }
  for (const [principalAndKey, { principal, created }] of createdByKey) {
    groupByKey.set(principalAndKey, groups.byKey.get(signInKey(principal, created))!);
  }

  // Calls AWS made for a console session join it by sign-in, else by key.
  for (const event of joiners) {
    const principal = principalKeyOf(event.record)!;
    const created = creationTimeOf(event.record);
    const key = event.record.userIdentity?.accessKeyId;
    const group =
      (created !== null ? groups.byKey.get(signInKey(principal, created)) : undefined) ??
      (usableKey(key) ? groupByKey.get(`${principal}\n${key}`) : undefined);
    if (group) group.events.push(event);
    else other.push(event);
  }

  signIns.sort(compareEvents);
  const logins = signIns.filter((e) => e.record.eventName === 'ConsoleLogin');
  splitLoose(loose, logins, groups);
  const tokens = signIns.filter((e) => e.record.eventName === 'GetSigninToken');
  placeTokens(tokens, groups, groupByKey);
  placeLogins(logins, groups);
  placeSignInSteps(
    signIns.filter((e) => e.record.eventName !== 'ConsoleLogin' && e.record.eventName !== 'GetSigninToken'),
    groups,
  );

  const sessions: SessionGroup[] = [];
  for (const group of groups.byKey.values()) {
    group.events.sort(compareEvents);
    append(sessions, capLength(group));
  }
  sessions.sort((a, b) => compareEvents(a.events[0], b.events[0]) || (a.id < b.id ? -1 : 1));
  return { sessions, other };
}

/**
 * Console calls with neither creationDate nor key: per principal, in time order, a new session at
 * every quiet gap and at every successful sign-in of that principal.
 */
function splitLoose(loose: TrailEvent[], logins: readonly TrailEvent[], groups: Groups): void {
  const byPrincipal = new Map<string, TrailEvent[]>();
  for (const event of loose) {
    const principal = principalKeyOf(event.record)!;
    let list = byPrincipal.get(principal);
    if (!list) byPrincipal.set(principal, (list = []));
    list.push(event);
  }
  const loginTimes = new Map<string, number[]>();
  for (const login of logins) {
    if (loginFailed(login.record)) continue;
    const principal = principalKeyOf(login.record)!;
    let list = loginTimes.get(principal);
    if (!list) loginTimes.set(principal, (list = []));
    list.push(login.time);
  }
  for (const [principal, events] of byPrincipal) {
    events.sort(compareEvents);
    const signIns = loginTimes.get(principal) ?? [];
    let next = 0;
    let key = '';
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      let fresh = i === 0 || event.time - events[i - 1].time > QUIET_GAP_MS;
      // A sign-in of the principal between the previous call and this one starts a new session.
      while (next < signIns.length && signIns[next] <= event.time) {
        if (i > 0 && signIns[next] > events[i - 1].time) fresh = true;
        next++;
      }
      if (fresh) key = `calls:${principal}|${event.id}`;
      groups.add(key, principal, 'console', null, event);
    }
  }
}

/** A GetSigninToken joins the session of the key it issues, else the sign-in right after it. */
function placeTokens(tokens: readonly TrailEvent[], groups: Groups, groupByKey: Map<string, Group>): void {
  const bySignIn = timelines(groups.byKey.values(), (g) => g.signIn);
  for (const token of tokens) {
    const principal = principalKeyOf(token.record)!;
    const issued = issuedKey(token.record);
    const group =
      (issued ? groupByKey.get(`${principal}\n${issued}`) : undefined) ??
      bySignIn
        .get(principal)
        ?.nearest(token.time, token.time - SIGN_IN_MATCH_MS, token.time + SIGN_IN_STEP_MS);
    if (group) {
      group.events.push(token);
      group.signIn ??= token.time;
    } else {
      const own = groups.add(
        `token:${principal}|${issued ?? token.id}`,
        principal,
        'console',
        token.time,
        token,
      );
      if (issued) groupByKey.set(`${principal}\n${issued}`, own);
    }
  }
}

/**
 * A successful ConsoleLogin joins the session whose sign-in is its time; else (sessions known
 * without a creationDate) the principal's session that starts within minutes, from the same address
 * first; else it is a session of its own. A failed one is always its own.
 */
function placeLogins(logins: readonly TrailEvent[], groups: Groups): void {
  const bySignIn = timelines(groups.byKey.values(), (g) => g.signIn);
  const byFirstCall = timelines(groups.byKey.values(), (g) =>
    g.signIn === null ? (g.events.find((e) => !isSignIn(e.record))?.time ?? null) : null,
  );
  const claimed = new Set<Group>();
  for (const login of logins) {
    const principal = principalKeyOf(login.record)!;
    let group: Group | null = null;
    if (!loginFailed(login.record)) {
      group =
        bySignIn
          .get(principal)
          ?.nearest(login.time, login.time - SIGN_IN_STEP_MS, login.time + SIGN_IN_MATCH_MS) ?? null;
      if (!group) {
        let best: { group: Group; sameIp: boolean } | null = null;
        for (const { group: candidate } of byFirstCall
          .get(principal)
          ?.within(login.time - 2000, login.time + LOGIN_LINK_MS) ?? []) {
          if (claimed.has(candidate)) continue;
          const first = candidate.events.find((e) => !isSignIn(e.record))!;
          const sameIp = first.record.sourceIPAddress === login.record.sourceIPAddress;
          if (!best || (sameIp && !best.sameIp)) best = { group: candidate, sameIp };
        }
        group = best?.group ?? null;
      }
    }
    if (group) {
      claimed.add(group);
      group.events.push(login);
      group.signIn ??= login.time;
    } else {
      groups.add(`login:${principal}|${login.id}`, principal, 'console', login.time, login);
    }
  }
}

/**
 * CheckMfa and other sign-in steps join the session of their account and user that signs in within
 * a minute after them (or a few seconds before); else the session they happened in; else their own.
 */
function placeSignInSteps(steps: readonly TrailEvent[], groups: Groups): void {
  const bySignIn = timelines(groups.byKey.values(), (g) => g.signIn);
  const spans = new Map<Group, { start: number; end: number }>();
  for (const group of groups.byKey.values()) {
    let start = Infinity;
    let end = -Infinity;
    for (const { time } of group.events) {
      start = Math.min(start, time);
      end = Math.max(end, time);
    }
    spans.set(group, { start, end });
  }
  const byStart = timelines(groups.byKey.values(), (g) => spans.get(g)!.start);
  for (const step of steps) {
    const principal = principalKeyOf(step.record)!;
    let group =
      bySignIn
        .get(principal)
        ?.nearest(step.time, step.time - SIGN_IN_MATCH_MS, step.time + SIGN_IN_STEP_MS) ?? null;
    // Else the latest session under way at its time (role switches and renewals happen mid-session).
    for (const { group: candidate } of group
      ? []
      : (byStart.get(principal)?.within(step.time - MAX_SESSION_MS, step.time) ?? [])) {
      if (spans.get(candidate)!.end >= step.time) group = candidate;
    }
    if (group) group.events.push(step);
    else groups.add(`step:${principal}|${step.id}`, principal, 'console', step.time, step);
  }
}

/** A group as sessions of at most 12 hours from its start (its sign-in when known). */
function capLength(group: Group): SessionGroup[] {
  const { events } = group;
  const start = Math.min(group.signIn ?? Infinity, events[0].time);
  if (events[events.length - 1].time - start <= MAX_SESSION_MS) {
    return [{ id: sessionIdFor(group.key), kind: group.kind, events }];
  }
  const parts = new Map<number, TrailEvent[]>();
  for (const event of events) {
    const part = Math.floor((event.time - start) / (MAX_SESSION_MS + 1));
    let list = parts.get(part);
    if (!list) parts.set(part, (list = []));
    list.push(event);
  }
  return [...parts].map(([part, list]) => ({
    id: sessionIdFor(part === 0 ? group.key : `${group.key}#${part}`),
    kind: group.kind,
    events: list,
  }));
}

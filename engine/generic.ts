/**
 * The generic layer: console calls no signal rule claims are still explained, so nothing a person
 * did stays hidden. Every unclaimed write is a signal of its own, named from its service and
 * operation, with the resources it touched and a risk from what it does; unclaimed reads fold into
 * one page view per service and burst. The policy is data (rules/generic/generic-signals.json).
 */
import policySpec from '../rules/generic/generic-signals.json' with { type: 'json' };
import { compareEvents } from './map.ts';
import type { AdditionalData, Risk, TrailEvent } from './types.ts';

export interface GenericRiskSpec {
  risk: Risk;
  reason: string;
  operation: string;
  subject?: string;
  opensAccess?: boolean;
}

export interface GenericPolicySpec {
  readOperation: string;
  notChanges: string;
  writeFloor: { risk: Risk; reason: string };
  pageViewGapSeconds: number;
  risks: GenericRiskSpec[];
  services: Record<string, string>;
}

export interface GenericPolicy {
  readOperation: RegExp;
  notChanges: RegExp;
  writeFloor: { risk: Risk; reason: string };
  pageViewGapMs: number;
  risks: { risk: Risk; reason: string; operation: RegExp; subject: RegExp | null; opensAccess: boolean }[];
  services: Readonly<Record<string, string>>;
}

export function compileGenericPolicy(spec: GenericPolicySpec): GenericPolicy {
  return {
    readOperation: new RegExp(spec.readOperation),
    notChanges: new RegExp(spec.notChanges),
    writeFloor: spec.writeFloor,
    pageViewGapMs: spec.pageViewGapSeconds * 1000,
    risks: spec.risks.map((r) => ({
      risk: r.risk,
      reason: r.reason,
      operation: new RegExp(r.operation),
      subject: r.subject ? new RegExp(r.subject) : null,
      opensAccess: r.opensAccess ?? false,
    })),
    services: spec.services,
  };
}

/** Where the policy is written (it is bundled with the engine by import, so Lambdas carry it). */
export const GENERIC_POLICY_FILE = 'rules/generic/generic-signals.json';
export const GENERIC_POLICY_SPEC = policySpec as GenericPolicySpec;
export const DEFAULT_GENERIC_POLICY = compileGenericPolicy(GENERIC_POLICY_SPEC);

/** A generic signal before it gets its id and session: what `buildSignal` gives rule matches. */
export interface GenericExplanation {
  label: string;
  name: string;
  summary: string;
  service: string;
  risk: Risk;
  additionalData: AdditionalData;
  /** Sorted by time, then eventID. */
  events: TrailEvent[];
}

/** A write: `readOnly: false`, or, where the trail does not say, an operation that is not a read. */
export function isWrite(event: TrailEvent, policy: GenericPolicy = DEFAULT_GENERIC_POLICY): boolean {
  const readOnly = event.record.readOnly;
  if (readOnly === false || readOnly === 'false') return true;
  if (readOnly === true || readOnly === 'true') return false;
  return !policy.readOperation.test(event.record.eventName ?? '');
}

/** A write that changes something: not sign-in, a query or CloudShell's session plumbing. */
export function isChange(event: TrailEvent, policy: GenericPolicy = DEFAULT_GENERIC_POLICY): boolean {
  return isWrite(event, policy) && !policy.notChanges.test(event.ref);
}

/** Whether events of a kind (`service:EventName`) change something, judged by the name alone (rules lint). */
export function isChangeRef(ref: string, policy: GenericPolicy = DEFAULT_GENERIC_POLICY): boolean {
  const name = ref.slice(ref.indexOf(':') + 1);
  return ref.includes(':') && !policy.readOperation.test(name) && !policy.notChanges.test(ref);
}

/**
 * The risk a signal holding these events has at least: the write floor when one of them is a change
 * (a console write is never info or low), else none.
 */
export function writeFloorOf(
  events: readonly TrailEvent[],
  policy: GenericPolicy = DEFAULT_GENERIC_POLICY,
): { risk: Risk; reason: string } | null {
  return events.some((event) => isChange(event, policy)) ? policy.writeFloor : null;
}

/** Explains events no rule claimed (sorted by time, then eventID): writes one by one, reads by page view. */
export function explainGenerically(
  unclaimed: readonly TrailEvent[],
  policy: GenericPolicy = DEFAULT_GENERIC_POLICY,
): GenericExplanation[] {
  const out: GenericExplanation[] = [];
  const open = new Map<string, TrailEvent[]>();
  for (const event of unclaimed) {
    if (isWrite(event, policy)) {
      out.push(writeSignal(event, policy));
      continue;
    }
    const service = serviceOf(event);
    const burst = open.get(service);
    if (burst && event.time - burst[burst.length - 1].time <= policy.pageViewGapMs) burst.push(event);
    else {
      if (burst) out.push(pageView(burst, policy));
      open.set(service, [event]);
    }
  }
  for (const burst of open.values()) out.push(pageView(burst, policy));
  return out.sort((a, b) => compareEvents(a.events[0], b.events[0]));
}

const serviceOf = (event: TrailEvent) => event.ref.slice(0, event.ref.indexOf(':'));

function serviceName(service: string, policy: GenericPolicy): string {
  return Object.hasOwn(policy.services, service) ? policy.services[service] : service;
}

/** The operation's words: `DeleteDBInstance` → Delete, DB, Instance (API version suffixes dropped). */
export function operationWords(eventName: string): string[] {
  const bare = eventName.replace(/\d{8}(v\d+)?$/, '');
  return bare.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g) ?? [bare];
}

const IRREGULAR: Record<string, string> = {
  Run: 'Ran',
  Put: 'Put',
  Set: 'Set',
  Reset: 'Reset',
  Send: 'Sent',
  Get: 'Got',
  Bind: 'Bound',
  Unbind: 'Unbound',
  Build: 'Built',
  Shut: 'Shut',
  Split: 'Split',
};

function pastTense(verb: string): string {
  if (Object.hasOwn(IRREGULAR, verb)) return IRREGULAR[verb];
  if (/e$/.test(verb)) return `${verb}d`;
  if (/[^aeiou]y$/.test(verb)) return `${verb.slice(0, -1)}ied`;
  // Stop → Stopped, Tag → Tagged, Submit → Submitted: one short vowel before a final consonant.
  if (/(^|[^aeiou])[aeiou][bdgmnprt]$/.test(verb) && !/(en|on|er|it)$/.test(verb))
    return `${verb}${verb.at(-1)}ed`;
  if (/(Submit|Commit|Admit|Permit|Omit)$/.test(verb)) return `${verb}ted`;
  return `${verb}ed`;
}

/** Words after the verb, as a phrase: acronyms kept, other words lower case. */
function phrase(words: readonly string[]): string {
  return words.map((w) => (w.length > 1 && w === w.toUpperCase() ? w : w.toLowerCase())).join(' ');
}

function writeSignal(event: TrailEvent, policy: GenericPolicy): GenericExplanation {
  const { record } = event;
  const service = serviceOf(event);
  const eventName = record.eventName ?? event.ref.slice(service.length + 1);
  const [verb = eventName, ...rest] = operationWords(eventName);
  const resources = resourcesOf(event);
  const { risk, reason } = writeRisk(event, eventName, rest.join(''), policy);
  const object = phrase(rest);
  const target = [object, resources.slice(0, 3).join(', ')].filter(Boolean).join(' ');
  const errorCode = typeof record.errorCode === 'string' && record.errorCode ? record.errorCode : null;
  const summary = errorCode
    ? `Tried to ${verb.toLowerCase()} ${target} (failed: ${errorCode})`
    : `${pastTense(verb)} ${target}`;
  return {
    label: `generic:${service}:${eventName}`,
    name: `${serviceName(service, policy)} → ${eventName}`,
    summary: summary.trim(),
    service: serviceName(service, policy),
    risk,
    additionalData: { operation: event.ref, resources, riskReasons: [reason], errorCode },
    events: [event],
  };
}

function writeRisk(
  event: TrailEvent,
  eventName: string,
  subject: string,
  policy: GenericPolicy,
): { risk: Risk; reason: string } {
  if (policy.notChanges.test(event.ref))
    return { risk: 'low', reason: 'console session plumbing: changes no resource' };
  for (const rule of policy.risks) {
    if (!rule.operation.test(eventName)) continue;
    if (rule.subject && !rule.subject.test(subject)) continue;
    if (rule.opensAccess && !opensAccess(event)) continue;
    return { risk: rule.risk, reason: rule.reason };
  }
  return policy.writeFloor;
}

/** How many distinct operations a page view lists in its additionalData (a hostile burst has no bound). */
const MAX_LISTED_OPERATIONS = 50;

function pageView(events: TrailEvent[], policy: GenericPolicy): GenericExplanation {
  const service = serviceOf(events[0]);
  const name = serviceName(service, policy);
  const operations = new Set<string>();
  const topics = new Set<string>();
  let failed = 0;
  for (const event of events) {
    if (typeof event.record.errorCode === 'string' && event.record.errorCode) failed++;
    const eventName = event.record.eventName ?? event.ref.slice(service.length + 1);
    if (operations.has(eventName)) continue;
    operations.add(eventName);
    const topic = phrase(operationWords(eventName).slice(1));
    if (topic) topics.add(topic);
  }
  const listed = [...topics];
  const shown = listed.length > 6 ? [...listed.slice(0, 6), `${listed.length - 6} more`] : listed;
  const calls = `${events.length} call${events.length === 1 ? '' : 's'}`;
  return {
    label: `generic:${service}:PageView`,
    name: `${name} → page view`,
    summary: `Viewed ${name}${shown.length > 0 ? `: ${shown.join(', ')}` : ''} — ${calls}${failed ? `, ${failed} failed` : ''}`,
    service: name,
    risk: 'info',
    additionalData: {
      operations: [...operations].slice(0, MAX_LISTED_OPERATIONS),
      calls: events.length,
      failedCalls: failed,
    },
    events,
  };
}

/** How much of a record's request and response is searched for resources and grants. */
const WALK_BUDGET = 4_000;
const MAX_RESOURCES = 10;
const MAX_RESOURCE_LENGTH = 200;
const RESOURCE_KEY = /(name|id|ids|identifier|arn|bucket|key)$/i;
/** Keys that look like resources but name a request or a credential, not what the call touched. */
const NOT_RESOURCE_KEY = /^(requestId|masterUsername|clientRequestToken|idempotencyToken|keyName?Prefix)$/i;

/** Names, ids and ARNs the call named or returned, request first, in order, distinct. */
export function resourcesOf(event: TrailEvent): string[] {
  const found: string[] = [];
  let budget = WALK_BUDGET;
  const visit = (node: unknown, key: string): void => {
    if (budget-- <= 0 || found.length >= MAX_RESOURCES) return;
    if (typeof node === 'string') {
      const looks = (RESOURCE_KEY.test(key) && !NOT_RESOURCE_KEY.test(key)) || node.startsWith('arn:');
      if (looks && node.length > 0 && node.length <= MAX_RESOURCE_LENGTH && !found.includes(node))
        found.push(node);
    } else if (Array.isArray(node)) {
      for (const item of node) visit(item, key);
    } else if (node && typeof node === 'object') {
      for (const [child, value] of Object.entries(node)) visit(value, child);
    }
  };
  visit(event.record.requestParameters, '');
  visit(event.record.responseElements, '');
  return found;
}

const OPEN_TO_ALL =
  /"(Principal|AWS)"\s*:\s*(\[\s*)?"\*"|0\.0\.0\.0\/0|::\/0|AllUsers|AuthenticatedUsers|^\*$|^all$/;
const ACCOUNT_ID = /(?<!\d)\d{12}(?!\d)/g;

/** Whether the request grants everyone, or an account other than the caller's. */
export function opensAccess(event: TrailEvent): boolean {
  const { record } = event;
  const own = record.recipientAccountId ?? record.userIdentity?.accountId;
  let budget = WALK_BUDGET;
  const visit = (node: unknown): boolean => {
    if (budget-- <= 0) return false;
    if (typeof node === 'string') {
      if (OPEN_TO_ALL.test(node)) return true;
      for (const account of node.matchAll(ACCOUNT_ID)) if (account[0] !== own) return true;
      return false;
    }
    if (Array.isArray(node)) return node.some(visit);
    if (node && typeof node === 'object') return Object.values(node).some(visit);
    return false;
  };
  return visit(record.requestParameters);
}

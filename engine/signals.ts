/** Turning a rule match into a Signal: extracted values, summary, URL, stable id. */
import { createHash } from 'node:crypto';
import { type GenericExplanation, writeFloorOf } from './generic.ts';
import type { RuleMatch } from './map.ts';
import type { Extraction } from './rules/model.ts';
import { stringValuesAt } from './rules/path.ts';
import { fillTemplate, fillUrl } from './template.ts';
import { type AdditionalData, RISK_LEVELS, type Risk, type Signal, type TrailEvent } from './types.ts';

export function signalIdFor(sessionId: string, label: string, correlationId: string): string {
  return `sig-${createHash('sha256').update(`${sessionId}\n${label}\n${correlationId}`).digest('hex').slice(0, 24)}`;
}

/** One `extract` entry's value over some events (first, distinct list or count). */
export function extract(events: TrailEvent[], extraction: Extraction): AdditionalData[string] {
  const source =
    extraction.event && extraction.event !== '*' ? events.filter((e) => e.ref === extraction.event) : events;
  const fields = Array.isArray(extraction.field) ? extraction.field : [extraction.field];
  let raw = source.flatMap((e) => fields.flatMap((field) => stringValuesAt(e.record, field)));
  if (extraction.matching) {
    const keep = new RegExp(extraction.matching);
    raw = raw.filter((value) => keep.test(value));
  }
  if (extraction.capture) {
    const pattern = new RegExp(extraction.capture);
    raw = raw.map((value) => pattern.exec(value)?.[1] ?? value);
  }
  const words = extraction.map;
  if (words) raw = raw.map((value) => (Object.hasOwn(words, value) ? words[value] : value));
  const values = [...new Set(raw)];
  switch (extraction.as ?? 'first') {
    case 'list':
      return values;
    case 'count':
      return values.length;
    default:
      return values[0] ?? null;
  }
}

/** Values every template can use besides the rule's own extractions. */
function builtins(match: RuleMatch): AdditionalData {
  const record = match.anchor.record;
  return {
    awsRegion: record.awsRegion ?? null,
    accountId: record.recipientAccountId ?? record.userIdentity?.accountId ?? null,
    eventSource: match.anchor.ref.split(':')[0],
    eventName: record.eventName ?? null,
    eventCount: match.events.length,
  };
}

/** The rule's risk, raised by every escalation whose conditions the signal's events meet. */
function riskOf(match: RuleMatch): { risk: Risk; reasons: string[] } {
  let risk = match.rule.risk;
  const reasons: string[] = [];
  for (const raise of match.rule.escalations) {
    const holds = raise.conditions.every(({ event, test }) =>
      event === null
        ? test(match.anchor.record as Record<string, unknown>)
        : match.events.some((e) => e.ref === event && test(e.record as Record<string, unknown>)),
    );
    if (!holds) continue;
    if (raise.reason && !reasons.includes(raise.reason)) reasons.push(raise.reason);
    if (RISK_LEVELS.indexOf(raise.risk) > RISK_LEVELS.indexOf(risk)) risk = raise.risk;
  }
  // Rules lint keeps rules that name a console write at the floor; this keeps rules anchored on any
  // event (a CLI command typed in CloudShell) there too.
  const floor = match.rule.kind === 'suppress' ? null : writeFloorOf(match.events);
  if (floor && RISK_LEVELS.indexOf(floor.risk) > RISK_LEVELS.indexOf(risk)) {
    risk = floor.risk;
    reasons.push(floor.reason);
  }
  return { risk, reasons };
}

export function buildSignal(match: RuleMatch, sessionId: string): Signal {
  const { rule, events } = match;
  const additionalData: AdditionalData = {};
  for (const [key, extraction] of Object.entries(rule.extract))
    additionalData[key] = extract(events, extraction);
  const { risk, reasons } = riskOf(match);
  if (reasons.length > 0) additionalData.riskReasons = reasons;
  const values = { ...builtins(match), ...additionalData };
  const first = events[0];
  const last = events[events.length - 1];
  return {
    id: signalIdFor(sessionId, rule.label, first.id),
    label: rule.label,
    kind: rule.kind === 'suppress' ? 'background' : 'action',
    name: rule.name,
    summary: fillTemplate(rule.summary, values),
    url: fillUrl(rule.url, values),
    service: rule.service,
    risk,
    correlationId: first.id,
    eventIds: events.map((e) => e.id),
    eventCount: events.length,
    firstEventTime: isoSeconds(first.time),
    lastEventTime: isoSeconds(last.time),
    additionalData,
    sessionId,
  };
}

const isoSeconds = (time: number) => new Date(time).toISOString().replace('.000Z', 'Z');

/** A generic signal (engine/generic.ts): a call or page view no rule recognises. */
export function buildGenericSignal(explanation: GenericExplanation, sessionId: string): Signal {
  const { events } = explanation;
  const first = events[0];
  const last = events[events.length - 1];
  return {
    id: signalIdFor(sessionId, explanation.label, first.id),
    label: explanation.label,
    kind: 'generic',
    name: explanation.name,
    summary: explanation.summary,
    url: null,
    service: explanation.service,
    risk: explanation.risk,
    correlationId: first.id,
    eventIds: events.map((e) => e.id),
    eventCount: events.length,
    firstEventTime: isoSeconds(first.time),
    lastEventTime: isoSeconds(last.time),
    additionalData: explanation.additionalData,
    sessionId,
  };
}

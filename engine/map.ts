/**
 * Mapping a session's events to the console actions that caused them.
 *
 * Every (rule, anchor event) pair whose window holds the rule's required events is a candidate.
 * Candidates are taken best-first; taking one claims its events, so every event explains at most
 * one signal. A candidate that lost events to a better one is re-evaluated on what is left (its
 * score can only fall, so a lazy max-heap gives the same result as re-scoring everything).
 * Generic single-event actions are then folded into the specific action that follows them.
 */
import { append, pushTo } from './arrays.ts';
import type { SessionContext, SignalRule } from './rules/model.ts';
import type { TrailEvent } from './types.ts';
import { userAgentFamily } from './useragent.ts';

export interface RuleMatch {
  rule: SignalRule;
  anchor: TrailEvent;
  /** Sorted by time, then eventID. */
  events: TrailEvent[];
}

export interface MapResult {
  matches: RuleMatch[];
  unmapped: TrailEvent[];
}

/** How long after a generic action the specific action that replaces it may start. */
const GENERIC_FOLD_MS = 10_000;

/** Orders events by time, then eventID (the order the recorded data uses). */
export function compareEvents(a: TrailEvent, b: TrailEvent): number {
  return a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class RuleIndex {
  readonly byAnchor = new Map<string, SignalRule[]>();
  constructor(readonly rules: readonly SignalRule[]) {
    for (const rule of rules) {
      for (const anchor of rule.anchors) pushTo(this.byAnchor, anchor, rule);
    }
  }
}

/** The wildcard event kind: a rule anchored on it considers every event its conditions accept. */
export const ANY_EVENT = '*';

/** CLI and SDK calls are people scripting, not clicking: console rules never absorb them. */
function agentAllowed(rule: SignalRule, event: TrailEvent): boolean {
  if (rule.agents === 'any') return true;
  const family = userAgentFamily(event.record.userAgent);
  const programmatic = family === 'cli' || family === 'sdk';
  return rule.agents === 'programmatic' ? programmatic : !programmatic;
}

function eligible(rule: SignalRule, event: TrailEvent): boolean {
  if (!agentAllowed(rule, event)) return false;
  const key = rule.members.has(event.ref) ? event.ref : rule.members.has(ANY_EVENT) ? ANY_EVENT : null;
  if (key === null) return false;
  const conditions = rule.conditions.get(key);
  return !conditions || conditions.every((test) => test(event.record as Record<string, unknown>));
}

/**
 * Whether each event may join each rule, worked out once per session: candidate windows overlap,
 * so the same (rule, event) pair is asked about many times, and again in every re-mapping round.
 */
class Eligibility {
  private readonly known = new Map<SignalRule, Int8Array>();
  constructor(private readonly events: readonly TrailEvent[]) {}
  of(rule: SignalRule, index: number): boolean {
    let answers = this.known.get(rule);
    if (!answers) this.known.set(rule, (answers = new Int8Array(this.events.length)));
    if (answers[index] === 0) answers[index] = eligible(rule, this.events[index]) ? 1 : -1;
    return answers[index] === 1;
  }
}

interface Candidate {
  rule: SignalRule;
  anchorIndex: number;
  members: number[];
  score: number[];
}

/** Lexicographic comparison of scores: larger is better. */
function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

class MaxHeap {
  private items: Candidate[] = [];
  constructor(private readonly better: (a: Candidate, b: Candidate) => boolean) {}
  get size(): number {
    return this.items.length;
  }
  push(item: Candidate): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.better(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }
  pop(): Candidate | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let best = i;
        if (left < items.length && this.better(items[left], items[best])) best = left;
        if (right < items.length && this.better(items[right], items[best])) best = right;
        if (best === i) break;
        [items[i], items[best]] = [items[best], items[i]];
        i = best;
      }
    }
    return top;
  }
}

/** Maps one session's events. Deterministic for a given set of events, whatever their input order. */
/** Rounds of re-mapping allowed when session-context constraints reject matches. */
const MAX_CONTEXT_ROUNDS = 32;

/**
 * Maps one session's events. Deterministic for a given set of events, whatever their input order.
 * Rules with an `after` (or `followedBy`) constraint only stand when one of the named actions
 * precedes (follows) them; a match that breaks its constraint is banned and the session re-mapped,
 * so its events can go elsewhere.
 */
export function mapSession(input: readonly TrailEvent[], index: RuleIndex): MapResult {
  const events = [...input].sort(compareEvents);
  const banned = new Set<string>();
  const eligibility = new Eligibility(events);
  let result = selectMatches(events, index, banned, eligibility);
  for (let round = 0; round < MAX_CONTEXT_ROUNDS; round++) {
    const { afterBroken, followedByBroken } = contextViolations(result.matches);
    // A missing predecessor is certain; a missing successor may only be hidden by a wrong later
    // match: settle the predecessors first, then the successors.
    const violations = afterBroken.length > 0 ? afterBroken : followedByBroken;
    if (violations.length === 0) break;
    // Ban the rule from anchoring anywhere in the rejected burst: re-anchoring on another of its
    // events would meet the same context (a key list has one anchor per key).
    const position = new Map(events.map((event, i) => [event.id, i]));
    for (const match of violations) {
      for (const event of match.events) banned.add(banKey(match.rule, position.get(event.id)!));
    }
    result = selectMatches(events, index, banned, eligibility);
  }
  return result;
}

const banKey = (rule: SignalRule, anchorIndex: number) => `${rule.label}@${anchorIndex}`;

/** Matches whose rule needs a preceding (`after`) or following (`followedBy`) action that is not there. */
function contextViolations(matches: RuleMatch[]): {
  afterBroken: RuleMatch[];
  followedByBroken: RuleMatch[];
} {
  const afterBroken: RuleMatch[] = [];
  const followedByBroken: RuleMatch[] = [];
  matches.forEach((match, position) => {
    const { after, followedBy } = match.rule;
    const start = match.events[0].time;
    const found = (context: SessionContext, candidates: RuleMatch[]) => {
      const near = candidates.filter((other) => Math.abs(other.events[0].time - start) <= context.withinMs);
      // `immediately`: only the adjacent action counts (background signals are not actions).
      const pool = context.immediately
        ? near.filter((other) => other.rule.kind !== 'suppress').slice(0, 1)
        : near;
      return pool.some((other) => context.labels.has(other.rule.label));
    };
    if (after && !found(after, matches.slice(0, position).reverse())) afterBroken.push(match);
    else if (followedBy && !found(followedBy, matches.slice(position + 1))) followedByBroken.push(match);
  });
  return { afterBroken, followedByBroken };
}

function selectMatches(
  events: TrailEvent[],
  index: RuleIndex,
  banned: ReadonlySet<string>,
  eligibility: Eligibility,
): MapResult {
  const claimed = new Array<boolean>(events.length).fill(false);

  const firstAtOrAfter = (time: number): number => {
    let lo = 0;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (events[mid].time < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const evaluate = (rule: SignalRule, anchorIndex: number): Candidate | null => {
    if (claimed[anchorIndex] || banned.has(banKey(rule, anchorIndex))) return null;
    const anchor = events[anchorIndex];
    if (!eligibility.of(rule, anchorIndex)) return null;
    const members: number[] = [];
    const seenRefs = new Set<string>();
    const end = anchor.time + rule.afterMs;
    for (
      let i = firstAtOrAfter(anchor.time - rule.beforeMs);
      i < events.length && events[i].time <= end;
      i++
    ) {
      const event = events[i];
      // Forbidden events rule the candidate out wherever they belong (see the schema).
      if (rule.forbidden.has(event.ref)) return null;
      if (claimed[i]) continue;
      if (!eligibility.of(rule, i)) continue;
      members.push(i);
      seenRefs.add(event.ref);
    }
    for (const ref of rule.required) if (!seenRefs.has(ref)) return null;
    // Distinct kinds of evidence the rule demanded: its required events plus the anchor's kind.
    const requiredFound = new Set([...rule.required, anchor.ref]).size;
    // Specific actions beat background and generic ones; then more required evidence, explicit
    // priority, more distinct event kinds; then the earlier anchor (a click's burst starts the
    // action, and later anchors would otherwise steal its tail), more events, and the label.
    const kindRank = rule.kind === 'action' ? 2 : rule.kind === 'suppress' ? 1 : 0;
    const score = [requiredFound, kindRank, rule.priority, seenRefs.size, -anchor.time, members.length];
    return { rule, anchorIndex, members, score };
  };

  const better = (a: Candidate, b: Candidate): boolean => {
    const byScore = compareScores(a.score, b.score);
    if (byScore !== 0) return byScore > 0;
    if (a.anchorIndex !== b.anchorIndex) return a.anchorIndex < b.anchorIndex;
    return a.rule.label < b.rule.label;
  };

  const heap = new MaxHeap(better);
  const anyEventRules = index.byAnchor.get(ANY_EVENT) ?? [];
  events.forEach((event, anchorIndex) => {
    for (const rules of [index.byAnchor.get(event.ref), anyEventRules]) {
      for (const rule of rules ?? []) {
        const candidate = evaluate(rule, anchorIndex);
        if (candidate) heap.push(candidate);
      }
    }
  });

  const matches: RuleMatch[] = [];
  while (heap.size > 0) {
    const top = heap.pop()!;
    if (top.members.some((i) => claimed[i])) {
      const fresh = evaluate(top.rule, top.anchorIndex);
      if (fresh) heap.push(fresh);
      continue;
    }
    for (const i of top.members) claimed[i] = true;
    matches.push({
      rule: top.rule,
      anchor: events[top.anchorIndex],
      events: top.members.map((i) => events[i]),
    });
  }

  matches.sort((a, b) => compareEvents(a.events[0], b.events[0]));
  return { matches: foldGenerics(matches), unmapped: events.filter((_, i) => !claimed[i]) };
}

/**
 * A generic action followed closely by a specific one becomes part of it. Linear: the action after
 * each match is found once, and each action's events are merged once at the end.
 */
function foldGenerics(matches: RuleMatch[]): RuleMatch[] {
  const nextAction = new Array<number>(matches.length);
  for (let i = matches.length - 1, next = -1; i >= 0; i--) {
    nextAction[i] = next;
    if (matches[i].rule.kind === 'action') next = i;
  }
  // An action's start moves back as generic steps fold into it (they come before it).
  const startOf = new Map<number, number>();
  const folded = new Map<number, TrailEvent[]>();
  const result: RuleMatch[] = [];
  matches.forEach((match, i) => {
    const target = nextAction[i];
    if (match.rule.kind !== 'generic' || target < 0) {
      result.push(match);
      return;
    }
    const lastTime = match.events[match.events.length - 1].time;
    const start = Math.min(startOf.get(target) ?? Infinity, matches[target].events[0].time);
    if (start - lastTime > GENERIC_FOLD_MS) {
      result.push(match);
      return;
    }
    startOf.set(target, Math.min(start, match.events[0].time));
    append(folded.get(target) ?? folded.set(target, []).get(target)!, match.events);
  });
  for (const [target, events] of folded) {
    matches[target].events = append(events, matches[target].events).sort(compareEvents);
  }
  return result;
}

/**
 * Detections: classic CloudTrail findings, evaluated on every record (console or not).
 *
 * A rule is data (`rules/detections/<id>.yaml`, schema `detection-rule.schema.json`): a condition
 * tree over event fields (all / any / not; equals, in, contains, startsWith, endsWith, regex, CIDR,
 * exists, numeric comparisons; any or every value of an array; case-insensitive on request), an
 * optional threshold (N matching events per group key within a window), a summary template and
 * inline tests.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import detectionSchema from '../rules/schema/detection-rule.schema.json' with { type: 'json' };
import { dedupe } from './enrich.ts';
import { compareEvents } from './map.ts';
import { type RuleProblem, RuleLoadError } from './rules/load.ts';
import { stringValuesAt, valuesAt } from './rules/path.ts';
import { principalOf } from './sessionize.ts';
import { fillTemplate } from './template.ts';
import { extract } from './signals.ts';
import type { AdditionalData, CloudTrailRecord, Risk, TrailEvent } from './types.ts';
import { append, pushTo } from './arrays.ts';

export const DEFAULT_DETECTIONS_DIR = fileURLToPath(new URL('../rules/detections', import.meta.url));

type Scalar = string | number | boolean;

export interface ConditionNode {
  all?: ConditionNode[];
  any?: ConditionNode[];
  not?: ConditionNode;
  field?: string;
  values?: 'any' | 'all';
  ignoreCase?: boolean;
  equals?: Scalar;
  in?: Scalar[];
  contains?: string;
  startsWith?: string;
  endsWith?: string;
  regex?: string;
  cidr?: string[];
  exists?: boolean;
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

export interface DetectionTest {
  name: string;
  hits: number;
  events: { event: string; at?: number; [field: string]: unknown }[];
}

export interface DetectionSpec {
  id: string;
  title: string;
  severity: Risk;
  attack: string[];
  description: string;
  references?: string[];
  falsePositives?: string[];
  match: ConditionNode;
  threshold?: { count: number; within: number; groupBy?: string[] };
  /** Fire only when `value` was never seen before for `key` (and the key has history). */
  firstSeen?: { key: string[]; value: string };
  summary: string;
  extract?: Record<string, { field: string | string[]; as?: 'first' | 'list' | 'count' }>;
  tests: DetectionTest[];
}

export interface DetectionRule {
  spec: DetectionSpec;
  file: string;
  test: (record: Record<string, unknown>) => boolean;
  /** Whether the conditions read `$source` (the located source address). */
  usesSource: boolean;
}

/** One detection hit: the rule, the event(s) and who/where. */
export interface DetectionHit {
  id: string;
  ruleId: string;
  title: string;
  risk: Risk;
  attack: string[];
  eventIds: string[];
  eventTime: string;
  eventRef: string;
  accountId: string | null;
  region: string | null;
  principalArn: string | null;
  sourceIp: string | null;
  /** Where the source address is (offline GeoIP), when a lookup was given and it is public. */
  sourceCountry: string | null;
  sourceNetwork: string | null;
  summary: string;
  additionalData: AdditionalData;
}

const TEST_OPERATORS = [
  'equals',
  'in',
  'contains',
  'startsWith',
  'endsWith',
  'regex',
  'cidr',
  'exists',
  'gt',
  'gte',
  'lt',
  'lte',
] as const;

function compileNode(node: ConditionNode, where: string): (record: Record<string, unknown>) => boolean {
  if (node.all) {
    const parts = node.all.map((n, i) => compileNode(n, `${where}.all.${i}`));
    return (r) => parts.every((p) => p(r));
  }
  if (node.any) {
    const parts = node.any.map((n, i) => compileNode(n, `${where}.any.${i}`));
    return (r) => parts.some((p) => p(r));
  }
  if (node.not) {
    const inner = compileNode(node.not, `${where}.not`);
    return (r) => !inner(r);
  }
  if (!node.field) throw new Error(`${where}: needs all, any, not or field`);
  const operators = TEST_OPERATORS.filter((op) => node[op] !== undefined);
  if (operators.length !== 1)
    throw new Error(`${where}: a field test needs exactly one operator (${TEST_OPERATORS.join(', ')})`);
  const [op] = operators;
  const fold = (text: string) => (node.ignoreCase ? text.toLowerCase() : text);
  const field = node.field;
  if (op === 'exists') {
    const wanted = node.exists!;
    return (r) => valuesAt(r, field).length > 0 === wanted;
  }
  let test: (value: unknown) => boolean;
  switch (op) {
    case 'equals':
      test = (v) => fold(String(v)) === fold(String(node.equals));
      break;
    case 'in': {
      const options = new Set(node.in!.map((o) => fold(String(o))));
      test = (v) => options.has(fold(String(v)));
      break;
    }
    case 'contains':
      test = (v) => fold(text(v)).includes(fold(node.contains!));
      break;
    case 'startsWith':
      test = (v) => fold(String(v)).startsWith(fold(node.startsWith!));
      break;
    case 'endsWith':
      test = (v) => fold(String(v)).endsWith(fold(node.endsWith!));
      break;
    case 'regex': {
      let pattern: RegExp;
      try {
        pattern = new RegExp(node.regex!, node.ignoreCase ? 'i' : '');
      } catch (error) {
        throw new Error(`${where}.regex: invalid regular expression (${(error as Error).message})`, {
          cause: error,
        });
      }
      test = (v) => pattern.test(text(v));
      break;
    }
    case 'cidr': {
      const blocks = new BlockList();
      for (const range of node.cidr!) {
        const [address, bits] = range.split('/');
        const family = isIP(address);
        if (!family || bits === undefined || Number.isNaN(Number(bits))) {
          throw new Error(`${where}.cidr: ${range} is not a CIDR range`);
        }
        blocks.addSubnet(address, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
      }
      test = (v) => {
        const address = String(v);
        const family = isIP(address);
        return family !== 0 && blocks.check(address, family === 6 ? 'ipv6' : 'ipv4');
      };
      break;
    }
    default: {
      const bound = node[op] as number;
      const compare = {
        gt: (a: number) => a > bound,
        gte: (a: number) => a >= bound,
        lt: (a: number) => a < bound,
        lte: (a: number) => a <= bound,
      }[op];
      test = (v) => {
        const n = typeof v === 'number' ? v : Number(v);
        return v !== '' && v !== null && Number.isFinite(n) && compare(n);
      };
    }
  }
  const every = node.values === 'all';
  return (r) => {
    const values = valuesAt(r, field);
    if (values.length === 0) return false;
    return every ? values.every(test) : values.some(test);
  };
}

/** The event names a condition tree requires (null: any name can match). */
function requiredEventNames(node: ConditionNode): Set<string> | null {
  if (node.field === 'eventName' && !node.ignoreCase) {
    if (node.equals !== undefined) return new Set([String(node.equals)]);
    if (node.in) return new Set(node.in.map(String));
  }
  for (const child of node.all ?? []) {
    const names = requiredEventNames(child);
    if (names) return names;
  }
  if (node.any) {
    const alternatives = node.any.map(requiredEventNames);
    if (alternatives.every((names) => names !== null))
      return new Set(alternatives.flatMap((names) => [...names!]));
  }
  return null;
}

/** Most rules name their events: a set lookup spares the condition tree for every other event. */
function withNameGate(
  names: Set<string> | null,
  test: (record: Record<string, unknown>) => boolean,
): (record: Record<string, unknown>) => boolean {
  return names ? (record) => names.has(record.eventName as string) && test(record) : test;
}

/** Objects are tested as their JSON text (policies recorded as objects or as strings alike). */
const text = (value: unknown) => (typeof value === 'object' ? JSON.stringify(value) : String(value));

let validator: ReturnType<Ajv['compile']> | undefined;
function schemaValidator() {
  validator ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(detectionSchema);
  return validator;
}

function schemaProblem(file: string, spec: unknown, error: ErrorObject): RuleProblem {
  const id = (spec as { id?: unknown })?.id;
  return {
    file,
    rule: typeof id === 'string' ? id : undefined,
    field: error.instancePath.slice(1).replaceAll('/', '.') || '(rule)',
    message:
      error.keyword === 'additionalProperties'
        ? `unknown property "${(error.params as { additionalProperty: string }).additionalProperty}"`
        : (error.message ?? error.keyword),
  };
}

/** Validates and compiles detection rule files; throws RuleLoadError listing every problem. */
export function compileDetectionSources(sources: { file: string; text: string }[]): DetectionRule[] {
  const problems: RuleProblem[] = [];
  const rules: DetectionRule[] = [];
  const seen = new Map<string, string>();
  for (const { file, text: source } of sources) {
    const document = parseDocument(source);
    if (document.errors.length > 0) {
      problems.push({ file, message: `YAML: ${document.errors[0].message.split('\n')[0]}` });
      continue;
    }
    const spec = document.toJS() as DetectionSpec;
    const validate = schemaValidator();
    if (!validate(spec)) {
      append(
        problems,
        (validate.errors ?? []).map((error) => schemaProblem(file, spec, error)),
      );
      continue;
    }
    if (seen.has(spec.id))
      problems.push({
        file,
        rule: spec.id,
        field: 'id',
        message: `duplicate id (also in ${seen.get(spec.id)})`,
      });
    seen.set(spec.id, file);
    try {
      rules.push({
        spec,
        file,
        test: withNameGate(requiredEventNames(spec.match), compileNode(spec.match, 'match')),
        usesSource: JSON.stringify(spec.match).includes('"$source'),
      });
    } catch (error) {
      problems.push({ file, rule: spec.id, field: 'match', message: (error as Error).message });
    }
  }
  if (problems.length > 0) throw new RuleLoadError(problems);
  return rules;
}

export function loadDetections(dir: string = DEFAULT_DETECTIONS_DIR): DetectionRule[] {
  const sources = readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => ({ file: join(dir, name), text: readFileSync(join(dir, name), 'utf8') }));
  return compileDetectionSources(sources);
}

function hitOf(rule: DetectionRule, events: TrailEvent[], view?: Record<string, unknown>): DetectionHit {
  const first = events[0];
  const record = first.record;
  // Extractions read what the rule saw: the first event as its view (with `$source`), the rest as recorded.
  const seen = events.map((e, i) => (i === 0 && view ? { ...e, record: view as CloudTrailRecord } : e));
  const additionalData: AdditionalData = {};
  for (const [key, extraction] of Object.entries(rule.spec.extract ?? {})) {
    additionalData[key] = extract(seen, extraction);
  }
  const source = (view?.$source ?? undefined) as ReturnType<SourceLookup> | undefined;
  const values: AdditionalData = {
    principal: principalOf(record) ?? record.userIdentity?.userName ?? null,
    sourceIp: record.sourceIPAddress ?? null,
    account: record.recipientAccountId ?? record.userIdentity?.accountId ?? null,
    region: record.awsRegion ?? null,
    eventName: record.eventName ?? null,
    count: events.length,
    ...additionalData,
  };
  const ids = events.map((e) => e.id);
  return {
    id: `det-${createHash('sha256')
      .update(`${rule.spec.id}\n${ids.join(',')}`)
      .digest('hex')
      .slice(0, 24)}`,
    ruleId: rule.spec.id,
    title: rule.spec.title,
    risk: rule.spec.severity,
    attack: rule.spec.attack,
    eventIds: ids,
    eventTime: new Date(first.time).toISOString().replace('.000Z', 'Z'),
    eventRef: first.ref,
    accountId: (values.account as string | null) ?? null,
    region: record.awsRegion ?? null,
    principalArn: principalOf(record),
    sourceIp: record.sourceIPAddress ?? null,
    sourceCountry: source?.country ?? null,
    sourceNetwork: source?.asn ? `AS${source.asn} ${source.asOrg ?? ''}`.trim() : null,
    summary: fillTemplate(rule.spec.summary, values),
    additionalData,
  };
}

/** Where a source address is: kind, country, network owner (from the offline GeoIP database). */
export type SourceLookup = (address: string | undefined) => {
  kind: string;
  country: string | null;
  asn: number | null;
  asOrg: string | null;
};

/** The first event that showed a value for a `firstSeen` key, and whether that value was news then. */
export interface FirstSight {
  eventId: string;
  novel: boolean;
}
/** Values seen per key for `firstSeen` rules; kept across calls (the buffer table in AWS, memory locally). */
export type FirstSeenState = Map<string, Map<string, FirstSight>>;
/** Matching events of threshold rules read elsewhere (earlier objects in AWS), per `thresholdKey`. */
export type ThresholdHistory = Map<string, readonly TrailEvent[]>;

export interface DetectOptions {
  /** Locates source addresses for `$source` conditions and the hit's country and network. */
  lookup?: SourceLookup;
  /** `firstSeen` baseline; updated in place. @default an empty, private baseline */
  seen?: FirstSeenState;
  /** Threshold events from other inputs; hits must still include one of `input`'s events. */
  history?: ThresholdHistory;
}

/** The record as rules see it: its fields, plus `$source` (country, asn, asOrg, kind) when a lookup is given. */
function ruleView(event: TrailEvent, lookup?: SourceLookup): Record<string, unknown> {
  const record = event.record as Record<string, unknown>;
  return lookup ? { ...record, $source: lookup(event.record.sourceIPAddress) } : record;
}

const keyOf = (ruleId: string, view: Record<string, unknown>, fields: readonly string[]) =>
  `${ruleId}\n${JSON.stringify(fields.map((f) => stringValuesAt(view, f)))}`;

/** State a stateful evaluation of `input` reads: `firstSeen` keys and threshold groups with their events. */
export interface DetectionStateNeeds {
  firstSeenKeys: Set<string>;
  thresholdGroups: Map<string, { within: number; count: number; events: TrailEvent[] }>;
}

export function detectionStateNeeds(
  input: readonly TrailEvent[],
  rules: readonly DetectionRule[],
  lookup?: SourceLookup,
): DetectionStateNeeds {
  const needs: DetectionStateNeeds = { firstSeenKeys: new Set(), thresholdGroups: new Map() };
  for (const rule of rules) {
    const { firstSeen, threshold } = rule.spec;
    if (!firstSeen && !threshold) continue;
    for (const event of input) {
      const view = ruleView(event, lookup);
      if (!rule.test(view)) continue;
      if (firstSeen) {
        needs.firstSeenKeys.add(keyOf(rule.spec.id, view, firstSeen.key));
      } else if (threshold) {
        const key = keyOf(rule.spec.id, view, threshold.groupBy ?? []);
        const group = needs.thresholdGroups.get(key) ?? { ...threshold, events: [] };
        group.events.push(event);
        needs.thresholdGroups.set(key, group);
      }
    }
  }
  return needs;
}

/** Whether any rule matches the event: only such events can take part in a hit. */
export function matchesAnyDetection(
  event: TrailEvent,
  rules: readonly DetectionRule[],
  lookup?: SourceLookup,
): boolean {
  const record = event.record as Record<string, unknown>;
  let view: Record<string, unknown> | undefined;
  for (const rule of rules) {
    // The source is located only for the few rules that read it.
    if (rule.test(rule.usesSource ? (view ??= ruleView(event, lookup)) : record)) return true;
  }
  return false;
}

/**
 * Evaluates every rule on every event. Rules with a threshold fire once per group each time
 * `count` matching events fall within `within` seconds (the window then starts afresh); rules
 * with `firstSeen` fire when a key (e.g. the principal) shows a value (e.g. a country) it never
 * showed before, once it has history. Evaluating the same events again gives the same hits: the
 * baseline remembers which event introduced each value.
 */
export function detect(
  input: readonly TrailEvent[],
  rules: readonly DetectionRule[],
  options: DetectOptions = {},
): DetectionHit[] {
  // Trails deliver some records twice: one hit per event, as enrich keeps one copy.
  const events = dedupe(input).unique.sort(compareEvents);
  const own = new Set(events.map((e) => e.id));
  const viewOf = memoView(options.lookup);
  const seen: FirstSeenState = options.seen ?? new Map();
  const hits: DetectionHit[] = [];
  for (const rule of rules) {
    const matching = events.filter((e) => rule.test(viewOf(e)));
    const { firstSeen, threshold } = rule.spec;
    if (firstSeen) {
      for (const event of matching) {
        const view = viewOf(event);
        const value = stringValuesAt(view, firstSeen.value)[0];
        if (value === undefined) continue;
        const key = keyOf(rule.spec.id, view, firstSeen.key);
        const known = seen.get(key) ?? new Map<string, FirstSight>();
        const sight = known.get(value);
        if (!sight) {
          const novel = known.size > 0;
          known.set(value, { eventId: event.id, novel });
          seen.set(key, known);
          if (novel) hits.push(hitOf(rule, [event], view));
        } else if (sight.eventId === event.id && sight.novel) {
          hits.push(hitOf(rule, [event], view)); // the same event again (a redelivered object)
        }
      }
      continue;
    }
    if (!threshold) {
      for (const event of matching) hits.push(hitOf(rule, [event], viewOf(event)));
      continue;
    }
    const grouped = new Map<string, TrailEvent[]>();
    for (const event of matching) {
      const key = keyOf(rule.spec.id, viewOf(event), threshold.groupBy ?? []);
      pushTo(grouped, key, event);
    }
    for (const [key, groupEvents] of grouped) {
      const earlier = (options.history?.get(key) ?? []).filter((e) => !own.has(e.id));
      const stream = [...earlier, ...groupEvents].sort(compareEvents);
      let window: TrailEvent[] = [];
      for (const event of stream) {
        window = window.filter((e) => event.time - e.time < threshold.within * 1000);
        window.push(event);
        if (window.length < threshold.count) continue;
        if (window.some((e) => own.has(e.id))) hits.push(hitOf(rule, window, viewOf(window[0])));
        window = [];
      }
    }
  }
  return hits.sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.id.localeCompare(b.id));
}

function memoView(lookup?: SourceLookup) {
  const views = new WeakMap<TrailEvent, Record<string, unknown>>();
  return (event: TrailEvent) => {
    let view = views.get(event);
    if (!view) views.set(event, (view = ruleView(event, lookup)));
    return view;
  };
}

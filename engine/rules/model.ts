/** The in-memory form of a signal rule, as validated from rules/signals/*.yaml. */
import type { Risk } from '../types.ts';

export type RuleKind = 'action' | 'generic' | 'suppress';

/** Whose calls a rule may absorb: the console's (default), CLI/SDK calls only, or any. */
export type RuleAgents = 'console' | 'programmatic' | 'any';

export type Scalar = string | number | boolean;

/** One test on one field. */
export interface FieldTest {
  field: string;
  equals?: Scalar;
  notEquals?: Scalar;
  in?: Scalar[];
  notIn?: Scalar[];
  present?: boolean;
  matches?: string;
  countAtLeast?: number;
  countAtMost?: number;
}

/** A field test (or `anyOf` alternatives) on the events of one kind. */
export interface Condition extends Partial<FieldTest> {
  /** Events of this kind must satisfy it; undefined means the anchor. */
  event?: string;
  /** Alternatives instead of `field` + operators: any one of them holding is enough. */
  anyOf?: FieldTest[];
}

export interface Extraction {
  event?: string;
  /** One path, or several whose values are combined in order. */
  field: string | string[];
  /** Keep only values matching this pattern. */
  matching?: string;
  /** Replace values matching this pattern by its first capture group (others are kept as they are). */
  capture?: string;
  /** Replace values by words; values not listed stay as they are. */
  map?: Record<string, string>;
  as?: 'first' | 'list' | 'count';
}

export interface RuleTestEvent {
  event: string;
  at?: number;
  [field: string]: unknown;
}

export interface RuleTest {
  name: string;
  maps: boolean;
  events: RuleTestEvent[];
  /** Other actions' events the burst depends on (session context, before or after it); not part of the burst. */
  context?: RuleTestEvent[];
  additionalData?: Record<string, unknown>;
  risk?: Risk;
}

/** A rule as written in YAML. */
export interface RuleSpec {
  label: string;
  name: string;
  breadcrumb?: string | null;
  risk: Risk;
  kind?: RuleKind;
  summary: string;
  url?: string | null;
  window?: { before?: number; after?: number };
  anchors: string[];
  required?: string[];
  optional?: string[];
  forbidden?: string[];
  when?: Condition[];
  priority?: number;
  agents?: RuleAgents;
  /** Session context: only after one of these actions, within `within` seconds (default 900). */
  after?: ContextSpec;
  /** Session context: only when one of these actions follows, within `within` seconds (default 900). */
  followedBy?: ContextSpec;
  /** Raise the risk when conditions on the signal's events hold. */
  escalate?: { risk: Risk; reason?: string; when: Condition[] }[];
  extract?: Record<string, Extraction>;
  tests?: RuleTest[];
}

/** Session context as written: labels, seconds, and whether the action must be the adjacent one. */
export interface ContextSpec {
  labels: string[];
  within?: number;
  immediately?: boolean;
}

export interface RuleFileSpec {
  service: string;
  rules: RuleSpec[];
}

/** A rule ready for the mapper: defaults applied, conditions compiled. */
export interface SignalRule {
  label: string;
  name: string;
  service: string;
  breadcrumb: string | null;
  risk: Risk;
  kind: RuleKind;
  summary: string;
  url: string | null;
  beforeMs: number;
  afterMs: number;
  anchors: ReadonlySet<string>;
  required: readonly string[];
  /** Every event kind the rule absorbs: anchors ∪ required ∪ optional. */
  members: ReadonlySet<string>;
  forbidden: ReadonlySet<string>;
  /** Compiled conditions by the event kind they constrain. */
  conditions: ReadonlyMap<string, readonly CompiledCondition[]>;
  priority: number;
  agents: RuleAgents;
  after: SessionContext | null;
  followedBy: SessionContext | null;
  escalations: readonly Escalation[];
  extract: Readonly<Record<string, Extraction>>;
  tests: readonly RuleTest[];
  /** Where the rule was defined, for error messages. */
  file: string;
  /** The rule as written, for tooling (lint, stats, generators). */
  source: RuleSpec;
}

/** A risk raise: every condition must hold for some event of its kind (the anchor when none is named). */
export interface Escalation {
  risk: Risk;
  reason: string | null;
  conditions: readonly { event: string | null; test: CompiledCondition }[];
}

export interface SessionContext {
  labels: ReadonlySet<string>;
  withinMs: number;
  immediately: boolean;
}

export type CompiledCondition = (record: Record<string, unknown>) => boolean;

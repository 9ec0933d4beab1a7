/**
 * Compiling a checked rule (engine/rules/load.ts checks it) into what the mapper runs. Apart from
 * the loader, so threads that receive checked rules do not load the YAML parser and validator.
 */
import { compileCondition } from './conditions.ts';
import type { CompiledCondition, ContextSpec, RuleSpec, SessionContext, SignalRule } from './model.ts';
import { pushTo } from '../arrays.ts';

const DEFAULT_WINDOW_SECONDS = 3;
const DEFAULT_CONTEXT_SECONDS = 900;

/** A checked rule as plain data: what another thread needs to compile it without re-reading YAML. */
export interface CheckedRuleSpec {
  file: string;
  service: string;
  spec: RuleSpec;
}

export const checkedSpecsOf = (rules: readonly SignalRule[]): CheckedRuleSpec[] =>
  rules.map((rule) => ({ file: rule.file, service: rule.service, spec: rule.source }));

/** Compiles rules that were already checked (by compileRuleSources, in another thread). */
export const compileCheckedSpecs = (specs: readonly CheckedRuleSpec[]): SignalRule[] =>
  specs.map(({ file, service, spec }) => compile(file, service, spec));

function sessionContext(spec: ContextSpec | undefined): SessionContext | null {
  if (!spec) return null;
  return {
    labels: new Set(spec.labels),
    withinMs: (spec.within ?? DEFAULT_CONTEXT_SECONDS) * 1000,
    immediately: spec.immediately ?? false,
  };
}

export function compile(file: string, service: string, rule: RuleSpec): SignalRule {
  const conditions = new Map<string, CompiledCondition[]>();
  const anchorKey = '@anchor';
  for (const condition of rule.when ?? []) {
    const key = condition.event ?? anchorKey;
    pushTo(conditions, key, compileCondition(condition));
  }
  // Conditions without `event` constrain every anchor kind.
  const anchorConditions = conditions.get(anchorKey) ?? [];
  conditions.delete(anchorKey);
  if (anchorConditions.length > 0) {
    for (const anchor of rule.anchors) for (const condition of anchorConditions) pushTo(conditions, anchor, condition);
  }
  const required = [...new Set([...(rule.required ?? [])])];
  return {
    label: rule.label,
    name: rule.name,
    service,
    breadcrumb: rule.breadcrumb ?? null,
    risk: rule.risk,
    kind: rule.kind ?? 'action',
    summary: rule.summary,
    url: rule.url ?? null,
    beforeMs: (rule.window?.before ?? DEFAULT_WINDOW_SECONDS) * 1000,
    afterMs: (rule.window?.after ?? DEFAULT_WINDOW_SECONDS) * 1000,
    anchors: new Set(rule.anchors),
    required,
    members: new Set([...rule.anchors, ...required, ...(rule.optional ?? [])]),
    forbidden: new Set(rule.forbidden ?? []),
    conditions,
    priority: rule.priority ?? 0,
    agents: rule.agents ?? 'console',
    escalations: (rule.escalate ?? []).map((raise) => ({
      risk: raise.risk,
      reason: raise.reason ?? null,
      conditions: raise.when.map((condition) => ({ event: condition.event ?? null, test: compileCondition(condition) })),
    })),
    after: sessionContext(rule.after),
    followedBy: sessionContext(rule.followedBy),
    extract: rule.extract ?? {},
    tests: rule.tests ?? [],
    file,
    source: rule,
  };
}


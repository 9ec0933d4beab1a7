/**
 * Loading signal rules: YAML → schema validation → semantic validators → compiled rules.
 * Every problem is collected with its file, rule and field instead of stopping at the first.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
// Imported, not read from disk, so bundles (the flush Lambda) carry the schema with them.
import ruleSchema from '../../rules/schema/signal-rules.schema.json' with { type: 'json' };
import genericSchema from '../../rules/schema/generic-signals.schema.json' with { type: 'json' };
import { DEFAULT_GENERIC_POLICY, GENERIC_POLICY_FILE, GENERIC_POLICY_SPEC, isChangeRef } from '../generic.ts';
import { RISK_LEVELS } from '../types.ts';
import { compileCondition } from './conditions.ts';
import { compile } from './compile.ts';
import type { RuleFileSpec, RuleSpec, SignalRule } from './model.ts';
import { append } from '../arrays.ts';

export const DEFAULT_RULES_DIR = fileURLToPath(new URL('../../rules/signals', import.meta.url));

export interface RuleProblem {
  file: string;
  rule?: string;
  field?: string;
  message: string;
}

export class RuleLoadError extends Error {
  constructor(readonly problems: RuleProblem[]) {
    super(`invalid rules:\n${problems.map(formatRuleProblem).join('\n')}`);
  }
}

export function formatRuleProblem(problem: RuleProblem): string {
  const where = [
    problem.file,
    problem.rule && `rule ${problem.rule}`,
    problem.field && `field ${problem.field}`,
  ]
    .filter(Boolean)
    .join(': ');
  return `${where}: ${problem.message}`;
}

let validator: ReturnType<Ajv['compile']> | undefined;
function schemaValidator() {
  validator ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
    ruleSchema,
  );
  return validator;
}

/** Turns an ajv error into file / rule / field, naming the rule by its label when it has one. */
function schemaProblem(file: string, spec: unknown, error: ErrorObject): RuleProblem {
  const match = /^\/rules\/(\d+)(\/.*)?$/.exec(error.instancePath);
  let rule: string | undefined;
  let field = error.instancePath || '/';
  if (match) {
    const raw = (spec as { rules?: { label?: unknown }[] }).rules?.[Number(match[1])];
    rule = typeof raw?.label === 'string' ? raw.label : `#${match[1]}`;
    field = match[2] ? match[2].slice(1).replaceAll('/', '.') : '(rule)';
  }
  const detail =
    error.keyword === 'additionalProperties'
      ? `unknown property "${(error.params as { additionalProperty: string }).additionalProperty}"`
      : error.keyword === 'enum'
        ? `${error.message}: ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
        : (error.message ?? error.keyword);
  return { file, rule, field, message: detail };
}

/** Semantic checks the schema cannot express. */
function semanticProblems(file: string, rule: RuleSpec): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const members = new Set([...rule.anchors, ...(rule.required ?? []), ...(rule.optional ?? [])]);
  const floor = DEFAULT_GENERIC_POLICY.writeFloor.risk;
  const write = [...members].find((ref) => isChangeRef(ref));
  if (write && (rule.kind ?? 'action') !== 'suppress' && RISK_LEVELS.indexOf(rule.risk) < RISK_LEVELS.indexOf(floor)) {
    problems.push({
      file,
      rule: rule.label,
      field: 'risk',
      message: `takes a console write (${write}): its risk is at least ${floor} (rules/generic/generic-signals.json writeFloor)`,
    });
  }
  for (const [index, condition] of (rule.when ?? []).entries()) {
    if (condition.event && !members.has(condition.event)) {
      problems.push({
        file,
        rule: rule.label,
        field: `when.${index}.event`,
        message: `${condition.event} is not one of the rule's events`,
      });
    }
    try {
      compileCondition(condition);
    } catch (error) {
      problems.push({ file, rule: rule.label, field: `when.${index}`, message: (error as Error).message });
    }
  }
  for (const [at, raise] of (rule.escalate ?? []).entries()) {
    for (const [index, condition] of raise.when.entries()) {
      const field = `escalate.${at}.when.${index}`;
      if (condition.event && !members.has(condition.event)) {
        problems.push({ file, rule: rule.label, field: `${field}.event`, message: `${condition.event} is not one of the rule's events` });
      }
      try {
        compileCondition(condition);
      } catch (error) {
        problems.push({ file, rule: rule.label, field, message: (error as Error).message });
      }
    }
  }
  for (const [key, extraction] of Object.entries(rule.extract ?? {})) {
    for (const option of ['matching', 'capture'] as const) {
      const pattern = extraction[option];
      if (pattern === undefined) continue;
      try {
        new RegExp(pattern);
      } catch (error) {
        problems.push({
          file,
          rule: rule.label,
          field: `extract.${key}.${option}`,
          message: `invalid regular expression (${(error as Error).message})`,
        });
      }
    }
    if (extraction.event && extraction.event !== '*' && !members.has(extraction.event)) {
      problems.push({
        file,
        rule: rule.label,
        field: `extract.${key}.event`,
        message: `${extraction.event} is not one of the rule's events`,
      });
    }
  }
  for (const forbidden of rule.forbidden ?? []) {
    if (members.has(forbidden)) {
      problems.push({
        file,
        rule: rule.label,
        field: 'forbidden',
        message: `${forbidden} is also one of the rule's events`,
      });
    }
  }
  const kind = rule.kind ?? 'action';
  if (rule.label.startsWith('Suppress') !== (kind === 'suppress')) {
    problems.push({
      file,
      rule: rule.label,
      field: 'kind',
      message: 'Suppress* labels and kind "suppress" go together',
    });
  }
  if (rule.label.startsWith('Generic_') !== (kind === 'generic')) {
    problems.push({
      file,
      rule: rule.label,
      field: 'kind',
      message: 'Generic_* labels and kind "generic" go together',
    });
  }
  return problems;
}

/** Validates and compiles rule files given as (name, YAML text); throws RuleLoadError listing every problem. */
export function compileRuleSources(sources: { file: string; text: string }[]): SignalRule[] {
  const problems: RuleProblem[] = [];
  const rules: SignalRule[] = [];
  const seen = new Map<string, string>();
  for (const { file, text } of sources) {
    const document = parseDocument(text, { prettyErrors: true });
    if (document.errors.length > 0) {
      // The first syntax error is the one to fix; the rest are usually its echoes.
      const [first] = document.errors;
      const more = document.errors.length > 1 ? ` (and ${document.errors.length - 1} more after it)` : '';
      problems.push({ file, message: `YAML: ${first.message.split('\n')[0]}${more}` });
      continue;
    }
    const spec = document.toJS() as unknown;
    const validate = schemaValidator();
    // Schema errors inside one rule only set that rule aside: the file's other rules are still checked.
    const badRules = new Set<number>();
    if (!validate(spec)) {
      const errors = validate.errors ?? [];
      append(problems, errors.map((error) => schemaProblem(file, spec, error)));
      const ruleIndexes = errors.map((error) => /^\/rules\/(\d+)(\/|$)/.exec(error.instancePath)?.[1]);
      if (ruleIndexes.some((index) => index === undefined)) continue;
      for (const index of ruleIndexes) badRules.add(Number(index));
    }
    const fileSpec = spec as RuleFileSpec;
    for (const [index, rule] of fileSpec.rules.entries()) {
      if (badRules.has(index)) {
        if (typeof rule?.label === 'string') seen.set(rule.label, seen.get(rule.label) ?? file);
        continue;
      }
      const ruleProblems = semanticProblems(file, rule);
      const previous = seen.get(rule.label);
      if (previous)
        ruleProblems.push({
          file,
          rule: rule.label,
          field: 'label',
          message: `duplicate label (also in ${previous})`,
        });
      seen.set(rule.label, file);
      if (ruleProblems.length > 0) append(problems, ruleProblems);
      else rules.push(compile(file, fileSpec.service, rule));
    }
  }
  const labels = new Set(rules.map((r) => r.label));
  for (const rule of rules) {
    for (const label of [...(rule.after?.labels ?? []), ...(rule.followedBy?.labels ?? [])]) {
      if (!labels.has(label))
        problems.push({
          file: rule.file,
          rule: rule.label,
          field: rule.after?.labels.has(label) ? 'after.labels' : 'followedBy.labels',
          message: `unknown label ${label}`,
        });
    }
  }
  if (problems.length > 0) throw new RuleLoadError(problems);
  return rules;
}

/** Reads every `*.yaml` file of a folder (sorted, so rule order is stable). */
export function readRuleSources(dir: string = DEFAULT_RULES_DIR): { file: string; text: string }[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => ({ file: join(dir, name), text: readFileSync(join(dir, name), 'utf8') }));
}

/** Problems with the generic layer's policy (rules/generic/generic-signals.json): schema, then patterns. */
export function genericPolicyProblems(spec: unknown = GENERIC_POLICY_SPEC): RuleProblem[] {
  const file = GENERIC_POLICY_FILE;
  const validate = new Ajv({ allErrors: true, strict: true }).compile(genericSchema);
  if (!validate(spec)) {
    return (validate.errors ?? []).map((error) => ({
      file,
      field: error.instancePath.slice(1).replaceAll('/', '.') || '(file)',
      message: error.message ?? error.keyword,
    }));
  }
  const problems: RuleProblem[] = [];
  const { readOperation, risks } = spec as { readOperation: string; risks: { operation: string; subject?: string }[] };
  const patterns: [string, string | undefined][] = [
    ['readOperation', readOperation],
    ...risks.flatMap((r, i): [string, string | undefined][] => [
      [`risks.${i}.operation`, r.operation],
      [`risks.${i}.subject`, r.subject],
    ]),
  ];
  for (const [field, pattern] of patterns) {
    if (pattern === undefined) continue;
    try {
      new RegExp(pattern);
    } catch (error) {
      problems.push({ file, field, message: `not a regular expression: ${(error as Error).message}` });
    }
  }
  return problems;
}

export function loadRules(dir: string = DEFAULT_RULES_DIR): SignalRule[] {
  return compileRuleSources(readRuleSources(dir));
}

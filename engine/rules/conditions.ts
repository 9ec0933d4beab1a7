/** Condition operators: a registry of name → test over the values found at a field path. */
import type { CompiledCondition, Condition, FieldTest, Scalar } from './model.ts';
import { valuesAt } from './path.ts';

type Operator = (values: unknown[], argument: never) => boolean;

const same = (value: unknown, expected: Scalar): boolean => String(value) === String(expected);

export const OPERATORS = {
  equals: (values: unknown[], expected: Scalar) => values.some((v) => same(v, expected)),
  notEquals: (values: unknown[], expected: Scalar) => !values.some((v) => same(v, expected)),
  in: (values: unknown[], options: Scalar[]) => values.some((v) => options.some((o) => same(v, o))),
  notIn: (values: unknown[], options: Scalar[]) => !values.some((v) => options.some((o) => same(v, o))),
  present: (values: unknown[], wanted: boolean) => values.length > 0 === wanted,
  // Objects (e.g. a policy recorded as JSON rather than as a string) are matched as their JSON text.
  matches: (values: unknown[], pattern: RegExp) =>
    values.some((v) => pattern.test(typeof v === 'object' ? JSON.stringify(v) : String(v))),
  countAtLeast: (values: unknown[], n: number) => values.length >= n,
  countAtMost: (values: unknown[], n: number) => values.length <= n,
} satisfies Record<string, Operator>;

export type OperatorName = keyof typeof OPERATORS;
export const OPERATOR_NAMES = Object.keys(OPERATORS) as OperatorName[];

/** Compiles a condition; throws with the operator's name when an argument is unusable. */
export function compileCondition(condition: Condition): CompiledCondition {
  if (condition.anyOf) {
    const alternatives = condition.anyOf.map(compileFieldTest);
    return (record) => alternatives.some((test) => test(record));
  }
  if (condition.field === undefined) throw new Error('needs `field` or `anyOf`');
  return compileFieldTest({ ...condition, field: condition.field });
}

function compileFieldTest(condition: FieldTest): CompiledCondition {
  const tests: ((values: unknown[]) => boolean)[] = [];
  for (const name of OPERATOR_NAMES) {
    const argument = condition[name];
    if (argument === undefined) continue;
    if (name === 'matches') {
      let pattern: RegExp;
      try {
        pattern = new RegExp(argument as string);
      } catch (error) {
        throw new Error(`matches: invalid regular expression (${(error as Error).message})`, {
          cause: error,
        });
      }
      tests.push((values) => OPERATORS.matches(values, pattern));
    } else {
      const operator = OPERATORS[name] as (values: unknown[], argument: unknown) => boolean;
      tests.push((values) => operator(values, argument));
    }
  }
  if (tests.length === 0) throw new Error(`no operator (one of ${OPERATOR_NAMES.join(', ')})`);
  const field = condition.field;
  return (record) => {
    const values = valuesAt(record, field);
    return tests.every((test) => test(values));
  };
}

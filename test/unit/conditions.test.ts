import { describe, expect, it } from 'vitest';
import { compileCondition, OPERATOR_NAMES, type OPERATORS } from '../../engine/rules/conditions.ts';
import type { Condition } from '../../engine/rules/model.ts';
import { stringValuesAt, valuesAt } from '../../engine/rules/path.ts';
import { isConsoleFamily, userAgentFamily } from '../../engine/useragent.ts';

/** A DescribeInstances-like record with filters, a nested list and falsy values. */
const record = {
  eventName: 'DescribeInstances',
  userAgent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.5 exe/x86_64',
  errorCode: null,
  requestParameters: {
    maxResults: 1000,
    dryRun: false,
    filterSet: {
      items: [
        { name: 'instance-state-name', valueSet: { items: [{ value: 'running' }, { value: 'stopped' }] } },
        { name: 'tag:Name', valueSet: { items: [{ value: 'web-1' }] } },
      ],
    },
    instancesSet: { items: [{ instanceId: 'i-0a' }, { instanceId: 'i-0b' }, { instanceId: 'i-0c' }] },
    emptyList: [],
    withNull: [null, 'x'],
  },
};

function check(condition: Condition, target: Record<string, unknown> = record): boolean {
  return compileCondition(condition)(target);
}

interface Case {
  condition: Condition;
  expected: boolean;
}

/** Numbered compliant (true) and non-compliant (false) cases for every operator. */
const CASES: Record<keyof typeof OPERATORS, Case[]> = {
  equals: [
    { condition: { field: 'eventName', equals: 'DescribeInstances' }, expected: true },
    { condition: { field: 'requestParameters.maxResults', equals: 1000 }, expected: true },
    { condition: { field: 'requestParameters.maxResults', equals: '1000' }, expected: true },
    { condition: { field: 'requestParameters.dryRun', equals: false }, expected: true },
    { condition: { field: 'requestParameters.filterSet.items[].name', equals: 'tag:Name' }, expected: true },
    { condition: { field: 'eventName', equals: 'describeinstances' }, expected: false },
    { condition: { field: 'requestParameters.maxResults', equals: 100 }, expected: false },
    { condition: { field: 'requestParameters.missing', equals: 'x' }, expected: false },
  ],
  notEquals: [
    { condition: { field: 'eventName', notEquals: 'RunInstances' }, expected: true },
    { condition: { field: 'requestParameters.filterSet.items[].name', notEquals: 'vpc-id' }, expected: true },
    { condition: { field: 'requestParameters.missing', notEquals: 'x' }, expected: true },
    { condition: { field: 'eventName', notEquals: 'DescribeInstances' }, expected: false },
    // Any matching item makes it fail.
    {
      condition: { field: 'requestParameters.filterSet.items[].name', notEquals: 'tag:Name' },
      expected: false,
    },
  ],
  in: [
    { condition: { field: 'eventName', in: ['RunInstances', 'DescribeInstances'] }, expected: true },
    { condition: { field: 'requestParameters.maxResults', in: [5, 1000] }, expected: true },
    {
      condition: { field: 'requestParameters.filterSet.items[].valueSet.items[].value', in: ['stopped'] },
      expected: true,
    },
    { condition: { field: 'eventName', in: ['RunInstances', 'StopInstances'] }, expected: false },
    { condition: { field: 'requestParameters.missing', in: ['x'] }, expected: false },
  ],
  notIn: [
    { condition: { field: 'eventName', notIn: ['RunInstances', 'StopInstances'] }, expected: true },
    { condition: { field: 'requestParameters.missing', notIn: ['x'] }, expected: true },
    { condition: { field: 'eventName', notIn: ['DescribeInstances'] }, expected: false },
    {
      condition: {
        field: 'requestParameters.filterSet.items[].valueSet.items[].value',
        notIn: ['web-1', 'x'],
      },
      expected: false,
    },
  ],
  present: [
    { condition: { field: 'requestParameters.filterSet', present: true }, expected: true },
    { condition: { field: 'requestParameters.dryRun', present: true }, expected: true },
    { condition: { field: 'requestParameters.missing', present: false }, expected: true },
    { condition: { field: 'errorCode', present: false }, expected: true },
    { condition: { field: 'requestParameters.filterSet', present: false }, expected: false },
    { condition: { field: 'requestParameters.missing', present: true }, expected: false },
    { condition: { field: 'requestParameters.emptyList[]', present: true }, expected: false },
  ],
  matches: [
    { condition: { field: 'eventName', matches: '^Describe' }, expected: true },
    { condition: { field: 'requestParameters.filterSet.items[].name', matches: '^tag:' }, expected: true },
    { condition: { field: 'requestParameters.maxResults', matches: '^\\d{4}$' }, expected: true },
    { condition: { field: 'eventName', matches: '^Run' }, expected: false },
    { condition: { field: 'requestParameters.missing', matches: '.*' }, expected: false },
  ],
  countAtLeast: [
    {
      condition: { field: 'requestParameters.instancesSet.items[].instanceId', countAtLeast: 3 },
      expected: true,
    },
    { condition: { field: 'requestParameters.missing', countAtLeast: 0 }, expected: true },
    {
      condition: { field: 'requestParameters.instancesSet.items[].instanceId', countAtLeast: 4 },
      expected: false,
    },
    { condition: { field: 'requestParameters.missing', countAtLeast: 1 }, expected: false },
  ],
  countAtMost: [
    {
      condition: { field: 'requestParameters.instancesSet.items[].instanceId', countAtMost: 3 },
      expected: true,
    },
    { condition: { field: 'requestParameters.missing', countAtMost: 0 }, expected: true },
    {
      condition: { field: 'requestParameters.instancesSet.items[].instanceId', countAtMost: 1 },
      expected: false,
    },
    { condition: { field: 'requestParameters.filterSet.items[]', countAtMost: 1 }, expected: false },
  ],
};

describe('compileCondition operators', () => {
  it('covers every registered operator', () => {
    expect(Object.keys(CASES).sort()).toEqual([...OPERATOR_NAMES].sort());
  });

  for (const name of OPERATOR_NAMES) {
    describe(name, () => {
      CASES[name].forEach(({ condition, expected }, index) => {
        it(`case ${index + 1}: ${expected ? 'compliant' : 'non-compliant'} ${JSON.stringify(condition)}`, () => {
          expect(check(condition)).toBe(expected);
        });
      });
      it('has at least one compliant and one non-compliant case', () => {
        expect(CASES[name].some((c) => c.expected)).toBe(true);
        expect(CASES[name].some((c) => !c.expected)).toBe(true);
      });
    });
  }
});

describe('compileCondition', () => {
  it('requires every operator of one condition to hold', () => {
    const field = 'requestParameters.instancesSet.items[].instanceId';
    expect(check({ field, countAtLeast: 2, countAtMost: 3 })).toBe(true);
    expect(check({ field, countAtLeast: 2, countAtMost: 2 })).toBe(false);
    expect(check({ field: 'eventName', matches: 'Instances$', notEquals: 'DescribeInstances' })).toBe(false);
  });

  it('tests the user agent family through $userAgentFamily', () => {
    expect(check({ field: '$userAgentFamily', equals: 'cli' })).toBe(true);
    expect(check({ field: '$userAgentFamily', in: ['browser', 'console'] })).toBe(false);
    expect(
      check({ field: '$userAgentFamily', equals: 'browser' }, { userAgent: 'Mozilla/5.0 (Macintosh)' }),
    ).toBe(true);
    expect(check({ field: '$userAgentFamily', equals: 'unknown' }, {})).toBe(true);
  });

  it('rejects a condition without an operator, naming the operators', () => {
    expect(() => compileCondition({ field: 'eventName' })).toThrow(/no operator/);
    expect(() => compileCondition({ field: 'eventName' })).toThrow(new RegExp(OPERATOR_NAMES.join(', ')));
  });

  it('rejects a condition whose only operator is unknown', () => {
    const unknown = { field: 'eventName', startsWith: 'Describe' } as unknown as Condition;
    expect(() => compileCondition(unknown)).toThrow(/no operator/);
  });

  it('rejects an invalid regular expression, naming the operator', () => {
    expect(() => compileCondition({ field: 'eventName', matches: '([a-z' })).toThrow(
      /matches: invalid regular expression/,
    );
    expect(() => compileCondition({ field: 'eventName', matches: '*' })).toThrow(/matches/);
  });

  it('gives the same answer when evaluated repeatedly', () => {
    const test = compileCondition({ field: 'requestParameters.filterSet.items[].name', matches: 'state' });
    expect([test(record), test(record), test(record)]).toEqual([true, true, true]);
  });
});

describe('valuesAt', () => {
  it('reads a dotted path', () => {
    expect(valuesAt(record, 'requestParameters.maxResults')).toEqual([1000]);
    expect(valuesAt(record, 'eventName')).toEqual(['DescribeInstances']);
  });

  it('walks every item of arrays marked []', () => {
    expect(valuesAt(record, 'requestParameters.instancesSet.items[].instanceId')).toEqual([
      'i-0a',
      'i-0b',
      'i-0c',
    ]);
    expect(valuesAt(record, 'requestParameters.filterSet.items[].valueSet.items[].value')).toEqual([
      'running',
      'stopped',
      'web-1',
    ]);
    expect(valuesAt({ a: { b: [{ c: 1 }, { d: 2 }, { c: 3 }] } }, 'a.b[].c')).toEqual([1, 3]);
  });

  it('treats [] on a non-array as the value itself', () => {
    expect(valuesAt({ a: { b: { c: 'one' } } }, 'a.b[].c')).toEqual(['one']);
  });

  it('drops null items and keeps falsy values', () => {
    expect(valuesAt(record, 'requestParameters.withNull[]')).toEqual(['x']);
    expect(valuesAt(record, 'requestParameters.dryRun')).toEqual([false]);
    expect(valuesAt({ a: 0 }, 'a')).toEqual([0]);
    expect(valuesAt({ a: '' }, 'a')).toEqual(['']);
  });

  it('returns [] for missing paths, nulls and non-objects', () => {
    expect(valuesAt(record, 'requestParameters.nope.deeper')).toEqual([]);
    expect(valuesAt(record, 'errorCode')).toEqual([]);
    expect(valuesAt(record, 'eventName.length')).toEqual([]);
    expect(valuesAt(null, 'a')).toEqual([]);
    expect(valuesAt(undefined, 'a.b[].c')).toEqual([]);
    expect(valuesAt({ a: [] }, 'a[].b')).toEqual([]);
  });

  it('returns an array without [] as one value', () => {
    expect(valuesAt({ a: ['x', 'y'] }, 'a')).toEqual([['x', 'y']]);
  });

  it('computes $userAgentFamily from the userAgent', () => {
    expect(valuesAt(record, '$userAgentFamily')).toEqual(['cli']);
    expect(valuesAt({ userAgent: 'AWS Internal' }, '$userAgentFamily')).toEqual(['aws-internal']);
    expect(valuesAt({ userAgent: 42 }, '$userAgentFamily')).toEqual(['unknown']);
    expect(valuesAt(null, '$userAgentFamily')).toEqual(['unknown']);
  });

  it('stringValuesAt JSON-encodes objects and stringifies scalars', () => {
    expect(stringValuesAt({ a: [{ k: 1 }, 2, true] }, 'a[]')).toEqual(['{"k":1}', '2', 'true']);
  });
});

describe('userAgentFamily', () => {
  const cases: [string | undefined, string][] = [
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
      'browser',
    ],
    ['[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10]', 'console'],
    ['EC2ConsoleFrontend, aws-sdk-java/1.12.1', 'console'],
    ['console.amazonaws.com', 'console'],
    ['AWS Console, aws-sdk-java/1.12.1', 'console'],
    ['aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22', 'cli'],
    ['Jersey/${project.version} (HttpUrlConnection 17.0.9)', 'signin'],
    ['AWS Internal', 'aws-internal'],
    ['aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10', 'aws-internal'],
    ['cloudformation.amazonaws.com', 'service'],
    ['signin.amazonaws.com', 'service'],
    ['Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux', 'sdk'],
    ['botocore/1.34.0 Python/3.11', 'sdk'],
    ['aws-sdk-js/3.540.0 ua/2.0 os/linux', 'sdk'],
    ['aws-cdk/2.140.0', 'sdk'],
    ['APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io)', 'sdk'],
    ['curl/8.5.0', 'unknown'],
    ['', 'unknown'],
    [undefined, 'unknown'],
  ];
  for (const [agent, family] of cases) {
    it(`${JSON.stringify(agent)} → ${family}`, () => {
      expect(userAgentFamily(agent)).toBe(family);
    });
  }

  it('counts browser, console, aws-internal and signin as console families', () => {
    expect(
      (['browser', 'console', 'aws-internal', 'signin', 'service', 'cli', 'sdk', 'unknown'] as const).filter(
        isConsoleFamily,
      ),
    ).toEqual(['browser', 'console', 'aws-internal', 'signin']);
  });
});

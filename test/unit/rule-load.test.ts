import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import {
  compileRuleSources,
  formatRuleProblem,
  loadRules,
  RuleLoadError,
  type RuleProblem,
  readRuleSources,
} from '../../engine/rules/load.ts';

const SCHEMA_PATH = fileURLToPath(new URL('../../rules/schema/signal-rules.schema.json', import.meta.url));

const VALID = `
service: IAM
rules:
  - label: IAM_Users_Test
    name: IAM → Users
    risk: info
    summary: Opened IAM → Users ({{users|count}} users)
    url: https://{{awsRegion}}.console.aws.amazon.com/iam/home#/users
    anchors: [iam:ListUsers, iam:ListUserTags]
    required: [iam:ListUsers, iam:GetAccountSummary]
    optional: [iam:ListAccessKeys]
    when:
      - field: requestParameters.maxItems
        equals: 1000
      - event: iam:ListAccessKeys
        field: requestParameters.userName
        present: true
    extract:
      users:
        event: iam:ListUsers
        field: responseElements.users[].userName
        as: list
  - label: IAM_Roles_Test
    name: IAM → Roles
    risk: medium
    kind: action
    priority: 5
    summary: Opened roles
    window: { before: 1.5, after: 10 }
    anchors: [iam:ListRoles]
`;

/** Compiles and returns the problems it throws (fails the test when it does not throw). */
function problemsOf(sources: { file: string; text: string }[]): {
  error: RuleLoadError;
  problems: RuleProblem[];
} {
  try {
    compileRuleSources(sources);
  } catch (error) {
    expect(error).toBeInstanceOf(RuleLoadError);
    return { error: error as RuleLoadError, problems: (error as RuleLoadError).problems };
  }
  throw new Error('expected compileRuleSources to throw');
}

function rule(label: string, extra = ''): string {
  return `  - label: ${label}
    name: ${label}
    risk: info
    summary: did ${label}
    anchors: [iam:ListUsers]
${extra}`;
}

describe('compileRuleSources: a valid file', () => {
  const rules = compileRuleSources([{ file: 'iam.yaml', text: VALID }]);
  const users = rules.find((r) => r.label === 'IAM_Users_Test')!;
  const roles = rules.find((r) => r.label === 'IAM_Roles_Test')!;

  it('compiles every rule with the file and service', () => {
    expect(rules.map((r) => r.label)).toEqual(['IAM_Users_Test', 'IAM_Roles_Test']);
    expect(rules.every((r) => r.service === 'IAM' && r.file === 'iam.yaml')).toBe(true);
  });

  it('applies defaults: 3 s windows, kind action, priority 0, no breadcrumb', () => {
    expect(users.beforeMs).toBe(3000);
    expect(users.afterMs).toBe(3000);
    expect(users.kind).toBe('action');
    expect(users.priority).toBe(0);
    expect(users.breadcrumb).toBeNull();
    expect(roles.url).toBeNull();
    expect(roles.required).toEqual([]);
    expect(roles.forbidden.size).toBe(0);
  });

  it('keeps explicit values: window seconds → ms, priority, risk', () => {
    expect(roles.beforeMs).toBe(1500);
    expect(roles.afterMs).toBe(10_000);
    expect(roles.priority).toBe(5);
    expect(roles.risk).toBe('medium');
  });

  it('collects members from anchors, required and optional', () => {
    expect([...users.anchors].sort()).toEqual(['iam:ListUserTags', 'iam:ListUsers']);
    expect([...users.members].sort()).toEqual([
      'iam:GetAccountSummary',
      'iam:ListAccessKeys',
      'iam:ListUserTags',
      'iam:ListUsers',
    ]);
    expect(users.required).toEqual(['iam:ListUsers', 'iam:GetAccountSummary']);
  });

  it('attaches conditions without `event` to every anchor, and others to their event only', () => {
    const anchorish = { requestParameters: { maxItems: 1000 } };
    const wrong = { requestParameters: { maxItems: 10 } };
    for (const anchor of ['iam:ListUsers', 'iam:ListUserTags']) {
      const tests = users.conditions.get(anchor);
      expect(tests).toHaveLength(1);
      expect(tests![0](anchorish)).toBe(true);
      expect(tests![0](wrong)).toBe(false);
    }
    const keys = users.conditions.get('iam:ListAccessKeys');
    expect(keys).toHaveLength(1);
    expect(keys![0]({ requestParameters: { userName: 'alice' } })).toBe(true);
    expect(keys![0]({ requestParameters: {} })).toBe(false);
    expect(users.conditions.has('iam:GetAccountSummary')).toBe(false);
    expect(roles.conditions.size).toBe(0);
  });

  it('keeps extractions as written', () => {
    expect(users.extract.users).toEqual({
      event: 'iam:ListUsers',
      field: 'responseElements.users[].userName',
      as: 'list',
    });
  });
});

describe('compileRuleSources: problems', () => {
  const schemaBroken = {
    file: 'broken-schema.yaml',
    text: `service: EC2
rules:
  - label: EC2_Unknown_Prop
    name: x
    risk: info
    summary: x
    anchors: [ec2:DescribeInstances]
    windw: { before: 2 }
  - label: EC2_Bad_Risk
    name: x
    risk: severe
    summary: x
    anchors: [ec2:DescribeInstances]
  - label: EC2_Bad_Ref
    name: x
    risk: info
    summary: x
    anchors: [ec2:DescribeVpcs]
    required: ['EC2 DescribeVpcs']
`,
  };
  const semanticBroken = {
    file: 'broken-semantics.yaml',
    text: `service: IAM
rules:
${rule('IAM_Foreign_Event', `    when:\n      - event: s3:ListBuckets\n        field: requestParameters.x\n        present: true\n`)}
${rule('IAM_Bad_Regex', `    when:\n      - field: requestParameters.userName\n        matches: '([a-z'\n`)}
${rule('SuppressSomething')}
${rule('IAM_Shared_Label')}
`,
  };
  const duplicate = {
    file: 'duplicate.yaml',
    text: `service: IAM\nrules:\n${rule('IAM_Shared_Label')}\n`,
  };
  const yamlBroken = {
    file: 'bad-syntax.yaml',
    text: 'service: IAM\nrules:\n  - label: [unclosed\n    name: x\n',
  };

  const { error, problems } = problemsOf([schemaBroken, semanticBroken, duplicate, yamlBroken]);
  const find = (file: string, rule: string | undefined, field: string | undefined) =>
    problems.filter((p) => p.file === file && p.rule === rule && (field === undefined || p.field === field));

  it('collects problems from every file, not just the first', () => {
    const files = new Set(problems.map((p) => p.file));
    expect([...files].sort()).toEqual(
      ['bad-syntax.yaml', 'broken-schema.yaml', 'broken-semantics.yaml', 'duplicate.yaml'].sort(),
    );
  });

  it('reports an unknown property with file, rule and the property name', () => {
    const [problem] = find('broken-schema.yaml', 'EC2_Unknown_Prop', undefined);
    expect(problem).toBeDefined();
    expect(problem.message).toContain('unknown property "windw"');
    expect(formatRuleProblem(problem)).toMatch(/broken-schema\.yaml: rule EC2_Unknown_Prop: field .*windw/);
  });

  it('reports a bad risk enum with its field and the allowed values', () => {
    const [problem] = find('broken-schema.yaml', 'EC2_Bad_Risk', 'risk');
    expect(problem).toBeDefined();
    expect(problem.message).toMatch(/info, low, medium, high, critical/);
  });

  it('reports an event ref that does not match the pattern', () => {
    const found = find('broken-schema.yaml', 'EC2_Bad_Ref', 'required.0');
    expect(found.length).toBeGreaterThan(0);
    expect(found[0].message).toMatch(/pattern/);
  });

  it('reports when.N.event that is not one of the rule events', () => {
    const [problem] = find('broken-semantics.yaml', 'IAM_Foreign_Event', 'when.0.event');
    expect(problem?.message).toMatch(/s3:ListBuckets is not one of the rule's events/);
  });

  it('reports a bad regular expression', () => {
    const [problem] = find('broken-semantics.yaml', 'IAM_Bad_Regex', 'when.0');
    expect(problem?.message).toMatch(/invalid regular expression/);
  });

  it('reports a Suppress* label without kind suppress', () => {
    const [problem] = find('broken-semantics.yaml', 'SuppressSomething', 'kind');
    expect(problem?.message).toMatch(/suppress/i);
  });

  it('reports a label defined in two files, naming the first', () => {
    const [problem] = find('duplicate.yaml', 'IAM_Shared_Label', 'label');
    expect(problem?.message).toMatch(/duplicate label.*broken-semantics\.yaml/);
  });

  it('reports a YAML syntax error with its file', () => {
    const yaml = problems.filter((p) => p.file === 'bad-syntax.yaml');
    expect(yaml.length).toBeGreaterThan(0);
    expect(yaml[0].message).toMatch(/^YAML: /);
  });

  it('puts every file name into the error message', () => {
    expect(error.message).toMatch(/^invalid rules:/);
    for (const file of ['broken-schema.yaml', 'broken-semantics.yaml', 'duplicate.yaml', 'bad-syntax.yaml']) {
      expect(error.message).toContain(file);
    }
    expect(error.message).toContain('rule IAM_Bad_Regex: field when.0');
  });

  it('reports schema problems of a rule without a label by its position', () => {
    const { problems } = problemsOf([
      {
        file: 'nolabel.yaml',
        text: 'service: X\nrules:\n  - name: x\n    risk: info\n    summary: x\n    anchors: [x:Y]\n',
      },
    ]);
    expect(problems.some((p) => p.rule === '#0' && /label/.test(p.message))).toBe(true);
  });

  it('reports a Generic_* label without kind generic, and kind suppress without the Suppress prefix', () => {
    const { problems } = problemsOf([
      {
        file: 'kinds.yaml',
        text: `service: X\nrules:\n${rule('Generic_Thing')}\n${rule('Quiet_Thing', '    kind: suppress\n')}\n`,
      },
    ]);
    expect(problems.map((p) => [p.rule, p.field])).toEqual([
      ['Generic_Thing', 'kind'],
      ['Quiet_Thing', 'kind'],
    ]);
  });

  it('reports forbidden events that are also members, and extractions of foreign events', () => {
    const { problems } = problemsOf([
      {
        file: 'misc.yaml',
        text: `service: X\nrules:\n${rule(
          'X_Misc',
          '    forbidden: [iam:ListUsers]\n    extract:\n      names:\n        event: s3:ListBuckets\n        field: a.b\n',
        )}\n`,
      },
    ]);
    expect(problems.map((p) => p.field).sort()).toEqual(['extract.names.event', 'forbidden']);
  });
});

describe('the real rules folder', () => {
  it('loads, with every label unique', () => {
    const rules = loadRules();
    expect(rules.length).toBeGreaterThan(0);
    const labels = rules.map((r) => r.label);
    expect(new Set(labels).size).toBe(labels.length);
  });

  it('has rule files that each name a service', () => {
    const sources = readRuleSources();
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(source.text).toMatch(/^service: \S/m);
  });

  it('has a schema file that is valid JSON and a valid JSON schema', () => {
    const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
    expect(schema.type).toBe('object');
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    expect(() => ajv.compile(schema)).not.toThrow();
  });
});

describe('console writes in rules', () => {
  it('refuses a rule that takes a console write with a risk below the write floor, naming the write', () => {
    const text = `service: EC2
rules:
  - label: EC2_Release_Test
    name: EC2 → Release
    risk: low
    summary: Released an address
    anchors: [ec2:DescribeAddresses]
    optional: [ec2:ReleaseAddress]
`;
    const { problems } = problemsOf([{ file: 'ec2.yaml', text }]);
    expect(problems).toEqual([
      expect.objectContaining({
        rule: 'EC2_Release_Test',
        field: 'risk',
        message: expect.stringMatching(/console write \(ec2:ReleaseAddress\).*at least medium/),
      }),
    ]);
  });

  it('lets reads, session plumbing and background polling stay below it', () => {
    const text = `service: Test
rules:
  - label: CloudShell_Test
    name: CloudShell
    risk: info
    summary: CloudShell keep-alive
    anchors: [cloudshell:SendHeartBeat, cloudshell:PutCredentials, cloudshell:GetEnvironmentStatus]
`;
    expect(compileRuleSources([{ file: 'cloudshell.yaml', text }]).map((r) => r.label)).toEqual([
      'CloudShell_Test',
    ]);
  });
});

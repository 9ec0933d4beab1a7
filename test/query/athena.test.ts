/**
 * AthenaQueryEngine against a mocked Athena client: parameters travel only as encoded execution
 * parameters, polling backs off and fails/times out with the query id, and results page through
 * GetQueryResults with the header row skipped and cells converted by column type.
 */
import { countPlaceholders } from '../../engine/saved-queries.ts';
import {
  AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  type GetQueryExecutionCommandOutput,
  GetQueryResultsCommand,
  type QueryExecutionState,
  type Row,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { AthenaQueryEngine, convertCell, toAthenaLiteral } from '../../bin/query/athena.ts';

const athena = mockClient(AthenaClient);
const client = new AthenaClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 's' },
});
const ID = 'qe-1234';

let sleeps: number[];

function engine(options: Partial<ConstructorParameters<typeof AthenaQueryEngine>[0]> = {}) {
  return new AthenaQueryEngine({
    client,
    workGroup: 'trailmap-wg',
    database: 'trailmap',
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
}

const execution = (State: QueryExecutionState, extra: Record<string, unknown> = {}) =>
  ({
    QueryExecution: { QueryExecutionId: ID, StatementType: 'DML', Status: { State, ...extra } },
  }) as Partial<GetQueryExecutionCommandOutput> as GetQueryExecutionCommandOutput;

const row = (...cells: (string | undefined)[]): Row => ({
  Data: cells.map((c) => (c === undefined ? {} : { VarCharValue: c })),
});

const col = (Name: string, Type: string): ColumnInfo => ({ Name, Label: Name, Type });

/** A successful query whose results are `pages` (the first one including its header row). */
function succeedWith(columns: ColumnInfo[], pages: Row[][]) {
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
  athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
  pages.forEach((rows, i) => {
    athena
      .on(GetQueryResultsCommand, { QueryExecutionId: ID, NextToken: i === 0 ? undefined : `t${i}` })
      .resolves({
        ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: rows },
        NextToken: i < pages.length - 1 ? `t${i + 1}` : undefined,
      });
  });
}

beforeEach(() => {
  athena.reset();
  sleeps = [];
});

afterAll(() => {
  athena.restore();
});

describe('parameter binding', () => {
  it('sends the SQL unchanged with the values as encoded execution parameters', async () => {
    succeedWith([col('n', 'bigint')], [[row('n')]]);
    const sql =
      "SELECT count(*) AS n FROM signals WHERE principal = ? AND risk >= ? AND console = ? AND x IS ? AND dt = '2024-01-01'";
    await engine().run(sql, ["O'Brien", 2.5, true, null]);
    expect(athena).toHaveReceivedCommandTimes(StartQueryExecutionCommand, 1);
    expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      QueryString: sql,
      QueryExecutionContext: { Database: 'trailmap', Catalog: 'AwsDataCatalog' },
      WorkGroup: 'trailmap-wg',
      ExecutionParameters: ["'O''Brien'", '2.5', 'TRUE', 'NULL'],
    });
  });

  it('keeps an injection attempt inside one quoted literal', async () => {
    succeedWith([col('n', 'bigint')], [[row('n')]]);
    await engine().run('SELECT * FROM sessions WHERE principal = ?', ["x' OR '1'='1"]);
    const input = athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input;
    expect(input.QueryString).toBe('SELECT * FROM sessions WHERE principal = ?');
    expect(input.ExecutionParameters).toEqual(["'x'' OR ''1''=''1'"]);
  });

  it('omits ExecutionParameters without values and honours a custom catalog', async () => {
    succeedWith([col('n', 'integer')], [[row('n'), row('1')]]);
    await engine({ catalog: 'other' }).run('SELECT 1 AS n', []);
    const input = athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input;
    expect(input).not.toHaveProperty('ExecutionParameters');
    expect(input.QueryExecutionContext).toEqual({ Database: 'trailmap', Catalog: 'other' });
  });

  it('encodes literals', () => {
    expect(toAthenaLiteral('')).toBe("''");
    expect(toAthenaLiteral("''")).toBe("''''''");
    expect(toAthenaLiteral('a\\b')).toBe("'a\\b'");
    expect(toAthenaLiteral(-42)).toBe('-42');
    expect(toAthenaLiteral(-0)).toBe('0');
    expect(toAthenaLiteral(false)).toBe('FALSE');
    expect(() => toAthenaLiteral(Number.NaN)).toThrow(/not a finite number/);
    expect(() => toAthenaLiteral(Number.POSITIVE_INFINITY)).toThrow(/not a finite number/);
  });

  it('refuses NaN/Infinity and over-long values before starting a query', async () => {
    await expect(engine().run('SELECT ?', [Number.NaN])).rejects.toThrow(
      /parameter 1: NaN is not a finite number/,
    );
    await expect(engine().run('SELECT ?, ?', [1, Number.NEGATIVE_INFINITY])).rejects.toThrow(/parameter 2/);
    await expect(engine().run('SELECT ?', ['x'.repeat(2000)])).rejects.toThrow(/at most 1024/);
    expect(athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
  });
});

describe('placeholder count', () => {
  it('ignores ? inside string literals, quoted identifiers and comments', () => {
    expect(countPlaceholders('SELECT ?')).toBe(1);
    expect(countPlaceholders("SELECT '?', 'it''s ?', ? -- why?\n, ? /* what? */")).toBe(2);
    expect(countPlaceholders('SELECT "a?b", `c?` FROM t WHERE x = ?')).toBe(1);
    expect(countPlaceholders('SELECT 1 -- trailing ?')).toBe(0);
    expect(countPlaceholders("SELECT 'unterminated ?")).toBe(0);
  });

  it('throws a clear error on a mismatch without calling Athena', async () => {
    await expect(engine().run('SELECT ? , ?', ['a'])).rejects.toThrow(
      'the query has 2 parameters (?) but 1 values were given',
    );
    await expect(engine().run("SELECT '?' -- is this a ?\nFROM t", ['a'])).rejects.toThrow(
      'the query has 0 parameters (?) but 1 values were given',
    );
    await expect(engine().run("SELECT * FROM t WHERE a = '?' AND b = ? /* ? */", [])).rejects.toThrow(
      'the query has 1 parameters (?) but 0 values were given',
    );
    expect(athena).not.toHaveReceivedAnyCommand();
  });
});

describe('polling', () => {
  it('backs off through QUEUED and RUNNING until SUCCEEDED', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('QUEUED'))
      .resolvesOnce(execution('QUEUED'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('RUNNING'))
      .resolves(execution('SUCCEEDED'));
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: { ResultSetMetadata: { ColumnInfo: [col('n', 'bigint')] }, Rows: [row('n'), row('7')] },
    });
    const result = await engine({ pollIntervalMs: 100, maxPollIntervalMs: 1000 }).run('SELECT 7 AS n', []);
    expect(result).toEqual({ columns: ['n'], rows: [[7]] });
    expect(sleeps).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(athena).toHaveReceivedCommandTimes(GetQueryExecutionCommand, 7);
    expect(athena).toHaveReceivedCommandWith(GetQueryExecutionCommand, { QueryExecutionId: ID });
    expect(athena).not.toHaveReceivedCommand(StopQueryExecutionCommand);
  });

  it('FAILED throws with the state, id, StateChangeReason and Athena error message', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('RUNNING'))
      .resolves(
        execution('FAILED', {
          StateChangeReason: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
          AthenaError: { ErrorCategory: 2, ErrorMessage: 'Column cannot be resolved (user error)' },
        }),
      );
    const error = await engine()
      .run('SELECT nope FROM signals', [])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain('FAILED');
    expect(message).toContain(ID);
    expect(message).toContain("COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved");
    expect(message).toContain('Column cannot be resolved (user error)');
    expect(athena).not.toHaveReceivedCommand(GetQueryResultsCommand);
  });

  it('CANCELLED throws with the state, id and reason', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    athena
      .on(GetQueryExecutionCommand)
      .resolves(execution('CANCELLED', { StateChangeReason: 'Query cancelled by user' }));
    await expect(engine().run('SELECT 1', [])).rejects.toThrow(
      `Athena query ${ID} CANCELLED: Query cancelled by user`,
    );
    expect(athena).not.toHaveReceivedCommand(GetQueryResultsCommand);
  });

  it('stops the query and throws naming the id when it runs past the timeout', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    athena.on(StopQueryExecutionCommand).resolves({});
    await expect(
      engine({ pollIntervalMs: 1000, maxPollIntervalMs: 4000, timeoutMs: 10_000 }).run('SELECT 1', []),
    ).rejects.toThrow(new RegExp(`Athena query ${ID} timed out.*stopped`));
    // 1000 + 2000 + 4000 = 7000, then only the 3000 left before the deadline.
    expect(sleeps).toEqual([1000, 2000, 4000, 3000]);
    expect(athena).toHaveReceivedCommandExactlyOnceWith(StopQueryExecutionCommand, { QueryExecutionId: ID });
    expect(athena).not.toHaveReceivedCommand(GetQueryResultsCommand);
  });

  it('still reports the timeout when stopping fails', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('QUEUED'));
    athena.on(StopQueryExecutionCommand).rejects(new Error('InvalidRequestException'));
    await expect(engine({ timeoutMs: 500 }).run('SELECT 1', [])).rejects.toThrow(/timed out/);
    expect(athena).toHaveReceivedCommandTimes(StopQueryExecutionCommand, 1);
  });

  it('stops the query when the signal aborts while it runs', async () => {
    const controller = new AbortController();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    athena.on(StopQueryExecutionCommand).resolves({});
    const aborting = engine({
      signal: controller.signal,
      sleep: async () => controller.abort(new Error('interrupted')),
    });
    await expect(aborting.run('SELECT 1', [])).rejects.toThrow('interrupted');
    expect(athena).toHaveReceivedCommandExactlyOnceWith(StopQueryExecutionCommand, { QueryExecutionId: ID });
  });
});

describe('results', () => {
  const columns = [
    col('id', 'bigint'),
    col('n', 'integer'),
    col('small', 'smallint'),
    col('tiny', 'tinyint'),
    col('score', 'double'),
    col('ratio', 'real'),
    col('amount', 'decimal'),
    col('ok', 'boolean'),
    col('tags', 'array'),
    col('attrs', 'map'),
    col('ident', 'row'),
    col('doc', 'json'),
    col('day', 'date'),
    col('name', 'varchar'),
  ];
  const header = row(...columns.map((c) => c.Name));

  it('pages through GetQueryResults, skips only the first header row and converts by type', async () => {
    succeedWith(columns, [
      [
        header,
        row(
          '1',
          '2',
          '3',
          '4',
          '0.5',
          '1.25',
          '10.50',
          'true',
          '[a, b]',
          '{k=v}',
          '{x=1}',
          '{"a":1}',
          '2024-05-01',
          'alice',
        ),
      ],
      [
        // A data row that happens to look like the header is kept on later pages.
        row(...columns.map((c) => c.Name)),
        row(
          '9007199254740993',
          '-7',
          undefined,
          undefined,
          'NaN',
          undefined,
          undefined,
          'false',
          undefined,
          undefined,
          undefined,
          undefined,
          undefined,
          '',
        ),
      ],
      [
        row(
          '9007199254740991',
          '0',
          '0',
          '0',
          '-1e3',
          '0',
          '-0.001',
          undefined,
          '[]',
          '{}',
          undefined,
          'null',
          undefined,
          undefined,
        ),
      ],
    ]);
    const result = await engine().run('SELECT * FROM t', []);

    expect(athena).toHaveReceivedCommandTimes(GetQueryResultsCommand, 3);
    expect(athena).toHaveReceivedNthCommandWith(GetQueryResultsCommand, 1, {
      QueryExecutionId: ID,
      MaxResults: 1000,
    });
    expect(athena).toHaveReceivedNthCommandWith(GetQueryResultsCommand, 2, {
      NextToken: 't1',
      MaxResults: 1000,
    });
    expect(athena).toHaveReceivedNthCommandWith(GetQueryResultsCommand, 3, {
      NextToken: 't2',
      MaxResults: 1000,
    });
    expect(athena.commandCalls(GetQueryResultsCommand)[0].args[0].input.NextToken).toBeUndefined();

    expect(result.columns).toEqual(columns.map((c) => c.Name));
    expect(result.rows).toEqual([
      [1, 2, 3, 4, 0.5, 1.25, 10.5, true, '[a, b]', '{k=v}', '{x=1}', '{"a":1}', '2024-05-01', 'alice'],
      columns.map((c) => c.Name),
      ['9007199254740993', -7, null, null, 'NaN', null, null, false, null, null, null, null, null, ''],
      [9007199254740991, 0, 0, 0, -1000, 0, -0.001, null, '[]', '{}', null, 'null', null, null],
    ]);
  });

  it('returns the columns and no rows for an empty result', async () => {
    succeedWith([col('principal', 'varchar'), col('n', 'bigint')], [[row('principal', 'n')]]);
    expect(await engine().run('SELECT principal, count(*) AS n FROM t WHERE false GROUP BY 1', [])).toEqual({
      columns: ['principal', 'n'],
      rows: [],
    });
  });

  it('returns nothing for a statement without a result set', async () => {
    succeedWith([], [[]]);
    expect(await engine().run('CREATE VIEW v AS SELECT 1 AS n', [])).toEqual({ columns: [], rows: [] });
  });

  it('keeps the first row of DDL/utility output, which has no header', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: ID });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { QueryExecutionId: ID, StatementType: 'UTILITY', Status: { State: 'SUCCEEDED' } },
    });
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: [col('tab_name', 'string')] },
        Rows: [row('tab_name'), row('signals')],
      },
    });
    expect((await engine().run('SHOW TABLES', [])).rows).toEqual([['tab_name'], ['signals']]);
  });

  it('converts cells', () => {
    expect(convertCell(undefined, 'varchar')).toBeNull();
    expect(convertCell('12345678901234567890', 'bigint')).toBe('12345678901234567890');
    expect(convertCell('-9007199254740991', 'bigint')).toBe(-9007199254740991);
    expect(convertCell('1.500000000000000000', 'decimal(38,18)')).toBe(1.5);
    expect(convertCell('12345678901234567.89', 'decimal')).toBe('12345678901234567.89');
    expect(convertCell('Infinity', 'double')).toBe('Infinity');
    expect(convertCell('3.0E-5', 'float')).toBe(0.00003);
    expect(convertCell('TRUE', 'boolean')).toBe('TRUE');
    expect(convertCell('2024-05-01 10:00:00.000', 'timestamp')).toBe('2024-05-01 10:00:00.000');
    expect(convertCell('42', 'varchar')).toBe('42');
    expect(convertCell('[1, 2]', 'array<integer>')).toBe('[1, 2]');
  });

  it('close() leaves the client alone', async () => {
    await engine().close();
    expect(athena).not.toHaveReceivedAnyCommand();
  });
});

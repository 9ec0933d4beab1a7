/**
 * DuckDB over a local enriched dataset (`trailmap enrich --out` / `trailmap simulate --out`): the
 * same table names and columns as the Glue tables (from engine/tables.ts), plus `cloudtrail` over a
 * raw trail folder when one is given, with the documented Athena table's column names.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { skipReason } from '../../engine/read.ts';
import { PARTITION_COLUMN, TABLES, type TableName } from '../../engine/tables.ts';
import type { QueryEngine, QueryResult, SqlValue } from './types.ts';

const DUCK_TYPES: Record<string, string> = {
  string: 'VARCHAR',
  bigint: 'BIGINT',
  boolean: 'BOOLEAN',
  'array<string>': 'VARCHAR[]',
};

/** SQL string literal for DuckDB DDL (paths only; user values are always bound). */
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

function hasFiles(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).some((name) => name.endsWith('.jsonl.gz'));
}

/** The view over one enriched table, or an empty table with its columns when there is no data yet. */
function tableDdl(dataDir: string, name: TableName): string {
  const columns = TABLES[name].map((c) => `${c.name} ${DUCK_TYPES[c.type]}`);
  const dir = join(dataDir, name);
  if (!hasFiles(dir)) {
    return `CREATE TABLE ${name} (${[...columns, `${PARTITION_COLUMN} VARCHAR`].join(', ')})`;
  }
  const spec = TABLES[name].map((c) => `${literal(c.name)}: ${literal(DUCK_TYPES[c.type])}`).join(', ');
  return (
    `CREATE VIEW ${name} AS SELECT ${TABLES[name].map((c) => c.name).join(', ')}, ${PARTITION_COLUMN} ` +
    `FROM read_json(${literal(join(dir, `${PARTITION_COLUMN}=*`, '*.jsonl.gz'))}, ` +
    `format = 'newline_delimited', hive_partitioning = true, columns = {${spec}})`
  );
}

/** The raw trail as the Athena CloudTrail table names it (lower-case columns, JSON text for free-form fields). */
function cloudTrailDdl(trailDir: string): string {
  const text = (path: string) => `json_extract_string(r, '${path}')`;
  const json = (path: string) => `CAST(json_extract(r, '${path}') AS VARCHAR)`;
  const identity = [
    ['type', '$.userIdentity.type'],
    ['principalid', '$.userIdentity.principalId'],
    ['arn', '$.userIdentity.arn'],
    ['accountid', '$.userIdentity.accountId'],
    ['invokedby', '$.userIdentity.invokedBy'],
    ['accesskeyid', '$.userIdentity.accessKeyId'],
    ['username', '$.userIdentity.userName'],
  ]
    .map(([key, path]) => `${key} := ${text(path)}`)
    .join(', ');
  const columns = [
    `${text('$.eventVersion')} AS eventversion`,
    `struct_pack(${identity}, sessioncontext := struct_pack(attributes := struct_pack(mfaauthenticated := ${text('$.userIdentity.sessionContext.attributes.mfaAuthenticated')}, creationdate := ${text('$.userIdentity.sessionContext.attributes.creationDate')}))) AS useridentity`,
    `${text('$.eventTime')} AS eventtime`,
    `${text('$.eventSource')} AS eventsource`,
    `${text('$.eventName')} AS eventname`,
    `${text('$.awsRegion')} AS awsregion`,
    `${text('$.sourceIPAddress')} AS sourceipaddress`,
    `${text('$.userAgent')} AS useragent`,
    `${text('$.errorCode')} AS errorcode`,
    `${text('$.errorMessage')} AS errormessage`,
    `${json('$.requestParameters')} AS requestparameters`,
    `${json('$.responseElements')} AS responseelements`,
    `${json('$.additionalEventData')} AS additionaleventdata`,
    `${text('$.requestID')} AS requestid`,
    `${text('$.eventID')} AS eventid`,
    `${text('$.eventType')} AS eventtype`,
    `${text('$.readOnly')} AS readonly`,
    `${text('$.recipientAccountId')} AS recipientaccountid`,
    `${text('$.eventCategory')} AS eventcategory`,
    `${text('$.sessionCredentialFromConsole')} AS sessioncredentialfromconsole`,
  ];
  // The same files `trailmap enrich` reads: digests and Insights are not API events.
  const paths = readdirSync(trailDir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.json(\.gz)?$/i.test(name) && skipReason(join(trailDir, name)) === null)
    .sort()
    .map((name) => literal(join(trailDir, name)));
  if (paths.length === 0) throw new Error(`${trailDir}: no CloudTrail log files (.json, .json.gz)`);
  const files = `[${paths.join(', ')}]`;
  return (
    `CREATE VIEW cloudtrail AS SELECT ${columns.join(', ')} FROM (` +
    `SELECT unnest(Records) AS r FROM read_json(${files}, columns = {'Records': 'JSON[]'}, ` +
    `format = 'auto', union_by_name = true)) WHERE r IS NOT NULL`
  );
}

/** DuckDB values → JSON-friendly scalars (BIGINT → number when safe, lists → arrays). */
function plain(value: DuckDBValue): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'object') {
    const items = (value as { items?: DuckDBValue[] }).items;
    if (Array.isArray(items)) return items.map(plain);
    const entries = (value as { entries?: Record<string, DuckDBValue> }).entries;
    if (entries) return Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, plain(v)]));
    return String(value);
  }
  return value;
}

export class DuckDbQueryEngine implements QueryEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /** Opens an in-memory database with the dataset's tables (and `cloudtrail` over `trailDir`). */
  static async open(dataDir: string, trailDir?: string): Promise<DuckDbQueryEngine> {
    if (!existsSync(dataDir)) throw new Error(`${dataDir}: no such dataset folder`);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    for (const name of Object.keys(TABLES) as TableName[]) await connection.run(tableDdl(dataDir, name));
    if (trailDir) {
      if (!existsSync(trailDir)) throw new Error(`${trailDir}: no such trail folder`);
      await connection.run(cloudTrailDdl(trailDir));
    }
    return new DuckDbQueryEngine(instance, connection);
  }

  async run(sql: string, params: SqlValue[]): Promise<QueryResult> {
    const statement = await this.connection.prepare(sql);
    if (statement.parameterCount !== params.length) {
      throw new Error(
        `the query has ${statement.parameterCount} parameters (?) but ${params.length} values were given`,
      );
    }
    params.forEach((value, i) => {
      const index = i + 1;
      if (value === null) statement.bindNull(index);
      else if (typeof value === 'boolean') statement.bindBoolean(index, value);
      else if (typeof value === 'number') {
        if (Number.isInteger(value)) statement.bindBigInt(index, BigInt(value));
        else statement.bindDouble(index, value);
      } else statement.bindVarchar(index, value);
    });
    const reader = await statement.runAndReadAll();
    return { columns: reader.columnNames(), rows: reader.getRows().map((row) => row.map(plain)) };
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/**
 * Athena over the Glue tables the CDK app creates (lib/enriched-store.ts). The workgroup enforces
 * its result location and encryption, so queries name only the workgroup, database and catalog.
 * User values travel as ExecutionParameters (Athena substitutes each one as a SQL literal); they
 * are never spliced into the query text.
 */
import { countPlaceholders } from '../../engine/saved-queries.ts';
import {
  type AthenaClient,
  type ColumnInfo,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecutionStatus,
  type Row,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import type { QueryEngine, QueryResult, SqlValue } from './types.ts';

export interface AthenaQueryEngineOptions {
  client: AthenaClient;
  workGroup: string;
  database: string;
  /** @default 'AwsDataCatalog' */
  catalog?: string;
  /** First wait between status polls; doubles up to `maxPollIntervalMs`. @default 250 */
  pollIntervalMs?: number;
  /** @default 5000 */
  maxPollIntervalMs?: number;
  /** How long a query may stay queued or running before it is stopped. @default 15 minutes */
  timeoutMs?: number;
  /** Waits between polls (injectable for tests). @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Aborts the wait and the API calls; a started query is then stopped. */
  signal?: AbortSignal;
}

/** Athena's limit on the length of one execution parameter. */
const MAX_PARAMETER_LENGTH = 1024;
const PAGE_SIZE = 1000;

/** One value as the SQL literal Athena substitutes for its placeholder. */
export function toAthenaLiteral(value: SqlValue, index = 0): string {
  if (value === null) return 'NULL';
  switch (typeof value) {
    case 'string':
      return `'${value.replaceAll("'", "''")}'`;
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`parameter ${index + 1}: ${value} is not a finite number`);
      return Object.is(value, -0) ? '0' : String(value);
    case 'boolean':
      return value ? 'TRUE' : 'FALSE';
    default:
      throw new Error(`parameter ${index + 1}: unsupported value of type ${typeof value}`);
  }
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'integer', 'int', 'bigint']);
const FLOAT_TYPES = new Set(['double', 'float', 'real']);

/** Largest count of significant digits a double round-trips exactly. */
const SAFE_DECIMAL_DIGITS = 15;

function significantDigits(text: string): number {
  const digits = text.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '');
  return digits.replace(/^0+/, '').replace(/0+$/, '').length;
}

/** One cell, converted by its column's Athena type. */
export function convertCell(text: string | undefined, type: string | undefined): unknown {
  if (text === undefined) return null;
  const base = (type ?? '')
    .toLowerCase()
    .replace(/[(<].*$/s, '')
    .trim();
  if (INTEGER_TYPES.has(base)) {
    const n = Number(text);
    return text.trim() !== '' && Number.isSafeInteger(n) ? n : text;
  }
  if (FLOAT_TYPES.has(base)) {
    const n = Number(text);
    // NaN and ±Infinity are not JSON values: they stay text.
    return text.trim() !== '' && Number.isFinite(n) ? n : text;
  }
  if (base === 'decimal') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) return text;
    // Like bigint beyond 2^53: a decimal with more digits than a double round-trips stays text.
    return significantDigits(text) <= SAFE_DECIMAL_DIGITS ? n : text;
  }
  if (base === 'boolean') {
    if (text === 'true') return true;
    if (text === 'false') return false;
    return text;
  }
  // array, map, row, json and every other type (varchar, date, timestamp, …): the text as Athena gives it.
  return text;
}

const values = (row: Row | undefined) => (row?.Data ?? []).map((d) => d.VarCharValue);

function isHeaderRow(row: Row | undefined, columns: ColumnInfo[]): boolean {
  if (!row) return false;
  const cells = values(row);
  return (
    cells.length === columns.length &&
    cells.every((cell, i) => cell === columns[i].Name || (cell !== undefined && cell === columns[i].Label))
  );
}

function describeFailure(id: string, status: QueryExecutionStatus | undefined): string {
  const state = status?.State ?? 'UNKNOWN';
  const reason = status?.StateChangeReason;
  const detail = status?.AthenaError?.ErrorMessage;
  let message = `Athena query ${id} ${state}`;
  if (reason) message += `: ${reason}`;
  if (detail && detail !== reason) message += `${reason ? ' — ' : ': '}${detail}`;
  return message;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('the Athena query was aborted');
}

export class AthenaQueryEngine implements QueryEngine {
  private readonly client: AthenaClient;
  private readonly workGroup: string;
  private readonly database: string;
  private readonly catalog: string;
  private readonly pollIntervalMs: number;
  private readonly maxPollIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly signal: AbortSignal | undefined;

  constructor(options: AthenaQueryEngineOptions) {
    this.client = options.client;
    this.workGroup = options.workGroup;
    this.database = options.database;
    this.catalog = options.catalog ?? 'AwsDataCatalog';
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.maxPollIntervalMs = Math.max(options.maxPollIntervalMs ?? 5000, this.pollIntervalMs);
    this.timeoutMs = options.timeoutMs ?? 15 * 60 * 1000;
    this.signal = options.signal;
    this.sleep = options.sleep ?? ((ms) => abortableDelay(ms, this.signal));
  }

  async run(sql: string, params: SqlValue[]): Promise<QueryResult> {
    const placeholders = countPlaceholders(sql);
    if (placeholders !== params.length) {
      throw new Error(`the query has ${placeholders} parameters (?) but ${params.length} values were given`);
    }
    const literals = params.map((value, i) => toAthenaLiteral(value, i));
    literals.forEach((literal, i) => {
      if (literal.length > MAX_PARAMETER_LENGTH) {
        throw new Error(
          `parameter ${i + 1} is ${literal.length} characters as a literal; Athena accepts at most ${MAX_PARAMETER_LENGTH}`,
        );
      }
    });
    this.throwIfAborted();

    const started = await this.client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        QueryExecutionContext: { Database: this.database, Catalog: this.catalog },
        WorkGroup: this.workGroup,
        ...(literals.length > 0 ? { ExecutionParameters: literals } : {}),
      }),
      { abortSignal: this.signal },
    );
    const id = started.QueryExecutionId;
    if (!id) throw new Error('Athena StartQueryExecution returned no QueryExecutionId');

    let statementType: string | undefined;
    try {
      statementType = await this.waitForCompletion(id);
    } catch (error) {
      if (this.signal?.aborted) {
        await this.stop(id);
        throw abortError(this.signal);
      }
      throw error;
    }
    return this.readResults(id, statementType);
  }

  async close(): Promise<void> {
    // The client belongs to the caller.
  }

  /** Polls until the query succeeds (returning its statement type) or throws on failure/timeout. */
  private async waitForCompletion(id: string): Promise<string | undefined> {
    const startedAt = Date.now();
    let slept = 0;
    let interval = this.pollIntervalMs;
    for (;;) {
      this.throwIfAborted();
      const { QueryExecution: execution } = await this.client.send(
        new GetQueryExecutionCommand({ QueryExecutionId: id }),
        { abortSignal: this.signal },
      );
      const status = execution?.Status;
      switch (status?.State) {
        case 'SUCCEEDED':
          return execution?.StatementType;
        case 'FAILED':
        case 'CANCELLED':
          throw new Error(describeFailure(id, status));
        default: // QUEUED, RUNNING (or not reported yet)
      }
      // Wall time, or the time slept when the sleep is virtual (tests): whichever is further.
      const elapsed = Math.max(Date.now() - startedAt, slept);
      if (elapsed >= this.timeoutMs) {
        await this.stop(id);
        throw new Error(
          `Athena query ${id} timed out after ${Math.round(elapsed / 1000)} s (still ${status?.State ?? 'pending'}); it was stopped`,
        );
      }
      const wait = Math.min(interval, this.timeoutMs - elapsed);
      await this.sleep(wait);
      slept += wait;
      interval = Math.min(interval * 2, this.maxPollIntervalMs);
    }
  }

  /** Best effort: the query may have finished meanwhile, and the caller's error matters more. */
  private async stop(id: string): Promise<void> {
    try {
      await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
    } catch {
      // ignored
    }
  }

  private async readResults(id: string, statementType: string | undefined): Promise<QueryResult> {
    let columnInfo: ColumnInfo[] | undefined;
    const rows: unknown[][] = [];
    let nextToken: string | undefined;
    let first = true;
    do {
      this.throwIfAborted();
      const page = await this.client.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: PAGE_SIZE, NextToken: nextToken }),
        { abortSignal: this.signal },
      );
      columnInfo ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      let pageRows = page.ResultSet?.Rows ?? [];
      // SELECT results start with a header row of the column names; DDL/utility output does not.
      const mayHaveHeader = statementType !== 'DDL' && statementType !== 'UTILITY';
      if (first && mayHaveHeader && isHeaderRow(pageRows[0], columnInfo)) pageRows = pageRows.slice(1);
      for (const row of pageRows) {
        const cells = values(row);
        rows.push(columnInfo.map((column, i) => convertCell(cells[i], column.Type)));
      }
      nextToken = page.NextToken;
      first = false;
    } while (nextToken);
    return { columns: (columnInfo ?? []).map((c) => c.Name ?? ''), rows };
  }

  private throwIfAborted(): void {
    if (this.signal?.aborted) throw abortError(this.signal);
  }
}

function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

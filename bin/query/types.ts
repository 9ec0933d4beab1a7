/** What `trailmap query` runs SQL on: DuckDB over a local dataset, or Athena over the Glue tables. */

export type SqlValue = string | number | boolean | null;

export interface QueryResult {
  columns: string[];
  /** Values as the engine returns them, converted to JSON-friendly scalars (arrays/objects as JSON values). */
  rows: unknown[][];
}

export interface QueryEngine {
  /** Runs one statement; `params` bind to its `?` placeholders in order (never spliced into the text). */
  run(sql: string, params: SqlValue[]): Promise<QueryResult>;
  close(): Promise<void>;
}

/**
 * The saved investigations in queries/*.sql, shared by `trailmap query --saved` (DuckDB or Athena)
 * and the CDK app's Athena named queries. Each file starts with header comments:
 *   -- name: principal-timeline
 *   -- description: what it answers
 *   -- param: principal text   The principal's ARN      (one line per `?`, in order)
 * Parameter kinds: `text`, `number`, `time` (ISO-8601, or relative like 24h / 7d on the command line).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const QUERIES_DIR = fileURLToPath(new URL('../queries', import.meta.url));

export type ParamKind = 'text' | 'number' | 'time';

export interface SavedQueryParam {
  name: string;
  kind: ParamKind;
  description: string;
}

export interface SavedQuery {
  name: string;
  description: string;
  params: SavedQueryParam[];
  /** The SQL without its header comments. */
  sql: string;
}

/**
 * Counts the `?` placeholders outside string literals ('…' with '' escapes), quoted identifiers
 * ("…", `…`) and comments (-- to end of line, block comments).
 */
export function countPlaceholders(sql: string): number {
  let count = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === '?') {
      count++;
      i++;
    } else if (ch === "'" || ch === '"' || ch === '`') {
      // A doubled quote inside a quoted run is an escaped quote: skip both and stay inside.
      i++;
      while (i < sql.length) {
        if (sql[i] === ch) {
          if (sql[i + 1] === ch) i += 2;
          else break;
        } else i++;
      }
      i++;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i + 2);
      i = end === -1 ? sql.length : end + 1;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else i++;
  }
  return count;
}

export function parseSavedQuery(file: string, text: string): SavedQuery {
  const name = /^-- name: (.+)$/m.exec(text)?.[1]?.trim();
  const description = /^-- description: (.+)$/m.exec(text)?.[1]?.trim();
  if (!name || !description) throw new Error(`${file}: needs "-- name:" and "-- description:" header lines`);
  const params = [...text.matchAll(/^-- param: (\w+) (text|number|time)\s+(.+)$/gm)].map((m) => ({
    name: m[1],
    kind: m[2] as ParamKind,
    description: m[3].trim(),
  }));
  const sql = text
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n')
    .trim();
  const count = countPlaceholders(sql);
  if (count !== params.length) {
    throw new Error(`${file}: ${count} placeholders (?) but ${params.length} "-- param:" lines`);
  }
  return { name, description, params, sql };
}

export function loadSavedQueries(dir: string = QUERIES_DIR): SavedQuery[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => parseSavedQuery(file, readFileSync(join(dir, file), 'utf8')));
}

/** Turns `--param name=value` values into bound values, in placeholder order. */
export function bindParams(
  query: SavedQuery,
  given: Record<string, string>,
  now = Date.now(),
): (string | number)[] {
  const unknown = Object.keys(given).filter((key) => !query.params.some((p) => p.name === key));
  if (unknown.length > 0) throw new Error(`${query.name}: unknown parameter ${unknown.join(', ')}`);
  return query.params.map((param) => {
    const value = given[param.name];
    if (value === undefined)
      throw new Error(`${query.name}: missing --param ${param.name}=… (${param.description})`);
    if (param.kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`${query.name}: ${param.name} must be a number`);
      return n;
    }
    if (param.kind === 'time') {
      const relative = /^(\d+)([hd])$/.exec(value);
      if (relative) {
        const ms = Number(relative[1]) * (relative[2] === 'h' ? 3_600_000 : 86_400_000);
        return new Date(now - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
      }
      if (Number.isNaN(Date.parse(value)))
        throw new Error(`${query.name}: ${param.name} must be an ISO time or like 24h / 7d`);
      return value;
    }
    return value;
  });
}

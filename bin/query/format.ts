/** Printing query results: an aligned table for people, JSON or CSV for programs. */
import { printable } from '../../engine/timeline.ts';
import type { QueryResult } from './types.ts';
import { maxOf } from '../../engine/arrays.ts';

export type OutputFormat = 'table' | 'json' | 'csv';

const cellText = (value: unknown): string =>
  value === null || value === undefined
    ? ''
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);

/** JSON: an array of objects keyed by column name. */
export function toJson(result: QueryResult): string {
  const objects = result.rows.map((row) =>
    Object.fromEntries(result.columns.map((c, i) => [c, row[i] ?? null])),
  );
  return `${JSON.stringify(objects, null, 2)}\n`;
}

/** CSV (RFC 4180): quoted when needed; cells starting with = + - @ are prefixed so spreadsheets do not run them. */
export function toCsv(result: QueryResult): string {
  const quote = (text: string) => {
    const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
    return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
  };
  const lines = [
    result.columns.map(quote).join(','),
    ...result.rows.map((row) => row.map((v) => quote(cellText(v))).join(',')),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** A text table, cells cut at `maxWidth` and control characters removed. */
export function toTable(result: QueryResult, maxWidth = 60): string {
  const cut = (text: string) => {
    const clean = printable(text);
    return clean.length > maxWidth ? `${clean.slice(0, maxWidth - 1)}…` : clean;
  };
  const cells = [result.columns.map(cut), ...result.rows.map((row) => row.map((v) => cut(cellText(v))))];
  const widths = result.columns.map((_, i) => maxOf(cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  const count = `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`;
  return `${[line(cells[0]), rule, ...cells.slice(1).map(line), count].join('\n')}\n`;
}

export function formatResult(result: QueryResult, format: OutputFormat): string {
  return format === 'json' ? toJson(result) : format === 'csv' ? toCsv(result) : toTable(result);
}

/** The saved investigations in queries/*.sql: name and description from their header comments. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const QUERIES_DIR = fileURLToPath(new URL('../queries', import.meta.url));

export interface SavedQuery {
  name: string;
  description: string;
  sql: string;
}

export function loadSavedQueries(dir: string = QUERIES_DIR): SavedQuery[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      const name = /^-- name: (.+)$/m.exec(text)?.[1]?.trim();
      const description = /^-- description: (.+)$/m.exec(text)?.[1]?.trim();
      if (!name || !description)
        throw new Error(`${file}: needs "-- name:" and "-- description:" header lines`);
      const sql = text
        .split('\n')
        .filter((line) => !line.startsWith('--'))
        .join('\n')
        .trim();
      return { name, description, sql };
    });
}

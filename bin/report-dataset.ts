/** Reads an enriched dataset folder (`<table>/dt=…/*.jsonl.gz`) into rows for the report. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DatasetTables } from '../engine/report-dataset.ts';
import type { InputProblem } from '../engine/types.ts';

const TABLE_NAMES = ['sessions', 'signals', 'event_signals', 'detections'] as const;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return filesUnder(path);
      return Promise.resolve(/\.jsonl(\.gz)?$/.test(entry.name) ? [path] : []);
    }),
  );
  return nested.flat().sort();
}

export async function readDatasetTables(
  dir: string,
  maxBytes: number,
): Promise<{ tables: DatasetTables; problems: InputProblem[] }> {
  if (!(await stat(dir).catch(() => null))?.isDirectory()) {
    return {
      tables: { sessions: [], signals: [], event_signals: [], detections: [] },
      problems: [{ source: dir, reason: 'not a folder (expected an enriched dataset written by --out)' }],
    };
  }
  const problems: InputProblem[] = [];
  const tables: DatasetTables = { sessions: [], signals: [], event_signals: [], detections: [] };
  for (const table of TABLE_NAMES) {
    for (const file of await filesUnder(join(dir, table))) {
      const source = relative(process.cwd(), file) || file;
      try {
        const bytes = await readFile(file);
        const text = (
          file.endsWith('.gz') ? gunzipSync(bytes, { maxOutputLength: maxBytes }) : bytes
        ).toString('utf8');
        text.split('\n').forEach((line, index) => {
          if (!line.trim()) return;
          try {
            const row = JSON.parse(line);
            if (row && typeof row === 'object' && !Array.isArray(row)) tables[table].push(row);
            else problems.push({ source, index, reason: 'line is not a JSON object' });
          } catch {
            problems.push({ source, index, reason: 'line is not JSON' });
          }
        });
      } catch (error) {
        problems.push({ source, reason: `unreadable: ${(error as Error).message}` });
      }
    }
  }
  if (tables.event_signals.length === 0) {
    problems.push({ source: dir, reason: 'no event_signals rows: is this an enriched dataset folder?' });
  }
  return { tables, problems };
}

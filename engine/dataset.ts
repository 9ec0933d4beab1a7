/**
 * Writing the enriched dataset: `<table>/dt=YYYY-MM-DD/<part>.jsonl.gz`, the layout the cloud
 * pipeline writes under `enriched/`, so the same SQL runs on both.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type DatasetRows, partitionOf } from './tables.ts';
import { pushTo } from './arrays.ts';

/** Partition time of each table's rows. */
const TIME_FIELD: Record<keyof DatasetRows, string> = {
  signals: 'first_event_time',
  sessions: 'start_time',
  event_signals: 'event_time',
  detections: 'event_time',
};

export interface WrittenObject {
  key: string;
  rows: number;
}

/** Groups rows into objects keyed `<table>/dt=<day>/<part>.jsonl.gz`; pure, so S3 and disk share it. */
export function datasetObjects(
  rows: DatasetRows,
  part: string,
): { key: string; body: Buffer; rows: number }[] {
  const objects: { key: string; body: Buffer; rows: number }[] = [];
  for (const table of Object.keys(TIME_FIELD) as (keyof DatasetRows)[]) {
    const byDay = new Map<string, unknown[]>();
    for (const row of (rows[table] ?? []) as Record<string, unknown>[]) {
      const day = partitionOf(String(row[TIME_FIELD[table]]));
      pushTo(byDay, day, row);
    }
    for (const [day, dayRows] of [...byDay.entries()].sort()) {
      const text = `${dayRows.map((row) => JSON.stringify(row)).join('\n')}\n`;
      objects.push({
        key: `${table}/dt=${day}/${part}.jsonl.gz`,
        body: gzipSync(text),
        rows: dayRows.length,
      });
    }
  }
  return objects;
}

export async function writeDataset(dir: string, rows: DatasetRows, part = 'local'): Promise<WrittenObject[]> {
  const written: WrittenObject[] = [];
  for (const object of datasetObjects(rows, part)) {
    const path = join(dir, object.key);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, object.body);
    written.push({ key: object.key, rows: object.rows });
  }
  return written;
}

/**
 * Record shapes of real trails: every eventVersion from 1.04 to 1.11, service events with no caller
 * (or only the service that acted), and the 584 real records of TrailDiscover's log examples
 * (`../shared/traildiscover/logExamples/*.json.cloudtrail`, files not named like log files).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dedupe, enrich } from '../../engine/enrich.ts';
import { readInputs } from '../../engine/read.ts';
import { loadRules } from '../../engine/rules/load.ts';
import type { CloudTrailRecord } from '../../engine/types.ts';
import { SERVICE_EVENTS, VERSIONED_RECORDS } from './record-shapes.fixtures.ts';

const LOG_EXAMPLES = fileURLToPath(new URL('../../../shared/traildiscover/logExamples', import.meta.url));

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailmap-shapes-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('record shapes of real trails', () => {
  it('reads every eventVersion from 1.04 to 1.11 and service events without a caller, with no problem', async () => {
    const path = join(dir, 'shapes.json');
    await writeFile(path, JSON.stringify({ Records: [...VERSIONED_RECORDS, ...SERVICE_EVENTS] }));
    for (const bodies of ['all', 'console'] as const) {
      const result = await readInputs([path], { bodies });
      expect(result.problems).toEqual([]);
      expect(result.events.map((e) => e.id)).toEqual(
        [...VERSIONED_RECORDS, ...SERVICE_EVENTS].map((r) => r.eventID),
      );
      expect(result.events.map((e) => e.ref)).toContain('backup:BackupJobCompleted');
    }
    expect(VERSIONED_RECORDS.map((r) => r.eventVersion)).toEqual([
      '1.04',
      '1.05',
      '1.06',
      '1.07',
      '1.08',
      '1.09',
      '1.10',
      '1.11',
    ]);
  });

  it('counts service events as calls outside console sessions, not as a session of unknown callers', async () => {
    const path = join(dir, 'service.json');
    await writeFile(path, JSON.stringify({ Records: SERVICE_EVENTS }));
    const { events } = await readInputs([path]);
    const result = enrich(events, loadRules());
    expect(result.sessions).toEqual([]);
    expect(result.otherCount).toBe(SERVICE_EVENTS.length);
  });
});

/** The records of one TrailDiscover example file, parsed here (a list, a log document or one record). */
function recordsIn(file: string): unknown[] {
  const value = JSON.parse(readFileSync(join(LOG_EXAMPLES, file), 'utf8')) as unknown;
  if (Array.isArray(value)) return value;
  const records = (value as { Records?: unknown }).Records;
  return Array.isArray(records) ? records : [value];
}

describe('TrailDiscover log examples (../shared, real records of eventVersion 1.04 to 1.11)', () => {
  const files = readdirSync(LOG_EXAMPLES).sort();
  const examples = files.filter((f) => f.endsWith('.json.cloudtrail'));
  const expected = examples.flatMap((file) =>
    recordsIn(file).map((record, index) => ({ source: join(LOG_EXAMPLES, file), index, record })),
  );

  it('holds what this test expects: hundreds of record files not named like log files, and two that are not records', () => {
    expect(examples.length).toBeGreaterThanOrEqual(580);
    expect(files.filter((f) => !examples.includes(f))).toEqual(['index.html', 'script.js']);
    expect(expected.length).toBeGreaterThan(500);
    const versions = new Set(expected.map(({ record }) => (record as CloudTrailRecord).eventVersion));
    for (const version of ['1.04', '1.08', '1.09', '1.10', '1.11']) expect(versions).toContain(version);
  });

  it('reads the whole folder: every record an event, zero problems, the page and script skipped with a reason', async () => {
    for (const workers of [1, 2]) {
      const result = await readInputs([LOG_EXAMPLES], { workers });
      expect(result.problems).toEqual([]);
      expect(result.events.map((e) => [e.origin.source, e.origin.index])).toEqual(
        expected.map((e) => [e.source, e.index]),
      );
      expect(result.events.map((e) => e.record)).toEqual(expected.map((e) => e.record));
      expect(result.sources).toEqual(examples.map((f) => join(LOG_EXAMPLES, f)));
      expect(result.skipped).toEqual([
        {
          source: join(LOG_EXAMPLES, 'index.html'),
          reason: 'not CloudTrail content (neither gzip nor JSON)',
        },
        { source: join(LOG_EXAMPLES, 'script.js'), reason: 'not CloudTrail content (neither gzip nor JSON)' },
      ]);
      expect(result.empty).toEqual([]);
      expect(result.insightsSkipped).toBe(0);
    }
  });

  it('the same records published under two names are exact duplicates, not conflicts', async () => {
    const { events } = await readInputs([LOG_EXAMPLES]);
    const { unique, duplicates, conflicts } = dedupe(events);
    expect(conflicts).toEqual([]);
    expect(duplicates).toBeGreaterThan(100);
    expect(unique.length + duplicates).toBe(events.length);
    expect(new Set(unique.map((e) => e.id)).size).toBe(unique.length);
  });
});

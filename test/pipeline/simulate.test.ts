/**
 * `trailmap simulate`: the real handlers on local emulators, fed the example trail as CloudTrail
 * would deliver it (shuffled, duplicated, late), end with what `trailmap enrich` gives offline.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulate, type SimulationReport } from '../../bin/simulate.ts';
import { type Enrichment, enrich } from '../../engine/enrich.ts';
import { RuleIndex } from '../../engine/map.ts';
import { detect, loadDetections } from '../../engine/detect.ts';
import { readInputs } from '../../engine/read.ts';
import { loadRules } from '../../engine/rules/load.ts';
import type { SignalRule } from '../../engine/rules/model.ts';
import { canonical, EXAMPLE_TRAIL, jsonLines, offlineRows, type Rows } from './helpers.ts';
import { append } from '../../engine/arrays.ts';

let rules: SignalRule[];
let offline: Enrichment;
let temp: string;

beforeAll(async () => {
  rules = loadRules();
  offline = enrich((await readInputs([EXAMPLE_TRAIL])).events, rules);
  temp = await mkdtemp(join(tmpdir(), 'trailmap-simulate-test-'));
});

afterAll(async () => {
  if (temp) await rm(temp, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** Every row of a downloaded dataset folder, by table. */
async function folderRows(dir: string, files: string[]): Promise<Rows> {
  const rows: Rows = { signals: [], sessions: [], event_signals: [] };
  for (const file of files) {
    const table = file.split('/')[0] as keyof Rows;
    if (table in rows) append(rows[table], jsonLines(await readFile(join(dir, file))));
  }
  return canonical(rows);
}

function expectSessionsOfEnrich(report: SimulationReport) {
  const consoleSessions = offline.sessions.filter((s) => s.summary.kind === 'console');
  expect(consoleSessions.length).toBeGreaterThanOrEqual(3);
  expect(report.sessions.map((s) => s.id).sort()).toEqual(consoleSessions.map((s) => s.summary.id).sort());
  for (const session of consoleSessions) {
    expect(report.sessions.find((s) => s.id === session.summary.id)).toMatchObject({ ...session.summary });
  }
}

describe('simulate', () => {
  it.each([1, 20260302])(
    'seed %i: the enriched prefix equals `trailmap enrich` on the same folder',
    async (seed) => {
      const outDir = join(temp, `out-${seed}`);
      const report = await simulate(EXAMPLE_TRAIL, { rules, seed, outDir });

      expect(report.matchesEnrich).toBe(true);
      expect(report.rejectedObjects).toEqual([]);
      expect(report.lastFlush?.failedPartitions).toBe(0);
      expect(report.notifications).toBeGreaterThanOrEqual(report.objects);
      expectSessionsOfEnrich(report);
      const signals = offline.sessions.flatMap((s) => s.signals);
      expect(report.signalsWritten).toBe(signals.length);

      // The downloaded folder: the session tables, partitioned by day, one object per session and day.
      const files = await filesUnder(outDir);
      expect(files).toEqual(report.enrichedObjects.map((key) => key.replace(/^enriched\//, '')).sort());
      for (const table of ['signals', 'sessions', 'event_signals']) {
        const parts = files.filter((f) => f.startsWith(`${table}/`));
        expect(parts.length, table).toBeGreaterThan(0);
        for (const part of parts)
          expect(part).toMatch(new RegExp(`^${table}/dt=\\d{4}-\\d{2}-\\d{2}/s-[0-9a-f]+\\.jsonl\\.gz$`));
      }
      const days = new Set(signals.map((s) => s.firstEventTime.slice(0, 10)));
      for (const day of days) expect(files.some((f) => f.startsWith(`signals/dt=${day}/`))).toBe(true);
      const records = (await readInputs([EXAMPLE_TRAIL])).events.map((e) => e.record);
      expect(await folderRows(outDir, files)).toEqual(offlineRows(records, new RuleIndex(rules)));
      // Detections are written by ingest, one object per trail object: the same hits as `trailmap detect`.
      const detectionRows: ReturnType<typeof jsonLines> = [];
      for (const file of files.filter((f) => f.startsWith('detections/'))) {
        append(detectionRows, jsonLines(await readFile(join(outDir, file))));
      }
      const hits = detect((await readInputs([EXAMPLE_TRAIL])).events, loadDetections());
      expect([...new Set(detectionRows.map((r) => r.id))].sort()).toEqual(hits.map((h) => h.id).sort());
      // A record CloudTrail delivered in two objects is detected in both: the same row, twice.
      const byId = new Map<unknown, string>();
      for (const row of detectionRows) {
        const text = JSON.stringify(row);
        expect(byId.get(row.id) ?? text).toBe(text);
        byId.set(row.id, text);
      }
    },
  );

  it('lists a truncated object in rejectedObjects and still matches `trailmap enrich`', async () => {
    const folder = join(temp, 'trail-with-bad-object');
    await cp(EXAMPLE_TRAIL, folder, { recursive: true });
    const logs = (await filesUnder(folder)).filter(
      (f) => f.includes('/CloudTrail/') && f.endsWith('.json.gz'),
    );
    expect(logs.length).toBeGreaterThan(0);
    const sample = logs[0];
    const directory = sample.slice(0, sample.lastIndexOf('/'));
    const badKey = `${directory}/${sample
      .split('/')
      .pop()!
      .replace(/_[A-Za-z0-9]{16}\.json\.gz$/, '_TruncatedObject1.json.gz')}`;
    expect(badKey).not.toBe(sample);
    // A real log object cut short, as an interrupted upload would leave it.
    const valid = await readFile(join(folder, sample));
    await writeFile(join(folder, badKey), valid.subarray(0, Math.floor(valid.length / 2)));

    const report = await simulate(folder, { rules, seed: 5 });

    expect(report.matchesEnrich).toBe(true);
    expect(report.rejectedObjects.length).toBeGreaterThanOrEqual(1);
    expect(new Set(report.rejectedObjects.map((r) => r.key))).toEqual(new Set([badKey]));
    for (const rejected of report.rejectedObjects) expect(rejected.reason).toMatch(/gzip/i);
    expectSessionsOfEnrich(report);
  });
});

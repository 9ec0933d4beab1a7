/**
 * Load: 2,000 objects / 500,000 events of a synthetic organization trail through `trailmap
 * simulate` (the real ingest and flush handlers on s3rver + dynalite, shuffled delivery with
 * duplicates). Every input event is accounted for and no signal is written twice.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticTrail, type SyntheticTrail } from '../../bench/synthetic-trail.ts';
import { simulate, type SimulationReport } from '../../bin/simulate.ts';
import { enrich } from '../../engine/enrich.ts';
import { readInputs } from '../../engine/read.ts';
import { loadRules } from '../../engine/rules/load.ts';

const EVENTS = 500_000;
let dir: string;
let trail: SyntheticTrail;
let report: SimulationReport;

async function rows(table: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const base = join(dir, 'enriched', table);
  for (const entry of await readdir(base, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const text = gunzipSync(await readFile(join(entry.parentPath, entry.name))).toString('utf8');
    for (const line of text.split('\n')) if (line) out.push(JSON.parse(line));
  }
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailmap-load-'));
  // 12 accounts × 4 regions × 42 five-minute windows = 2,016 objects.
  trail = await writeSyntheticTrail(join(dir, 'trail'), {
    events: EVENTS,
    hours: 3.5,
    accounts: 12,
    seed: 11,
  });
  report = await simulate(trail.dir, {
    rules: loadRules(),
    seed: 5,
    duplicateRate: 0.05,
    outDir: join(dir, 'enriched'),
  });
}, 1_800_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe(`load: ${EVENTS.toLocaleString('en-US')} events through simulate`, () => {
  it('reads about 2,000 objects and rejects none', () => {
    expect(trail.events).toBe(EVENTS);
    expect(trail.objects).toBeGreaterThanOrEqual(2000);
    expect(report.objects).toBe(trail.objects);
    expect(report.rejectedObjects).toEqual([]);
  });

  it('accounts for every console event exactly once, and writes every signal once', async () => {
    const offline = enrich((await readInputs([trail.dir], { workers: 2 })).events, loadRules());
    const consoleIds = offline.events.filter((e) => e.sessionId).map((e) => e.eventId);
    expect(consoleIds.length).toBeGreaterThan(EVENTS * 0.15);
    expect(consoleIds.length + offline.other.length).toBe(EVENTS);
    const eventRows = await rows('event_signals');
    const seen = eventRows.map((r) => r.event_id as string);
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set(consoleIds));
    const signals = await rows('signals');
    const ids = signals.map((r) => r.id as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(report.signalsWritten);
    expect(report.matchesEnrich).toBe(true);
  });
});

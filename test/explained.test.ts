/**
 * Nothing a person did stays hidden: on the bundled example and on a generated organization trail,
 * every console call is inside a signal (a recognised action, background polling or a generic
 * signal), and every console write that changes something is inside a signal of risk medium or
 * above.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticTrail } from '../bench/synthetic-trail.ts';
import { type Enrichment, enrich } from '../engine/enrich.ts';
import { isChange } from '../engine/generic.ts';
import { readInputs } from '../engine/read.ts';
import { loadRules } from '../engine/rules/load.ts';
import { riskAtLeast } from '../engine/session-summary.ts';
import { isConsoleEvent } from '../engine/sessionize.ts';
import type { Signal, TrailEvent } from '../engine/types.ts';
import { EXAMPLE_DIR } from '../scripts/make-example.ts';

interface Case {
  name: string;
  events: TrailEvent[];
  result: Enrichment;
}

const cases: Case[] = [];
let dir: string;

beforeAll(async () => {
  const rules = loadRules();
  dir = await mkdtemp(join(tmpdir(), 'trailmap-explained-'));
  const synthetic = await writeSyntheticTrail(join(dir, 'trail'), {
    events: 12_000,
    consoleShare: 0.5,
    hours: 4,
    accounts: 3,
    seed: 11,
  });
  for (const [name, folder] of [
    ['examples/trail', EXAMPLE_DIR],
    ['a generated organization trail', synthetic.dir],
  ]) {
    const { events } = await readInputs([folder]);
    cases.push({ name, events, result: enrich(events, rules) });
  }
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const signalOf = (result: Enrichment) => {
  const byEvent = new Map<string, Signal>();
  for (const session of result.sessions)
    for (const s of session.signals) for (const id of s.eventIds) byEvent.set(id, s);
  return byEvent;
};

describe.each([
  ['examples/trail', 0],
  ['a generated organization trail', 1],
] as const)('%s', (name, index) => {
  it('puts every console call inside a signal', () => {
    const { events, result } = cases[index];
    const byEvent = signalOf(result);
    const console = events.filter((e) => isConsoleEvent(e.record));
    expect(console.length).toBeGreaterThan(500);
    const unexplained = console.filter((e) => !byEvent.has(e.id)).map((e) => `${e.ref} ${e.id}`);
    expect(unexplained, name).toEqual([]);
    // Session events that are not themselves console calls (back ends, AWS Internal) too.
    const inSessions = result.events.filter((e) => e.sessionId !== null);
    expect(inSessions.filter((e) => e.signalId === null)).toEqual([]);
  });

  it('puts every console write inside a signal of risk medium or above', () => {
    const { result } = cases[index];
    const byEvent = signalOf(result);
    const changes = cases[index].events.filter((e) => byEvent.has(e.id) && isChange(e));
    expect(changes.length).toBeGreaterThan(index === 0 ? 10 : 50);
    const low = changes
      .filter((e) => !riskAtLeast(byEvent.get(e.id)!.risk, 'medium'))
      .map((e) => `${e.ref} in ${byEvent.get(e.id)!.label} (${byEvent.get(e.id)!.risk})`);
    expect(low, name).toEqual([]);
  });

  it('shows writes no rule recognises as generic signals of their own', () => {
    const generic = cases[index].result.sessions
      .flatMap((s) => s.signals)
      .filter((s) => s.kind === 'generic');
    const writes = generic.filter((s) => !s.label.endsWith(':PageView'));
    expect(writes.map((s) => s.label)).toEqual(expect.arrayContaining(['generic:rds:DeleteDBInstance']));
    for (const s of writes) expect(s.eventCount).toBe(1);
    const deleted = writes.find((s) => s.label === 'generic:rds:DeleteDBInstance')!;
    expect(deleted.risk).toBe('high');
  });
});

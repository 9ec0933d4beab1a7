/** Reading on worker threads, and dropping bodies no console session needs, change nothing enrich says. */
import { describe, expect, it } from 'vitest';
import { enrich } from '../../engine/enrich.ts';
import { readInputs } from '../../engine/read.ts';
import { loadRules } from '../../engine/rules/load.ts';

const rules = loadRules();

describe('readInputs with workers and console-only bodies', () => {
  it('gives the same events (ids, times, origins), problems, and the same enrichment as a plain read', async () => {
    const plain = await readInputs(['examples/trail']);
    const fast = await readInputs(['examples/trail'], { workers: 2, bodies: 'console' });
    const shape = (r: typeof plain) =>
      r.events.map((e) => [e.id, e.time, e.ref, e.origin.source, e.origin.index]);
    expect(shape(fast)).toEqual(shape(plain));
    expect(fast.sources).toEqual(plain.sources);
    expect(fast.problems).toEqual(plain.problems);
    // Bodies were dropped for some records, kept for every console one.
    expect(fast.events.some((e) => e.record.userAgent === undefined)).toBe(true);
    const a = enrich(plain.events, rules);
    const b = enrich(fast.events, rules);
    expect(b.sessions.map((s) => s.summary)).toEqual(a.sessions.map((s) => s.summary));
    expect(b.sessions.flatMap((s) => s.signals)).toEqual(a.sessions.flatMap((s) => s.signals));
    expect(b.events).toEqual(a.events);
    expect(b.other.map((e) => e.id)).toEqual(a.other.map((e) => e.id));
  });

  it('reports unreadable files from the worker threads like a plain read', async () => {
    const inputs = ['examples/trail', 'no/such/file.json'];
    const plain = await readInputs(inputs);
    const fast = await readInputs(inputs, { workers: 2 });
    expect(fast.problems).toEqual(plain.problems);
    expect(fast.events.length).toBe(plain.events.length);
  });
});

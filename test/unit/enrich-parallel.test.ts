/**
 * Enriching on threads, each owning some principals, says exactly what enriching everything in one
 * place says: sessions, signals, per-event list, counts, problems.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticTrail } from '../../bench/synthetic-trail.ts';
import { enrich, type EnrichmentSummary } from '../../engine/enrich.ts';
import { enrichFilesInThreads, type ThreadedEnrichOptions } from '../../engine/enrich-parallel.ts';
import { buildEventFilter } from '../../engine/filter.ts';
import { listInputFiles, readInputs } from '../../engine/read.ts';
import { loadRules } from '../../engine/rules/load.ts';
import type { AddressLookup, EventEnrichment } from '../../engine/types.ts';

const rules = loadRules();
/** A lookup with a visible effect on every address, so merging must place them. */
const lookup: AddressLookup = (address) => ({
  kind: 'public',
  country: address.startsWith('100.') ? 'NZ' : 'FR',
  asn: address.length,
  asOrg: `net ${address.length}`,
});

let dir: string;
let files: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trailmap-threads-'));
  const trail = join(dir, 'trail');
  await writeSyntheticTrail(trail, { events: 30_000, accounts: 3, hours: 1, seed: 7 });
  const extra = join(trail, 'extra');
  mkdirSync(extra);
  // The same records delivered twice, in a later file: de-duplicated across threads.
  const listed = await listInputFiles([trail]);
  copyFileSync(listed.files[3], join(extra, `again-${basename(listed.files[3])}`));
  // Records with no identity at all (one session per file), a broken file, a record with a bad field.
  writeFileSync(
    join(extra, 'anonymous.json'),
    JSON.stringify({
      Records: [
        {
          eventID: 'anon-1',
          eventTime: '2026-03-02T00:10:00Z',
          eventSource: 's3.amazonaws.com',
          eventName: 'ListBuckets',
        },
        {
          eventID: 'anon-2',
          eventTime: '2026-03-02T00:10:01Z',
          eventSource: 's3.amazonaws.com',
          eventName: 'GetBucketAcl',
        },
      ],
    }),
  );
  writeFileSync(join(extra, 'broken.json.gz'), 'not gzip at all');
  writeFileSync(
    join(extra, 'odd.json'),
    JSON.stringify({
      Records: [
        { eventID: 'odd-1', eventTime: 42, eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' },
      ],
    }),
  );
  files = (await listInputFiles([trail])).files;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entries = (e: EnrichmentSummary): EventEnrichment[] => e.events;

/** The addresses each threaded run asked to locate. */
let asked: string[] = [];

async function bothWays(options: Partial<ThreadedEnrichOptions> & { threads: number }) {
  const threaded = await enrichFilesInThreads(files, {
    maxBytes: 1 << 30,
    rules: () => rules,
    filter: {},
    locate: async (addresses) => {
      asked = addresses;
      return lookup;
    },
    eventList: true,
    ...options,
  });
  const read = await readInputs(files, { bodies: 'console' });
  const keep = buildEventFilter(options.filter ?? {});
  const here = enrich(read.events.filter(keep), rules, { lookup });
  return { threaded, read, here, kept: read.events.filter(keep).length };
}

describe('enrichFilesInThreads', () => {
  it('gives what enriching in one place gives, on two and on three threads', async () => {
    for (const threads of [2, 3]) {
      const { threaded, read, here, kept } = await bothWays({ threads });
      const result = threaded.enrichment;
      expect(here.sessions.length).toBeGreaterThan(10);
      expect(result.sessions).toEqual(here.sessions);
      expect(result.sessions.some((s) => s.summary.kind === 'file')).toBe(true);
      expect(result.sessions[0].summary.sourceLocations.length).toBeGreaterThan(0);
      // Asked once for each distinct session address, and nothing else.
      expect([...asked].sort()).toEqual(
        [...new Set(here.sessions.flatMap((s) => s.summary.sourceIps))].sort(),
      );
      expect(entries(result)).toEqual(entries(here));
      expect(result.otherCount).toBe(here.otherCount);
      expect(result.duplicateEventCount).toBe(here.duplicateEventCount);
      expect(result.duplicateEventCount).toBeGreaterThan(0);
      expect(threaded.problems).toEqual(read.problems);
      expect(threaded.problems.map((p) => basename(p.source))).toEqual(['broken.json.gz', 'odd.json']);
      expect(threaded.sources).toEqual(read.sources);
      expect(threaded.eventCount).toBe(kept);
    }
  });

  it('applies --action and time filters on the threads as in one place', async () => {
    const filter = {
      actions: ['ec2:*', 'signin:*', 's3:*'],
      from: '2026-03-02T00:05:00Z',
      to: '2026-03-02T00:40:00Z',
    };
    const { threaded, here, kept } = await bothWays({ threads: 2, filter });
    expect(kept).toBeGreaterThan(0);
    expect(threaded.eventCount).toBe(kept);
    expect(threaded.enrichment.sessions).toEqual(here.sessions);
    expect(entries(threaded.enrichment)).toEqual(entries(here));
  });

  it('does not build the per-event list unless asked, and says so when it is read', async () => {
    const { enrichment } = await enrichFilesInThreads(files, {
      threads: 2,
      maxBytes: 1 << 30,
      rules: () => rules,
      filter: {},
      eventList: false,
    });
    expect(enrichment.sessions.length).toBeGreaterThan(0);
    expect(() => enrichment.events).toThrow(/per-event list was not asked for/);
  });

  it('stops with the error when the rules cannot be loaded, leaving no thread behind', async () => {
    const run = enrichFilesInThreads(files, {
      threads: 2,
      maxBytes: 1 << 30,
      rules: () => {
        throw new Error('rules folder is unreadable');
      },
      filter: {},
      eventList: false,
    });
    await expect(run).rejects.toThrow('rules folder is unreadable');
  });
});

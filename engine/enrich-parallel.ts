/**
 * Enriching many files on several cores. Each thread (engine/enrich-worker.ts) takes the next
 * unread file from a shared counter, reads it, and sends every record to the thread that owns its
 * principal (engine/route.ts `threadOf`); once all files are read, each thread de-duplicates,
 * sessionizes and maps its own principals. Sessions never span principals, so the union of the
 * threads' results is what enriching everything in one place gives; this thread merges them and
 * places source addresses. It is free meanwhile (files are claimed without it) to check the rules.
 *
 * Records are passed on with their bodies dropped where no console session can contain them
 * (`bodies: 'console'`), so this path serves what needs no record bodies: sessions, signals and the
 * per-event list, not detections.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { MessageChannel } from 'node:worker_threads';
import {
  compareProblems,
  compareSessions,
  mergeTimedEvents,
  type EnrichedSession,
  type EnrichmentSummary,
  type RecordCopy,
  resolveCopies,
  type TimedEventEnrichment,
} from './enrich.ts';
import type { EventFilterOptions } from './filter.ts';
import type { FileOutcome } from './read.ts';
import type { WorkerFileRead } from './read-parallel.ts';
import { type CheckedRuleSpec, checkedSpecsOf } from './rules/compile.ts';
import type { SignalRule } from './rules/model.ts';
import { locateSession } from './session-summary.ts';
import { startThread } from './threads.ts';
import type { AddressLookup, EventEnrichment, InputProblem } from './types.ts';

/** One file's records that one thread owns, as they travel between threads. */
export interface OwnedPart {
  file: string;
  records: WorkerFileRead;
}

export type ToEnrichThread =
  | {
      type: 'setup';
      /** This thread's number, and how many there are. */
      self: number;
      count: number;
      /** A port to every other thread, by number (null at `self`). */
      peers: (MessagePort | null)[];
      files: string[];
      /** Per file: read only if its content is CloudTrail (engine/read.ts `InputFiles`). */
      byContent: readonly boolean[];
      /** The time eventTimes may not be more than a day after. */
      now: number;
      /** One Int32: the position of the next file to read, claimed with Atomics.add. */
      nextFile: SharedArrayBuffer;
      /** `--action` and time filters (no `--match`: that needs every record body). */
      filter: Omit<EventFilterOptions, 'match'>;
      maxBytes: number;
      /** Whether to send back the per-event list. */
      eventList: boolean;
    }
  /** The signal rules, checked here; a thread enriches once it has them and every record it owns. */
  | { type: 'rules'; specs: CheckedRuleSpec[] }
  /** Hashes of the eventIDs more than one thread owns (sorted): their copies are settled here. */
  | { type: 'shared'; hashes: Uint32Array }
  /** What became of those copies: per handle, its id, or null (a duplicate, dropped). */
  | { type: 'resolved'; decisions: [number, string | null][] };

/** A copy of a record whose eventID another thread may own too, as a thread sends it. */
export interface SharedCopy extends RecordCopy {
  id: string;
  /** The copy's place in the sending thread. */
  handle: number;
}

/** FNV-1a of an eventID: which ids two threads may share, told in 4 bytes an id. */
export function idHash(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

export type BetweenEnrichThreads =
  | { type: 'records'; records: OwnedPart }
  /** The sending thread has read its last file and passed on all of it. */
  | { type: 'end' };

export type FromEnrichThread =
  | {
      type: 'read';
      position: number;
      read: boolean;
      problems: InputProblem[];
      /** Events kept by the filters. */
      eventCount: number;
      /** Events read, before the filters. */
      readCount: number;
      insights: number;
      skipped?: string;
    }
  /** The hashes of the eventIDs this thread owns, sorted, once it has all its records. */
  | { type: 'ids'; hashes: Uint32Array }
  /** Every copy of the records whose id hash is shared. */
  | { type: 'copies'; copies: SharedCopy[] }
  | {
      type: 'enriched';
      sessions: EnrichedSession[];
      otherCount: number;
      duplicateEventCount: number;
      /** Records kept under a new id (same eventID, different content), settled on this thread. */
      conflicts: InputProblem[];
      timedEvents: TimedEventEnrichment[] | null;
    };

export interface ThreadedEnrichOptions {
  threads: number;
  maxBytes: number;
  /** Loads (and checks) the signal rules; called once the threads are reading. */
  rules: () => readonly SignalRule[];
  filter: Omit<EventFilterOptions, 'match'>;
  /** Places the sessions' source addresses, once they are known. */
  locate?: (addresses: string[]) => Promise<AddressLookup>;
  /** Keep the per-event list (`events`); otherwise it is not built at all. */
  eventList: boolean;
  /** Per file: read only if its content is CloudTrail (engine/read.ts `InputFiles`). @default none */
  byContent?: readonly boolean[];
  /** The time eventTimes may not be more than a day after. @default Date.now() */
  now?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ThreadedEnrichment {
  enrichment: EnrichmentSummary;
  /** Problems of every file, in file order. */
  problems: InputProblem[];
  /** Files read, in order. */
  sources: string[];
  /** Events read and kept by the filters (duplicates included). */
  eventCount: number;
  /** Records with one eventID and different content, kept under new ids (as engine/enrich.ts `dedupe`). */
  conflicts: InputProblem[];
  /** Files skipped for their content (not CloudTrail). */
  skipped: InputProblem[];
  insightsSkipped: number;
  /** What each file gave, in file order. */
  outcomes: FileOutcome[];
}

export async function enrichFilesInThreads(
  files: string[],
  options: ThreadedEnrichOptions,
): Promise<ThreadedEnrichment> {
  if (files.length === 0) throw new Error('no files to enrich');
  const count = options.threads;
  const nextFile = new SharedArrayBuffer(4);
  const threads = Array.from({ length: count }, () => startThread('enrich-worker'));
  const channels = new Map<string, MessageChannel>();
  const portBetween = (from: number, to: number) => {
    const key = `${Math.min(from, to)}-${Math.max(from, to)}`;
    if (!channels.has(key)) channels.set(key, new MessageChannel());
    return from < to ? channels.get(key)!.port1 : channels.get(key)!.port2;
  };
  const reads: Extract<FromEnrichThread, { type: 'read' }>[] = new Array(files.length);
  let done = 0;
  const dedupe = new AcrossThreads(threads);
  try {
    const results = Promise.all(
      threads.map((thread, self) => {
        const peers = threads.map((_, other) => (other === self ? null : portBetween(self, other)));
        const setup: ToEnrichThread = {
          type: 'setup',
          self,
          count,
          peers,
          files,
          byContent: options.byContent ?? [],
          now: options.now ?? Date.now(),
          nextFile,
          filter: options.filter,
          maxBytes: options.maxBytes,
          eventList: options.eventList,
        };
        thread.postMessage(
          setup,
          peers.filter((port) => port !== null),
        );
        return new Promise<Extract<FromEnrichThread, { type: 'enriched' }>>((resolve, reject) => {
          thread.on('message', (message: FromEnrichThread) => {
            if (message.type === 'enriched') return resolve(message);
            if (message.type === 'ids') return dedupe.ids(self, message.hashes);
            if (message.type === 'copies') return dedupe.copies(self, message.copies);
            reads[message.position] = message;
            options.onProgress?.(++done, files.length);
          });
          thread.on('error', reject);
          thread.on('exit', (code) => reject(new Error(`an enrich thread stopped (exit code ${code})`)));
        });
      }),
    );
    // Awaited below; if the rules or GeoIP fail first, that failure is the one to report.
    results.catch(() => undefined);
    // Checked here while the threads read.
    const specs = checkedSpecsOf(options.rules());
    threads.forEach((thread) => thread.postMessage({ type: 'rules', specs } satisfies ToEnrichThread));
    return await merge(await results, reads, files, options, dedupe.conflicts);
  } finally {
    await Promise.all(threads.map((thread) => thread.terminate()));
  }
}

async function merge(
  results: Extract<FromEnrichThread, { type: 'enriched' }>[],
  reads: Extract<FromEnrichThread, { type: 'read' }>[],
  files: string[],
  options: ThreadedEnrichOptions,
  conflicts: InputProblem[],
): Promise<ThreadedEnrichment> {
  const sessions = results.flatMap((r) => r.sessions).sort(compareSessions);
  const lookup = await options.locate?.([...new Set(sessions.flatMap((s) => s.summary.sourceIps))]);
  for (const session of sessions) locateSession(session.summary, lookup);
  const timed = options.eventList ? mergeTimedEvents(results.map((r) => r.timedEvents ?? [])) : null;
  let events: EventEnrichment[] | undefined;
  return {
    enrichment: {
      sessions,
      get events() {
        if (!timed) throw new Error('the per-event list was not asked for (eventList: false)');
        return (events ??= timed.map((t) => t.entry));
      },
      otherCount: results.reduce((n, r) => n + r.otherCount, 0),
      duplicateEventCount: results.reduce((n, r) => n + r.duplicateEventCount, 0),
    },
    problems: reads.flatMap((r) => r.problems),
    sources: files.filter((_, position) => reads[position].read),
    eventCount: reads.reduce((n, r) => n + r.eventCount, 0),
    conflicts: [...conflicts, ...results.flatMap((r) => r.conflicts)].sort(compareProblems),
    skipped: reads.flatMap((r, position) =>
      r.skipped === undefined ? [] : [{ source: files[position], reason: r.skipped }],
    ),
    insightsSkipped: reads.reduce((n, r) => n + r.insights, 0),
    outcomes: reads.map((r) => ({
      read: r.read,
      events: r.readCount,
      insights: r.insights,
      skipped: r.skipped,
    })),
  };
}

/**
 * De-duplication across threads: copies of one eventID can have different principals, so
 * different owners. Each thread sends the hashes of the ids it owns; the hashes two threads share
 * go back to every thread, which sends every copy of those ids; they are settled here, as one
 * thread would settle them (`resolveCopies`), and each thread is told what became of its copies.
 */
class AcrossThreads {
  readonly conflicts: InputProblem[] = [];
  private readonly hashes: Uint32Array[] = [];
  private readonly received: SharedCopy[][] = [];
  private hashesIn = 0;
  private copiesIn = 0;

  constructor(private readonly threads: readonly Worker[]) {}

  ids(thread: number, hashes: Uint32Array): void {
    this.hashes[thread] = hashes;
    if (++this.hashesIn < this.threads.length) return;
    // Each list is sorted and distinct: a value met twice is owned by two threads.
    let total = 0;
    for (const list of this.hashes) total += list.length;
    const all = new Uint32Array(total);
    let at = 0;
    for (const list of this.hashes) {
      all.set(list, at);
      at += list.length;
    }
    all.sort();
    const shared: number[] = [];
    for (let i = 1; i < all.length; i++) {
      if (all[i] === all[i - 1] && shared[shared.length - 1] !== all[i]) shared.push(all[i]);
    }
    this.hashes.length = 0;
    const message = Uint32Array.from(shared);
    for (const worker of this.threads)
      worker.postMessage({ type: 'shared', hashes: message } satisfies ToEnrichThread);
  }

  copies(thread: number, copies: SharedCopy[]): void {
    this.received[thread] = copies;
    if (++this.copiesIn < this.threads.length) return;
    const byId = new Map<string, { thread: number; copy: SharedCopy }[]>();
    this.received.forEach((list, owner) => {
      for (const copy of list) {
        const group = byId.get(copy.id);
        if (group) group.push({ thread: owner, copy });
        else byId.set(copy.id, [{ thread: owner, copy }]);
      }
    });
    const decisions: [number, string | null][][] = this.threads.map(() => []);
    for (const [id, group] of byId) {
      const result = resolveCopies(
        id,
        group.map((g) => g.copy),
      );
      group.forEach((g, k) => decisions[g.thread].push([g.copy.handle, result.ids[k]]));
      for (const conflict of result.conflicts) this.conflicts.push(conflict);
    }
    this.received.length = 0;
    this.threads.forEach((worker, owner) =>
      worker.postMessage({ type: 'resolved', decisions: decisions[owner] } satisfies ToEnrichThread),
    );
  }
}

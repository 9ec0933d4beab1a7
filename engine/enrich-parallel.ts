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
import type { MessagePort } from 'node:worker_threads';
import { MessageChannel } from 'node:worker_threads';
import {
  compareSessions,
  mergeTimedEvents,
  type EnrichedSession,
  type EnrichmentSummary,
  type TimedEventEnrichment,
} from './enrich.ts';
import type { EventFilterOptions } from './filter.ts';
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
      /** One Int32: the position of the next file to read, claimed with Atomics.add. */
      nextFile: SharedArrayBuffer;
      /** `--action` and time filters (no `--match`: that needs every record body). */
      filter: Omit<EventFilterOptions, 'match'>;
      maxBytes: number;
      /** Whether to send back the per-event list. */
      eventList: boolean;
    }
  /** The signal rules, checked here; a thread enriches once it has them and every record it owns. */
  | { type: 'rules'; specs: CheckedRuleSpec[] };

export type BetweenEnrichThreads =
  | { type: 'records'; records: OwnedPart }
  /** The sending thread has read its last file and passed on all of it. */
  | { type: 'end' };

export type FromEnrichThread =
  | { type: 'read'; position: number; read: boolean; problems: InputProblem[]; eventCount: number }
  | {
      type: 'enriched';
      sessions: EnrichedSession[];
      otherCount: number;
      duplicateEventCount: number;
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
    return await merge(await results, reads, files, options);
  } finally {
    await Promise.all(threads.map((thread) => thread.terminate()));
  }
}

async function merge(
  results: Extract<FromEnrichThread, { type: 'enriched' }>[],
  reads: Extract<FromEnrichThread, { type: 'read' }>[],
  files: string[],
  options: ThreadedEnrichOptions,
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
  };
}

/**
 * An enrich thread (engine/enrich-parallel.ts): reads files, passes records on, enriches its own.
 *
 * Records whose body was dropped (no console session can contain them) stay as the columns they
 * travel in: they are only counted, de-duplicated and, when asked, listed; the million objects they
 * would make are most of a big trail's memory and garbage-collection time.
 */
import { parentPort } from 'node:worker_threads';
import {
  enrich,
  eventTimeText,
  mergeTimedEvents,
  compareTimedEvents,
  type TimedEventEnrichment,
} from './enrich.ts';
import type { BetweenEnrichThreads, FromEnrichThread, OwnedPart, ToEnrichThread } from './enrich-parallel.ts';
import { buildEventFilter } from './filter.ts';
import { RuleIndex } from './map.ts';
import { encodeFileRead, slimText } from './read-parallel.ts';
import { readOneFile, refOf } from './read.ts';
import { threadOf } from './route.ts';
import { type CheckedRuleSpec, compileCheckedSpecs } from './rules/compile.ts';
import type { TrailEvent } from './types.ts';

type Setup = Extract<ToEnrichThread, { type: 'setup' }>;

/** The records this thread owns, a part per file they came from. */
const owned: OwnedPart[] = [];
let ruleSpecs: CheckedRuleSpec[] | null = null;
let readingDone = false;
let endsReceived = 0;

const send = (message: FromEnrichThread) => parentPort!.postMessage(message);

async function readFiles(setup: Setup): Promise<void> {
  const keep = buildEventFilter(setup.filter);
  const nextFile = new Int32Array(setup.nextFile);
  for (let position = Atomics.add(nextFile, 0, 1); position < setup.files.length;) {
    const file = setup.files[position];
    const read = await readOneFile(file, setup.maxBytes, 'console');
    const kept = read.events.filter(keep);
    const byThread: TrailEvent[][] = Array.from({ length: setup.count }, () => []);
    for (const event of kept) byThread[threadOf(event.record, file, setup.count)].push(event);
    byThread.forEach((events, thread) => {
      if (events.length === 0) return;
      const part: OwnedPart = {
        file,
        records: encodeFileRead(position, { events, problems: [], read: true }),
      };
      if (thread === setup.self) owned.push(part);
      else
        setup.peers[thread]!.postMessage({ type: 'records', records: part } satisfies BetweenEnrichThreads);
    });
    send({ type: 'read', position, read: read.read, problems: read.problems, eventCount: kept.length });
    position = Atomics.add(nextFile, 0, 1);
  }
  for (const port of setup.peers) port?.postMessage({ type: 'end' } satisfies BetweenEnrichThreads);
  readingDone = true;
  enrichWhenComplete(setup);
}

function enrichWhenComplete(setup: Setup): void {
  if (!readingDone || !ruleSpecs || endsReceived < setup.count - 1) return;
  // Input order (file, then place in file), so de-duplication keeps the copy a single pass would.
  owned.sort((a, b) => a.records.position - b.records.position);
  const seen = new Set<string>();
  const withBodies: TrailEvent[] = [];
  const programmatic: TimedEventEnrichment[] = [];
  let programmaticCount = 0;
  let duplicates = 0;
  for (const { file, records } of owned) {
    const { full, slim } = records;
    for (let f = 0, s = 0; f < full.length || s < slim.ids.length;) {
      const takeFull = s >= slim.ids.length || (f < full.length && full[f].at < slim.at[s]);
      const id = takeFull ? full[f].event.id : slim.ids[s];
      if (seen.has(id)) duplicates++;
      else {
        seen.add(id);
        if (takeFull) withBodies.push(full[f].event);
        else {
          programmaticCount++;
          if (setup.eventList) programmatic.push(programmaticEntry(file, records, s));
        }
      }
      if (takeFull) f++;
      else s++;
    }
  }
  owned.length = 0;
  const result = enrich(withBodies, new RuleIndex(compileCheckedSpecs(ruleSpecs)));
  send({
    type: 'enriched',
    sessions: result.sessions,
    otherCount: result.otherCount + programmaticCount,
    duplicateEventCount: duplicates + result.duplicateEventCount,
    timedEvents: setup.eventList
      ? mergeTimedEvents([result.timedEvents, programmatic.sort(compareTimedEvents)])
      : null,
  });
}

/** A record without its body, in the per-event list: outside any session. */
function programmaticEntry(file: string, records: OwnedPart['records'], i: number): TimedEventEnrichment {
  const slim = records.slim;
  return {
    time: slim.times[i],
    entry: {
      eventId: slim.ids[i],
      eventTime: eventTimeText(slim.eventTimes[i], slim.times[i]),
      ref: refOf(slimText(slim, i, 'eventSource')!, slimText(slim, i, 'eventName')!),
      sessionId: null,
      signalId: null,
      label: null,
      origin: { source: file, index: slim.indexes[i] },
    },
  };
}

let setup: Setup | undefined;
parentPort!.on('message', (message: ToEnrichThread) => {
  if (message.type === 'setup') {
    const started = (setup = message);
    for (const port of started.peers) {
      port?.on('message', (peer: BetweenEnrichThreads) => {
        if (peer.type === 'records') owned.push(peer.records);
        else {
          endsReceived++;
          enrichWhenComplete(started);
        }
      });
    }
    void readFiles(started);
  } else {
    ruleSpecs = message.specs;
    if (setup) enrichWhenComplete(setup);
  }
});

/** An enrich thread (engine/enrich-parallel.ts): reads files, passes records on, enriches its own. */
import { parentPort } from 'node:worker_threads';
import { enrich } from './enrich.ts';
import type { BetweenEnrichThreads, FromEnrichThread, ToEnrichThread } from './enrich-parallel.ts';
import { buildEventFilter } from './filter.ts';
import { RuleIndex } from './map.ts';
import { decodeFileRead, encodeFileRead } from './read-parallel.ts';
import { readOneFile } from './read.ts';
import { threadOf } from './route.ts';
import { type CheckedRuleSpec, compileCheckedSpecs } from './rules/compile.ts';
import type { TrailEvent } from './types.ts';

type Setup = Extract<ToEnrichThread, { type: 'setup' }>;

/** The records this thread owns, by the position of the file they came from. */
const owned: { position: number; events: TrailEvent[] }[] = [];
let ruleSpecs: CheckedRuleSpec[] | null = null;
let readingDone = false;
let endsReceived = 0;

const send = (message: FromEnrichThread) => parentPort!.postMessage(message);

async function readFiles(setup: Setup): Promise<void> {
  const keep = buildEventFilter(setup.filter);
  const nextFile = new Int32Array(setup.nextFile);
  for (let position = Atomics.add(nextFile, 0, 1); position < setup.files.length; ) {
    const file = setup.files[position];
    const read = await readOneFile(file, setup.maxBytes, 'console');
    const kept = read.events.filter(keep);
    const byThread: TrailEvent[][] = Array.from({ length: setup.count }, () => []);
    for (const event of kept) byThread[threadOf(event.record, file, setup.count)].push(event);
    byThread.forEach((events, thread) => {
      if (thread === setup.self) owned.push({ position, events });
      else if (events.length > 0) {
        const records = encodeFileRead(position, { events, problems: [], read: true });
        setup.peers[thread]!.postMessage({ type: 'records', file, records } satisfies BetweenEnrichThreads);
      }
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
  owned.sort((a, b) => a.position - b.position);
  const events: TrailEvent[] = [];
  for (const part of owned) for (const event of part.events) events.push(event);
  owned.length = 0;
  const result = enrich(events, new RuleIndex(compileCheckedSpecs(ruleSpecs)));
  send({
    type: 'enriched',
    sessions: result.sessions,
    otherCount: result.otherCount,
    duplicateEventCount: result.duplicateEventCount,
    timedEvents: setup.eventList ? result.timedEvents : null,
  });
}

let setup: Setup | undefined;
parentPort!.on('message', (message: ToEnrichThread) => {
  if (message.type === 'setup') {
    const started = (setup = message);
    for (const port of started.peers) {
      port?.on('message', (peer: BetweenEnrichThreads) => {
        if (peer.type === 'records') {
          const { events } = decodeFileRead(peer.file, peer.records);
          owned.push({ position: peer.records.position, events });
        } else {
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

/**
 * An enrich thread (engine/enrich-parallel.ts): reads files, passes records on, enriches its own.
 *
 * Records whose body was dropped (no console session can contain them) stay as the columns they
 * travel in: they are only counted, de-duplicated and, when asked, listed; the million objects they
 * would make are most of a big trail's memory and garbage-collection time.
 *
 * De-duplication spans threads: copies of one eventID may have different principals, so different
 * owners. Each thread tells the main thread a hash of every eventID it owns; the ids two threads
 * share are settled there (engine/enrich.ts `resolveCopies`, on every copy), the others here.
 */
import { parentPort } from 'node:worker_threads';
import {
  compareProblems,
  compareTimedEvents,
  contentKey,
  enrich,
  eventTimeText,
  mergeTimedEvents,
  type RecordCopy,
  resolveCopies,
  type TimedEventEnrichment,
} from './enrich.ts';
import {
  type BetweenEnrichThreads,
  type FromEnrichThread,
  idHash,
  type OwnedPart,
  type SharedCopy,
  type ToEnrichThread,
} from './enrich-parallel.ts';
import { buildEventFilter } from './filter.ts';
import { RuleIndex } from './map.ts';
import { encodeFileRead, slimText } from './read-parallel.ts';
import { readOneFile, refOf } from './read.ts';
import { threadOf } from './route.ts';
import { type CheckedRuleSpec, compileCheckedSpecs } from './rules/compile.ts';
import { slimRecordOf } from './slim-record.ts';
import type { InputProblem, TrailEvent } from './types.ts';

type Setup = Extract<ToEnrichThread, { type: 'setup' }>;

/** The records this thread owns, a part per file they came from. */
const owned: OwnedPart[] = [];
let ruleSpecs: CheckedRuleSpec[] | null = null;
let readingDone = false;
let endsReceived = 0;

const send = (message: FromEnrichThread, transfer: ArrayBuffer[] = []) =>
  parentPort!.postMessage(message, transfer);

async function readFiles(setup: Setup): Promise<void> {
  const keep = buildEventFilter(setup.filter);
  const nextFile = new Int32Array(setup.nextFile);
  for (let position = Atomics.add(nextFile, 0, 1); position < setup.files.length;) {
    const file = setup.files[position];
    const read = await readOneFile(file, {
      maxBytes: setup.maxBytes,
      bodies: 'console',
      byContent: setup.byContent[position] ?? false,
      now: setup.now,
    });
    const kept = read.events.filter(keep);
    const byThread: TrailEvent[][] = Array.from({ length: setup.count }, () => []);
    for (const event of kept) byThread[threadOf(event.record, file, setup.count)].push(event);
    byThread.forEach((events, thread) => {
      if (events.length === 0) return;
      const part: OwnedPart = {
        file,
        records: encodeFileRead(position, { events, problems: [], read: true, insights: 0 }),
      };
      if (thread === setup.self) owned.push(part);
      else
        setup.peers[thread]!.postMessage({ type: 'records', records: part } satisfies BetweenEnrichThreads);
    });
    send({
      type: 'read',
      position,
      read: read.read,
      problems: read.problems,
      eventCount: kept.length,
      readCount: read.events.length,
      insights: read.insights,
      skipped: read.skipped,
    });
    position = Atomics.add(nextFile, 0, 1);
  }
  for (const port of setup.peers) port?.postMessage({ type: 'end' } satisfies BetweenEnrichThreads);
  readingDone = true;
  collectWhenComplete(setup);
}

// A record's handle: its part (in `owned`), whether it is slim, and its place among those.
const PLACE = 2 ** 24;
const handleOf = (part: number, slim: boolean, i: number) => (part * 2 + (slim ? 1 : 0)) * PLACE + i;
const partOf = (handle: number) => Math.floor(handle / PLACE / 2);
const isSlim = (handle: number) => Math.floor(handle / PLACE) % 2 === 1;
const placeOf = (handle: number) => handle % PLACE;

/** Calls `visit` with every owned record's id and handle, in input order (file, then place in file). */
function eachRecord(visit: (id: string, handle: number) => void): void {
  owned.forEach(({ records: { full, slim } }, part) => {
    for (let f = 0, s = 0; f < full.length || s < slim.ids.length;) {
      if (s >= slim.ids.length || (f < full.length && full[f].at < slim.at[s])) {
        visit(full[f].event.id, handleOf(part, false, f));
        f++;
      } else {
        visit(slim.ids[s], handleOf(part, true, s));
        s++;
      }
    }
  });
}

/** Every owned eventID (first copy's handle), and the ids owned more than once (every copy). */
let firstOf: Map<string, number> | null = null;
const copiesOf = new Map<string, number[]>();
/** Per id of `firstOf`, in its order: the id's hash. */
let hashes = new Uint32Array(0);
/** What de-duplication decided, per handle of an id seen twice: its id, or null (dropped). */
const decided = new Map<number, string | null>();
const conflicts: InputProblem[] = [];
let resolved = false;

/** Once every owned record is here: groups them by eventID, and tells the main thread which ids. */
function collectWhenComplete(setup: Setup): void {
  if (!readingDone || endsReceived < setup.count - 1 || firstOf) return;
  // Input order (file, then place in file), so de-duplication keeps the copy a single pass would.
  owned.sort((a, b) => a.records.position - b.records.position);
  const first = (firstOf = new Map());
  eachRecord((id, handle) => {
    const at = first.get(id);
    if (at === undefined) first.set(id, handle);
    else {
      const list = copiesOf.get(id);
      if (list) list.push(handle);
      else copiesOf.set(id, [at, handle]);
    }
  });
  hashes = new Uint32Array(first.size);
  let n = 0;
  for (const id of first.keys()) hashes[n++] = idHash(id);
  const sorted = hashes.slice().sort();
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++)
    if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[distinct++] = sorted[i];
  const message = sorted.slice(0, distinct);
  send({ type: 'ids', hashes: message }, [message.buffer]);
}

/** A copy of a record owned here, as de-duplication compares copies. */
function copyOf(handle: number): RecordCopy {
  const { file, records } = owned[partOf(handle)];
  const i = placeOf(handle);
  if (!isSlim(handle)) {
    const event = records.full[i].event;
    return {
      key: contentKey(event.record),
      order: records.position * 2 ** 32 + event.origin.index,
      origin: event.origin,
    };
  }
  const slim = records.slim;
  const record = slimRecordOf(
    slim.ids[i],
    slim.eventTimes[i],
    slimText(slim, i, 'eventSource'),
    slimText(slim, i, 'eventName'),
    { type: slimText(slim, i, 'type'), arn: slimText(slim, i, 'arn') },
  );
  return {
    key: contentKey(record),
    order: records.position * 2 ** 32 + slim.indexes[i],
    origin: { source: file, index: slim.indexes[i] },
  };
}

/** Settles the ids only this thread owns; sends the copies of ids another thread may own too. */
function settleLocal(shared: Uint32Array): void {
  const sharedSet = new Set(shared);
  const isShared = new Set<string>();
  const copies: SharedCopy[] = [];
  if (sharedSet.size > 0) {
    let n = 0;
    for (const [id, handle] of firstOf!) {
      if (sharedSet.has(hashes[n++])) {
        isShared.add(id);
        for (const copy of copiesOf.get(id) ?? [handle]) copies.push({ id, handle: copy, ...copyOf(copy) });
      }
    }
  }
  for (const [id, handles] of copiesOf) {
    if (isShared.has(id)) continue;
    const result = resolveCopies(id, handles.map(copyOf));
    handles.forEach((handle, k) => decided.set(handle, result.ids[k]));
    for (const conflict of result.conflicts) conflicts.push(conflict);
  }
  send({ type: 'copies', copies });
}

function enrichWhenReady(setup: Setup): void {
  if (!resolved || !ruleSpecs) return;
  const withBodies: TrailEvent[] = [];
  const programmatic: TimedEventEnrichment[] = [];
  let programmaticCount = 0;
  let duplicates = 0;
  eachRecord((id, handle) => {
    const decision = decided.get(handle);
    if (decision === null) {
      duplicates++;
      return;
    }
    const kept = decision ?? id;
    const { file, records } = owned[partOf(handle)];
    const i = placeOf(handle);
    if (!isSlim(handle)) {
      const event = records.full[i].event;
      withBodies.push(kept === event.id ? event : { ...event, id: kept });
    } else {
      programmaticCount++;
      if (setup.eventList) programmatic.push(programmaticEntry(file, records, i, kept));
    }
  });
  owned.length = 0;
  firstOf?.clear();
  copiesOf.clear();
  decided.clear();
  const result = enrich(withBodies, new RuleIndex(compileCheckedSpecs(ruleSpecs)));
  send({
    type: 'enriched',
    sessions: result.sessions,
    otherCount: result.otherCount + programmaticCount,
    duplicateEventCount: duplicates + result.duplicateEventCount,
    conflicts: conflicts.sort(compareProblems),
    timedEvents: setup.eventList
      ? mergeTimedEvents([result.timedEvents, programmatic.sort(compareTimedEvents)])
      : null,
  });
}

/** A record without its body, in the per-event list: outside any session. */
function programmaticEntry(
  file: string,
  records: OwnedPart['records'],
  i: number,
  eventId: string,
): TimedEventEnrichment {
  const slim = records.slim;
  return {
    time: slim.times[i],
    entry: {
      eventId,
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
          collectWhenComplete(started);
        }
      });
    }
    void readFiles(started);
  } else if (message.type === 'shared') {
    settleLocal(message.hashes);
  } else if (message.type === 'resolved') {
    for (const [handle, id] of message.decisions) decided.set(handle, id);
    resolved = true;
    if (setup) enrichWhenReady(setup);
  } else {
    ruleSpecs = message.specs;
    if (setup) enrichWhenReady(setup);
  }
});

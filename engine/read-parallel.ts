/**
 * Reading many files on several cores: worker threads read, decompress, parse and check files
 * (engine/read-worker.ts) and hand back their events. Events whose body was dropped (`bodies:
 * 'console'`) travel as columns, which is much cheaper to pass between threads than objects.
 */
import { type FileRead, refOf } from './read.ts';
import { isSlimRecord, slimRecordOf } from './slim-record.ts';
import { startThread } from './threads.ts';
import type { InputProblem, TrailEvent } from './types.ts';

/** What a worker sends back for one file. */
export interface WorkerFileRead {
  position: number;
  read: boolean;
  problems: InputProblem[];
  insights: number;
  skipped?: string;
  /** Events that kept their body, in file order, with their place among all events. */
  full: { at: number; event: TrailEvent }[];
  /** The rest, as columns; repeated texts (source, name, identity) as indexes into `texts`. */
  slim: {
    at: Int32Array;
    ids: string[];
    eventTimes: string[];
    times: Float64Array;
    indexes: Int32Array;
    /** Per event: eventSource, eventName, userIdentity.type, userIdentity.arn (-1: absent). */
    fields: Int32Array;
    texts: string[];
  };
}

export interface WorkerRequest {
  position: number;
  file: string;
  maxBytes: number;
  bodies: 'all' | 'console';
  byContent: boolean;
  now: number;
}

const SLIM_FIELDS = 4;
const SLIM_FIELD_NAMES = ['eventSource', 'eventName', 'type', 'arn'] as const;

/** One text field of the `i`th event of slim columns (undefined: absent). */
export function slimText(
  slim: WorkerFileRead['slim'],
  i: number,
  field: (typeof SLIM_FIELD_NAMES)[number],
): string | undefined {
  const index = slim.fields[i * SLIM_FIELDS + SLIM_FIELD_NAMES.indexOf(field)];
  return index < 0 ? undefined : slim.texts[index];
}

/** Splits one file's events for the trip between threads. */
export function encodeFileRead(position: number, read: FileRead): WorkerFileRead {
  const full: WorkerFileRead['full'] = [];
  const slimEvents: { at: number; event: TrailEvent }[] = [];
  read.events.forEach((event, at) => {
    if (isSlimRecord(event.record)) slimEvents.push({ at, event });
    else full.push({ at, event });
  });
  const texts: string[] = [];
  const textIndex = new Map<string, number>();
  const indexOf = (text: string | undefined): number => {
    if (text === undefined) return -1;
    let index = textIndex.get(text);
    if (index === undefined) textIndex.set(text, (index = texts.push(text) - 1));
    return index;
  };
  const fields = new Int32Array(slimEvents.length * SLIM_FIELDS);
  slimEvents.forEach(({ event: { record } }, i) => {
    fields[i * SLIM_FIELDS] = indexOf(record.eventSource);
    fields[i * SLIM_FIELDS + 1] = indexOf(record.eventName);
    fields[i * SLIM_FIELDS + 2] = indexOf(record.userIdentity?.type);
    fields[i * SLIM_FIELDS + 3] = indexOf(record.userIdentity?.arn);
  });
  return {
    position,
    read: read.read,
    problems: read.problems,
    insights: read.insights,
    skipped: read.skipped,
    full,
    slim: {
      at: Int32Array.from(slimEvents, (e) => e.at),
      ids: slimEvents.map((e) => e.event.id),
      eventTimes: slimEvents.map((e) => e.event.record.eventTime as string),
      times: Float64Array.from(slimEvents, (e) => e.event.time),
      indexes: Int32Array.from(slimEvents, (e) => e.event.origin.index),
      fields,
      texts,
    },
  };
}

export function decodeFileRead(file: string, message: WorkerFileRead): FileRead {
  const events: TrailEvent[] = new Array(message.full.length + message.slim.ids.length);
  for (const { at, event } of message.full) events[at] = event;
  const slim = message.slim;
  for (let i = 0; i < slim.ids.length; i++) {
    const source = slimText(slim, i, 'eventSource') as string;
    const name = slimText(slim, i, 'eventName') as string;
    events[slim.at[i]] = {
      id: slim.ids[i],
      time: slim.times[i],
      ref: refOf(source, name),
      record: slimRecordOf(slim.ids[i], slim.eventTimes[i], source, name, {
        type: slimText(slim, i, 'type'),
        arn: slimText(slim, i, 'arn'),
      }),
      origin: { source: file, index: slim.indexes[i] },
    };
  }
  return {
    events,
    problems: message.problems,
    read: message.read,
    insights: message.insights,
    skipped: message.skipped,
  };
}

/** Reads `files` with a pool of worker threads; results come back in file order. */
export async function readInWorkers(
  files: string[],
  options: {
    maxBytes: number;
    bodies: 'all' | 'console';
    workers: number;
    /** Per file: read only if its content is CloudTrail (engine/read.ts `InputFiles`). */
    byContent: readonly boolean[];
    now: number;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<FileRead[]> {
  const pool = Array.from({ length: options.workers }, () => startThread('read-worker'));
  const reads: FileRead[] = new Array(files.length);
  let next = 0;
  let done = 0;
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              if (next >= files.length) return resolve();
              const request: WorkerRequest = {
                position: next,
                file: files[next],
                maxBytes: options.maxBytes,
                bodies: options.bodies,
                byContent: options.byContent[next],
                now: options.now,
              };
              next++;
              worker.postMessage(request);
            };
            worker.on('message', (message: WorkerFileRead) => {
              reads[message.position] = decodeFileRead(files[message.position], message);
              options.onProgress?.(++done, files.length);
              send();
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (code !== 0) reject(new Error(`a reader thread stopped (exit code ${code})`));
            });
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
  return reads;
}

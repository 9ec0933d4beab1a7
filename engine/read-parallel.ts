/**
 * Reading many files on several cores: worker threads read, decompress, parse and check files
 * (engine/read-worker.ts) and hand back their events. Events whose body was dropped (`bodies:
 * 'console'`) travel as columns, which is much cheaper to pass between threads than objects.
 */
import { Worker } from 'node:worker_threads';
import type { FileRead } from './read.ts';
import { isSlimRecord } from './slim-record.ts';
import type { CloudTrailRecord, InputProblem, TrailEvent } from './types.ts';

/** What a worker sends back for one file. */
export interface WorkerFileRead {
  position: number;
  read: boolean;
  problems: InputProblem[];
  /** Events that kept their body, in file order, with their place among all events. */
  full: { at: number; event: TrailEvent }[];
  /** The rest, as columns. */
  slim: {
    at: Int32Array;
    ids: string[];
    eventTimes: string[];
    times: Float64Array;
    sources: string[];
    names: string[];
    types: (string | undefined)[];
    principals: (string | undefined)[];
    refs: string[];
    indexes: Int32Array;
  };
}

export interface WorkerRequest {
  position: number;
  file: string;
  maxBytes: number;
  bodies: 'all' | 'console';
}

/** Splits one file's events for the trip between threads. */
export function encodeFileRead(position: number, read: FileRead): WorkerFileRead {
  const full: WorkerFileRead['full'] = [];
  const slimEvents: { at: number; event: TrailEvent }[] = [];
  read.events.forEach((event, at) => {
    if (isSlimRecord(event.record)) slimEvents.push({ at, event });
    else full.push({ at, event });
  });
  return {
    position,
    read: read.read,
    problems: read.problems,
    full,
    slim: {
      at: Int32Array.from(slimEvents.map((e) => e.at)),
      ids: slimEvents.map((e) => e.event.id),
      eventTimes: slimEvents.map((e) => e.event.record.eventTime as string),
      times: Float64Array.from(slimEvents.map((e) => e.event.time)),
      sources: slimEvents.map((e) => e.event.record.eventSource as string),
      names: slimEvents.map((e) => e.event.record.eventName as string),
      types: slimEvents.map((e) => e.event.record.userIdentity?.type),
      principals: slimEvents.map((e) => e.event.record.userIdentity?.arn),
      refs: slimEvents.map((e) => e.event.ref),
      indexes: Int32Array.from(slimEvents.map((e) => e.event.origin.index)),
    },
  };
}

export function decodeFileRead(file: string, message: WorkerFileRead): FileRead {
  const events: TrailEvent[] = new Array(message.full.length + message.slim.ids.length);
  for (const { at, event } of message.full) events[at] = event;
  const slim = message.slim;
  for (let i = 0; i < slim.ids.length; i++) {
    const record: CloudTrailRecord = {
      eventID: slim.ids[i],
      eventTime: slim.eventTimes[i],
      eventSource: slim.sources[i],
      eventName: slim.names[i],
      userIdentity: { type: slim.types[i], arn: slim.principals[i] },
    };
    events[slim.at[i]] = {
      id: slim.ids[i],
      time: slim.times[i],
      ref: slim.refs[i],
      record,
      origin: { source: file, index: slim.indexes[i] },
    };
  }
  return { events, problems: message.problems, read: message.read };
}

/** Reads `files` with a pool of worker threads; results come back in file order. */
export async function readInWorkers(
  files: string[],
  options: {
    maxBytes: number;
    bodies: 'all' | 'console';
    workers: number;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<FileRead[]> {
  const typescript = import.meta.url.endsWith('.ts');
  // From the TypeScript sources the thread starts through tsx; a build runs the compiled worker.
  const script = new URL(typescript ? './read-worker.mjs' : './read-worker.js', import.meta.url);
  const pool = Array.from({ length: options.workers }, () => new Worker(script));
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

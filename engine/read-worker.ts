/** A reader thread (engine/read-parallel.ts): reads the files it is sent, one at a time. */
import { parentPort } from 'node:worker_threads';
import { encodeFileRead, type WorkerRequest } from './read-parallel.ts';
import { readOneFile } from './read.ts';

parentPort?.on('message', async (request: WorkerRequest) => {
  const read = await readOneFile(request.file, request);
  parentPort?.postMessage(encodeFileRead(request.position, read));
});

/** Starting the engine's worker threads, from the TypeScript sources or from a build. */
import { Worker } from 'node:worker_threads';

export function startThread(name: 'read-worker' | 'enrich-worker'): Worker {
  // From the sources the thread starts through tsx (engine/thread.mjs); a build runs the compiled module.
  return import.meta.url.endsWith('.ts')
    ? new Worker(new URL('./thread.mjs', import.meta.url), { workerData: { module: `./${name}.ts` } })
    : new Worker(new URL(`./${name}.js`, import.meta.url));
}

// Starts an engine thread from the TypeScript sources (through tsx), as bin/trailmap.js starts the CLI.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
// Relative to this file, as the module names are.
await import(workerData.module);

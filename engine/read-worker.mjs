// Starts a reader thread from the TypeScript sources (through tsx), as bin/trailmap.js starts the CLI.
import { register } from 'tsx/esm/api';

register();
await import('./read-worker.ts');

/**
 * Lists the AWS calls a pipeline run makes, numbered the way `FaultInjector` numbers them (per
 * phase and command, from 1, over the whole run), so a test can crash every one of them in turn.
 *
 * The injector keeps its counters private; this recorder reads the injector's public `phase` and
 * `clock` from its own middleware on the same clients, and counts the same calls.
 */
import type { LocalAws } from '../../lambdas/local/emulators.ts';
import type { FaultInjector } from './harness.ts';
import type { Fault } from './scenario.ts';

export interface CallSite {
  phase: Fault['phase'];
  command: Fault['command'];
  /** The nth call of this command in this phase, over the whole run (the injector's numbering). */
  nth: number;
  /** Simulated time of the call (the harness's clock of the round it belongs to). */
  clock: number;
  /** The object key of an S3 put or get, the number of keys of a batch delete, else ''. */
  detail: string;
}

function detailOf(command: string, input: unknown): string {
  const i = (input ?? {}) as { Key?: string; Delete?: { Objects?: unknown[] } };
  if (command === 'DeleteObjectsCommand') return `${i.Delete?.Objects?.length ?? 0} keys`;
  return typeof i.Key === 'string' ? i.Key : '';
}

export class CallRecorder {
  private active = false;
  private calls: CallSite[] = [];
  private readonly counts = new Map<string, number>();

  constructor(private readonly faults: FaultInjector) {}

  install(aws: LocalAws): void {
    const options = { step: 'initialize', name: 'recordCallSites' } as const;
    const middleware =
      <A extends { input: unknown }, R>(next: (args: A) => Promise<R>, command: string) =>
      (args: A): Promise<R> => {
        this.note(command, args.input);
        return next(args);
      };
    aws.s3.middlewareStack.add((next, context) => middleware(next, context.commandName ?? ''), options);
    aws.ddb.middlewareStack.add((next, context) => middleware(next, context.commandName ?? ''), options);
  }

  private note(command: string, input: unknown): void {
    const phase = this.faults.phase;
    if (!this.active || (phase !== 'ingest' && phase !== 'flush')) return;
    const counter = `${phase}|${command}`;
    const nth = (this.counts.get(counter) ?? 0) + 1;
    this.counts.set(counter, nth);
    this.calls.push({
      phase,
      command: command as Fault['command'],
      nth,
      clock: this.faults.clock,
      detail: detailOf(command, input),
    });
  }

  /** Runs `run` and returns, with its result, every ingest and flush call it made, in order. */
  async record<T>(run: () => Promise<T>): Promise<{ result: T; calls: CallSite[] }> {
    this.calls = [];
    this.counts.clear();
    this.active = true;
    try {
      const result = await run();
      return { result, calls: this.calls };
    } finally {
      this.active = false;
    }
  }
}

/**
 * Turns an injected `after` fault into the death of the whole invocation: once the chosen call
 * took effect, every later call of the same ingest batch or flush run fails without effect, as if
 * the Lambda process had died there (the harness alone only fails that one call, and the handler
 * carries on with its other messages or partitions). Calls already in flight complete.
 *
 * Invocation boundaries are the injector's phase changes (the harness sets the phase around every
 * ingest batch and flush run), observed through an accessor on its public `phase` field.
 */
export class InvocationDeath {
  private target: Pick<CallSite, 'phase' | 'command' | 'nth'> | null = null;
  private dead = false;
  private readonly counts = new Map<string, number>();

  constructor(private readonly faults: FaultInjector) {
    let phase = faults.phase;
    Object.defineProperty(faults, 'phase', {
      configurable: true,
      enumerable: true,
      get: () => phase,
      set: (value: FaultInjector['phase']) => {
        if (value !== phase) this.dead = false;
        phase = value;
      },
    });
  }

  /** The call after which the invocation dies (null: none); counted like the injector counts. */
  arm(target: Pick<CallSite, 'phase' | 'command' | 'nth'> | null): void {
    this.target = target;
    this.dead = false;
    this.counts.clear();
  }

  install(aws: LocalAws): void {
    const options = { step: 'initialize', name: 'invocationDeath' } as const;
    const middleware =
      <A, R>(next: (args: A) => Promise<R>, command: string) =>
      async (args: A): Promise<R> => {
        const phase = this.faults.phase;
        if (!this.target || (phase !== 'ingest' && phase !== 'flush')) return next(args);
        if (this.dead) throw new Error(`the invocation died earlier (${command} never sent)`);
        const counter = `${phase}|${command}`;
        const nth = (this.counts.get(counter) ?? 0) + 1;
        this.counts.set(counter, nth);
        const { target } = this;
        const fatal = target.phase === phase && target.command === command && target.nth === nth;
        try {
          return await next(args);
        } finally {
          if (fatal) this.dead = true;
        }
      };
    aws.s3.middlewareStack.add((next, context) => middleware(next, context.commandName ?? ''), options);
    aws.ddb.middlewareStack.add((next, context) => middleware(next, context.commandName ?? ''), options);
  }
}

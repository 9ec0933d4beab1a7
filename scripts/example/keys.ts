/**
 * The temporary keys of one console sign-in (DESIGN.md, "Console sessions"): the console obtains a
 * separate `ASIA…` key per console service (eventSource) and renews it after a while of use; AWS
 * Health's background poll gets a fresh key every 5 minutes. Every key of a sign-in belongs to the
 * same principal and creationDate: a console session is never one key.
 */
import { type Prng, UPPER_ALNUM } from './random.ts';

const MINUTE = 60_000;
/** How long the console uses one service's key before it renews it (drawn per key). */
export const KEY_MINUTES = { min: 15, max: 60 } as const;
/** AWS Health's background poll: a fresh key every 5 minutes. */
export const HEALTH_KEY_MS = 5 * MINUTE;
const HEALTH = 'health.amazonaws.com';

export class ConsoleKeys {
  private readonly current = new Map<string, { key: string; until: number }>();
  /** Every key issued, in order. */
  readonly issued: string[] = [];
  constructor(private readonly prng: Prng) {}

  /** The key of a call to `eventSource` at `time`; ask in time order. */
  keyFor(eventSource: string, time: number): string {
    const held = this.current.get(eventSource);
    if (held && time < held.until) return held.key;
    const key = `ASIA${this.prng.chars(16, UPPER_ALNUM)}`;
    const lifetime =
      eventSource === HEALTH ? HEALTH_KEY_MS : this.prng.int(KEY_MINUTES.min, KEY_MINUTES.max) * MINUTE;
    this.current.set(eventSource, { key, until: time + lifetime });
    this.issued.push(key);
    return key;
  }
}

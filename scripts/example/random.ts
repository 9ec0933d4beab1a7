/** Deterministic randomness and ids for the example trail (scripts/make-example.ts). */

export const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const MIXED_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const HEX = '0123456789abcdef';

/** mulberry32: small, fast, and the same on every platform. */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  chars(length: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }
  uuid(): string {
    const h = this.chars(32, HEX).split('');
    h[12] = '4';
    h[16] = '89ab'[HEX.indexOf(h[16]) % 4];
    const s = h.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
}

/** ISO-8601 to the second, as CloudTrail writes times. */
export const iso = (time: number) => new Date(time).toISOString().replace('.000Z', 'Z');

/** Where records get their eventID and requestID. */
export interface IdSource {
  eventId(): string;
  requestId(service: string): string;
}

export function prngIds(prng: Prng): IdSource {
  return {
    eventId: () => prng.uuid(),
    requestId: (service) => (service === 's3' ? prng.chars(16, '0123456789ABCDEF') : prng.uuid()),
  };
}

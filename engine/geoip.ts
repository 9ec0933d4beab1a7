/**
 * Offline IP → country / ASN lookups for CloudTrail `sourceIPAddress` values.
 *
 * Data: the `@ip-location-db/asn` (Route Views + DB-IP, CC BY 4.0) and
 * `@ip-location-db/geo-whois-asn-country` npm packages. Their `-num.csv` files hold ranges as decimal
 * numbers; we read each file once, flatten nested ranges (the most specific range wins) and keep the result in
 * sorted typed arrays that are binary-searched per lookup.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { BlockList, isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { pushTo } from './arrays.ts';

export type AddressKind = 'public' | 'private' | 'aws-internal' | 'service' | 'invalid';

export interface IpInfo {
  kind: AddressKind;
  /** ISO 3166-1 alpha-2 code of the registrant's country, or null when the range is not covered. */
  country: string | null;
  asn: number | null;
  asOrg: string | null;
}

// ---------------------------------------------------------------------------------------------------------
// Classification

/**
 * Addresses that are never looked up. Documentation ranges (TEST-NET-1/2/3 and 2001:db8::/32) are treated
 * as private on purpose: they never appear on the internet, and examples/fixtures use them freely.
 */
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['10.0.0.0', 8], // RFC 1918
  ['172.16.0.0', 12], // RFC 1918
  ['192.168.0.0', 16], // RFC 1918
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local
  ['100.64.0.0', 10], // carrier-grade NAT (RFC 6598)
  ['192.0.2.0', 24], // documentation (TEST-NET-1) — treated as private
  ['198.51.100.0', 24], // documentation (TEST-NET-2) — treated as private
  ['203.0.113.0', 24], // documentation (TEST-NET-3) — treated as private
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::1', 128], // loopback
  ['fe80::', 10], // link-local
  ['fc00::', 7], // unique local
  ['2001:db8::', 32], // documentation — treated as private
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/** Host-name-shaped text: dot-separated labels of letters, digits and hyphens (e.g. `ec2.amazonaws.com`). */
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/**
 * What kind of value a CloudTrail `sourceIPAddress` holds. Host names (an AWS service principal such as
 * `ec2.amazonaws.com`, or any other non-IP host-name-like text) are 'service'; empty values, malformed IP
 * addresses (e.g. `1.2.3.256`) and text that is neither an address nor a host name are 'invalid'.
 * IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) are classified as the IPv4 address they carry.
 */
export function classifyAddress(value: string | undefined | null): AddressKind {
  return parseAddress(value).kind;
}

type ParsedAddress =
  | { kind: 'public'; family: 4; value: number }
  | { kind: 'public'; family: 6; value: bigint }
  | { kind: Exclude<AddressKind, 'public'> };

function parseAddress(value: string | undefined | null): ParsedAddress {
  if (typeof value !== 'string') return { kind: 'invalid' };
  const text = value.trim();
  if (text === '') return { kind: 'invalid' };
  if (text.toLowerCase() === 'aws internal') return { kind: 'aws-internal' };
  const family = isIP(text);
  if (family === 4) {
    return NON_PUBLIC.check(text, 'ipv4')
      ? { kind: 'private' }
      : { kind: 'public', family: 4, value: ipv4ToNumber(text) };
  }
  if (family === 6) {
    const address = text.replace(/%.*$/, ''); // drop a zone index (fe80::1%eth0)
    const v6 = ipv6ToBigInt(address);
    if (v6 >> 32n === 0xffffn) {
      const v4 = Number(v6 & 0xffffffffn);
      return NON_PUBLIC.check(numberToIpv4(v4), 'ipv4')
        ? { kind: 'private' }
        : { kind: 'public', family: 4, value: v4 };
    }
    return NON_PUBLIC.check(address, 'ipv6') ? { kind: 'private' } : { kind: 'public', family: 6, value: v6 };
  }
  // Text made only of digits and dots is a malformed IPv4 address, not a host name.
  if (HOST_NAME.test(text) && /[a-z]/i.test(text)) return { kind: 'service' };
  return { kind: 'invalid' };
}

function ipv4ToNumber(address: string): number {
  const [a, b, c, d] = address.split('.').map(Number);
  return ((a * 256 + b) * 256 + c) * 256 + d;
}

function numberToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** Parses an address already validated by `isIP(...) === 6` (no zone index) into its 128-bit value. */
function ipv6ToBigInt(address: string): bigint {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // Embedded IPv4 tail (::ffff:1.2.3.4): rewrite it as two hex groups.
    const v4 = ipv4ToNumber(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const groupsOf = (part: string): number[] =>
    part ? part.split(':').map((group) => parseInt(group, 16)) : [];
  const gap = text.indexOf('::');
  const groups =
    gap === -1
      ? groupsOf(text)
      : (() => {
          const left = groupsOf(text.slice(0, gap));
          const right = groupsOf(text.slice(gap + 2));
          return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
        })();
  let result = 0n;
  for (const group of groups) result = (result << 16n) | BigInt(group);
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// CSV reading

/**
 * Splits one CSV line into fields. Quoted fields may contain commas and doubled quotes (`"LLC ""X"", Y"`).
 */
export function parseCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let field = '';
      i += 1;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote === -1) {
          // Unterminated quote: keep what is there rather than fail the whole load.
          field += line.slice(i);
          i = line.length;
          break;
        }
        field += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          field += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      // Anything between the closing quote and the next comma is kept verbatim (lenient).
      const comma = line.indexOf(',', i);
      const end = comma === -1 ? line.length : comma;
      fields.push(field + line.slice(i, end));
      if (comma === -1) return fields;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      if (comma === -1) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

/**
 * Reads a `-num.csv` range file (`start,end,value…` per line, decimal bounds) straight from its bytes:
 * the million lines of the four files, split into strings first, cost more than all the rest of the load.
 * A line's value fields are parsed (as CSV) only the first time their bytes are seen; lines whose bounds
 * are not decimal integers are skipped.
 */
async function forEachRange<T>(
  path: string,
  bound: (bytes: Buffer, from: number, to: number) => T,
  valueOf: (values: string[]) => number,
  onRange: (start: T, end: T, value: number) => void,
): Promise<void> {
  const bytes = await readFile(path);
  // Value bytes → value, by a hash of the bytes, checked byte for byte (a collision is just a miss).
  const known = new Map<number, { from: number; to: number; value: number }>();
  forEachRangeLine(bytes, (line, first, second, from, to) => {
    let hash = 0x811c9dc5;
    for (let i = from; i < to; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
    let entry = known.get(hash);
    if (!entry || bytes.compare(bytes, entry.from, entry.to, from, to) !== 0) {
      entry = { from, to, value: valueOf(parseCsvLine(bytes.toString('utf8', from, to))) };
      known.set(hash, entry);
    }
    onRange(bound(bytes, line, first), bound(bytes, first + 1, second), entry.value);
  });
}

/**
 * Calls `onLine` for each line with two commas and decimal bounds before them: the line's start, the two
 * commas' offsets and the value fields' byte range (a trailing CR excluded).
 */
function forEachRangeLine(
  bytes: Buffer,
  onLine: (line: number, first: number, second: number, from: number, to: number) => void,
): void {
  for (let line = 0; line < bytes.length;) {
    let eol = bytes.indexOf(10, line);
    if (eol < 0) eol = bytes.length;
    const first = bytes.indexOf(44, line);
    const second = first >= 0 && first < eol ? bytes.indexOf(44, first + 1) : -1;
    if (second >= 0 && second < eol && isDecimal(bytes, line, first) && isDecimal(bytes, first + 1, second)) {
      onLine(line, first, second, second + 1, bytes[eol - 1] === 13 ? eol - 1 : eol);
    }
    line = eol + 1;
  }
}

function isDecimal(bytes: Buffer, from: number, to: number): boolean {
  if (from >= to) return false;
  for (let i = from; i < to; i++) if (bytes[i] < 48 || bytes[i] > 57) return false;
  return true;
}

/** A decimal bound as a number (as Number() reads it: exact up to 2^53, far beyond IPv4's range). */
function numberBound(bytes: Buffer, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) value = value * 10 + bytes[i] - 48;
  return value;
}

const bigintBound = (bytes: Buffer, from: number, to: number): bigint =>
  BigInt(bytes.toString('latin1', from, to));

// ---------------------------------------------------------------------------------------------------------
// Range tables

/**
 * A growable column store of inclusive address ranges, each with a value (an index into the country or
 * ASN table). IPv4 keeps addresses in Uint32Arrays; IPv6 splits each 128-bit address over two
 * BigUint64Arrays (high and low 64 bits).
 */
interface RangeStore<T extends number | bigint> {
  readonly length: number;
  start(i: number): T;
  end(i: number): T;
  value(i: number): number;
  push(start: T, end: T, value: number): void;
  setEnd(i: number, end: T): void;
}

const INITIAL_CAPACITY = 1 << 14;

function grown<A extends Uint32Array | BigUint64Array>(array: A, length: number): A {
  if (length < array.length) return array;
  const next = new (array.constructor as new (size: number) => A)(array.length * 2);
  next.set(array as never);
  return next;
}

class Ipv4Ranges implements RangeStore<number> {
  starts = new Uint32Array(INITIAL_CAPACITY);
  ends = new Uint32Array(INITIAL_CAPACITY);
  values: Uint16Array | Uint32Array = new Uint32Array(INITIAL_CAPACITY);
  length = 0;
  start(i: number): number {
    return this.starts[i];
  }
  end(i: number): number {
    return this.ends[i];
  }
  value(i: number): number {
    return this.values[i];
  }
  push(start: number, end: number, value: number): void {
    const i = this.length++;
    this.starts = grown(this.starts, i);
    this.ends = grown(this.ends, i);
    this.values = grown(this.values as Uint32Array, i);
    this.starts[i] = start;
    this.ends[i] = end;
    this.values[i] = value;
  }
  setEnd(i: number, end: number): void {
    this.ends[i] = end;
  }
  /** Drops spare capacity; narrows values to 16 bits when they fit (country indexes). */
  compact(): this {
    this.starts = this.starts.slice(0, this.length);
    this.ends = this.ends.slice(0, this.length);
    this.values = compactValues(this.values, this.length);
    return this;
  }
}

const MASK_64 = (1n << 64n) - 1n;

class Ipv6Ranges implements RangeStore<bigint> {
  startHi = new BigUint64Array(INITIAL_CAPACITY);
  startLo = new BigUint64Array(INITIAL_CAPACITY);
  endHi = new BigUint64Array(INITIAL_CAPACITY);
  endLo = new BigUint64Array(INITIAL_CAPACITY);
  values: Uint16Array | Uint32Array = new Uint32Array(INITIAL_CAPACITY);
  length = 0;
  start(i: number): bigint {
    return (this.startHi[i] << 64n) | this.startLo[i];
  }
  end(i: number): bigint {
    return (this.endHi[i] << 64n) | this.endLo[i];
  }
  value(i: number): number {
    return this.values[i];
  }
  push(start: bigint, end: bigint, value: number): void {
    const i = this.length++;
    this.startHi = grown(this.startHi, i);
    this.startLo = grown(this.startLo, i);
    this.endHi = grown(this.endHi, i);
    this.endLo = grown(this.endLo, i);
    this.values = grown(this.values as Uint32Array, i);
    this.startHi[i] = start >> 64n;
    this.startLo[i] = start & MASK_64;
    this.setEnd(i, end);
    this.values[i] = value;
  }
  setEnd(i: number, end: bigint): void {
    this.endHi[i] = end >> 64n;
    this.endLo[i] = end & MASK_64;
  }
  compact(): this {
    this.startHi = this.startHi.slice(0, this.length);
    this.startLo = this.startLo.slice(0, this.length);
    this.endHi = this.endHi.slice(0, this.length);
    this.endLo = this.endLo.slice(0, this.length);
    this.values = compactValues(this.values, this.length);
    return this;
  }
}

function compactValues(values: Uint16Array | Uint32Array, length: number): Uint16Array | Uint32Array {
  const used = values.subarray(0, length);
  return used.every((value) => value <= 0xffff) ? Uint16Array.from(used) : used.slice();
}

interface Arithmetic<T> {
  succ(x: T): T;
  pred(x: T): T;
  /** `end - start`, the width of a range less one. */
  span(start: T, end: T): T;
}

/**
 * Copies `input` into `output` as sorted, disjoint ranges. The sources may nest ranges — a broad range
 * followed by more specific ones inside it (e.g. a /24 in DE holding one address in BE) — and occasionally
 * overlap partially. Every address gets the value of the narrowest range containing it (the later one on
 * ties), which is longest-prefix matching. Adjacent pieces with the same value are merged.
 */
function flatten<T extends number | bigint>(
  input: RangeStore<T>,
  output: RangeStore<T>,
  math: Arithmetic<T>,
): void {
  const order = new Uint32Array(input.length);
  let sorted = true;
  for (let i = 0; i < order.length; i++) {
    order[i] = i;
    if (i > 0 && input.start(i - 1) > input.start(i)) sorted = false;
  }
  if (!sorted)
    order.sort((x, y) =>
      input.start(x) < input.start(y) ? -1 : input.start(x) > input.start(y) ? 1 : x - y,
    );

  // Min-heap of the ranges that have started, narrowest (then latest) on top. Ranges that have ended are
  // dropped lazily, when they reach the top.
  const heap: number[] = [];
  const spans: T[] = [];
  const before = (x: number, y: number): boolean => spans[x] < spans[y] || (spans[x] === spans[y] && x > y);
  const push = (index: number): void => {
    spans[index] = math.span(input.start(index), input.end(index));
    let i = heap.push(index) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  };
  const pop = (): void => {
    const last = heap.pop() as number;
    if (heap.length === 0) return;
    heap[0] = last;
    for (let i = 0; ;) {
      const [l, r] = [2 * i + 1, 2 * i + 2];
      let top = i;
      if (l < heap.length && before(heap[l], heap[top])) top = l;
      if (r < heap.length && before(heap[r], heap[top])) top = r;
      if (top === i) return;
      [heap[i], heap[top]] = [heap[top], heap[i]];
      i = top;
    }
  };
  const emit = (start: T, end: T, value: number): void => {
    const last = output.length - 1;
    if (last >= 0 && output.value(last) === value && math.succ(output.end(last)) === start)
      output.setEnd(last, end);
    else output.push(start, end, value);
  };

  let cursor: T | undefined; // first address not yet assigned (may step past the last address: no overflow)
  // Assigns addresses from the cursor up to `limit` (inclusive), or as far as the started ranges reach.
  const advance = (limit: T | undefined): void => {
    while (heap.length > 0 && cursor !== undefined && (limit === undefined || cursor <= limit)) {
      const top = heap[0];
      const end = input.end(top);
      if (end < cursor) pop();
      else {
        const to = limit !== undefined && limit < end ? limit : end;
        emit(cursor, to, input.value(top));
        cursor = math.succ(to);
      }
    }
  };
  for (const index of order) {
    const start = input.start(index);
    if (cursor === undefined || cursor < start) {
      advance(math.pred(start));
      cursor = start;
    }
    push(index);
  }
  advance(undefined);
}

/** Index of the range containing `address`, or -1. */
function findIpv4(table: Ipv4Ranges, address: number): number {
  const { starts, ends } = table;
  let lo = 0;
  let hi = table.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid] <= address) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && address <= ends[found] ? found : -1;
}

function findIpv6(table: Ipv6Ranges, address: bigint): number {
  const { startHi, startLo, endHi, endLo } = table;
  const ah = address >> 64n;
  const al = address & MASK_64;
  let lo = 0;
  let hi = table.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const sh = startHi[mid];
    if (sh < ah || (sh === ah && startLo[mid] <= al)) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return -1;
  const eh = endHi[found];
  return eh > ah || (eh === ah && endLo[found] >= al) ? found : -1;
}

// ---------------------------------------------------------------------------------------------------------
// Database

const FILES = {
  asn4: 'asn-ipv4-num.csv',
  asn6: 'asn-ipv6-num.csv',
  country4: 'geo-whois-asn-country-ipv4-num.csv',
  country6: 'geo-whois-asn-country-ipv6-num.csv',
} as const;
const ASN_PACKAGE = '@ip-location-db/asn';
const COUNTRY_PACKAGE = '@ip-location-db/geo-whois-asn-country';

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Credit line required by CC BY 4.0; show it wherever country / ASN data is displayed or exported. The data
 * is used modified (nested ranges flattened), which CC BY asks us to say.
 */
export const GEOIP_ATTRIBUTION =
  `ASN data: ${ASN_PACKAGE} ${packageVersion(ASN_PACKAGE)}, built from Route Views ` +
  '(routeviews.org), the NRO (nro.net) and the DB-IP IP to ASN Lite database (IP Geolocation by DB-IP, ' +
  `https://db-ip.com), licensed CC BY 4.0. Country data: ${COUNTRY_PACKAGE} ` +
  `${packageVersion(COUNTRY_PACKAGE)}, built from NRO (nro.net) data, licensed CC BY 4.0. ` +
  'Both via https://github.com/sapics/ip-location-db; ranges flattened for lookup. ' +
  'License: https://creativecommons.org/licenses/by/4.0/';

/** A copy that does not pin the line text the parsed field was sliced from. */
function detached(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** Interning tables shared by the four files while loading. */
class ValueTables {
  readonly countries: string[] = [];
  readonly orgs: string[] = [];
  readonly asns: number[] = [];
  readonly asOrgs: number[] = [];
  private readonly countryIds = new Map<string, number>();
  private readonly orgIds = new Map<string, number>();
  /** Keyed by asn * 2^20 + org id (exact below 2^53: ASNs are 32-bit, org ids stay far below 2^20). */
  private readonly asnIds = new Map<number, number>();

  country(code: string): number {
    let id = this.countryIds.get(code);
    if (id === undefined) {
      id = this.countries.push(detached(code)) - 1;
      this.countryIds.set(this.countries[id], id);
    }
    return id;
  }

  asn(asn: number, org: string): number {
    let orgId = this.orgIds.get(org);
    if (orgId === undefined) {
      orgId = this.orgs.push(detached(org)) - 1;
      this.orgIds.set(this.orgs[orgId], orgId);
    }
    const key = asn * 2 ** 20 + orgId;
    let id = this.asnIds.get(key);
    if (id === undefined) {
      id = this.asns.push(asn) - 1;
      this.asOrgs.push(orgId);
      this.asnIds.set(key, id);
    }
    return id;
  }
}

async function readIpv4(path: string, valueOf: (values: string[]) => number): Promise<Ipv4Ranges> {
  const raw = new Ipv4Ranges();
  await forEachRange(path, numberBound, valueOf, (start, end, value) => {
    if (start <= end && end <= 0xffffffff) raw.push(start, end, value);
  });
  const ranges = new Ipv4Ranges();
  flatten(raw, ranges, { succ: (x) => x + 1, pred: (x) => x - 1, span: (start, end) => end - start });
  return ranges.compact();
}

async function readIpv6(path: string, valueOf: (values: string[]) => number): Promise<Ipv6Ranges> {
  const raw = new Ipv6Ranges();
  await forEachRange(path, bigintBound, valueOf, (start, end, value) => {
    if (start <= end && end >> 128n === 0n) raw.push(start, end, value);
  });
  const ranges = new Ipv6Ranges();
  flatten(raw, ranges, { succ: (x) => x + 1n, pred: (x) => x - 1n, span: (start, end) => end - start });
  return ranges.compact();
}

export class GeoIpDatabase {
  private constructor(
    private readonly country4: Ipv4Ranges,
    private readonly country6: Ipv6Ranges,
    private readonly asn4: Ipv4Ranges,
    private readonly asn6: Ipv6Ranges,
    /** Distinct country codes; the country tables hold indexes into it. */
    private readonly countries: readonly string[],
    /** Distinct (ASN, organisation) entries, which the ASN tables index: the ASN and an index into `orgs`. */
    private readonly asns: Uint32Array,
    private readonly asOrgs: Uint32Array,
    private readonly orgs: readonly string[],
  ) {}

  /**
   * Reads the four CSV files (one after the other, to keep the transient memory low). `dir` is a directory
   * holding all four (`asn-ipv4-num.csv`, `asn-ipv6-num.csv`, `geo-whois-asn-country-ipv4-num.csv`,
   * `geo-whois-asn-country-ipv6-num.csv`); by default each is read from its installed npm package.
   */
  static async load(options: { dir?: string } = {}): Promise<GeoIpDatabase> {
    const pathOf = (file: string, pkg: string): string => dataFile(file, pkg, options.dir);
    const tables = new ValueTables();
    const country = (values: string[]): number => tables.country(values[0]);
    const asn = (values: string[]): number => tables.asn(Number(values[0]), values[1] ?? '');
    const country4 = await readIpv4(pathOf(FILES.country4, COUNTRY_PACKAGE), country);
    const asn4 = await readIpv4(pathOf(FILES.asn4, ASN_PACKAGE), asn);
    const country6 = await readIpv6(pathOf(FILES.country6, COUNTRY_PACKAGE), country);
    const asn6 = await readIpv6(pathOf(FILES.asn6, ASN_PACKAGE), asn);
    return new GeoIpDatabase(
      country4,
      country6,
      asn4,
      asn6,
      tables.countries,
      Uint32Array.from(tables.asns),
      Uint32Array.from(tables.asOrgs),
      tables.orgs,
    );
  }

  /** Country and ASN of a public address; other kinds come back with nulls (they are never looked up). */
  lookup(ip: string): IpInfo {
    const address = parseAddress(ip);
    if (address.kind !== 'public') return { kind: address.kind, country: null, asn: null, asOrg: null };
    let country = -1;
    let entry = -1;
    if (address.family === 4) {
      const at = [findIpv4(this.country4, address.value), findIpv4(this.asn4, address.value)];
      if (at[0] >= 0) country = this.country4.values[at[0]];
      if (at[1] >= 0) entry = this.asn4.values[at[1]];
    } else {
      const at = [findIpv6(this.country6, address.value), findIpv6(this.asn6, address.value)];
      if (at[0] >= 0) country = this.country6.values[at[0]];
      if (at[1] >= 0) entry = this.asn6.values[at[1]];
    }
    return {
      kind: 'public',
      country: country >= 0 ? this.countries[country] : null,
      asn: entry >= 0 ? this.asns[entry] : null,
      asOrg: entry >= 0 ? this.orgs[this.asOrgs[entry]] || null : null,
    };
  }

  /** Number of disjoint ranges per table after flattening (diagnostics). */
  get size(): { country4: number; country6: number; asn4: number; asn6: number } {
    return {
      country4: this.country4.length,
      country6: this.country6.length,
      asn4: this.asn4.length,
      asn6: this.asn6.length,
    };
  }
}

let shared: Promise<GeoIpDatabase> | undefined;

/**
 * The process-wide database, loaded on first use (from `dir` when the CSV files were copied there, as in
 * the Lambda bundles). A failed load is not cached, so a later call retries.
 */
export async function geoIpDatabase(options: { dir?: string } = {}): Promise<GeoIpDatabase> {
  shared ??= GeoIpDatabase.load(options).catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

/** Where a data file is: `dir` when the files were copied there (Lambda bundles), else its npm package. */
const dataFile = (file: string, pkg: string, dir?: string): string =>
  join(dir ?? dirname(require.resolve(`${pkg}/package.json`)), file);

/**
 * Locates a few addresses without building the tables: one pass over each file their families need,
 * keeping for each address the narrowest range that holds it (the later line on ties), which is what
 * the flattened tables answer. For a trail's few hundred session addresses this is several times
 * cheaper than loading the database; for many lookups, load it (`geoIpDatabase`).
 */
export async function locateAddresses(
  addresses: Iterable<string>,
  options: { dir?: string } = {},
): Promise<Map<string, IpInfo>> {
  const found = new Map<string, IpInfo>();
  const v4 = new Map<number, string[]>();
  const v6 = new Map<bigint, string[]>();
  for (const address of new Set(addresses)) {
    const parsed = parseAddress(address);
    if (parsed.kind !== 'public')
      found.set(address, { kind: parsed.kind, country: null, asn: null, asOrg: null });
    else if (parsed.family === 4) pushTo(v4, parsed.value, address);
    else pushTo(v6, parsed.value, address);
  }
  const place = async <T extends number | bigint>(
    queries: Map<T, string[]>,
    files: { country: string; asn: string },
    bound: (bytes: Buffer, from: number, to: number) => T,
    valid: (start: T, end: T) => boolean,
  ) => {
    if (queries.size === 0) return;
    const values = [...queries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const country = await narrowestRanges(
      dataFile(files.country, COUNTRY_PACKAGE, options.dir),
      bound,
      valid,
      values,
    );
    const asn = await narrowestRanges(dataFile(files.asn, ASN_PACKAGE, options.dir), bound, valid, values);
    values.forEach((value, i) => {
      const info: IpInfo = {
        kind: 'public',
        country: country[i]?.[0] ?? null,
        // As the tables store them: ASNs as unsigned 32-bit numbers, an empty organisation as none.
        asn: asn[i] ? Number(asn[i][0]) >>> 0 : null,
        asOrg: asn[i] ? asn[i][1] || null : null,
      };
      for (const address of queries.get(value) ?? []) found.set(address, info);
    });
  };
  await place(
    v4,
    { country: FILES.country4, asn: FILES.asn4 },
    numberBound,
    (s, e) => s <= e && e <= 0xffffffff,
  );
  await place(
    v6,
    { country: FILES.country6, asn: FILES.asn6 },
    bigintBound,
    (s, e) => s <= e && e >> 128n === 0n,
  );
  return found;
}

/** For each of the sorted `queries`, the value fields of the narrowest valid range holding it (the later line on ties). */
async function narrowestRanges<T extends number | bigint>(
  path: string,
  bound: (bytes: Buffer, from: number, to: number) => T,
  valid: (start: T, end: T) => boolean,
  queries: readonly T[],
): Promise<(string[] | null)[]> {
  const bytes = await readFile(path);
  const best: ({ start: T; end: T; from: number; to: number } | null)[] = queries.map(() => null);
  forEachRangeLine(bytes, (line, first, second, from, to) => {
    const start = bound(bytes, line, first);
    const end = bound(bytes, first + 1, second);
    if (!valid(start, end)) return;
    let lo = 0;
    let hi = queries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (queries[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < queries.length && queries[i] <= end; i++) {
      const held = best[i];
      // end - start, compared without mixing number and bigint arithmetic in one generic expression.
      if (!held || !narrower(held.start, held.end, start, end)) best[i] = { start, end, from, to };
    }
  });
  return best.map((range) => (range ? parseCsvLine(bytes.toString('utf8', range.from, range.to)) : null));
}

/** Whether [aStart, aEnd] is strictly narrower than [bStart, bEnd]. */
function narrower<T extends number | bigint>(aStart: T, aEnd: T, bStart: T, bEnd: T): boolean {
  return typeof aStart === 'bigint'
    ? (aEnd as bigint) - (aStart as bigint) < (bEnd as bigint) - (bStart as bigint)
    : (aEnd as number) - (aStart as number) < (bEnd as number) - (bStart as number);
}

/** A lookup that answers for `addresses` from the data files (`locateAddresses`), and classifies any other. */
export async function lookupFor(
  addresses: Iterable<string>,
  options: { dir?: string } = {},
): Promise<(address: string) => IpInfo> {
  const found = await locateAddresses(addresses, options);
  return (address) =>
    found.get(address) ?? { kind: classifyAddress(address), country: null, asn: null, asOrg: null };
}

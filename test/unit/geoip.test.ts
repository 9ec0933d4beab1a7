/** Source-address classification and offline country / ASN lookups (engine/geoip.ts). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  classifyAddress,
  GEOIP_ATTRIBUTION,
  GeoIpDatabase,
  geoIpDatabase,
  lookupFor,
  parseCsvLine,
  type AddressKind,
} from '../../engine/geoip.ts';

describe('classifyAddress', () => {
  const cases: Record<AddressKind, (string | undefined | null)[]> = {
    'aws-internal': ['AWS Internal'],
    service: [
      'ec2.amazonaws.com',
      'signin.amazonaws.com',
      'lambda.amazonaws.com',
      'example.org',
      'localhost',
    ],
    private: [
      // RFC 1918, both edges of each block
      '10.0.0.0',
      '10.255.255.255',
      '172.16.0.0',
      '172.31.255.255',
      '192.168.0.1',
      '192.168.255.255',
      // loopback, link-local (incl. the instance metadata address), carrier-grade NAT
      '127.0.0.1',
      '127.255.255.254',
      '169.254.0.1',
      '169.254.169.254',
      '100.64.0.0',
      '100.127.255.255',
      // documentation ranges are treated as private
      '192.0.2.1',
      '198.51.100.7',
      '203.0.113.255',
      // IPv6: loopback, link-local, unique local, documentation
      '::1',
      'fe80::1',
      'fe80::1%eth0',
      'febf:ffff::1',
      'fc00::1',
      'fd12:3456:789a::1',
      '2001:db8::1',
      '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff',
      // IPv4-mapped IPv6 is classified by the IPv4 address it carries
      '::ffff:10.0.0.1',
      '::ffff:c0a8:101',
    ],
    public: [
      '8.8.8.8',
      '1.1.1.1',
      '9.255.255.255',
      '11.0.0.0',
      '172.15.255.255',
      '172.32.0.0',
      '192.167.255.255',
      '192.169.0.0',
      '100.63.255.255',
      '100.128.0.0',
      '169.253.255.255',
      '169.255.0.0',
      '192.0.3.0',
      '198.51.101.0',
      '203.0.112.255',
      ' 8.8.8.8 ',
      '2606:4700:4700::1111',
      '2001:db9::1',
      '2001:db7:ffff::1',
      'fec0::1',
      'fe00::1',
      'fbff::1',
      '::ffff:8.8.8.8',
    ],
    invalid: [
      undefined,
      null,
      '',
      '   ',
      '1.2.3.256',
      '1.2.3',
      '01.02.03.04.05',
      '10.0.0.0/8',
      '2001:db8::g',
      '1::2::3',
      'not an ip',
      '-bad-.example.com',
      'host_name.example.com',
    ],
  };
  for (const [kind, values] of Object.entries(cases)) {
    it.each(values.map((value) => [JSON.stringify(value), value]))(`classifies %s as ${kind}`, (_, value) => {
      expect(classifyAddress(value)).toBe(kind);
    });
  }
});

describe('parseCsvLine', () => {
  it('splits unquoted fields', () => {
    expect(parseCsvLine('16777216,16777471,AU')).toEqual(['16777216', '16777471', 'AU']);
    expect(parseCsvLine('1,2,64512,')).toEqual(['1', '2', '64512', '']);
  });

  it('keeps commas inside quoted fields', () => {
    expect(parseCsvLine('16777216,16777471,13335,"Cloudflare, Inc."')).toEqual([
      '16777216',
      '16777471',
      '13335',
      'Cloudflare, Inc.',
    ]);
  });

  it('unescapes doubled quotes', () => {
    expect(parseCsvLine('35309568,35313663,201907,"LLC ""SPUTNIK"""')).toEqual([
      '35309568',
      '35313663',
      '201907',
      'LLC "SPUTNIK"',
    ]);
    expect(parseCsvLine('1,2,3,"A ""B"", C",x')).toEqual(['1', '2', '3', 'A "B", C', 'x']);
    expect(parseCsvLine('1,2,3,""')).toEqual(['1', '2', '3', '']);
  });
});

/** A 128-bit address value from hex groups, for writing IPv6 fixture rows. */
const v6 = (hex: string): bigint => BigInt(`0x${hex}`);

describe('GeoIpDatabase on a small fixture', () => {
  let dir: string;
  let db: GeoIpDatabase;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'geoip-test-'));
    const cf = v6('26064700000000000000000000000000');
    const cfEnd = v6('26064700ffffffffffffffffffffffff');
    const cfInner = v6('26064700001000000000000000000000');
    const cfInnerEnd = v6('2606470000100000ffffffffffffffff');
    const top = v6('ffff0000000000000000000000000000');
    const max = (1n << 128n) - 1n;
    const files: Record<string, string[]> = {
      'geo-whois-asn-country-ipv4-num.csv': [
        '33554432,33554687,DE', // 2.0.0.0/24
        '33554442,33554442,BE', // 2.0.0.10, nested, DE resumes after it
        '33554443,33554687,DE',
        '33554532,33554539,TR', // 2.0.0.100-107, nested without a resuming row
        '50331648,50331903,FR', // 3.0.0.0/24
        '50331888,50331919,LU', // 3.0.0.240-3.0.1.15: partial overlap, narrower
        '4294967040,4294967295,ZZ', // 255.255.255.0/24, up to the last address
        '16777216,16777471,AU', // out of order on purpose
      ],
      'asn-ipv4-num.csv': [
        '16777216,16777471,13335,"Cloudflare, Inc."',
        '33554432,33554687,201907,"LLC ""SPUTNIK"""',
      ],
      'geo-whois-asn-country-ipv6-num.csv': [
        `${cf},${cfEnd},US`,
        `${cfInner},${cfInnerEnd},GB`,
        '',
        `${top},${max},ZZ`,
      ],
      'asn-ipv6-num.csv': [`${cf},${cfEnd},13335,"Cloudflare, Inc."\r`],
    };
    for (const [name, lines] of Object.entries(files))
      await writeFile(join(dir, name), `${lines.join('\n')}\n`);
    db = await GeoIpDatabase.load({ dir });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const country = (ip: string): string | null => db.lookup(ip).country;

  it('locates a few addresses without tables exactly as the tables do (nesting, overlap, order, edges)', async () => {
    const addresses = [
      ...['2.0.0.0', '2.0.0.9', '2.0.0.10', '2.0.0.11', '2.0.0.99', '2.0.0.100', '2.0.0.107', '2.0.0.108'],
      ...['2.0.0.255', '2.0.1.0', '3.0.0.239', '3.0.0.240', '3.0.1.15', '3.0.1.16', '1.0.0.0', '1.0.0.255'],
      ...['0.255.255.255', '255.255.255.255', '::ffff:2.0.0.10', '2606:4700::1', '2606:4700:10::1'],
      ...['2606:4700:10:0:ffff::1', '2606:4701::', 'ffff::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
      ...['10.0.0.1', 'AWS Internal', 's3.amazonaws.com', 'not an address', ''],
    ];
    const located = await lookupFor(addresses, { dir });
    for (const address of addresses) expect(located(address), address).toEqual(db.lookup(address));
    // An address it was not asked about is still classified, never located.
    expect(located('fd00::7')).toEqual({ kind: 'private', country: null, asn: null, asOrg: null });
  });

  it('gives nested ranges precedence inside their parent and the parent value around them', () => {
    expect([country('2.0.0.0'), country('2.0.0.9'), country('2.0.0.10'), country('2.0.0.11')]).toEqual([
      'DE',
      'DE',
      'BE',
      'DE',
    ]);
    expect([country('2.0.0.99'), country('2.0.0.100'), country('2.0.0.107'), country('2.0.0.108')]).toEqual([
      'DE',
      'TR',
      'TR',
      'DE',
    ]);
    expect([country('2.0.0.255'), country('2.0.1.0')]).toEqual(['DE', null]);
  });

  it('gives a partial overlap to the narrower range', () => {
    expect([country('3.0.0.239'), country('3.0.0.240'), country('3.0.1.15'), country('3.0.1.16')]).toEqual([
      'FR',
      'LU',
      'LU',
      null,
    ]);
  });

  it('sorts rows that are out of order and covers the last address of the space', () => {
    expect([country('1.0.0.0'), country('1.0.0.255'), country('1.0.1.0'), country('0.255.255.255')]).toEqual([
      'AU',
      'AU',
      null,
      null,
    ]);
    expect(country('255.255.255.255')).toBe('ZZ');
    expect(country('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe('ZZ');
  });

  it('reads quoted organisation names with commas and escaped quotes', () => {
    expect(db.lookup('1.0.0.1')).toEqual({
      kind: 'public',
      country: 'AU',
      asn: 13335,
      asOrg: 'Cloudflare, Inc.',
    });
    expect(db.lookup('2.0.0.10')).toEqual({
      kind: 'public',
      country: 'BE',
      asn: 201907,
      asOrg: 'LLC "SPUTNIK"',
    });
  });

  it('looks up IPv6 ranges, nested ones included', () => {
    expect(db.lookup('2606:4700::1')).toEqual({
      kind: 'public',
      country: 'US',
      asn: 13335,
      asOrg: 'Cloudflare, Inc.',
    });
    expect(country('2606:4700:10::1')).toBe('GB');
    expect(country('2606:4700:11::1')).toBe('US');
    expect(db.lookup('2606:4701::1')).toEqual({ kind: 'public', country: null, asn: null, asOrg: null });
  });

  it('looks up IPv4-mapped IPv6 addresses in the IPv4 tables', () => {
    expect(db.lookup('::ffff:1.0.0.1')).toEqual(db.lookup('1.0.0.1'));
  });

  it('fails with the missing file named', async () => {
    await expect(GeoIpDatabase.load({ dir: join(dir, 'missing') })).rejects.toThrow(/-num\.csv/);
  });
});

describe('GeoIpDatabase on the bundled data', () => {
  let db: GeoIpDatabase;

  beforeAll(async () => {
    db = await geoIpDatabase();
  }, 120_000);

  it('is loaded once per process', async () => {
    expect(await geoIpDatabase()).toBe(db);
  });

  it('finds Cloudflare and Google public resolvers', () => {
    expect(db.lookup('1.1.1.1')).toMatchObject({
      kind: 'public',
      asn: 13335,
      asOrg: expect.stringMatching(/Cloudflare/),
    });
    expect(db.lookup('8.8.8.8')).toEqual({ kind: 'public', country: 'US', asn: 15169, asOrg: 'Google LLC' });
    expect(db.lookup('::ffff:8.8.8.8')).toEqual(db.lookup('8.8.8.8'));
  });

  it('finds IPv6 addresses of well-known networks', () => {
    expect(db.lookup('2606:4700:4700::1111')).toMatchObject({ kind: 'public', asn: 13335 });
    expect(db.lookup('2001:4860:4860::8888')).toMatchObject({ kind: 'public', country: 'US', asn: 15169 });
  });

  it('does not look up private, service or invalid values', () => {
    for (const [value, kind] of [
      ['10.1.2.3', 'private'],
      ['192.0.2.10', 'private'],
      ['fd00::1', 'private'],
      ['AWS Internal', 'aws-internal'],
      ['ec2.amazonaws.com', 'service'],
      ['999.1.1.1', 'invalid'],
    ] as const) {
      expect(db.lookup(value)).toEqual({ kind, country: null, asn: null, asOrg: null });
    }
  });

  it('locates addresses without tables as the tables do: random ones and range edges', async () => {
    const { readFileSync } = await import('node:fs');
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    let seed = 9;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const addresses: string[] = [];
    for (let i = 0; i < 3000; i++)
      addresses.push([24, 16, 8, 0].map((shift) => (next() >>> shift) & 255).join('.'));
    for (let i = 0; i < 300; i++)
      addresses.push(
        `2${(next() % 0x1000).toString(16).padStart(3, '0')}:${(next() & 0xffff).toString(16)}::${(next() & 0xffff).toString(16)}`,
      );
    // Both ends of sampled ranges, and the addresses just outside them.
    const lines = readFileSync(require.resolve('@ip-location-db/asn/asn-ipv4-num.csv'), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i += 4001) {
      const [start, end] = lines[i].split(',').map(Number);
      if (!Number.isFinite(start) || !Number.isFinite(end)) continue;
      for (const n of [start - 1, start, end, end + 1])
        if (n >= 0 && n <= 0xffffffff)
          addresses.push([24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.'));
    }
    const located = await lookupFor(addresses);
    const differing = addresses.filter((a) => JSON.stringify(located(a)) !== JSON.stringify(db.lookup(a)));
    expect(differing).toEqual([]);
    expect(addresses.filter((a) => located(a).country !== null).length).toBeGreaterThan(2000);
  });

  it('returns nulls for public-looking addresses no range covers', () => {
    for (const value of ['240.0.0.1', '255.255.255.255', '0.0.0.1', '100::1']) {
      expect(db.lookup(value)).toEqual({ kind: 'public', country: null, asn: null, asOrg: null });
    }
  });
});

describe('GEOIP_ATTRIBUTION', () => {
  it('credits the data sources, their licence and the package versions', () => {
    expect(GEOIP_ATTRIBUTION).toMatch(/Route Views/);
    expect(GEOIP_ATTRIBUTION).toMatch(/DB-IP/);
    expect(GEOIP_ATTRIBUTION).toMatch(/CC BY 4\.0/);
    expect(GEOIP_ATTRIBUTION).toMatch(/@ip-location-db\/asn \d+\.\d+\.\d+/);
    expect(GEOIP_ATTRIBUTION).toMatch(/@ip-location-db\/geo-whois-asn-country \d+\.\d+\.\d+/);
  });
});

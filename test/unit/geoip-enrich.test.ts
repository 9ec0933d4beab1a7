/** Source addresses located offline: in session summaries and rows, and in detections. */
import { beforeAll, describe, expect, it } from 'vitest';
import { detect, loadDetections } from '../../engine/detect.ts';
import { enrich } from '../../engine/enrich.ts';
import { type GeoIpDatabase, geoIpDatabase } from '../../engine/geoip.ts';
import { toTrailEvent } from '../../engine/read.ts';
import { loadRules } from '../../engine/rules/load.ts';
import { sessionRow } from '../../engine/tables.ts';
import type { CloudTrailRecord } from '../../engine/types.ts';

let db: GeoIpDatabase;
const lookup = (address: string | undefined) => db.lookup(address ?? '');

beforeAll(async () => {
  db = await geoIpDatabase();
}, 60_000);

const login = (id: string, time: string, ip: string, key: string): CloudTrailRecord => ({
  eventID: id,
  eventTime: time,
  eventSource: 'signin.amazonaws.com',
  eventName: 'ConsoleLogin',
  eventType: 'AwsConsoleSignIn',
  awsRegion: 'us-east-1',
  sourceIPAddress: ip,
  userAgent: 'Mozilla/5.0',
  userIdentity: {
    type: 'IAMUser',
    arn: 'arn:aws:iam::111122223333:user/alice',
    accountId: '111122223333',
    userName: 'alice',
  },
  responseElements: { ConsoleLogin: 'Success' },
  additionalEventData: { MFAUsed: 'Yes', key },
});

describe('offline GeoIP in the engine', () => {
  it('locates public sources in session summaries and rows, and labels private ones', () => {
    const events = [
      toTrailEvent(login('a', '2026-03-01T10:00:00Z', '8.8.8.8', 'k1'), 'test', 0),
      toTrailEvent(login('b', '2026-03-02T10:00:00Z', '192.168.1.10', 'k2'), 'test', 1),
    ];
    const { sessions } = enrich(events, loadRules(), { lookup });
    const google = sessions.find((s) => s.summary.sourceIps.includes('8.8.8.8'))!;
    expect(google.summary.sourceLocations).toEqual([
      { ip: '8.8.8.8', kind: 'public', country: 'US', asn: 15169, asOrg: 'Google LLC' },
    ]);
    expect(google.summary.summary).toContain('8.8.8.8 (US, Google LLC)');
    expect(sessionRow(google.summary)).toMatchObject({
      source_countries: ['US'],
      source_networks: ['AS15169 Google LLC'],
    });
    const home = sessions.find((s) => s.summary.sourceIps.includes('192.168.1.10'))!;
    expect(home.summary.summary).toContain('192.168.1.10 (private)');
    expect(sessionRow(home.summary)).toMatchObject({ source_countries: [], source_networks: [] });
  });

  it('a sign-in from a country the principal never used fires console-login-new-country', () => {
    const events = [
      toTrailEvent(login('a', '2026-03-01T10:00:00Z', '8.8.8.8', 'k1'), 'test', 0),
      toTrailEvent(login('b', '2026-03-02T10:00:00Z', '8.8.4.4', 'k2'), 'test', 1),
      toTrailEvent(login('c', '2026-03-03T10:00:00Z', '1.1.1.1', 'k3'), 'test', 2),
    ];
    const country = db.lookup('1.1.1.1').country;
    expect(country).not.toBe('US');
    const hits = detect(events, loadDetections(), { lookup }).filter(
      (h) => h.ruleId === 'console-login-new-country',
    );
    expect(hits.map((h) => h.eventIds)).toEqual([['c']]);
    expect(hits[0].summary).toContain(`signed in from ${country}`);
    expect(hits[0]).toMatchObject({ sourceCountry: country, sourceNetwork: 'AS13335 Cloudflare, Inc.' });
  });
});

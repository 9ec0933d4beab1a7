/**
 * A legal record can hold an array of a hundred thousand items (256 KB of `0,`): nothing may spread
 * such an array into a call's arguments (the stack overflows past about 100k), so enrich, detect,
 * rule paths and `--match` paths all take it (regression: a 257 KB filterSet of 128k numbers made
 * `enrich` and `detect` exit with a stack trace and no output).
 */
import { describe, expect, it } from 'vitest';
import { append, maxOf, minOf } from '../../engine/arrays.ts';
import { detect, loadDetections } from '../../engine/detect.ts';
import { enrich } from '../../engine/enrich.ts';
import { parseMatchExpression, selectPath } from '../../engine/filter.ts';
import { toTrailEvent } from '../../engine/read.ts';
import { stringValuesAt } from '../../engine/rules/path.ts';
import { loadRules } from '../../engine/rules/load.ts';

const ITEMS = 128_000;

/** A console DescribeInstances whose filter lists 128k numbers: about 257 KB of JSON. */
function hugeRecord() {
  return toTrailEvent(
    {
      eventVersion: '1.09',
      eventID: '0f1e2d3c-4b5a-4697-8877-665544332211',
      eventTime: '2026-03-02T09:00:00Z',
      eventSource: 'ec2.amazonaws.com',
      eventName: 'DescribeInstances',
      awsRegion: 'eu-west-1',
      sourceIPAddress: '198.51.100.10',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36',
      recipientAccountId: '111122223333',
      sessionCredentialFromConsole: 'true',
      readOnly: true,
      userIdentity: {
        type: 'IAMUser',
        principalId: 'AIDAEXAMPLEALICE0001',
        arn: 'arn:aws:iam::111122223333:user/alice',
        accountId: '111122223333',
        accessKeyId: 'ASIAEC2KEY000000001',
        sessionContext: { attributes: { creationDate: '2026-03-02T08:59:00Z', mfaAuthenticated: 'true' } },
      },
      requestParameters: {
        filterSet: {
          items: [{ name: 'instance-id', valueSet: { items: Array.from({ length: ITEMS }, () => 0) } }],
        },
      },
      responseElements: null,
    },
    'huge.json',
    0,
  );
}

describe('arrays of 128k items in one record', () => {
  it('is about 257 KB of JSON, as the issue found it', () => {
    expect(JSON.stringify(hugeRecord().record).length).toBeGreaterThan(256_000);
  });

  it('enrich explains it (no stack overflow)', () => {
    const result = enrich([hugeRecord()], loadRules());
    expect(result.sessions).toHaveLength(1);
    expect(result.sessions[0].signals.flatMap((s) => s.eventIds)).toEqual([hugeRecord().id]);
  });

  it('detect checks it against every detection (no stack overflow)', () => {
    expect(detect([hugeRecord()], loadDetections())).toEqual([]);
  });

  it('rule paths and --match paths select every item', () => {
    const record = hugeRecord().record;
    expect(stringValuesAt(record, 'requestParameters.filterSet.items[].valueSet.items[]')).toHaveLength(
      ITEMS,
    );
    const { path } = parseMatchExpression('$.requestParameters.filterSet.items[*].valueSet.items[*] == 0');
    expect(selectPath(record, path)).toHaveLength(ITEMS);
  });

  it('append, maxOf and minOf take a million items', () => {
    const many = Array.from({ length: 1_000_000 }, (_, i) => i);
    expect(append([-1], many)).toHaveLength(1_000_001);
    expect([maxOf(many), minOf(many), maxOf([]), minOf([], 0)]).toEqual([999_999, 0, -Infinity, 0]);
  });
});

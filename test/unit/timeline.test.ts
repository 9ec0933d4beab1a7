/**
 * Every log value reaches the terminal through one escaping function: no escape sequence, clear
 * screen, hyperlink or bidirectional override from a record survives into the timeline (regression:
 * `awsRegion` and generic labels were printed as they came).
 */
import { describe, expect, it } from 'vitest';
import { enrich } from '../../engine/enrich.ts';
import { toTrailEvent } from '../../engine/read.ts';
import { loadRules } from '../../engine/rules/load.ts';
import { printable, renderTimeline } from '../../engine/timeline.ts';

// eslint-disable-next-line no-control-regex -- looking for control characters is the point
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const HOSTILE_REGION =
  'eu-west-1\u001b[2J\u001b]8;;https://evil.example/\u0007click\u001b]8;;\u0007\u202eexe.txt';
const HOSTILE_NAME = 'DeleteThing\u001b[31m\u2066';

function hostileSession() {
  return [0, 1].map((i) =>
    toTrailEvent(
      {
        eventVersion: '1.09',
        eventID: `00000000-0000-4000-8000-00000000000${i}`,
        eventTime: `2026-03-02T09:00:0${i}Z`,
        eventSource: 'rds.amazonaws.com',
        eventName: i === 0 ? HOSTILE_NAME : 'DescribeDBInstances',
        readOnly: i === 0 ? false : true,
        awsRegion: HOSTILE_REGION,
        sourceIPAddress: '198.51.100.10',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36',
        recipientAccountId: '111122223333',
        sessionCredentialFromConsole: 'true',
        userIdentity: {
          type: 'IAMUser',
          arn: 'arn:aws:iam::111122223333:user/alice',
          accountId: '111122223333',
          accessKeyId: 'ASIARDSKEY000000001',
          sessionContext: { attributes: { creationDate: '2026-03-02T08:59:00Z', mfaAuthenticated: 'true' } },
        },
      },
      'hostile.json',
      i,
    ),
  );
}

describe('the terminal timeline', () => {
  it('prints no control character or bidirectional override from the logs', () => {
    const { sessions } = enrich(hostileSession(), loadRules());
    const text = renderTimeline(sessions, { color: false, showSuppressed: true });
    expect(text).toContain('eu-west-1');
    expect(text).toContain('generic:rds:DeleteThing');
    expect(text).not.toMatch(UNSAFE);
  });

  it('printable blanks C0/C1 controls and bidi overrides and keeps other text', () => {
    expect(printable('a\u001b[2Jb\u202ec\u2067d\u009be')).toBe('a [2Jb c d e');
    expect(printable('Zürich → 東京')).toBe('Zürich → 東京');
  });
});

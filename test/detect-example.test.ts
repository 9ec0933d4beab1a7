/** `trailmap detect` on the bundled example finds the risky actions its story contains. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { DetectionHit } from '../engine/detect.ts';
import { readInputs } from '../engine/read.ts';
import type { Signal } from '../engine/types.ts';

const run = promisify(execFile);

/** Risky calls and the detection each must raise, whatever the example's generator chose to do. */
const EXPECTED: Record<string, string> = {
  'cloudtrail:StopLogging': 'cloudtrail-logging-stopped-or-trail-deleted',
  'guardduty:UpdateDetector': 'guardduty-detector-disabled',
  'ec2:ModifySnapshotAttribute': 'ebs-snapshot-shared-publicly',
  'ec2:AuthorizeSecurityGroupIngress': 'ec2-security-group-world-open-admin-port',
  's3:PutBucketPolicy': 's3-bucket-policy-public',
  's3:PutBucketPublicAccessBlock': 's3-block-public-access-removed',
  'iam:AttachUserPolicy': 'iam-admin-managed-policy-attached',
  'iam:CreateAccessKey': 'iam-access-key-created-for-named-user',
};

describe('trailmap detect on examples/trail', () => {
  it('raises a detection for every risky call in the example, and lists risky console actions', async () => {
    const { stdout } = await run(
      'node',
      ['bin/trailmap.js', 'detect', 'examples/trail', '--format', 'json'],
      {
        maxBuffer: 32 * 1024 * 1024,
      },
    );
    const alerts = JSON.parse(stdout) as { detections: DetectionHit[]; riskySignals: Signal[] };
    const events = (await readInputs(['examples/trail'])).events;
    const risky = events.filter((e) => e.ref in EXPECTED);
    expect(new Set(risky.map((e) => e.ref))).toEqual(new Set(Object.keys(EXPECTED)));
    for (const event of risky) {
      const hit = alerts.detections.find((d) => d.eventIds.includes(event.id));
      expect(hit?.ruleId, `${event.ref} ${event.id}`).toBe(EXPECTED[event.ref]);
    }
    const bob = alerts.detections.find((d) => d.ruleId === 'console-login-without-mfa');
    expect(bob?.principalArn).toMatch(/bob@example\.com$/);
    expect(alerts.riskySignals.length).toBeGreaterThan(5);
    expect(alerts.riskySignals.every((s) => ['medium', 'high', 'critical'].includes(s.risk))).toBe(true);
  }, 60_000);

  it('prints a readable list, most severe first', async () => {
    const { stdout } = await run('node', ['bin/trailmap.js', 'detect', 'examples/trail'], {
      maxBuffer: 32 * 1024 * 1024,
    });
    const severities = stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/)[1]);
    const rank = ['INFO', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
    expect(severities[0]).toBe('CRITICAL');
    expect(severities.map((s) => rank.indexOf(s))).toEqual(
      [...severities.map((s) => rank.indexOf(s))].sort((a, b) => b - a),
    );
  }, 60_000);
});

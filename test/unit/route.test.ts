/** Which records the cloud pipeline buffers, and under which partition. */
import { describe, expect, it } from 'vitest';
import { bufferPartitionOf } from '../../engine/route.ts';
import type { CloudTrailRecord } from '../../engine/types.ts';

const alice = { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333' };
const base: CloudTrailRecord = {
  eventSource: 'iam.amazonaws.com',
  eventName: 'ListUsers',
  eventTime: '2026-01-01T00:00:00Z',
};

describe('bufferPartitionOf', () => {
  it('buffers console calls under their principal', () => {
    const record = {
      ...base,
      sessionCredentialFromConsole: 'true',
      userIdentity: { ...alice, accessKeyId: 'ASIAALICE' },
    };
    expect(bufferPartitionOf(record)).toBe(alice.arn);
  });

  it('buffers sign-ins, including failed ones for unknown users', () => {
    const login = {
      ...base,
      eventSource: 'signin.amazonaws.com',
      eventName: 'ConsoleLogin',
      eventType: 'AwsConsoleSignIn',
      userIdentity: {
        type: 'IAMUser',
        accountId: '111122223333',
        userName: 'HIDDEN_DUE_TO_SECURITY_REASONS',
      },
    };
    expect(bufferPartitionOf(login)).toBe('111122223333:HIDDEN_DUE_TO_SECURITY_REASONS');
  });

  it('buffers calls AWS makes with a temporary key (they join the console session with that key)', () => {
    const internal = {
      ...base,
      userAgent: 'AWS Internal',
      userIdentity: { ...alice, accessKeyId: 'ASIAALICE' },
    };
    expect(bufferPartitionOf(internal)).toBe(alice.arn);
  });

  it('does not buffer CLI or SDK calls, nor calls with long-term keys', () => {
    const cli = {
      ...base,
      userAgent: 'aws-cli/2.15.0 Python/3.11',
      userIdentity: { ...alice, accessKeyId: 'ASIAALICE' },
    };
    const longTerm = {
      ...base,
      userAgent: 'AWS Internal',
      userIdentity: { ...alice, accessKeyId: 'AKIAALICE' },
    };
    expect([bufferPartitionOf(cli), bufferPartitionOf(longTerm)]).toEqual([null, null]);
  });

  it('does not buffer records without a principal', () => {
    expect(bufferPartitionOf({ ...base, sessionCredentialFromConsole: 'true' })).toBeNull();
  });
});

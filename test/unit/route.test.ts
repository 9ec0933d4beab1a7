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

const ALICE = '111122223333:user/alice';

describe('bufferPartitionOf', () => {
  it('buffers console calls under their principal key', () => {
    const record = {
      ...base,
      sessionCredentialFromConsole: 'true',
      userIdentity: { ...alice, accessKeyId: 'ASIAALICE00000000001' },
    };
    expect(bufferPartitionOf(record)).toBe(ALICE);
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
    expect(bufferPartitionOf(login)).toBe('111122223333:user/HIDDEN_DUE_TO_SECURITY_REASONS');
  });

  it('buffers calls AWS makes with a temporary key (they join the console session with that key)', () => {
    const internal = {
      ...base,
      userAgent: 'AWS Internal',
      userIdentity: { ...alice, accessKeyId: 'ASIAALICE00000000001' },
    };
    expect(bufferPartitionOf(internal)).toBe(ALICE);
  });

  it('does not buffer CLI or SDK calls, nor calls with long-term keys', () => {
    const cli = {
      ...base,
      userAgent: 'aws-cli/2.15.0 Python/3.11',
      userIdentity: { ...alice, accessKeyId: 'ASIAALICE00000000001' },
    };
    const longTerm = {
      ...base,
      userAgent: 'AWS Internal',
      userIdentity: { ...alice, accessKeyId: 'AKIAALICE00000000001' },
    };
    expect([bufferPartitionOf(cli), bufferPartitionOf(longTerm)]).toEqual([null, null]);
  });

  it("puts an IAM user's CheckMfa (no arn) in the partition of its console calls", () => {
    const checkMfa = {
      ...base,
      eventSource: 'signin.amazonaws.com',
      eventName: 'CheckMfa',
      eventType: 'AwsConsoleSignIn',
      userIdentity: {
        type: 'IAMUser',
        principalId: 'AIDAEXAMPLE',
        accountId: '111122223333',
        userName: 'alice',
      },
    };
    const withPath = {
      ...base,
      sessionCredentialFromConsole: 'true',
      userIdentity: { ...alice, arn: 'arn:aws:iam::111122223333:user/team/ops/alice' },
    };
    expect([bufferPartitionOf(checkMfa), bufferPartitionOf(withPath)]).toEqual([ALICE, ALICE]);
  });

  it('buffers console back-end calls without the console flag or a temporary key, by creationDate', () => {
    const rdsConsole = {
      ...base,
      userAgent: 'RDS Console, aws-internal/3 aws-sdk-java/1.12.720 Linux/5.10',
      userIdentity: {
        ...alice,
        sessionContext: { attributes: { creationDate: '2026-01-01T00:00:00Z', mfaAuthenticated: 'true' } },
      },
    };
    expect(bufferPartitionOf(rdsConsole)).toBe(ALICE);
  });

  it('does not buffer records without a principal', () => {
    expect(bufferPartitionOf({ ...base, sessionCredentialFromConsole: 'true' })).toBeNull();
  });
});

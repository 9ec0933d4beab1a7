import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { expect, it } from 'vitest';
import { CloudWatchSessionLog } from '../../lambdas/session-log.ts';
import { maxOf, minOf } from '../../engine/arrays.ts';

it('never sends one PutLogEvents batch spanning more than 24 hours (CloudWatch Logs refuses it)', async () => {
  const logs = new CloudWatchLogsClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const mock = mockClient(logs);
  mock.on(CreateLogStreamCommand).resolves({});
  mock.on(PutLogEventsCommand).resolves({});
  const day = Date.parse('2026-03-02T09:00:00Z');
  await new CloudWatchSessionLog(logs, 'sessions', 'flush/1').write([
    { timestamp: day, message: '{"id":"s-old"}' },
    { timestamp: day + 25 * 3_600_000, message: '{"id":"s-new"}' },
  ]);
  for (const call of mock.commandCalls(PutLogEventsCommand)) {
    const times = call.args[0].input.logEvents!.map((e) => e.timestamp!);
    expect(maxOf(times) - minOf(times)).toBeLessThanOrEqual(24 * 3_600_000);
  }
});

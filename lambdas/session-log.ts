/** Session summaries to the sessions CloudWatch log group: one log stream per flush run. */
import {
  type CloudWatchLogsClient,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  ResourceAlreadyExistsException,
} from '@aws-sdk/client-cloudwatch-logs';
import type { SessionLogSink } from './flush.ts';

/** PutLogEvents limits: 10,000 events and 1 MiB (with 26 bytes of overhead per event) per call. */
const MAX_EVENTS = 10_000;
const MAX_BYTES = 1_000_000;

export class CloudWatchSessionLog implements SessionLogSink {
  private created = false;

  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly logGroupName: string,
    private readonly logStreamName: string,
  ) {}

  async write(lines: { timestamp: number; message: string }[]): Promise<void> {
    if (lines.length === 0) return;
    if (!this.created) {
      try {
        await this.logs.send(
          new CreateLogStreamCommand({ logGroupName: this.logGroupName, logStreamName: this.logStreamName }),
        );
      } catch (error) {
        if (!(error instanceof ResourceAlreadyExistsException)) throw error;
      }
      this.created = true;
    }
    let batch: typeof lines = [];
    let bytes = 0;
    const send = async () => {
      if (batch.length === 0) return;
      await this.logs.send(
        new PutLogEventsCommand({
          logGroupName: this.logGroupName,
          logStreamName: this.logStreamName,
          logEvents: batch,
        }),
      );
      batch = [];
      bytes = 0;
    };
    for (const line of lines) {
      const size = Buffer.byteLength(line.message) + 26;
      if (batch.length >= MAX_EVENTS || bytes + size > MAX_BYTES) await send();
      batch.push(line);
      bytes += size;
    }
    await send();
  }
}

/** Collects session lines in memory (simulate, tests). */
export class MemorySessionLog implements SessionLogSink {
  readonly lines: { timestamp: number; message: string }[] = [];
  async write(lines: { timestamp: number; message: string }[]): Promise<void> {
    this.lines.push(...lines);
  }
}

/** Session summaries to the sessions CloudWatch log group: one log stream per flush run. */
import {
  type CloudWatchLogsClient,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  ResourceAlreadyExistsException,
} from '@aws-sdk/client-cloudwatch-logs';
import type { SessionLogSink } from './flush.ts';
import { append } from '../engine/arrays.ts';

/** PutLogEvents limits: 10,000 events, 1 MiB (26 bytes of overhead per event), 24 hours per call. */
const MAX_EVENTS = 10_000;
const MAX_BYTES = 1_000_000;
const MAX_SPAN_MS = 24 * 3_600_000;

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
    // Events must be in time order within a call.
    for (const line of [...lines].sort((a, b) => a.timestamp - b.timestamp)) {
      const size = Buffer.byteLength(line.message) + 26;
      const span = batch.length > 0 ? line.timestamp - batch[0].timestamp : 0;
      if (batch.length >= MAX_EVENTS || bytes + size > MAX_BYTES || span > MAX_SPAN_MS) await send();
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
    append(this.lines, lines);
  }
}

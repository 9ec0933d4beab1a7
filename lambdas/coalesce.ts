/**
 * Coalescing the buffer writes of one SQS batch: the messages of a batch are processed in parallel,
 * and their chunks are written together in full BatchWriteItem requests (25 items), so the number
 * of DynamoDB write requests follows the data, not the number of small objects. Each message still
 * learns whether its own chunks were stored, so partial batch failures stay per message.
 */
import type { ChunkItem, SessionBuffer } from './buffer.ts';

const BATCH_ITEMS = 25;

interface Submission {
  chunks: ChunkItem[];
  resolve: () => void;
  reject: (error: Error) => void;
}

export class WriteCoalescer {
  private readonly submissions: Submission[] = [];
  private settled = 0;

  /** `expected`: how many messages will each call `submit` or `done` exactly once. */
  constructor(
    private readonly buffer: SessionBuffer,
    private readonly expected: number,
  ) {}

  /** Stores a message's chunks with the others'; resolves when they are stored, rejects if not. */
  submit(chunks: ChunkItem[]): Promise<void> {
    const promise = new Promise<void>((resolve, reject) =>
      this.submissions.push({ chunks, resolve, reject }),
    );
    this.arrive();
    return promise;
  }

  /** A message that will write nothing (skipped, rejected or failed before writing). */
  done(): void {
    this.arrive();
  }

  private arrive(): void {
    this.settled++;
    if (this.settled === this.expected) void this.writeAll();
  }

  private async writeAll(): Promise<void> {
    // The same object delivered twice in one batch yields the same items: write each key once
    // (DynamoDB refuses duplicate keys in one request), and tell every message that owns it.
    const byKey = new Map<string, { chunk: ChunkItem; owners: Submission[] }>();
    for (const submission of this.submissions) {
      for (const chunk of submission.chunks) {
        const key = `${chunk.partition}\n${chunk.objectKey}\n${chunk.index}`;
        const entry = byKey.get(key) ?? { chunk, owners: [] };
        entry.owners.push(submission);
        byKey.set(key, entry);
      }
    }
    const items = [...byKey.values()];
    const failed = new Map<Submission, Error>();
    for (let start = 0; start < items.length; start += BATCH_ITEMS) {
      const batch = items.slice(start, start + BATCH_ITEMS);
      try {
        await this.buffer.write(batch.map((item) => item.chunk));
      } catch (error) {
        for (const item of batch) for (const owner of item.owners) failed.set(owner, error as Error);
      }
    }
    for (const submission of this.submissions) {
      const error = failed.get(submission);
      if (error) submission.reject(error);
      else submission.resolve();
    }
  }
}

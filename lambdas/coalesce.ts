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
    const owners: { submission: Submission; chunk: ChunkItem }[] = this.submissions.flatMap((submission) =>
      submission.chunks.map((chunk) => ({ submission, chunk })),
    );
    const failed = new Map<Submission, Error>();
    for (let start = 0; start < owners.length; start += BATCH_ITEMS) {
      const batch = owners.slice(start, start + BATCH_ITEMS);
      try {
        await this.buffer.write(batch.map((o) => o.chunk));
      } catch (error) {
        for (const { submission } of batch) failed.set(submission, error as Error);
      }
    }
    for (const submission of this.submissions) {
      const error = failed.get(submission);
      if (error) submission.reject(error);
      else submission.resolve();
    }
  }
}

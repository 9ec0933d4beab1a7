/** One SQS batch's buffer writes are combined, and each message learns its own outcome. */
import { describe, expect, it } from 'vitest';
import type { ChunkItem, SessionBuffer } from '../../lambdas/buffer.ts';
import { WriteCoalescer } from '../../lambdas/coalesce.ts';

const chunk = (objectKey: string, index = 0): ChunkItem => ({
  partition: 'p',
  objectKey,
  index,
  body: Buffer.from('x'),
  count: 1,
  minTime: 0,
  maxTime: 0,
  settledAt: 0,
  expiresAt: 0,
});

function fakeBuffer(failWhen: (keys: string[]) => boolean) {
  const calls: string[][] = [];
  const buffer = {
    async write(chunks: ChunkItem[]) {
      const keys = chunks.map((c) => `${c.objectKey}#${c.index}`);
      calls.push(keys);
      if (failWhen(keys)) throw new Error('throttled');
    },
  } as unknown as SessionBuffer;
  return { buffer, calls };
}

describe('WriteCoalescer', () => {
  it('writes nothing until every message has arrived, then writes them together', async () => {
    const { buffer, calls } = fakeBuffer(() => false);
    const coalescer = new WriteCoalescer(buffer, 3);
    const first = coalescer.submit([chunk('a')]);
    expect(calls).toEqual([]);
    coalescer.done();
    const second = coalescer.submit([chunk('b'), chunk('b', 1)]);
    await Promise.all([first, second]);
    expect(calls).toEqual([['a#0', 'b#0', 'b#1']]);
  });

  it('fills requests of 25 items and fails only the messages of a failed request', async () => {
    const { buffer, calls } = fakeBuffer((keys) => keys.includes('late#0'));
    const coalescer = new WriteCoalescer(buffer, 2);
    const many = coalescer.submit(Array.from({ length: 25 }, (_, i) => chunk('early', i)));
    const late = coalescer.submit([chunk('late')]);
    const outcomes = await Promise.allSettled([many, late]);
    expect(calls.map((c) => c.length)).toEqual([25, 1]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
  });
});

describe('WriteCoalescer with redeliveries', () => {
  it('writes an object delivered twice in one batch once, and acknowledges both messages', async () => {
    const { buffer, calls } = fakeBuffer(() => false);
    const coalescer = new WriteCoalescer(buffer, 2);
    await Promise.all([coalescer.submit([chunk('same')]), coalescer.submit([chunk('same')])]);
    expect(calls).toEqual([['same#0']]);
  });
});

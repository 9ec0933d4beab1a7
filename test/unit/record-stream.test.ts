/** The streaming record reader agrees with JSON.parse, whatever the chunk boundaries. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogDocumentError, streamLogRecords, type StreamedRecord } from '../../engine/record-stream.ts';

async function* chunked(bytes: Buffer, cuts: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
    yield bytes.subarray(at, Math.max(at, cut));
    at = Math.max(at, cut);
  }
  yield bytes.subarray(at);
}

async function all(text: string | Buffer, cuts: number[] = [], max = 1 << 20): Promise<StreamedRecord[]> {
  const out: StreamedRecord[] = [];
  for await (const item of streamLogRecords(chunked(Buffer.from(text), cuts), max)) out.push(item);
  return out;
}

describe('streamLogRecords', () => {
  it('yields each record of {"Records":[…]} equal to JSON.parse, for any document and chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.boolean(),
        async (records, cuts, pretty) => {
          const text = JSON.stringify({ Records: records }, null, pretty ? 2 : undefined);
          const got = await all(text, cuts);
          expect(got).toEqual(
            JSON.parse(text).Records.map((record: unknown, index: number) => ({ index, record })),
          );
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  it('handles escapes, quotes and brackets inside strings, a byte-order mark and multi-byte characters', async () => {
    const records = [
      { a: 'x\\"]},{"' },
      { b: '\\' },
      { c: 'ünïcødé ✓ 🎉', d: [1, [2, { e: '}' }]] },
      'str,]',
      3,
    ];
    const text = `\ufeff {"Records" : [ ${records.map((r) => JSON.stringify(r)).join(' ,\n ')} ] }\n`;
    for (const cuts of [[], [1], [5, 17, 18, 19, 40], Array.from({ length: 90 }, (_, i) => i)]) {
      expect((await all(text, cuts)).map((r) => ('record' in r ? r.record : r.problem))).toEqual(records);
    }
  });

  it('refuses a bad record with its index and keeps the others', async () => {
    const text = '{"Records":[{"a":1},{"b":nope},{"c":3},{"d":"' + 'x'.repeat(2000) + '"}]}';
    const got = await all(text, [15, 30], 1000);
    expect(got[0]).toEqual({ index: 0, record: { a: 1 } });
    expect(got[1]).toMatchObject({ index: 1, problem: expect.stringMatching(/not valid JSON/) });
    expect(got[2]).toEqual({ index: 2, record: { c: 3 } });
    expect(got[3]).toMatchObject({
      index: 3,
      problem: expect.stringMatching(/bytes, over the 1000-byte limit/),
    });
  });

  it.each([
    ['', /empty document/],
    ['[1,2]', /not a CloudTrail log document/],
    ['{"Events":[]}', /not a CloudTrail log document/],
    ['{"Records":{}}', /not a CloudTrail log document/],
    ['{"Records":[{"a":1},', /ends inside the Records array/],
    ['{"Records":[{"a":1}]', /ends before its closing/],
    ['{"Records":[{"a":1}]}, {"x":2}', /unexpected content after/],
    ['{"Rec', /ends before its Records array/],
  ])('refuses the document %j', async (text, reason) => {
    await expect(all(text)).rejects.toThrow(LogDocumentError);
    await expect(all(text)).rejects.toThrow(reason);
  });
});

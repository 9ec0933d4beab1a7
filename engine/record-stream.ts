/**
 * Streams the records of a CloudTrail log document (`{"Records":[…]}`) one at a time, so an object
 * of any size is read in bounded memory: a byte scanner finds where each array element starts and
 * ends (tracking strings, escapes and nesting) and only that element's bytes are parsed.
 */

/** The document is not a readable CloudTrail log document; nothing of it should be used. */
export class LogDocumentError extends Error {}

export type StreamedRecord = { index: number; record: unknown } | { index: number; problem: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
const PREFIX_LIMIT = 4096;
/** Deeper records are refused: real CloudTrail records nest a few dozen levels at most. */
export const MAX_RECORD_DEPTH = 256;

/**
 * Yields every element of the top-level `Records` array: parsed, or with the reason it was refused
 * (invalid JSON, larger than `maxRecordBytes`). Throws LogDocumentError when the document itself is
 * not `{"Records":[…]}` or ends early.
 */
export async function* streamLogRecords(
  chunks: AsyncIterable<Uint8Array>,
  maxRecordBytes: number,
): AsyncGenerator<StreamedRecord> {
  // Phase 1: the prefix up to the array's '[' (small: CloudTrail writes `{"Records":[`).
  let prefix = Buffer.alloc(0);
  let rest: Buffer | null = null;
  const iterator = chunks[Symbol.asyncIterator]();
  while (rest === null) {
    const next = await iterator.next();
    if (next.done) throw new LogDocumentError(describePrefix(prefix, true));
    prefix = Buffer.concat([prefix, Buffer.from(next.value)]);
    const start = arrayStart(prefix);
    if (start === 'bad' && startsObject(prefix)) {
      // Valid JSON with other keys first (not how CloudTrail writes): read it whole (the caller
      // bounds the size) and parse it as one document.
      yield* wholeDocument(prefix, iterator);
      return;
    }
    if (start === 'bad') throw new LogDocumentError(describePrefix(prefix, false));
    if (start !== null) rest = prefix.subarray(start);
    else if (prefix.length > PREFIX_LIMIT) throw new LogDocumentError(describePrefix(prefix, false));
  }

  // Phase 2: the elements, then the closing '}'.
  let index = 0;
  let depth = 0; // nesting inside the current element
  let deepest = 0;
  let inString = false;
  let escaped = false;
  let inElement = false;
  let parts: Buffer[] = [];
  let size = 0;
  let arrayClosed = false;
  let trailing = '';

  const finishElement = (chunk: Buffer, end: number, start: number): StreamedRecord => {
    const piece = chunk.subarray(start, end);
    size += piece.length;
    const at = index++;
    const tooDeep = deepest > MAX_RECORD_DEPTH;
    deepest = 0;
    if (tooDeep) {
      parts = [];
      size = 0;
      return { index: at, problem: `record is nested deeper than ${MAX_RECORD_DEPTH} levels` };
    }
    if (size > maxRecordBytes) {
      const result = { index: at, problem: `record is ${size} bytes, over the ${maxRecordBytes}-byte limit` };
      parts = [];
      size = 0;
      return result;
    }
    const text = (parts.length ? Buffer.concat([...parts, piece]) : piece).toString('utf8');
    parts = [];
    size = 0;
    try {
      return { index: at, record: JSON.parse(text) };
    } catch (error) {
      return { index: at, problem: `record is not valid JSON (${(error as Error).message})` };
    }
  };

  let chunk: Buffer = rest;
  for (;;) {
    let start = inElement ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (arrayClosed) {
        if (!isSpace(byte)) trailing += String.fromCharCode(byte);
        if (trailing.length > 16) break;
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) inString = false;
        else {
          // Jump to the next quote or backslash: strings are most of a record's bytes.
          const quote = chunk.indexOf(QUOTE, i);
          const slash = chunk.indexOf(BACKSLASH, i);
          const next = quote < 0 ? slash : slash < 0 ? quote : Math.min(quote, slash);
          i = (next < 0 ? chunk.length : next) - 1;
        }
        continue;
      }
      if (!inElement) {
        if (isSpace(byte) || (byte === COMMA && index > 0)) continue;
        if (byte === CLOSE_BRACKET) {
          arrayClosed = true;
          continue;
        }
        inElement = true;
        start = i;
        depth = 0;
      }
      if (byte === QUOTE) inString = true;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        if (++depth > deepest) deepest = depth;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        if (depth === 0) {
          // `]` closes the array right after a scalar element.
          if (byte !== CLOSE_BRACKET) throw new LogDocumentError(`unexpected '}' after record ${index}`);
          yield finishElement(chunk, i, start);
          inElement = false;
          arrayClosed = true;
          continue;
        }
        depth--;
      } else if (byte === COMMA && depth === 0) {
        yield finishElement(chunk, i, start);
        inElement = false;
        continue;
      }
      if (depth === 0 && !inString && inElement && (byte === CLOSE_BRACE || byte === CLOSE_BRACKET)) {
        // A closed object/array element: end it at once (the ',' or ']' that follows is skipped).
        yield finishElement(chunk, i + 1, start);
        inElement = false;
      }
    }
    if (inElement) {
      const piece = chunk.subarray(Math.max(0, start));
      size += piece.length;
      if (size <= maxRecordBytes) parts.push(Buffer.from(piece));
      else parts = [];
    }
    const next = await iterator.next();
    if (next.done) break;
    chunk = Buffer.from(next.value);
  }
  if (!arrayClosed)
    throw new LogDocumentError(`the document ends inside the Records array (after ${index} records)`);
  if (trailing !== '}') {
    throw new LogDocumentError(
      trailing === ''
        ? 'the document ends before its closing }'
        : 'unexpected content after the Records array',
    );
  }
}

function startsObject(bytes: Buffer): boolean {
  const text = bytes
    .subarray(0, 64)
    .toString('utf8')
    .replace(/^\ufeff/, '')
    .trimStart();
  return text.startsWith('{');
}

async function* wholeDocument(
  head: Buffer,
  iterator: AsyncIterator<Uint8Array>,
): AsyncGenerator<StreamedRecord> {
  const parts = [head];
  for (let next = await iterator.next(); !next.done; next = await iterator.next())
    parts.push(Buffer.from(next.value));
  let document: unknown;
  try {
    document = JSON.parse(
      Buffer.concat(parts)
        .toString('utf8')
        .replace(/^\ufeff/, ''),
    );
  } catch (error) {
    throw new LogDocumentError(`not valid JSON (${(error as Error).message})`);
  }
  const records = (document as { Records?: unknown }).Records;
  if (!Array.isArray(records))
    throw new LogDocumentError('not a CloudTrail log document (no "Records" array)');
  for (const [index, record] of records.entries()) {
    yield nestedDeeperThan(record, MAX_RECORD_DEPTH)
      ? { index, problem: `record is nested deeper than ${MAX_RECORD_DEPTH} levels` }
      : { index, record };
  }
}

/** Whether a parsed value nests deeper than `max` (iterative: deep input must not overflow the stack). */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Offset just past `{"Records":[` (whitespace allowed), null if more bytes are needed, or 'bad'. */
function arrayStart(bytes: Buffer): number | null | 'bad' {
  let i = 0;
  const bom = [0xef, 0xbb, 0xbf]; // UTF-8 byte order mark
  if (bytes[0] === bom[0]) {
    if (bytes.length < 3) return bom.slice(0, bytes.length).every((b, k) => bytes[k] === b) ? null : 'bad';
    if (bytes[1] === bom[1] && bytes[2] === bom[2]) i = 3;
  }
  const expect = ['{', '"Records"', ':', '['];
  for (const token of expect) {
    while (i < bytes.length && isSpace(bytes[i])) i++;
    if (i >= bytes.length) return null;
    const available = bytes.subarray(i, i + token.length).toString('latin1');
    if (available.length < token.length) return token.startsWith(available) ? null : 'bad';
    if (available !== token) return 'bad';
    i += token.length;
  }
  return i;
}

function describePrefix(prefix: Buffer, ended: boolean): string {
  const head = prefix.subarray(0, 40);
  const text = head.toString('utf8').trim();
  if (text === '') return 'empty document';
  if (ended && arrayStart(prefix) === null) return 'the document ends before its Records array';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text)) {
    return `not JSON text (binary content, first bytes ${[...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ')})`;
  }
  return `not a CloudTrail log document: expected JSON {"Records":[…]}, found ${JSON.stringify(text.slice(0, 24))}`;
}

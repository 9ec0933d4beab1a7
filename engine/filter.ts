/**
 * Event filters analysts know from IAM policies, JSONPath/jq and the AWS CLI, combined with AND:
 * action globs (`s3:Get*`), `$.path == value` comparisons and time windows (`--from/--to/--last`).
 * Every filter is parsed once, up front; bad input throws a FilterError that says what was expected.
 * Nothing here evaluates code: the match expressions have their own small parser.
 */
import type { TrailEvent } from './types.ts';
import { append } from './arrays.ts';

export type EventPredicate = (event: TrailEvent) => boolean;

/** A filter option that cannot be used (bad glob, bad time, bad duration, conflicting options). */
export class FilterError extends Error {
  override name = 'FilterError';
}

/** A `--match` expression that does not parse; `position` is the 0-based offset of the problem. */
export class MatchSyntaxError extends FilterError {
  override name = 'MatchSyntaxError';
  constructor(
    readonly expression: string,
    readonly position: number,
    readonly expected: string,
    readonly found: string,
  ) {
    super(
      `invalid match expression at column ${position + 1}: expected ${expected}, found ${found} in: ${expression}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Action globs
// ---------------------------------------------------------------------------------------------

function globSource(glob: string): string {
  let source = '';
  for (const char of glob) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return source;
}

const GLOB_CHARS = /^[A-Za-z0-9_.*?-]+$/;

/** Compiles one `service:EventName` glob; the service part is case-insensitive, like IAM's. */
function compileActionGlob(glob: string): (service: string, name: string) => boolean {
  if (glob === '*') return () => true;
  const parts = glob.split(':');
  if (parts.length !== 2) {
    throw new FilterError(
      `action ${JSON.stringify(glob)}: expected service:EventName, e.g. s3:GetObject, s3:Get*, iam:* or *:Delete*`,
    );
  }
  const [servicePart, namePart] = parts;
  const service = servicePart.replace(/\.amazonaws\.com$/i, '');
  for (const [what, part] of [
    ['service', service],
    ['event name', namePart],
  ] as const) {
    if (!GLOB_CHARS.test(part)) {
      throw new FilterError(
        `action ${JSON.stringify(glob)}: the ${what} part must be letters, digits, _ . - and the wildcards * ?`,
      );
    }
  }
  const serviceRe = new RegExp(`^${globSource(service)}$`, 'i');
  const nameRe = new RegExp(`^${globSource(namePart)}$`);
  return (s, n) => serviceRe.test(s) && nameRe.test(n);
}

/**
 * Passes events whose `service:EventName` matches any of the globs (`*` any run, `?` one character).
 * A glob may list several actions separated by commas (`s3:Get*,iam:*`).
 */
export function actionFilter(globs: string[]): EventPredicate {
  const all = globs.flatMap((g) => g.split(',')).map((g) => g.trim());
  if (all.length === 0 || all.some((g) => g === '')) {
    throw new FilterError('action: expected at least one service:EventName glob, e.g. s3:Get*');
  }
  const matchers = all.map(compileActionGlob);
  return (event) => {
    const at = event.ref.indexOf(':');
    const service = event.ref.slice(0, at);
    const name = event.ref.slice(at + 1);
    return matchers.some((match) => match(service, name));
  };
}

// ---------------------------------------------------------------------------------------------
// Match expressions: $.path OP literal
// ---------------------------------------------------------------------------------------------

export type PathSegment =
  { kind: 'field'; name: string } | { kind: 'index'; index: number } | { kind: 'wildcard' };

export type MatchLiteral = string | number | boolean | null;

export type MatchOperator = '==' | '!=' | 'regex';

export interface MatchExpression {
  path: PathSegment[];
  operator: MatchOperator;
  value: MatchLiteral;
  /** The compiled pattern of a `regex` comparison. */
  pattern?: RegExp;
}

const IDENTIFIER = /[A-Za-z_$][A-Za-z0-9_$-]*/y;
const INTEGER = /-?\d+/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const VALUE_EXPECTED = `a value ("string", 'string', number, true, false or null)`;

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  fail(expected: string, at = this.pos): never {
    throw new MatchSyntaxError(this.text, at, expected, this.describe(at));
  }

  private describe(at: number): string {
    if (at >= this.text.length) return 'end of expression';
    const rest = this.text.slice(at);
    const token =
      /^(?:"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|[A-Za-z0-9_$-]+|==|!=|\s+|.)/su.exec(rest)?.[0] ?? rest;
    const short = token.length > 40 ? `${token.slice(0, 40)}…` : token;
    return /^["']/.test(short) ? short : JSON.stringify(short);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private sticky(re: RegExp): string | null {
    re.lastIndex = this.pos;
    const match = re.exec(this.text);
    if (!match) return null;
    this.pos += match[0].length;
    return match[0];
  }

  parse(): MatchExpression {
    const path = this.parsePath();
    const operator = this.parseOperator();
    this.skipSpace();
    const valueAt = this.pos;
    let value: MatchLiteral;
    let pattern: RegExp | undefined;
    if (operator === 'regex') {
      const quote = this.text[this.pos];
      if (quote !== '"' && quote !== "'") this.fail('a quoted regular expression after regex');
      value = this.parseRawString(quote);
      try {
        pattern = compilePattern(value);
      } catch (error) {
        this.fail(`a valid regular expression (${(error as Error).message})`, valueAt);
      }
    } else {
      value = this.parseLiteral();
    }
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('end of expression');
    return pattern ? { path, operator, value, pattern } : { path, operator, value };
  }

  private parsePath(): PathSegment[] {
    this.skipSpace();
    if (this.text[this.pos] !== '$') this.fail('a path starting with $ (e.g. $.eventName)');
    this.pos++;
    const path: PathSegment[] = [];
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      const char = this.text[this.pos];
      if (char === '.') {
        if (this.text[this.pos + 1] === '.')
          this.fail('a field name (recursive descent ".." is not supported)');
        this.pos++;
        if (this.text[this.pos] === '*') {
          this.pos++;
          path.push({ kind: 'wildcard' });
          continue;
        }
        const name = this.sticky(IDENTIFIER);
        if (name === null) this.fail('a field name after "." (use [\'name\'] for other characters)');
        path.push({ kind: 'field', name });
      } else if (char === '[') {
        this.pos++;
        this.skipSpace();
        const inner = this.text[this.pos];
        if (inner === '"' || inner === "'") {
          path.push({ kind: 'field', name: this.parseString(inner) });
        } else if (inner === '*') {
          this.pos++;
          path.push({ kind: 'wildcard' });
        } else {
          const digits = this.sticky(INTEGER);
          if (digits === null)
            this.fail("a quoted field name, an index or * inside [ ] (e.g. ['arn'], [0], [*])");
          path.push({ kind: 'index', index: Number(digits) });
        }
        this.skipSpace();
        if (this.text[this.pos] !== ']') this.fail('"]"');
        this.pos++;
      } else {
        this.pos = before;
        return path;
      }
    }
  }

  private parseOperator(): MatchOperator {
    this.skipSpace();
    if (this.text.startsWith('==', this.pos) || this.text.startsWith('!=', this.pos)) {
      const operator = this.text.slice(this.pos, this.pos + 2) as MatchOperator;
      this.pos += 2;
      return operator;
    }
    const at = this.pos;
    if (this.sticky(WORD) === 'regex') return 'regex';
    return this.fail('an operator (==, !=, regex)', at);
  }

  private parseLiteral(): MatchLiteral {
    const char = this.text[this.pos];
    if (char === '"' || char === "'") return this.parseString(char);
    const at = this.pos;
    const number = this.sticky(NUMBER);
    if (number !== null) {
      if (/[A-Za-z0-9_.]/.test(this.text[this.pos] ?? '')) this.fail(VALUE_EXPECTED, at);
      return Number(number);
    }
    const word = this.sticky(WORD);
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    return this.fail(
      word === null ? VALUE_EXPECTED : `${VALUE_EXPECTED.slice(0, -1)}; strings need quotes)`,
      at,
    );
  }

  /** A JSON-style string in double or single quotes. */
  private parseString(quote: string): string {
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= this.text.length)
        this.fail(`a closing ${quote} for the string opened at column ${start + 1}`);
      const char = this.text[this.pos];
      if (char === quote) {
        this.pos++;
        return out;
      }
      if (char !== '\\') {
        out += char;
        this.pos++;
        continue;
      }
      const escape = this.text[this.pos + 1];
      const simple: Record<string, string> = {
        '"': '"',
        "'": "'",
        '\\': '\\',
        '/': '/',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
      };
      if (escape !== undefined && Object.hasOwn(simple, escape)) {
        out += simple[escape];
        this.pos += 2;
      } else if (escape === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) {
        out += String.fromCharCode(parseInt(this.text.slice(this.pos + 2, this.pos + 6), 16));
        this.pos += 6;
      } else {
        this.fail(String.raw`an escape (\" \' \\ \/ \b \f \n \r \t \uXXXX)`);
      }
    }
  }

  /** A regular expression in quotes: backslashes are passed to the pattern as written. */
  private parseRawString(quote: string): string {
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= this.text.length)
        this.fail(`a closing ${quote} for the pattern opened at column ${start + 1}`);
      const char = this.text[this.pos];
      if (char === quote) {
        this.pos++;
        return out;
      }
      if (char === '\\' && this.pos + 1 < this.text.length) {
        out += this.text.slice(this.pos, this.pos + 2);
        this.pos += 2;
      } else {
        out += char;
        this.pos++;
      }
    }
  }
}

/** Compiles a pattern; a leading `(?i)` makes it case-insensitive. */
function compilePattern(source: string): RegExp {
  const caseInsensitive = source.startsWith('(?i)');
  return new RegExp(caseInsensitive ? source.slice(4) : source, caseInsensitive ? 'i' : '');
}

/**
 * Parses `$.path OP value`: OP is `==`, `!=` or `regex`; the path has `.name`, `['name']`, `[0]`,
 * `[*]` and `.*` steps; the value is a JSON string (double or single quotes), number, boolean or
 * null. A regex is written in quotes, backslashes as in any regex (`"^Delete\w+"`); `(?i)` in
 * front makes it case-insensitive.
 */
export function parseMatchExpression(expression: string): MatchExpression {
  return new Parser(expression).parse();
}

const MISSING = Symbol('missing');

/** The values a path selects; missing steps yield MISSING, wildcards fan out. */
export function selectPath(root: unknown, path: PathSegment[]): unknown[] {
  let lanes: unknown[] = [root];
  for (const segment of path) {
    const next: unknown[] = [];
    for (const value of lanes) {
      if (value === MISSING) {
        next.push(MISSING);
      } else if (segment.kind === 'field') {
        const ok =
          value !== null &&
          typeof value === 'object' &&
          !Array.isArray(value) &&
          Object.hasOwn(value, segment.name);
        next.push(ok ? (value as Record<string, unknown>)[segment.name] : MISSING);
      } else if (segment.kind === 'index') {
        const index =
          Array.isArray(value) && segment.index < 0 ? value.length + segment.index : segment.index;
        next.push(Array.isArray(value) && index >= 0 && index < value.length ? value[index] : MISSING);
      } else if (Array.isArray(value)) {
        append(next, value);
      } else if (value !== null && typeof value === 'object') {
        append(next, Object.values(value));
      } else {
        next.push(MISSING);
      }
    }
    lanes = next;
  }
  const values = lanes.map((v) => (v === MISSING || v === undefined ? null : v));
  return values.length === 0 ? [null] : values;
}

/** Evaluates a parsed expression against one CloudTrail record (`$` is the record). */
export function evaluateMatch(expression: MatchExpression, record: unknown): boolean {
  const values = selectPath(record, expression.path);
  if (expression.operator === 'regex') {
    const pattern = expression.pattern as RegExp;
    return values.some(
      (v) =>
        (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && pattern.test(String(v)),
    );
  }
  const equal = values.some((v) => v === expression.value);
  return expression.operator === '==' ? equal : !equal;
}

/**
 * Passes events whose record satisfies `$.path OP value`. A path that selects nothing compares
 * as null; with wildcards `==`/`regex` pass when any selected value matches and `!=` is exactly
 * the negation of `==` (no selected value is equal). Types are strict: "1" is not 1.
 */
export function matchFilter(expression: string): EventPredicate {
  const parsed = parseMatchExpression(expression);
  return (event) => evaluateMatch(parsed, event.record);
}

// ---------------------------------------------------------------------------------------------
// Time windows
// ---------------------------------------------------------------------------------------------

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

const ISO_EXAMPLES = 'e.g. 2024-05-01, 2024-05-01T10:00:00Z or 2024-05-01T12:00+02:00';

/** Epoch milliseconds of an ISO-8601 date or date-time; without a zone it is UTC, like CloudTrail. */
export function parseIsoTime(text: string, option = 'time'): number {
  const match = ISO_TIME.exec(text.trim());
  const bad = (why: string) =>
    new FilterError(`${option} ${JSON.stringify(text)}: ${why} (expected an ISO-8601 time, ${ISO_EXAMPLES})`);
  if (!match) throw bad('not an ISO-8601 time');
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone = 'Z'] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number);
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3));
  if (month < 1 || month > 12) throw bad(`month ${mo} does not exist`);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (day < 1 || date.getUTCMonth() !== month - 1) throw bad(`day ${d} does not exist in ${y}-${mo}`);
  if (hour > 23 || minute > 59 || second > 59) throw bad('hour, minute or second out of range');
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const zoneHours = Number(digits.slice(0, 2));
    const zoneMinutes = Number(digits.slice(2) || '0');
    if (zoneHours > 23 || zoneMinutes > 59) throw bad(`time zone offset ${zone} out of range`);
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Milliseconds of a duration such as `45m`, `3h`, `2d`, `1w` or `1h30m`. */
export function parseDuration(text: string, option = 'duration'): number {
  const trimmed = text.trim();
  if (!/^(?:\d+[smhdw])+$/.test(trimmed)) {
    throw new FilterError(
      `${option} ${JSON.stringify(text)}: expected a duration such as 45m, 3h, 2d or 1h30m (units s, m, h, d, w)`,
    );
  }
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([smhdw])/g)) total += Number(amount) * UNIT_MS[unit];
  if (total <= 0) throw new FilterError(`${option} ${JSON.stringify(text)}: must be longer than zero`);
  if (!Number.isSafeInteger(total)) throw new FilterError(`${option} ${JSON.stringify(text)}: too long`);
  return total;
}

export interface TimeOptions {
  /** Inclusive lower bound, ISO-8601. */
  from?: string;
  /** Exclusive upper bound, ISO-8601. */
  to?: string;
  /** Only the last `3h`, `45m`, `2d`… before `now`; not combinable with from/to. */
  last?: string;
  /** Epoch milliseconds `last` counts back from; defaults to Date.now(). */
  now?: number;
}

/** The window as epoch milliseconds: `from` inclusive, `to` exclusive; also usable as API bounds. */
export function timeBounds(options: TimeOptions): { from?: number; to?: number } {
  const { from, to, last } = options;
  if (last !== undefined) {
    if (from !== undefined || to !== undefined) {
      throw new FilterError('--last cannot be combined with --from or --to');
    }
    const now = options.now ?? Date.now();
    return { from: now - parseDuration(last, '--last') };
  }
  const bounds: { from?: number; to?: number } = {};
  if (from !== undefined) bounds.from = parseIsoTime(from, '--from');
  if (to !== undefined) bounds.to = parseIsoTime(to, '--to');
  if (bounds.from !== undefined && bounds.to !== undefined && bounds.from >= bounds.to) {
    throw new FilterError(`--from ${from} must be before --to ${to}`);
  }
  return bounds;
}

/** Passes events with from ≤ time < to. */
export function timeFilter(options: TimeOptions): EventPredicate {
  const { from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY } = timeBounds(options);
  return (event) => event.time >= from && event.time < to;
}

// ---------------------------------------------------------------------------------------------
// All together
// ---------------------------------------------------------------------------------------------

export interface EventFilterOptions {
  /** `--action` globs; an event passes when it matches any. */
  actions?: string[];
  /** `--match` expressions; an event passes when it satisfies all. */
  match?: string[];
  from?: string;
  to?: string;
  last?: string;
  now?: number;
}

/** One predicate for every given filter (AND); with no filter given it passes everything. */
export function buildEventFilter(options: EventFilterOptions): EventPredicate {
  const predicates: EventPredicate[] = [];
  if (options.actions && options.actions.length > 0) predicates.push(actionFilter(options.actions));
  for (const expression of options.match ?? []) predicates.push(matchFilter(expression));
  if (options.from !== undefined || options.to !== undefined || options.last !== undefined) {
    predicates.push(timeFilter(options));
  }
  if (predicates.length === 0) return () => true;
  return (event) => predicates.every((p) => p(event));
}

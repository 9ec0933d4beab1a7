/**
 * Event filters: IAM-style action globs, `$.path OP value` match expressions (parsed by hand, no
 * eval), ISO/relative time windows, and their AND combination. Cases are numbered so a failure
 * names the exact case.
 */
import { describe, expect, it } from 'vitest';
import {
  actionFilter,
  buildEventFilter,
  FilterError,
  matchFilter,
  MatchSyntaxError,
  parseDuration,
  parseIsoTime,
  parseMatchExpression,
  timeBounds,
  timeFilter,
} from '../../engine/filter.ts';
import { toTrailEvent } from '../../engine/read.ts';
import type { CloudTrailRecord, TrailEvent } from '../../engine/types.ts';

function event(overrides: Partial<CloudTrailRecord> = {}): TrailEvent {
  return toTrailEvent(
    {
      eventVersion: '1.08',
      eventID: 'e-1',
      eventTime: '2024-05-01T10:00:00Z',
      eventSource: 's3.amazonaws.com',
      eventName: 'GetObject',
      awsRegion: 'us-east-1',
      sourceIPAddress: '203.0.113.7',
      userAgent: 'Mozilla/5.0',
      errorCode: null,
      readOnly: true,
      userIdentity: {
        type: 'IAMUser',
        arn: 'arn:aws:iam::111122223333:user/alice',
        userName: 'alice',
        accountId: '111122223333',
      },
      requestParameters: { bucketName: 'my-bucket', key: 'a/b.txt', 'x-amz-acl': 'private' },
      resources: [
        { ARN: 'arn:aws:s3:::my-bucket', type: 'AWS::S3::Bucket' },
        { ARN: 'arn:aws:s3:::my-bucket/a/b.txt', type: 'AWS::S3::Object' },
      ],
      additionalEventData: { bytesTransferredOut: 42 },
      ...overrides,
    },
    'test',
    0,
  );
}

const getObject = event();
const deleteUser = event({ eventSource: 'iam.amazonaws.com', eventName: 'DeleteUser' });
const describeInstances = event({ eventSource: 'ec2.amazonaws.com', eventName: 'DescribeInstances' });

describe('actionFilter', () => {
  const matching: [string, string[], TrailEvent][] = [
    ['A1 exact', ['s3:GetObject'], getObject],
    ['A2 trailing *', ['s3:Get*'], getObject],
    ['A3 service *', ['iam:*'], deleteUser],
    ['A4 any service', ['*:Delete*'], deleteUser],
    ['A5 bare *', ['*'], describeInstances],
    ['A6 ? wildcard', ['s3:GetObjec?'], getObject],
    ['A7 service case-insensitive', ['S3:GetObject'], getObject],
    ['A8 any of several', ['iam:*', 's3:Get*'], getObject],
    ['A9 comma-separated list', ['iam:Create*,s3:Get*'], getObject],
    ['A10 eventSource-style service', ['s3.amazonaws.com:GetObject'], getObject],
    ['A11 inner *', ['ec2:*Instances'], describeInstances],
    ['A12 service glob', ['e?2:Describe*'], describeInstances],
  ];
  it.each(matching)('%s: %j matches', (_name, globs, e) => {
    expect(actionFilter(globs)(e)).toBe(true);
  });

  const nonMatching: [string, string[], TrailEvent][] = [
    ['A13 other service', ['iam:*'], getObject],
    ['A14 prefix only', ['s3:Get'], getObject],
    ['A15 ? is exactly one character', ['s3:GetObjec??'], getObject],
    ['A16 event name is case-sensitive', ['s3:getobject'], getObject],
    ['A17 none of several', ['iam:*', 'ec2:*'], getObject],
    ['A18 anchored service', ['s:*'], getObject],
    ['A19 dot is literal', ['s3:Get.bject'], getObject],
    ['A20 *:Delete* vs Describe', ['*:Delete*'], describeInstances],
  ];
  it.each(nonMatching)('%s: %j does not match', (_name, globs, e) => {
    expect(actionFilter(globs)(e)).toBe(false);
  });

  const malformed: [string, string[], RegExp][] = [
    ['A21 no colon', ['GetObject'], /expected service:EventName/],
    ['A22 two colons', ['s3:Get:Object'], /expected service:EventName/],
    ['A23 empty list', [], /at least one/],
    ['A24 empty glob', [''], /at least one/],
    ['A25 empty item in a list', ['s3:Get*,'], /at least one/],
    ['A26 bad characters', ['s3:Get Object'], /event name part must be/],
    ['A27 empty service', [':GetObject'], /service part must be/],
  ];
  it.each(malformed)('%s: %j is rejected', (_name, globs, message) => {
    expect(() => actionFilter(globs)).toThrow(FilterError);
    expect(() => actionFilter(globs)).toThrow(message);
  });
});

describe('matchFilter', () => {
  const matching: [string, string][] = [
    ['M1 == string', '$.userIdentity.userName == "alice"'],
    ['M2 == single-quoted string', "$.requestParameters.bucketName == 'my-bucket'"],
    ['M3 != string', '$.sourceIPAddress != "AWS Internal"'],
    ['M4 regex', '$.eventName regex "^Get"'],
    ['M5 regex with a class escape', '$.eventName regex "^Get\\w+$"'],
    ['M6 regex (?i)', '$.eventName regex "(?i)^getobject$"'],
    ['M7 wildcard any element', '$.resources[*].ARN == "arn:aws:s3:::my-bucket/a/b.txt"'],
    ['M8 bracket notation', "$['userIdentity']['arn'] == \"arn:aws:iam::111122223333:user/alice\""],
    ['M9 double-quoted brackets', '$["userIdentity"]["accountId"] == "111122223333"'],
    ['M10 index', '$.resources[0].type == "AWS::S3::Bucket"'],
    ['M11 negative index', '$.resources[-1].type == "AWS::S3::Object"'],
    ['M12 number', '$.additionalEventData.bytesTransferredOut == 42'],
    ['M13 boolean', '$.readOnly == true'],
    ['M14 explicit null', '$.errorCode == null'],
    ['M15 missing path is null', '$.errorMessage == null'],
    ['M16 missing deep path is null', '$.userIdentity.sessionContext.sourceIdentity == null'],
    ['M17 missing path != string', '$.errorMessage != "AccessDenied"'],
    ['M18 hyphenated field', '$.requestParameters.x-amz-acl == "private"'],
    ['M19 .* over an object', '$.requestParameters.* == "a/b.txt"'],
    ['M20 whitespace around tokens', '  $ [ "eventName" ]   ==   "GetObject"  '],
    ['M21 escapes in strings', '$.userAgent == "Mozilla\\/5.0"'],
    ['M22 unicode escape', '$.userIdentity.userName == "\\u0061lice"'],
    ['M23 regex on a number', '$.additionalEventData.bytesTransferredOut regex "^4"'],
    ['M24 regex with a quote escape', `$.eventName regex 'Get\\'?Object'`],
    ['M25 exponent number', '$.additionalEventData.bytesTransferredOut == 4.2e1'],
  ];
  it.each(matching)('%s: %s', (_name, expression) => {
    expect(matchFilter(expression)(getObject)).toBe(true);
  });

  const nonMatching: [string, string][] = [
    ['M26 == other string', '$.userIdentity.userName == "bob"'],
    ['M27 != same string', '$.sourceIPAddress != "203.0.113.7"'],
    ['M28 regex no match', '$.eventName regex "^Delete"'],
    ['M29 regex is case-sensitive', '$.eventName regex "^getobject$"'],
    ['M30 wildcard no element', '$.resources[*].ARN == "arn:aws:s3:::other"'],
    ['M31 wildcard != is not-any-equal', '$.resources[*].ARN != "arn:aws:s3:::my-bucket"'],
    ['M32 strict types: string vs number', '$.userIdentity.accountId == 111122223333'],
    ['M33 strict types: number vs string', '$.additionalEventData.bytesTransferredOut == "42"'],
    ['M34 boolean', '$.readOnly == false'],
    ['M35 missing path == string', '$.errorMessage == "AccessDenied"'],
    ['M36 present value == null', '$.eventName == null'],
    ['M37 index out of range', '$.resources[5].type == "AWS::S3::Bucket"'],
    ['M38 field on an array', '$.resources.ARN == "arn:aws:s3:::my-bucket"'],
    ['M39 regex on an object', '$.userIdentity regex "alice"'],
    ['M40 regex on null', '$.errorCode regex "null"'],
    ['M41 no prototype lookups', '$.constructor != null'],
  ];
  it.each(nonMatching)('%s: %s', (_name, expression) => {
    expect(matchFilter(expression)(getObject)).toBe(false);
  });

  it('M42 wildcard over an empty or missing array compares as null', () => {
    expect(matchFilter('$.resources[*].ARN == null')(event({ resources: [] }))).toBe(true);
    expect(matchFilter('$.resources[*].ARN == null')(event({ resources: undefined }))).toBe(true);
    expect(matchFilter('$.resources[*].ARN == null')(getObject)).toBe(false);
    expect(matchFilter('$.resources[*].ARN != "x"')(event({ resources: [] }))).toBe(true);
  });

  it('M43 $ is the CloudTrail record, not the TrailEvent wrapper', () => {
    expect(matchFilter('$.ref == null')(getObject)).toBe(true);
    expect(matchFilter('$.eventID == "e-1"')(getObject)).toBe(true);
  });

  it('M44 parses once into a path, operator and value', () => {
    expect(parseMatchExpression("$.resources[*]['ARN'] != 'x'")).toEqual({
      path: [{ kind: 'field', name: 'resources' }, { kind: 'wildcard' }, { kind: 'field', name: 'ARN' }],
      operator: '!=',
      value: 'x',
    });
  });

  const malformed: [string, string, number, RegExp][] = [
    ['S1 single =', '$.eventName = "x"', 13, /expected an operator \(==, !=, regex\), found "="/],
    ['S2 unquoted string', '$.eventName == alice', 16, /strings need quotes\), found "alice"/],
    ['S3 no $', 'eventName == "x"', 1, /expected a path starting with \$/],
    ['S4 unterminated string', '$.eventName == "x', 18, /expected a closing " .*found end of expression/],
    ['S5 trailing tokens', '$.eventName == "x" and 1', 20, /expected end of expression, found "and"/],
    ['S6 recursive descent', '$..eventName == "x"', 2, /recursive descent/],
    ['S7 unquoted bracket', '$[eventName] == "x"', 3, /a quoted field name, an index or \*/],
    ['S8 unclosed bracket', "$['eventName' == 'x'", 15, /expected "\]"/],
    ['S9 invalid regex', '$.eventName regex "[a"', 19, /expected a valid regular expression .*found "\[a"/],
    ['S10 regex needs a string', '$.eventName regex 5', 19, /a quoted regular expression/],
    ['S11 missing value', '$.eventName ==', 15, /expected a value .*found end of expression/],
    ['S12 missing operator', '$.eventName', 12, /expected an operator/],
    ['S13 bad escape', '$.eventName == "\\q"', 17, /expected an escape/],
    ['S14 empty expression', '', 1, /a path starting with \$/],
    ['S15 dot without a name', '$. == 1', 3, /a field name after "."/],
    ['S16 number glued to letters', '$.a == 12abc', 8, /expected a value/],
    ['S17 unknown operator word', '$.a contains "x"', 5, /expected an operator.*found "contains"/],
  ];
  it.each(malformed)('%s: %j is rejected at column %i', (_name, expression, column, message) => {
    let error: unknown;
    try {
      matchFilter(expression);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MatchSyntaxError);
    expect(error).toBeInstanceOf(FilterError);
    const syntax = error as MatchSyntaxError;
    expect(syntax.position + 1).toBe(column);
    expect(syntax.message).toMatch(message);
    expect(syntax.message).toContain(`at column ${column}:`);
    expect(syntax.expression).toBe(expression);
  });
});

describe('time windows', () => {
  const at = (iso: string) => event({ eventTime: iso });

  it('T1 parses ISO-8601 dates and times, UTC unless a zone is given', () => {
    expect(parseIsoTime('2024-05-01')).toBe(Date.UTC(2024, 4, 1));
    expect(parseIsoTime('2024-05-01T10:00')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseIsoTime('2024-05-01T10:00:05Z')).toBe(Date.UTC(2024, 4, 1, 10, 0, 5));
    expect(parseIsoTime('2024-05-01 10:00:05.25Z')).toBe(Date.UTC(2024, 4, 1, 10, 0, 5, 250));
    expect(parseIsoTime('2024-05-01T12:00:00+02:00')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseIsoTime('2024-05-01T05:30-0430')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseIsoTime('2024-02-29T00:00:00.123456Z')).toBe(Date.UTC(2024, 1, 29, 0, 0, 0, 123));
  });

  const badTimes: [string, string, RegExp][] = [
    ['T2 not a time', 'yesterday', /not an ISO-8601 time/],
    ['T3 month 13', '2024-13-01', /month 13 does not exist/],
    ['T4 February 30', '2024-02-30', /day 30 does not exist/],
    ['T5 hour 24', '2024-05-01T24:00:00Z', /out of range/],
    ['T6 zone without time', '2024-05-01Z', /not an ISO-8601 time/],
    ['T7 epoch number', '1714557600', /not an ISO-8601 time/],
    ['T8 bad offset', '2024-05-01T10:00+25:00', /offset/],
  ];
  it.each(badTimes)('%s: %j is rejected', (_name, text, message) => {
    expect(() => timeFilter({ from: text })).toThrow(FilterError);
    expect(() => timeFilter({ from: text })).toThrow(message);
    expect(() => timeFilter({ to: text })).toThrow(/--to/);
  });

  it('T9 --from is inclusive and --to exclusive, to the millisecond', () => {
    const filter = timeFilter({ from: '2024-05-01T10:00:00Z', to: '2024-05-01T11:00:00Z' });
    expect(filter(at('2024-05-01T09:59:59.999Z'))).toBe(false);
    expect(filter(at('2024-05-01T10:00:00Z'))).toBe(true);
    expect(filter(at('2024-05-01T10:30:00Z'))).toBe(true);
    expect(filter(at('2024-05-01T10:59:59.999Z'))).toBe(true);
    expect(filter(at('2024-05-01T11:00:00Z'))).toBe(false);
  });

  it('T10 open-ended bounds', () => {
    expect(timeFilter({ from: '2024-05-01T10:00:00Z' })(at('2030-01-01T00:00:00Z'))).toBe(true);
    expect(timeFilter({ to: '2024-05-01T10:00:00Z' })(at('2000-01-01T00:00:00Z'))).toBe(true);
    expect(timeFilter({ to: '2024-05-01T10:00:00Z' })(at('2024-05-01T10:00:00Z'))).toBe(false);
  });

  it('T11 a zone offset moves the bound', () => {
    const filter = timeFilter({ from: '2024-05-01T12:00:00+02:00' });
    expect(filter(at('2024-05-01T10:00:00Z'))).toBe(true);
    expect(filter(at('2024-05-01T09:59:59Z'))).toBe(false);
  });

  it('T12 --last counts back from now, inclusive at the edge', () => {
    const now = Date.UTC(2024, 4, 1, 13);
    const filter = timeFilter({ last: '3h', now });
    expect(filter(at('2024-05-01T10:00:00Z'))).toBe(true);
    expect(filter(at('2024-05-01T09:59:59.999Z'))).toBe(false);
    expect(filter(at('2024-05-01T12:59:00Z'))).toBe(true);
    expect(timeBounds({ last: '45m', now })).toEqual({ from: now - 45 * 60_000 });
  });

  it('T13 durations', () => {
    expect(parseDuration('45m')).toBe(45 * 60_000);
    expect(parseDuration('3h')).toBe(3 * 3_600_000);
    expect(parseDuration('2d')).toBe(2 * 86_400_000);
    expect(parseDuration('1w')).toBe(7 * 86_400_000);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(90 * 60_000);
  });

  const badDurations: [string, string, RegExp][] = [
    ['T14 no unit', '3', /expected a duration/],
    ['T15 unknown unit', '3y', /expected a duration/],
    ['T16 negative', '-3h', /expected a duration/],
    ['T17 zero', '0m', /longer than zero/],
    ['T18 empty', '', /expected a duration/],
    ['T19 decimal', '1.5h', /expected a duration/],
    ['T20 too long', '99999999999999999d', /too long/],
  ];
  it.each(badDurations)('%s: --last %j is rejected', (_name, text, message) => {
    expect(() => timeFilter({ last: text })).toThrow(FilterError);
    expect(() => timeFilter({ last: text })).toThrow(message);
  });

  it('T21 conflicting or inverted bounds are rejected', () => {
    expect(() => timeFilter({ last: '3h', from: '2024-05-01' })).toThrow(/--last cannot be combined/);
    expect(() => timeFilter({ last: '3h', to: '2024-05-01' })).toThrow(/--last cannot be combined/);
    expect(() => timeFilter({ from: '2024-05-02', to: '2024-05-01' })).toThrow(/must be before --to/);
    expect(() => timeFilter({ from: '2024-05-01', to: '2024-05-01' })).toThrow(/must be before --to/);
  });
});

describe('buildEventFilter', () => {
  it('B1 without options passes everything', () => {
    const filter = buildEventFilter({});
    expect([getObject, deleteUser, describeInstances].every(filter)).toBe(true);
    expect(buildEventFilter({ actions: [], match: [] })(getObject)).toBe(true);
  });

  it('B2 combines every filter with AND', () => {
    const filter = buildEventFilter({
      actions: ['s3:*', 'iam:*'],
      match: ['$.userIdentity.userName == "alice"', '$.sourceIPAddress != "AWS Internal"'],
      from: '2024-05-01T00:00:00Z',
      to: '2024-05-02T00:00:00Z',
    });
    expect(filter(getObject)).toBe(true);
    expect(filter(deleteUser)).toBe(true);
    expect(filter(describeInstances)).toBe(false); // action
    expect(filter(event({ userIdentity: { userName: 'bob' } }))).toBe(false); // first match
    expect(filter(event({ sourceIPAddress: 'AWS Internal' }))).toBe(false); // second match
    expect(filter(event({ eventTime: '2024-05-02T00:00:00Z' }))).toBe(false); // time
  });

  it('B3 --last uses the given now', () => {
    const filter = buildEventFilter({ last: '1d', now: Date.UTC(2024, 4, 2, 9) });
    expect(filter(getObject)).toBe(true);
    expect(buildEventFilter({ last: '1d', now: Date.UTC(2024, 4, 2, 11) })(getObject)).toBe(false);
  });

  it('B4 rejects bad input when built, before any event is seen', () => {
    expect(() => buildEventFilter({ match: ['$.a == 1', '$.b = 2'] })).toThrow(MatchSyntaxError);
    expect(() => buildEventFilter({ actions: ['s3'] })).toThrow(FilterError);
    expect(() => buildEventFilter({ last: '3 hours' })).toThrow(FilterError);
  });
});

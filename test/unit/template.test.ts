import { describe, expect, it } from 'vitest';
import { fillTemplate, fillUrl, placeholdersOf } from '../../engine/template.ts';

describe('fillTemplate', () => {
  it('fills scalar values', () => {
    expect(
      fillTemplate('Opened {{service}} in {{awsRegion}}', { service: 'IAM', awsRegion: 'eu-west-1' }),
    ).toBe('Opened IAM in eu-west-1');
    expect(fillTemplate('{{n}} items, public={{flag}}', { n: 0, flag: false })).toBe('0 items, public=false');
  });

  it('accepts spaces inside the braces', () => {
    expect(fillTemplate('{{ user }} / {{ keys | count }}', { user: 'alice', keys: ['k1', 'k2'] })).toBe(
      'alice / 2',
    );
  });

  it('shows the fallback for missing or null values, and 0 when counting them', () => {
    expect(fillTemplate('user {{user}}', {})).toBe('user ?');
    expect(fillTemplate('user {{user}}', { user: null })).toBe('user ?');
    expect(fillTemplate('user {{user}}', {}, 'unknown')).toBe('user unknown');
    expect(fillTemplate('{{users|count}} users', {})).toBe('0 users');
    expect(fillTemplate('{{users|count}} users', { users: null })).toBe('0 users');
  });

  it('counts lists by length, a number as itself and any other scalar as one', () => {
    expect(fillTemplate('{{u|count}}', { u: ['a', 'b', 'c'] })).toBe('3');
    expect(fillTemplate('{{u|count}}', { u: [] })).toBe('0');
    expect(fillTemplate('{{u|count}}', { u: 17 })).toBe('17');
    expect(fillTemplate('{{u|count}}', { u: 'alice' })).toBe('1');
  });

  it('lists at most five items, then how many more', () => {
    expect(fillTemplate('{{u|list}}', { u: ['a', 'b', 'c'] })).toBe('a, b, c');
    expect(fillTemplate('{{u}}', { u: ['a', 'b'] })).toBe('a, b');
    expect(fillTemplate('{{u|list}}', { u: ['1', '2', '3', '4', '5'] })).toBe('1, 2, 3, 4, 5');
    expect(fillTemplate('{{u|list}}', { u: ['1', '2', '3', '4', '5', '6', '7'] })).toBe(
      '1, 2, 3, 4, 5 and 2 more',
    );
  });

  it('shows the fallback for an empty list', () => {
    expect(fillTemplate('users: {{u|list}}', { u: [] })).toBe('users: ?');
  });

  it('takes the first item with |first', () => {
    expect(fillTemplate('{{u|first}}', { u: ['x', 'y'] })).toBe('x');
    expect(fillTemplate('{{u|first}}', { u: 'only' })).toBe('only');
  });

  it('leaves text that is not a placeholder alone, and does not expand replacement patterns in values', () => {
    expect(fillTemplate('{{u|upper}} {single} {{ }}', { u: 'x' })).toBe('{{u|upper}} {single} {{ }}');
    expect(fillTemplate('{{a}}', { a: '$& $1 {{b}}', b: 'no' })).toBe('$& $1 {{b}}');
  });
});

describe('fillUrl', () => {
  it('returns null without a template', () => {
    expect(fillUrl(null, { a: 'x' })).toBeNull();
    expect(fillUrl('', { a: 'x' })).toBeNull();
  });

  it('fills values URL-encoded', () => {
    expect(
      fillUrl('https://{{region}}.console.aws.amazon.com/iam/home#/users/details/{{user}}', {
        region: 'us-east-1',
        user: 'al ice/&?',
      }),
    ).toBe('https://us-east-1.console.aws.amazon.com/iam/home#/users/details/al%20ice%2F%26%3F');
  });

  it('uses the first item of a list by default', () => {
    expect(fillUrl('https://x/{{bucket}}', { bucket: ['b-1', 'b-2'] })).toBe('https://x/b-1');
  });

  it('returns null when any placeholder has no value', () => {
    expect(fillUrl('https://x/{{a}}/{{b}}', { a: 'one' })).toBeNull();
    expect(fillUrl('https://x/{{a}}', { a: null })).toBeNull();
    expect(fillUrl('https://x/{{a}}', { a: [] })).toBeNull();
  });

  it('keeps a template without placeholders as is', () => {
    expect(fillUrl('https://console.aws.amazon.com/billing/home', {})).toBe(
      'https://console.aws.amazon.com/billing/home',
    );
  });
});

describe('placeholdersOf', () => {
  it('lists placeholder keys in order, filters stripped', () => {
    expect(placeholdersOf('{{a}} and {{ b | count }} then {{c|list}} and {{a}}')).toEqual([
      'a',
      'b',
      'c',
      'a',
    ]);
  });

  it('ignores text that is not a valid placeholder', () => {
    expect(placeholdersOf('no placeholders {x} {{y|upper}} {{ }}')).toEqual([]);
  });

  it('can be called repeatedly (no regex state leaks between calls)', () => {
    expect(placeholdersOf('{{k}}')).toEqual(['k']);
    expect(placeholdersOf('{{k}}')).toEqual(['k']);
    expect(fillTemplate('{{k}}', { k: 'v' })).toBe('v');
    expect(fillTemplate('{{k}}', { k: 'v' })).toBe('v');
  });
});

describe('fallbacks and raw URL values', () => {
  it('or: gives the text to show when a value is missing', () => {
    expect(fillTemplate('key pair {{keyName|or:none}}', {})).toBe('key pair none');
    expect(fillTemplate('key pair {{keyName|or:none}}', { keyName: 'deploy' })).toBe('key pair deploy');
    expect(fillTemplate('{{users|list|or:nobody}}', { users: [] })).toBe('nobody');
  });

  it('raw keeps ARN separators in URLs but still escapes what would change the URL', () => {
    const arn = 'arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail';
    expect(fillUrl('https://x/#/trails/{{trailArn|raw}}', { trailArn: arn })).toBe(
      `https://x/#/trails/${arn}`,
    );
    expect(fillUrl('https://x/#/t/{{v|raw}}', { v: 'a b#c?d' })).toBe('https://x/#/t/a%20b%23c%3Fd');
    expect(fillUrl('https://x/{{v}}', { v: arn })).toBe(`https://x/${encodeURIComponent(arn)}`);
  });

  it('a URL with an or: fallback is complete without the value', () => {
    expect(fillUrl('https://x/?q={{v|or:}}', {})).toBe('https://x/?q=');
  });
});

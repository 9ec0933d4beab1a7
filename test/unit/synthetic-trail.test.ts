/**
 * The synthetic trail (bench/synthetic-trail.ts) keeps a real console sign-in's identity shapes in
 * every copy, and its truth says exactly which events each sign-in made; the engine must find
 * exactly those sessions.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareSessions } from '../../bench/sessions-check.ts';
import {
  accessKeysOf,
  consoleSignIns,
  EXAMPLE_TRAIL,
  exampleTemplates,
  SIGN_IN_AGAIN_AFTER_MS,
  type SignIn,
  type SyntheticTrail,
  type TruthSession,
  writeSyntheticTrail,
} from '../../bench/synthetic-trail.ts';
import { enrich } from '../../engine/enrich.ts';
import { readInputs } from '../../engine/read.ts';
import { loadRules } from '../../engine/rules/load.ts';
import type { CloudTrailRecord, TrailEvent } from '../../engine/types.ts';
import { pushTo } from '../../engine/arrays.ts';

const EVENTS = 20_000;
const STEPS = new Set(['CheckMfa', 'GetSigninToken', 'ConsoleLogin']);
const isStep = (r: CloudTrailRecord) => r.eventSource === 'signin.amazonaws.com' && STEPS.has(r.eventName!);
const creationDate = (r: CloudTrailRecord) => r.userIdentity?.sessionContext?.attributes?.creationDate;
const issuedKey = (r: CloudTrailRecord) =>
  (r.responseElements as { credentials?: { accessKeyId?: string } } | null)?.credentials?.accessKeyId;

let dir: string;
let trail: SyntheticTrail;
let events: TrailEvent[];
let byId: Map<string, CloudTrailRecord>;
let templates: SignIn[];
let exampleRecords: CloudTrailRecord[];
const recordsOf = (t: TruthSession) => t.eventIds.map((id) => byId.get(id)!);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trailmap-synthetic-'));
  trail = await writeSyntheticTrail(join(dir, 'trail'), {
    events: EVENTS,
    consoleShare: 0.4,
    hours: 6,
    accounts: 4,
    seed: 3,
    truthFile: true,
  });
  events = (await readInputs([trail.dir])).events;
  byId = new Map(events.map((e) => [e.id, e.record]));
  templates = (await exampleTemplates()).signIns;
  exampleRecords = (await readInputs([EXAMPLE_TRAIL])).events.map((e) => e.record);
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the example sign-ins the trail copies', () => {
  it('are found from the records: one per successful ConsoleLogin, its steps and its console calls', () => {
    expect(templates.length).toBeGreaterThanOrEqual(2);
    const seen = new Set<string>();
    for (const t of templates) {
      const logins = t.records.filter((r) => r.eventName === 'ConsoleLogin');
      expect(logins).toHaveLength(1);
      expect(logins[0].eventTime).toBe(t.creationDate);
      for (const r of t.records.filter((x) => !isStep(x))) {
        expect(r.userIdentity?.arn).toBe(t.principalArn);
        expect(creationDate(r)).toBe(t.creationDate);
        expect(r.userIdentity?.accessKeyId).toMatch(/^ASIA/);
      }
      for (const r of t.records) {
        expect(seen.has(r.eventID!)).toBe(false);
        seen.add(r.eventID!);
      }
    }
  });

  it("are the example generator's own sign-ins when it says (exampleSessionsTruth), found the same way from the records", async () => {
    const { source } = await exampleTemplates();
    expect(trail.truth.templates).toBe(source);
    const shape = (list: SignIn[]) =>
      list.map((s) => ({
        principalArn: s.principalArn,
        creationDate: s.creationDate,
        eventIds: s.records.map((r) => r.eventID!).sort(),
      }));
    expect(shape(consoleSignIns(exampleRecords))).toEqual(shape(templates));
  });
});

describe(`a synthetic trail of ${EVENTS.toLocaleString('en-US')} events`, () => {
  it('has its truth: every truth event is in the trail, in one sign-in only; console events are theirs', async () => {
    expect(trail.events).toBe(EVENTS);
    expect(events).toHaveLength(EVENTS);
    const truth = trail.truth.sessions;
    expect(JSON.parse(await readFile(join(dir, 'truth.json'), 'utf8'))).toEqual(trail.truth);
    expect(truth.length).toBe(trail.consoleSessions);
    const ids = truth.flatMap((t) => t.eventIds);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => byId.has(id))).toBe(true);
    expect(ids.length).toBe(trail.consoleEvents);
    expect(trail.consoleEvents / EVENTS).toBeGreaterThanOrEqual(0.4);
    expect(trail.consoleEvents / EVENTS).toBeLessThan(0.5);
  });

  it('gives each sign-in its own fresh keys, several of them, issued by its GetSigninToken', () => {
    const owner = new Map<string, string>();
    const templateKeys = new Set(templates.flatMap((t) => accessKeysOf(t.records)));
    for (const t of trail.truth.sessions) {
      const records = recordsOf(t);
      const keys = accessKeysOf(records);
      expect([...keys].sort()).toEqual([...t.accessKeys].sort());
      const template = templates[t.template];
      const callKeys = new Set(records.filter((r) => !isStep(r)).map((r) => r.userIdentity!.accessKeyId!));
      const templateCallKeys = new Set(
        template.records.filter((r) => !isStep(r)).map((r) => r.userIdentity!.accessKeyId!),
      );
      // A key per console service (the template's own keys, one for one, when it has several).
      expect(callKeys.size).toBeGreaterThanOrEqual(2);
      if (templateCallKeys.size > 1) expect(callKeys.size).toBe(templateCallKeys.size);
      for (const key of keys) {
        expect(templateKeys.has(key)).toBe(false);
        expect(owner.get(key) ?? t.id).toBe(t.id);
        owner.set(key, t.id);
      }
      for (const token of records.filter((r) => r.eventName === 'GetSigninToken')) {
        expect(callKeys.has(issuedKey(token)!)).toBe(true);
      }
    }
  });

  it("keeps creationDate equal to the copy's ConsoleLogin time, and CheckMfa naming the copy's principal", () => {
    let mfaChecks = 0;
    for (const t of trail.truth.sessions) {
      const records = recordsOf(t);
      const [login, ...more] = records.filter((r) => r.eventName === 'ConsoleLogin');
      expect(more).toEqual([]);
      expect(login.eventTime).toBe(t.creationDate);
      expect(login.userIdentity?.arn).toBe(t.principalArn);
      expect(t.principalArn).toContain(`::${t.accountId}:`);
      for (const r of records.filter((x) => !isStep(x))) {
        expect(r.userIdentity?.arn).toBe(t.principalArn);
        expect(creationDate(r)).toBe(t.creationDate);
        expect(r.recipientAccountId).toBe(t.accountId);
      }
      for (const check of records.filter((r) => r.eventName === 'CheckMfa')) {
        mfaChecks++;
        expect(check.userIdentity?.arn).toBeUndefined();
        expect(check.userIdentity?.accountId).toBe(t.accountId);
        const name = t.principalArn.slice(t.principalArn.lastIndexOf('/') + 1);
        expect([login.userIdentity?.principalId, name]).toEqual(
          expect.arrayContaining([check.userIdentity?.principalId ?? check.userIdentity?.userName]),
        );
      }
    }
    const templateChecks = templates.some((t) => t.records.some((r) => r.eventName === 'CheckMfa'));
    if (templateChecks) expect(mfaChecks).toBeGreaterThan(0);
  });

  it('has principals signing in more than once: new creationDates, never overlapping', () => {
    const byPrincipal = new Map<string, TruthSession[]>();
    for (const t of trail.truth.sessions) pushTo(byPrincipal, t.principalArn, t);
    const again = [...byPrincipal.values()].filter((list) => list.length > 1);
    expect(again.length).toBeGreaterThanOrEqual(2);
    expect(trail.principals).toBe(byPrincipal.size);
    for (const list of again) {
      const sorted = [...list].sort((a, b) => a.startTime.localeCompare(b.startTime));
      expect(new Set(sorted.map((t) => t.creationDate)).size).toBe(sorted.length);
      expect(sorted.map((t) => t.signIn)).toEqual(sorted.map((_, i) => i + 1));
      for (let i = 1; i < sorted.length; i++) {
        expect(sorted[i].accountId).toBe(sorted[0].accountId);
        expect(Date.parse(sorted[i].startTime) - Date.parse(sorted[i - 1].endTime)).toBeGreaterThanOrEqual(
          SIGN_IN_AGAIN_AFTER_MS,
        );
      }
    }
  });

  it('keeps the rest outside sign-ins, and the same reading of the records finds exactly the truth', () => {
    const inTruth = new Set(trail.truth.sessions.flatMap((t) => t.eventIds));
    const signIns = new Set(trail.truth.sessions.map((t) => `${t.principalArn}|${t.creationDate}`));
    const principals = new Set(trail.truth.sessions.map((t) => t.principalArn));
    const rest = events.map((e) => e.record).filter((r) => !inTruth.has(r.eventID!));
    let scripted = 0;
    for (const r of rest) {
      expect(r.sessionCredentialFromConsole).toBeUndefined();
      expect(r.eventSource === 'signin.amazonaws.com').toBe(false);
      expect(signIns.has(`${r.userIdentity?.arn}|${creationDate(r)}`)).toBe(false);
      if (principals.has(r.userIdentity?.arn ?? '')) {
        scripted++;
        expect(r.userAgent).toMatch(/^aws-cli\//);
      }
    }
    expect(scripted).toBeGreaterThan(0);
    expect(rest.filter((r) => r.eventType === 'AwsServiceEvent').length).toBeGreaterThan(0);
    const found = consoleSignIns(events.map((e) => e.record));
    const key = (ids: readonly string[]) => [...ids].sort().join(',');
    expect(new Set(found.map((s) => key(s.records.map((r) => r.eventID!))))).toEqual(
      new Set(trail.truth.sessions.map((t) => key(t.eventIds))),
    );
  });

  it('is the same trail for the same seed', async () => {
    const files = async (root: string) => {
      const out: string[] = [];
      for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
        if (!e.isFile()) continue;
        const bytes = await readFile(join(e.parentPath, e.name));
        out.push(
          `${relative(root, join(e.parentPath, e.name))} ${createHash('sha1').update(bytes).digest('hex')}`,
        );
      }
      return out.sort();
    };
    const [a, b] = await Promise.all(
      ['a', 'b'].map((name) =>
        writeSyntheticTrail(join(dir, name), { events: 3_000, consoleShare: 0.5, accounts: 2, seed: 9 }),
      ),
    );
    expect(a.truth).toEqual(b.truth);
    expect(await files(a.dir)).toEqual(await files(b.dir));
  });
});

describe('the engine on the synthetic trail', () => {
  it('finds exactly the truth sessions: no split, no merge, nothing outside, nothing extra', () => {
    const result = enrich(events, loadRules());
    const c = compareSessions(trail.truth, result.events);
    const n = trail.truth.sessions.length;
    expect(c).toEqual({
      truthSessions: n,
      foundSessions: n,
      exact: n,
      split: 0,
      splitInto: 0,
      merged: 0,
      partlyOutside: 0,
      eventsOutside: 0,
      spurious: 0,
      otherEventsInside: 0,
      examples: [],
    });
  });
});

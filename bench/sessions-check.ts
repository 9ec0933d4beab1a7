/**
 * The "must show" figure: does Trailmap find exactly the console sign-ins of a realistic trail?
 *
 *   npx tsx bench/sessions-check.ts [--events N] [--seed S] [--hours H] [--accounts A] [--keep DIR]
 *                                   [--checkout DIR]
 *
 * Generates a synthetic organization trail (bench/synthetic-trail.ts: several principals, some
 * signing in more than once, each sign-in with per-service renewing keys, among programmatic
 * noise) with its truth, runs the real CLI (`node bin/trailmap.js enrich <dir> --format
 * events-json`, which lists every input event with its sessionId, and `--format sessions-json`),
 * and compares: truth sessions, found sessions, exactly matched (same event set), split (one
 * truth session's events in several found sessions), merged (one found session holding events of
 * several truth sessions), truth events in no session, and other events inside sessions. Exits 1
 * unless every truth session is found exactly and nothing else is. `--keep DIR` keeps the trail,
 * truth.json and both outputs there; `--checkout DIR` runs another Trailmap checkout's CLI (e.g. an
 * older commit, for a before/after figure) on the same trail.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { SessionsTruth } from './synthetic-trail.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** How a trail's found sessions compare with its truth sessions. */
export interface SessionsComparison {
  truthSessions: number;
  foundSessions: number;
  /** Truth sessions found as exactly one session with the same event set. */
  exact: number;
  /** Truth sessions whose events are spread over two or more found sessions. */
  split: number;
  /** How many found sessions the split truth sessions are spread over. */
  splitInto: number;
  /** Found sessions holding events of two or more truth sessions. */
  merged: number;
  /** Truth sessions with some events in no session (or missing from the output). */
  partlyOutside: number;
  /** Events of truth sessions in no session (or missing from the output). */
  eventsOutside: number;
  /** Found sessions with no truth event at all. */
  spurious: number;
  /** Events of no truth session that are inside a found session. */
  otherEventsInside: number;
  /** A few truth sessions that were not found exactly, described. */
  examples: string[];
}

/**
 * Compares the truth with the engine's per-event session ids (`eventId` → `sessionId`, null for
 * events outside sessions; every input event listed, as `--format events-json` does).
 */
export function compareSessions(
  truth: SessionsTruth,
  events: readonly { eventId: string; sessionId: string | null }[],
): SessionsComparison {
  const sessionOf = new Map<string, string | null>();
  for (const e of events) sessionOf.set(e.eventId, e.sessionId);
  const truthOf = new Map<string, number>();
  truth.sessions.forEach((s, i) => s.eventIds.forEach((id) => truthOf.set(id, i)));
  const found = new Map<string, { size: number; truths: Set<number>; other: number }>();
  for (const e of events) {
    if (!e.sessionId) continue;
    let f = found.get(e.sessionId);
    if (!f) found.set(e.sessionId, (f = { size: 0, truths: new Set(), other: 0 }));
    f.size++;
    const t = truthOf.get(e.eventId);
    if (t === undefined) f.other++;
    else f.truths.add(t);
  }
  const result: SessionsComparison = {
    truthSessions: truth.sessions.length,
    foundSessions: found.size,
    exact: 0,
    split: 0,
    splitInto: 0,
    merged: 0,
    partlyOutside: 0,
    eventsOutside: 0,
    spurious: 0,
    otherEventsInside: 0,
    examples: [],
  };
  for (const f of found.values()) {
    if (f.truths.size > 1) result.merged++;
    if (f.truths.size === 0) result.spurious++;
    result.otherEventsInside += f.other;
  }
  for (const t of truth.sessions) {
    const pieces = new Map<string, number>();
    let outside = 0;
    for (const id of t.eventIds) {
      const s = sessionOf.get(id);
      if (s) pieces.set(s, (pieces.get(s) ?? 0) + 1);
      else outside++;
    }
    result.eventsOutside += outside;
    if (outside > 0) result.partlyOutside++;
    if (pieces.size > 1) {
      result.split++;
      result.splitInto += pieces.size;
    }
    const [only] = pieces.keys();
    if (outside === 0 && pieces.size === 1 && found.get(only)!.size === t.eventIds.length) {
      result.exact++;
    } else if (result.examples.length < 5) {
      const sizes = [...pieces.values()].sort((a, b) => b - a);
      const shared = [...pieces.keys()].filter((s) => found.get(s)!.truths.size > 1).length;
      result.examples.push(
        `${t.id} ${t.principalArn} signed in at ${t.creationDate} (sign-in ${t.signIn}, ${t.accessKeys.length} keys, ` +
          `${t.eventIds.length} events): in ${pieces.size} found session(s) of ${sizes.slice(0, 8).join(', ')}${sizes.length > 8 ? ', …' : ''} events` +
          `${outside > 0 ? `, ${outside} in none` : ''}${shared > 0 ? `, ${shared} of them shared with other sign-ins` : ''}`,
      );
    }
  }
  return result;
}

/** True when the engine found exactly the truth sessions and nothing else. */
export const allMatch = (c: SessionsComparison) =>
  c.exact === c.truthSessions && c.foundSessions === c.truthSessions && c.otherEventsInside === 0;

/** Runs `node bin/trailmap.js …` in a checkout and writes its stdout to a file. */
async function trailmap(checkout: string, argv: string[], out: string): Promise<void> {
  const child = spawn(process.execPath, ['bin/trailmap.js', ...argv], {
    cwd: checkout,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const file = createWriteStream(out);
  child.stdout.pipe(file);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? 1)));
  await new Promise((done) => file.close(done));
  if (code !== 0) throw new Error(`trailmap ${argv.join(' ')} exited ${code}: ${stderr.slice(-2000)}`);
}

async function main(): Promise<number> {
  const { values: args } = parseArgs({
    options: {
      events: { type: 'string', default: '100000' },
      seed: { type: 'string', default: '1' },
      hours: { type: 'string', default: '6' },
      accounts: { type: 'string', default: '12' },
      keep: { type: 'string' },
      checkout: { type: 'string', default: ROOT },
    },
  });
  const { writeSyntheticTrail } = await import('./synthetic-trail.ts');
  const work = args.keep ? resolve(args.keep) : await mkdtemp(join(tmpdir(), 'trailmap-sessions-'));
  const int = (n: number) => n.toLocaleString('en-US');
  const say = (line = '') => process.stdout.write(`${line}\n`);
  try {
    const trail = await writeSyntheticTrail(join(work, 'trail'), {
      events: Number(args.events),
      seed: Number(args.seed),
      hours: Number(args.hours),
      accounts: Number(args.accounts),
      truthFile: join(work, 'truth.json'),
    });
    const truth = trail.truth;
    const again = new Set(truth.sessions.filter((s) => s.signIn > 1).map((s) => s.principalArn)).size;
    const keys = truth.sessions.map((s) => s.accessKeys.length).sort((a, b) => a - b);
    say(
      `Trail: ${int(trail.events)} events, ${int(trail.objects)} objects (seed ${truth.seed}); ${int(trail.consoleEvents)} events in ` +
        `${int(truth.sessions.length)} console sign-ins by ${int(trail.principals)} principals (${int(again)} signing in more than once); ` +
        `access keys per sign-in ${keys[0]}–${keys[keys.length - 1]}; templates: the example's sign-ins ` +
        (truth.templates === 'derived' ? 'derived from its records' : 'as scripts/make-example.ts says'),
    );
    const checkout = resolve(args.checkout);
    const eventsFile = join(work, 'events.json');
    const sessionsFile = join(work, 'sessions.json');
    await trailmap(checkout, ['enrich', trail.dir, '--format', 'events-json'], eventsFile);
    await trailmap(checkout, ['enrich', trail.dir, '--format', 'sessions-json'], sessionsFile);
    const events = JSON.parse(await readFile(eventsFile, 'utf8')) as {
      eventId: string;
      sessionId: string | null;
    }[];
    const sessions = JSON.parse(await readFile(sessionsFile, 'utf8')) as {
      id: string;
      kind: string;
      eventCount: number;
    }[];
    // The two outputs describe the same sessions.
    const counted = new Map<string, number>();
    for (const e of events) if (e.sessionId) counted.set(e.sessionId, (counted.get(e.sessionId) ?? 0) + 1);
    const agree =
      sessions.length === counted.size && sessions.every((s) => counted.get(s.id) === s.eventCount);
    const c = compareSessions(truth, events);
    const pct = (n: number) => `${((100 * n) / Math.max(1, c.truthSessions)).toFixed(0)}%`;
    if (checkout !== resolve(ROOT)) say(`Trailmap from ${checkout}`);
    say(`trailmap enrich listed ${int(events.length)} events in ${int(sessions.length)} sessions`);
    if (!agree) say('  sessions-json and events-json DISAGREE on the sessions or their event counts');
    say();
    say(`truth sessions (console sign-ins)       ${int(c.truthSessions)}`);
    say(`found sessions                          ${int(c.foundSessions)}`);
    say(`exactly matched (same event set)        ${int(c.exact)} (${pct(c.exact)})`);
    say(
      `split (in 2+ found sessions)            ${int(c.split)} (${pct(c.split)}), into ${int(c.splitInto)} found sessions`,
    );
    say(`merged (found sessions with 2+ truths)  ${int(c.merged)}`);
    say(
      `truth events in no session              ${int(c.eventsOutside)} (of ${int(c.partlyOutside)} truth sessions)`,
    );
    say(`found sessions with no truth event      ${int(c.spurious)}`);
    say(`other events inside found sessions      ${int(c.otherEventsInside)}`);
    if (c.examples.length > 0) {
      say();
      say('first sign-ins not found exactly:');
      for (const line of c.examples) say(`  ${line}`);
    }
    say();
    const ok = allMatch(c) && agree;
    say(ok ? 'ALL MATCH' : 'MISMATCH');
    if (args.keep) say(`trail, truth.json and outputs kept in ${work}`);
    return ok ? 0 : 1;
  } finally {
    if (!args.keep) await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main();
}

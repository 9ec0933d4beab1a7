/**
 * Scores the engine against ../shared/sessions: a signal matches when ours with the same
 * correlationId has the same label and exactly the same set of eventIDs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { enrich } from '../../engine/enrich.ts';
import { RuleIndex } from '../../engine/map.ts';
import { readEventsFromBytes } from '../../engine/read.ts';
import { loadRules } from '../../engine/rules/load.ts';
import type { Signal } from '../../engine/types.ts';

export const SESSIONS_DIR = fileURLToPath(new URL('../../../shared/sessions', import.meta.url));

interface ExpectedSignal {
  Label: string;
  AllEventIdArr: string;
  Url: string;
}

export interface Tally {
  expected: number;
  matched: number;
  urlMatched: number;
}

export interface SessionScore {
  session: string;
  actions: Tally;
  suppress: Tally;
  /** Produced non-suppress signals, and how many equal an expected one. */
  produced: number;
  producedMatched: number;
  misses: { correlationId: string; expected: string; got: string; detail: string }[];
  /** Matched signals whose URL differs from the expected one. */
  urlMisses: { correlationId: string; label: string; expected: string; got: string | null }[];
}

const tally = (): Tally => ({ expected: 0, matched: 0, urlMatched: 0 });

export function sessionFolders(): string[] {
  if (!existsSync(SESSIONS_DIR)) return [];
  return readdirSync(SESSIONS_DIR)
    .filter((name) => existsSync(join(SESSIONS_DIR, name, 'ExpectedSignals.json')))
    .sort();
}

export function scoreSession(folder: string, index: RuleIndex): SessionScore {
  const inputPath = join(SESSIONS_DIR, folder, 'InputEvents.json');
  const { events } = readEventsFromBytes(readFileSync(inputPath), inputPath);
  const expected = JSON.parse(
    readFileSync(join(SESSIONS_DIR, folder, 'ExpectedSignals.json'), 'utf8'),
  ) as Record<string, ExpectedSignal>;
  const signals = enrich(events, index).sessions.flatMap((s) => s.signals);
  const byCorrelation = new Map<string, Signal>(signals.map((s) => [s.correlationId, s]));
  const score: SessionScore = {
    session: folder,
    actions: tally(),
    suppress: tally(),
    produced: 0,
    producedMatched: 0,
    misses: [],
    urlMisses: [],
  };
  const matchedIds = new Set<string>();
  for (const [correlationId, want] of Object.entries(expected)) {
    const bucket = want.Label.startsWith('Suppress') ? score.suppress : score.actions;
    bucket.expected++;
    const got = byCorrelation.get(correlationId);
    const wantIds = new Set(want.AllEventIdArr.split(','));
    const same =
      got?.label === want.Label &&
      got.eventIds.length === wantIds.size &&
      got.eventIds.every((id) => wantIds.has(id));
    if (same && got) {
      bucket.matched++;
      matchedIds.add(got.id);
      if ((got.url ?? 'N/A') === want.Url) bucket.urlMatched++;
      else score.urlMisses.push({ correlationId, label: want.Label, expected: want.Url, got: got.url });
    } else {
      const extra = got ? got.eventIds.filter((id) => !wantIds.has(id)).length : 0;
      const missing = got ? [...wantIds].filter((id) => !got.eventIds.includes(id)).length : wantIds.size;
      score.misses.push({
        correlationId,
        expected: want.Label,
        got: got?.label ?? '(none)',
        detail: got ? `+${extra} -${missing} events` : 'no signal with this correlationId',
      });
    }
  }
  for (const signal of signals) {
    // Background polling is scored apart; generic signals explain what no rule recognises, and the
    // recorded sessions label no such thing, so they are not counted against precision.
    if (signal.kind !== 'action') continue;
    score.produced++;
    if (matchedIds.has(signal.id)) score.producedMatched++;
  }
  return score;
}

export function scoreAll(rulesDir?: string): SessionScore[] {
  const index = new RuleIndex(loadRules(rulesDir));
  return sessionFolders().map((folder) => scoreSession(folder, index));
}

export function totals(scores: SessionScore[]) {
  const sum = (pick: (s: SessionScore) => number) => scores.reduce((n, s) => n + pick(s), 0);
  const pct = (a: number, b: number) => (b === 0 ? 100 : (100 * a) / b);
  const actions = sum((s) => s.actions.expected);
  const suppress = sum((s) => s.suppress.expected);
  return {
    actionsExpected: actions,
    actionsMatched: sum((s) => s.actions.matched),
    actionsPct: pct(
      sum((s) => s.actions.matched),
      actions,
    ),
    suppressPct: pct(
      sum((s) => s.suppress.matched),
      suppress,
    ),
    urlPct: pct(
      sum((s) => s.actions.urlMatched),
      sum((s) => s.actions.matched),
    ),
    precisionPct: pct(
      sum((s) => s.producedMatched),
      sum((s) => s.produced),
    ),
  };
}

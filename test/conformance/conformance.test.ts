/**
 * Conformance against the recorded sessions in ../shared/sessions. The floors only ever go up:
 * raise them when the rules improve.
 */
import { describe, expect, it } from 'vitest';
import { scoreAll, sessionFolders, totals } from './score.ts';

const FLOOR = {
  actionsPct: 94.2,
  suppressPct: 99.5,
  precisionPct: 93.3,
  urlPct: 94,
};

describe('conformance with ../shared/sessions', () => {
  it('finds the recorded sessions', () => {
    expect(sessionFolders().length).toBeGreaterThan(0);
  });

  it('maps the expected signals at or above the floor', () => {
    const scores = scoreAll();
    for (const s of scores) {
      const pct = (a: number, b: number) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);
      console.log(
        `${s.session.slice(0, 12)} actions ${pct(s.actions.matched, s.actions.expected)} suppress ${pct(s.suppress.matched, s.suppress.expected)}`,
      );
    }
    const t = totals(scores);
    console.log(
      `conformance: actions ${t.actionsPct.toFixed(1)}% (${t.actionsMatched}/${t.actionsExpected}), suppress ${t.suppressPct.toFixed(1)}%, ` +
        `url ${t.urlPct.toFixed(1)}%, precision ${t.precisionPct.toFixed(1)}%`,
    );
    expect(t.actionsPct).toBeGreaterThanOrEqual(FLOOR.actionsPct);
    expect(t.suppressPct).toBeGreaterThanOrEqual(FLOOR.suppressPct);
    expect(t.precisionPct).toBeGreaterThanOrEqual(FLOOR.precisionPct);
    expect(t.urlPct).toBeGreaterThanOrEqual(FLOOR.urlPct);
  });
});

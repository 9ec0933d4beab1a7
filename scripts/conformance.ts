/** Prints per-session and total conformance figures against ../shared/sessions. `--misses` lists each miss. */
import { scoreAll, totals } from '../test/conformance/score.ts';

const scores = scoreAll();
const showMisses = process.argv.includes('--misses');
const pct = (a: number, b: number) => (b === 0 ? '  -  ' : `${((100 * a) / b).toFixed(1).padStart(5)}%`);
for (const s of scores) {
  console.log(
    `${s.session.slice(0, 12)}  actions ${pct(s.actions.matched, s.actions.expected)} (${s.actions.matched}/${s.actions.expected})` +
      `  suppress ${pct(s.suppress.matched, s.suppress.expected)} (${s.suppress.matched}/${s.suppress.expected})` +
      `  precision ${pct(s.producedMatched, s.produced)}`,
  );
  if (showMisses)
    for (const m of s.misses)
      console.log(`    ${m.correlationId.slice(0, 8)} want ${m.expected} got ${m.got} (${m.detail})`);
}
const t = totals(scores);
console.log(
  `TOTAL actions ${t.actionsPct.toFixed(1)}% (${t.actionsMatched}/${t.actionsExpected}), suppress ${t.suppressPct.toFixed(1)}%, ` +
    `url ${t.urlPct.toFixed(1)}% of matched, precision ${t.precisionPct.toFixed(1)}%`,
);

/**
 * Prints per-session and total conformance figures against ../shared/sessions.
 * `--misses` lists each miss; `--only REGEX` keeps misses whose expected or produced label matches;
 * `--rules DIR` scores another rules folder; `--urls` lists matched signals whose URL differs.
 */
import { scoreAll, totals } from '../test/conformance/score.ts';

const argument = (name: string) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const scores = scoreAll(argument('--rules'));
const only = argument('--only') ? new RegExp(argument('--only') as string) : null;
const showUrls = process.argv.includes('--urls');
const showMisses = process.argv.includes('--misses') || only !== null;
const pct = (a: number, b: number) => (b === 0 ? '  -  ' : `${((100 * a) / b).toFixed(1).padStart(5)}%`);
for (const s of scores) {
  console.log(
    `${s.session.slice(0, 12)}  actions ${pct(s.actions.matched, s.actions.expected)} (${s.actions.matched}/${s.actions.expected})` +
      `  suppress ${pct(s.suppress.matched, s.suppress.expected)} (${s.suppress.matched}/${s.suppress.expected})` +
      `  precision ${pct(s.producedMatched, s.produced)}`,
  );
  if (showMisses)
    for (const m of s.misses.filter((miss) => !only || only.test(miss.expected) || only.test(miss.got)))
      console.log(`    ${m.correlationId.slice(0, 8)} want ${m.expected} got ${m.got} (${m.detail})`);
  if (showUrls)
    for (const u of s.urlMisses.filter((miss) => !only || only.test(miss.label)))
      console.log(
        `    ${u.correlationId.slice(0, 8)} ${u.label}\n      want ${u.expected}\n      got  ${u.got}`,
      );
}
const t = totals(scores);
console.log(
  `TOTAL actions ${t.actionsPct.toFixed(1)}% (${t.actionsMatched}/${t.actionsExpected}), suppress ${t.suppressPct.toFixed(1)}%, ` +
    `url ${t.urlPct.toFixed(1)}% of matched, precision ${t.precisionPct.toFixed(1)}%`,
);

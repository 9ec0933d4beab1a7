/** `trailmap rules stats`: how the rule corpus is spread and how much of it is tested. */
import type { SignalRule } from '../engine/rules/model.ts';
import { RISK_LEVELS } from '../engine/types.ts';

export function ruleStats(rules: readonly SignalRule[]): string {
  const services = [...new Set(rules.map((r) => r.service))].sort();
  const lines = [
    `${'service'.padEnd(16)}${'rules'.padStart(6)}${'tested'.padStart(8)}  ${RISK_LEVELS.map((r) => r.padStart(9)).join('')}`,
  ];
  const row = (name: string, subset: readonly SignalRule[]) =>
    `${name.padEnd(16)}${String(subset.length).padStart(6)}${String(subset.filter((r) => r.tests.length > 0).length).padStart(8)}  ` +
    RISK_LEVELS.map((risk) => String(subset.filter((r) => r.risk === risk).length).padStart(9)).join('');
  for (const service of services)
    lines.push(
      row(
        service,
        rules.filter((r) => r.service === service),
      ),
    );
  lines.push(row('total', rules));
  const both = rules.filter((r) => r.tests.some((t) => t.maps) && r.tests.some((t) => !t.maps)).length;
  lines.push(`${both} of ${rules.length} rules have both a must-map and a must-not-map test.`);
  return `${lines.join('\n')}\n`;
}

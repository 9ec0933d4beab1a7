/** The rule corpus covers the console-action catalog, and every rule carries its own tests. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../engine/rules/load.ts';

const CATALOG = fileURLToPath(new URL('../../shared/catalog/console-signals.json', import.meta.url));
const rules = loadRules();

describe('rule corpus', () => {
  it('has a rule for every catalog label', () => {
    expect(existsSync(CATALOG)).toBe(true);
    const catalog = JSON.parse(readFileSync(CATALOG, 'utf8')) as { label: string }[];
    const labels = new Set(rules.map((r) => r.label));
    expect(catalog.map((c) => c.label).filter((label) => !labels.has(label))).toEqual([]);
  });

  it('gives every rule a must-map and a must-not-map inline test', () => {
    const untested = rules
      .filter((r) => !(r.tests.some((t) => t.maps) && r.tests.some((t) => !t.maps)))
      .map((r) => r.label);
    // Two catalog labels can never win a burst of their own, by design (see their rule comments):
    // background trust-store polls always go to the generic group, and the dashboard's scheduled-
    // events refresh makes exactly the Events page's calls, which recorded sessions label Events.
    const neverWin = [
      'SuppressAutomatedBackgroundEvent_EC2_LoadBalancing_TrustStores',
      'EC2_EC2Dashboard_ScheduledEvents_Refresh',
    ];
    expect(untested.filter((label) => !neverWin.includes(label))).toEqual([]);
  });

  it('writes no rule against values of one recording (ids, accounts, timestamps)', () => {
    const offending =
      /\b(\d{12}|i-[0-9a-f]{8,17}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|20\d\d-\d\d-\d\dT)\b/;
    const conditions = rules.map((r) => ({
      label: r.label,
      text: JSON.stringify([r.source.when ?? [], r.source.after ?? {}]),
    }));
    expect(conditions.filter((c) => offending.test(c.text))).toEqual([]);
  });
});

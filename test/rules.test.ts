/** Runs every rule's inline tests: each burst must (or must not) produce the rule's label. */
import { describe, expect, it } from 'vitest';
import { enrich } from '../engine/enrich.ts';
import { RuleIndex } from '../engine/map.ts';
import { fixtureEvents } from '../engine/rules/fixtures.ts';
import { loadRules } from '../engine/rules/load.ts';

// TRAILMAP_RULES_DIR runs another rules folder's inline tests (used while editing a copy of the rules).
const rules = loadRules(process.env.TRAILMAP_RULES_DIR || undefined);
const index = new RuleIndex(rules);
const cases = rules.flatMap((rule) => rule.tests.map((test) => ({ rule, test })));

describe('rule inline tests', () => {
  it('has inline tests to run', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases.map((c) => [`${c.rule.label}: ${c.test.name}`, c] as const))('%s', (_, { rule, test }) => {
    const context = test.context ?? [];
    const events = fixtureEvents([...context, ...test.events], `${rule.file}#${rule.label}`);
    const burstIds = events.slice(context.length).map((e) => e.id);
    const signals = enrich(events, index).sessions.flatMap((s) => s.signals);
    const produced = signals.filter((s) => s.label === rule.label);
    if (test.maps) {
      expect(produced.map((s) => s.label)).toEqual([rule.label]);
      // A must-map burst is exactly the action: every one of its events, and nothing else, is explained by it.
      expect([...produced[0].eventIds].sort()).toEqual([...burstIds].sort());
      if (test.additionalData) expect(produced[0].additionalData).toMatchObject(test.additionalData);
      if (test.risk) expect(produced[0].risk).toBe(test.risk);
    } else {
      expect(produced).toEqual([]);
    }
  });
});

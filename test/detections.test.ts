/** Runs every detection rule's inline tests: each group of events must produce exactly `hits` hits of the rule. */
import { describe, expect, it } from 'vitest';
import { detect, loadDetections } from '../engine/detect.ts';
import { fixtureEvents } from '../engine/rules/fixtures.ts';

const rules = loadDetections(process.env.TRAILMAP_DETECTIONS_DIR || undefined);
const cases = rules.flatMap((rule) => rule.spec.tests.map((test) => ({ rule, test })));

describe('detection inline tests', () => {
  it('has rules with tests, each with a positive and a negative case', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(
        rule.spec.tests.some((t) => t.hits > 0),
        `${rule.spec.id} positive`,
      ).toBe(true);
      expect(
        rule.spec.tests.some((t) => t.hits === 0),
        `${rule.spec.id} negative`,
      ).toBe(true);
    }
  });

  it.each(cases.map((c) => [`${c.rule.spec.id}: ${c.test.name}`, c] as const))('%s', (_, { rule, test }) => {
    const hits = detect(fixtureEvents(test.events, rule.file), rules).filter(
      (h) => h.ruleId === rule.spec.id,
    );
    expect(hits).toHaveLength(test.hits);
    for (const hit of hits) {
      expect(hit.summary).not.toMatch(/\{\{|\?\s*$/);
      expect(hit.risk).toBe(rule.spec.severity);
    }
  });
});

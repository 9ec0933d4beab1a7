/** The report's data and HTML, without a browser: every event accounted for, safe embedding, CSP. */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { detect, loadDetections } from '../../engine/detect.ts';
import { enrich } from '../../engine/enrich.ts';
import { readInputs } from '../../engine/read.ts';
import { reportFromEnrichment } from '../../engine/report-data.ts';
import { reportFromDataset } from '../../engine/report-dataset.ts';
import { loadRules } from '../../engine/rules/load.ts';
import { datasetRows, detectionRow } from '../../engine/tables.ts';
import { RAW_BLOCK, renderReport, scriptSafeJson } from '../../report/render.ts';

const rules = loadRules();
const detections = loadDetections();
const breadcrumbs = new Map(rules.map((r) => [r.label, r.breadcrumb]));

async function example() {
  const { events } = await readInputs(['examples/trail']);
  const enrichment = enrich(events, rules);
  const hits = detect(events, detections);
  return { events, enrichment, hits };
}

describe('report data', () => {
  it('accounts for every event once: in a signal or programmatic; unmapped ones inside generic signals', async () => {
    const { events, enrichment, hits } = await example();
    const data = reportFromEnrichment({
      events,
      enrichment,
      detections: hits,
      breadcrumbs,
      inputs: ['x'],
      filters: [],
    });
    expect(data.events).toHaveLength(new Set(events.map((e) => e.id)).size);
    const inSignals = data.signals.flatMap((s) => s.events);
    expect(new Set(inSignals).size).toBe(inSignals.length);
    expect(inSignals.length + data.otherEventCount).toBe(data.events.length);
    // Unmapped means no specific rule explains it: each such event is inside a generic signal.
    const generic = new Set(data.signals.filter((s) => s.generic).flatMap((s) => s.events));
    const unmapped = data.sessions.flatMap((s) => s.unmapped);
    expect(unmapped.length).toBeGreaterThan(0);
    expect(unmapped.filter((i) => !generic.has(i))).toEqual([]);
    expect(data.raw).toHaveLength(data.events.length);
    data.events.forEach(([, , id], i) => expect(data.raw![i]!.eventID).toBe(id));
    // Times are ascending, detections point at their events, sessions carry their highest risk.
    expect([...data.events].map((e) => e[0])).toEqual(data.events.map((e) => e[0]).sort());
    for (const d of data.detections)
      expect(d.events.map((i) => data.events[i][2])).toEqual(hits.find((h) => h.id === d.id)!.eventIds);
    const bob = data.sessions.find((s) => s.principal?.includes('bob@example.com'))!;
    expect(bob.risk).toBe('critical');
    expect(data.signals.some((s) => s.breadcrumb)).toBe(true);
  });

  it('from a dataset: the same sessions and signals; filters drop sessions left without events', async () => {
    const { events, enrichment, hits } = await example();
    const rows = datasetRows(enrichment.sessions, enrichment.events);
    const sessionOf = new Map(enrichment.events.map((e) => [e.eventId, e.sessionId]));
    const tables = {
      sessions: rows.sessions,
      signals: rows.signals,
      event_signals: rows.event_signals,
      detections: hits.map((h) => detectionRow(h, sessionOf.get(h.eventIds[0]) ?? null)),
    } as Parameters<typeof reportFromDataset>[0]['tables'];
    const attack = new Map(detections.map((d) => [d.spec.id, d.spec.attack]));
    const all = reportFromDataset({ tables, breadcrumbs, attack, inputs: ['d'], filters: [] });
    const direct = reportFromEnrichment({
      events,
      enrichment,
      detections: hits,
      breadcrumbs,
      inputs: ['x'],
      filters: [],
    });
    expect(all.sessions.map((s) => [s.id, s.risk, s.signalCount])).toEqual(
      direct.sessions.map((s) => [s.id, s.risk, s.signalCount]),
    );
    expect(all.signals.map((s) => s.id).sort()).toEqual(direct.signals.map((s) => s.id).sort());
    expect(all.detections.map((d) => d.id).sort()).toEqual(direct.detections.map((d) => d.id).sort());
    expect(all.raw).toBeNull();
    const signinOnly = reportFromDataset({
      tables,
      breadcrumbs,
      attack,
      inputs: ['d'],
      filters: [],
      keep: ([, ref]) => ref.startsWith('signin:'),
    });
    expect(signinOnly.events.every(([, ref]) => ref.startsWith('signin:'))).toBe(true);
    expect(signinOnly.sessions.length).toBeGreaterThan(0);
    expect(signinOnly.signals.every((s) => s.events.length > 0)).toBe(true);
  });
});

describe('report HTML', () => {
  it('embeds JSON that cannot close its script element', () => {
    const text = scriptSafeJson({ a: '</script><script>alert(1)</script>', b: '<!-- x', c: '\u2028' });
    expect(text).not.toMatch(/[<\u2028]/);
    expect(JSON.parse(text)).toEqual({ a: '</script><script>alert(1)</script>', b: '<!-- x', c: '\u2028' });
  });

  it('allows exactly its own inline script and style by hash, and nothing from the network', async () => {
    const { events, enrichment, hits } = await example();
    const html = renderReport(
      reportFromEnrichment({ events, enrichment, detections: hits, breadcrumbs, inputs: ['x'], filters: [] }),
    );
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1];
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1];
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    const hash = (text: string) => createHash('sha256').update(text).digest('base64');
    expect(csp).toContain(`script-src 'sha256-${hash(script)}'`);
    expect(csp).toContain(`style-src 'sha256-${hash(style)}'`);
    expect(csp).toContain("default-src 'none'");
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    const raw = /<script type="application\/json" id="report-raw">([^<]*)<\/script>/.exec(html)![1];
    const { block, blocks } = JSON.parse(raw) as { block: number; blocks: string[] };
    const records = blocks.flatMap((b) => JSON.parse(gunzipSync(Buffer.from(b, 'base64')).toString('utf8')));
    expect(block).toBe(RAW_BLOCK);
    expect(blocks).toHaveLength(Math.ceil(records.length / RAW_BLOCK));
    expect(records).toHaveLength(new Set(events.map((e) => e.id)).size);
  });
});

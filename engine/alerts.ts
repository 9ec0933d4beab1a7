/** What a SOC acts on: detection hits, and console signals of risk medium or above. */
import type { DetectionHit } from './detect.ts';
import type { Enrichment } from './enrich.ts';
import { riskAtLeast } from './session-summary.ts';
import { printable } from './timeline.ts';
import type { Risk, Signal } from './types.ts';
import { RISK_LEVELS } from './types.ts';

export interface Alerts {
  detections: DetectionHit[];
  riskySignals: Signal[];
}

export function riskySignalsOf(enrichment: Enrichment, floor: Risk = 'medium'): Signal[] {
  return enrichment.sessions
    .flatMap((s) => s.signals)
    .filter((s) => s.kind !== 'background' && riskAtLeast(s.risk, floor));
}

/** Readable alert list, most severe first, then in time order. */
export function renderAlerts(alerts: Alerts): string {
  const rank = (risk: Risk) => RISK_LEVELS.indexOf(risk);
  const lines = [
    ...alerts.detections.map((d) => ({
      risk: d.risk,
      time: d.eventTime,
      text: `${d.title} [${d.attack.join(', ')}] ${d.summary} (${d.eventIds.length} event${d.eventIds.length === 1 ? '' : 's'}, rule ${d.ruleId})`,
    })),
    ...alerts.riskySignals.map((s) => ({
      risk: s.risk,
      time: s.firstEventTime,
      text: `Console action: ${s.summary} (signal ${s.label})`,
    })),
  ].sort((a, b) => rank(b.risk) - rank(a.risk) || a.time.localeCompare(b.time));
  if (lines.length === 0) return 'No detections and no risky console actions.\n';
  return `${lines.map((l) => `${l.time}  ${l.risk.toUpperCase().padEnd(8)}  ${printable(l.text)}`).join('\n')}\n`;
}

/** The terminal timeline: per session, what was done when, then the summary and what stayed unmapped. */
import { createColors } from 'picocolors';
import type { EnrichedSession } from './enrich.ts';
import { plural } from './session-summary.ts';
import type { Risk, TrailEvent } from './types.ts';

export interface TimelineOptions {
  color: boolean;
  showSuppressed: boolean;
}

const MAX_UNMAPPED_KINDS = 8;

function clock(iso: string): string {
  return iso.slice(11, 19);
}

function unmappedDigest(events: TrailEvent[]): string {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.ref, (counts.get(event.ref) ?? 0) + 1);
  const kinds = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = kinds.slice(0, MAX_UNMAPPED_KINDS).map(([ref, n]) => (n > 1 ? `${ref} ×${n}` : ref));
  if (kinds.length > MAX_UNMAPPED_KINDS) shown.push(`${kinds.length - MAX_UNMAPPED_KINDS} more kinds`);
  return shown.join(', ');
}

/**
 * Strips control characters (escape sequences, clear-screen, hyperlinks) and bidirectional
 * overrides (which make text read other than it is) so hostile event values cannot drive the
 * terminal or disguise themselves.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ');
}

export function renderTimeline(sessions: EnrichedSession[], options: TimelineOptions): string {
  const c = createColors(options.color);
  const riskColor: Record<Risk, (s: string) => string> = {
    info: c.dim,
    low: c.cyan,
    medium: c.yellow,
    high: c.red,
    critical: (s) => c.bold(c.red(s)),
  };
  const lines: string[] = [];
  for (const { summary, signals, unmapped } of sessions) {
    lines.push(c.bold(`━━ Session ${summary.id}  ${printable(summary.summary)}`));
    const mfa = summary.mfaUsed === null ? 'MFA unknown' : summary.mfaUsed ? 'MFA' : c.yellow('no MFA');
    lines.push(
      c.dim(
        `   ${summary.startTime.replace('T', ' ').replace('Z', '')} → ${clock(summary.endTime)} UTC · ` +
          `${printable(summary.regions.join(', ')) || 'no region'} · `,
      ) + mfa,
    );
    let hidden = 0;
    for (const signal of signals) {
      const suppressed = signal.kind === 'background';
      if (suppressed && !options.showSuppressed) {
        hidden += signal.eventCount;
        continue;
      }
      // Generic signals (no rule recognises the call) are marked, so nobody mistakes them for a recognised action.
      const crumb = `${signal.kind === 'generic' ? '~ ' : ''}${printable(signal.name)}`
        .padEnd(44)
        .slice(0, 44);
      const risk = signal.risk === 'info' ? '' : `  ${riskColor[signal.risk](`[${signal.risk}]`)}`;
      const text = suppressed ? c.dim(printable(signal.summary)) : printable(signal.summary);
      lines.push(
        `   ${c.dim(clock(signal.firstEventTime))}  ${c.cyan(crumb)}  ${text}${c.dim(` (${plural(signal.eventCount, 'event')})`)}${risk}`,
      );
    }
    if (hidden > 0) lines.push(c.dim(`   ${hidden} background events hidden (--show-suppressed shows them)`));
    if (summary.riskySignals.length > 0) {
      lines.push(
        `   ${c.red('Risky:')} ${printable(summary.riskySignals.map((r) => `${r.label} [${r.risk}]`).join(', '))}`,
      );
    }
    if (unmapped.length > 0) {
      lines.push(
        `   ${c.yellow(`No specific rule (${unmapped.length} events, shown above as ~ generic signals):`)} ${printable(unmappedDigest(unmapped))}`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

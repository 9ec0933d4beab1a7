/**
 * Renders report data as one self-contained HTML file: the stylesheet and page script are inlined,
 * the data travels as JSON in a non-executable script element (every `<` escaped, so no log value
 * can close it), raw records as blocks of gzip + base64. A Content-Security-Policy allows only these inline
 * blocks (by hash) and no network access at all.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { ReportData } from '../engine/report-data.ts';

/** Raw records per compressed block. */
export const RAW_BLOCK = 1000;

const asset = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');
const cspHash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** JSON that is safe inside a <script> element: no `<` (so no `</script>` or `<!--`), no line separators. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function renderReport(data: ReportData): string {
  const { raw, ...rest } = data;
  const style = asset('style.css');
  const script = asset('app.js');
  const csp = [
    "default-src 'none'",
    `style-src ${cspHash(style)}`,
    `script-src ${cspHash(script)}`,
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  // Raw records in gzip blocks, so opening one event unpacks its block, not all 100,000.
  const blocks: string[] = [];
  for (let i = 0; raw && i < raw.length; i += RAW_BLOCK) {
    blocks.push(gzipSync(JSON.stringify(raw.slice(i, i + RAW_BLOCK))).toString('base64'));
  }
  const rawBlock = raw ? scriptSafeJson({ block: RAW_BLOCK, blocks }) : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Trailmap report</title>
<style>${style}</style>
</head>
<body>
<header>
  <h1 id="title">Trailmap report</h1>
  <div class="meta" id="meta"></div>
  <div class="counts" id="counts"></div>
  <div class="controls">
    <input type="search" id="filter-search" placeholder="Search actions, sessions, detections" aria-label="Search">
    <label>Risk <select id="filter-risk">
      <option value="info">any</option><option value="low">low+</option><option value="medium">medium+</option>
      <option value="high">high+</option><option value="critical">critical</option>
    </select></label>
    <label>Service <select id="filter-service"><option value="">all</option></select></label>
    <label>Principal <select id="filter-principal"><option value="">all</option></select></label>
    <label><input type="checkbox" id="filter-background"> background calls</label>
  </div>
</header>
<main>
  <section class="wide"><h2>Activity over time</h2><div id="chart"></div></section>
  <section><h2>Sessions <span class="meta" id="sessions-count"></span></h2>
    <table><thead><tr><th>Principal</th><th>Source</th><th>MFA</th><th>Time span</th><th>Counts</th><th>Risk</th></tr></thead>
    <tbody id="sessions-body"></tbody></table>
  </section>
  <section id="timeline"></section>
  <section class="wide"><h2>Detections <span class="meta" id="detections-count"></span></h2><div id="detections-list"></div></section>
</main>
<noscript><p>This report needs JavaScript to show its data.</p></noscript>
<script type="application/json" id="report-data">${scriptSafeJson(rest)}</script>
<script type="application/json" id="report-raw">${rawBlock}</script>
<script>${script}</script>
</body>
</html>
`;
}

/**
 * The HTML report at scale: a synthetic trail of N events (default 100,000) → `trailmap report` →
 * Debian's Chromium (playwright-core). Prints build time, file size, and how long the page takes to
 * load, open a session, filter, search and show a raw record. `npx tsx bench/report-in-browser.ts [N]`
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { launchChromium } from './chromium.ts';
import { writeSyntheticTrail } from './synthetic-trail.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ReportFigures {
  events: number;
  buildMs: number;
  htmlBytes: number;
  loadMs: number;
  openSessionMs: number;
  riskFilterMs: number;
  searchMs: number;
  firstRawMs: number;
}

export async function measureReport(events: number): Promise<ReportFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'trailmap-report-bench-'));
  try {
    const trail = await writeSyntheticTrail(join(dir, 'trail'), { events, hours: 2, accounts: 6 });
    const html = join(dir, 'report.html');
    const t = performance.now();
    await promisify(execFile)(process.execPath, ['bin/trailmap.js', 'report', trail.dir, '-o', html], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    const buildMs = performance.now() - t;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const time = async (step: () => Promise<unknown>) => {
        const start = performance.now();
        await step();
        return performance.now() - start;
      };
      const loadMs = await time(async () => {
        await page.goto(pathToFileURL(html).href);
        await page.waitForSelector('body[data-ready="true"]');
      });
      const openSessionMs = await time(async () => {
        await page.locator('tr.session').nth(1).click();
        await page.waitForSelector('#timeline li.signal');
      });
      const riskFilterMs = await time(() => page.selectOption('#filter-risk', 'medium'));
      await page.selectOption('#filter-risk', 'info');
      const searchMs = await time(() => page.fill('#filter-search', 'bucket'));
      await page.fill('#filter-search', '');
      await page.locator('#timeline button.events').first().click();
      const firstRawMs = await time(async () => {
        await page.locator('#timeline button.raw').first().click();
        await page.waitForSelector('#timeline pre.raw');
      });
      return {
        events: trail.events,
        buildMs,
        htmlBytes: (await stat(html)).size,
        loadMs,
        openSessionMs,
        riskFilterMs,
        searchMs,
        firstRawMs,
      };
    } finally {
      await browser.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const figures = await measureReport(Number(process.argv[2] ?? 100_000));
  for (const [name, value] of Object.entries(figures)) {
    process.stdout.write(`${name.padEnd(14)} ${Math.round(value).toLocaleString('en-US')}\n`);
  }
}

/**
 * `npm run bench`: Trailmap measured the way a buyer would, on this machine, in one run.
 *
 * 1. A synthetic organization trail (default 1,000,000 events, ~20% console sessions, the rest
 *    programmatic noise, one object per account × region × 5 minutes).
 * 2. On those same files: `trailmap enrich` vs the bare floor (gunzip + JSON.parse in this runtime)
 *    vs `jq -c '.Records[]'` (when jq is installed): events per second and peak RSS of each, the
 *    median of --rounds runs taken in turn.
 * 3. The ingest handler alone on one 50 MB-compressed object: wall time and peak RSS.
 * 4. `trailmap simulate` (the real handlers on local S3/DynamoDB) on a smaller trail: DynamoDB
 *    writes and bytes per 1,000 console events, S3 PUTs per 1,000 events, and an AWS cost estimate.
 * 5. The HTML report of 100,000 events in Chromium (when /usr/bin/chromium exists).
 *
 * Options: --events N (default 1000000), --rounds N (3), --simulate-events N (100000),
 * --object-mb N (50), --skip-report. Prints a table; nothing here is a test.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { simulate } from '../bin/simulate.ts';
import { loadRules } from '../engine/rules/load.ts';
import { measureReport } from './report-in-browser.ts';
import { writeSyntheticTrail } from './synthetic-trail.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    'simulate-events': { type: 'string', default: '100000' },
    'object-mb': { type: 'string', default: '50' },
    'skip-report': { type: 'boolean', default: false },
  },
});

/** Published on-demand prices, us-east-1, as of 2025 (USD). */
const PRICES = {
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequestPerMillion: 0.2,
  dynamoWriteUnitPerMillion: 0.625,
  dynamoReadUnitPerMillion: 0.125,
  s3PutPerThousand: 0.005,
  s3GetPerThousand: 0.0004,
};
const INGEST_MEMORY_GB = 3008 / 1024;
const FLUSH_MEMORY_GB = 2048 / 1024;

interface Run {
  seconds: number;
  peakRssBytes: number | null;
  stdout: string;
}

/** Runs a command, timing it; node children report their peak RSS through bench/peak-rss.mjs. */
async function run(
  command: string,
  argv: string[],
  options: { node?: boolean; shell?: boolean } = {},
): Promise<Run> {
  const rssFile = join(tmpdir(), `trailmap-rss-${process.pid}-${Date.now()}`);
  const useTime = !options.node && existsSync('/usr/bin/time');
  const [file, list] = options.node
    ? [process.execPath, ['--import', join(ROOT, 'bench/peak-rss.mjs'), ...argv]]
    : useTime
      ? ['/usr/bin/time', ['-f', 'PEAK_RSS_KB=%M', command, ...argv]]
      : [command, argv];
  const started = performance.now();
  const child = spawn(file, list, {
    cwd: ROOT,
    env: { ...process.env, TRAILMAP_PEAK_RSS_FILE: rssFile, NODE_OPTIONS: '--max-old-space-size=16384' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d.length < 1e6 && stdout.length < 1e6 ? d : ''));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${command} ${argv.join(' ')} exited ${code}: ${stderr.slice(-2000)}`);
  let peakRssBytes: number | null = null;
  if (options.node) peakRssBytes = Number(await readFile(rssFile, 'utf8').catch(() => 'NaN')) || null;
  const kb = /PEAK_RSS_KB=(\d+)/.exec(stderr);
  if (kb) peakRssBytes = Number(kb[1]) * 1024;
  await rm(rssFile, { force: true });
  return { seconds, peakRssBytes, stdout };
}

/** The run with the median time (the upper one of an even count). */
const median = (runs: Run[]): Run =>
  [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)];
const mb = (bytes: number | null) => (bytes === null ? 'n/a' : `${(bytes / 2 ** 20).toFixed(0)} MB`);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const row = (cells: string[], widths: number[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
const say = (line = '') => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

async function listObjects(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.json.gz')) out.push(join(entry.parentPath, entry.name));
  }
  return out.sort();
}

const work = await mkdtemp(join(tmpdir(), 'trailmap-bench-'));
try {
  const events = Number(args.events);
  say(
    `Trailmap benchmark — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${mb(totalmem())} RAM`,
  );

  // 1. The trail.
  progress(`generating a ${int(events)}-event organization trail…`);
  const trail = await writeSyntheticTrail(join(work, 'trail'), { events, hours: 6, accounts: 12 });
  say(
    `Trail: ${int(trail.events)} events (${int(trail.consoleEvents)} in ${int(trail.consoleSessions)} console sessions, ` +
      `${((100 * trail.consoleEvents) / trail.events).toFixed(0)}%), ${int(trail.objects)} objects, ${mb(trail.compressedBytes)} gzip`,
  );

  // 2. enrich vs the floor vs jq, on the same files: rounds of all three in turn (this machine is
  // shared; a neighbour's burst should not land on one contender only), the median of each.
  const rounds = Number(args.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer`);
  const jqInstalled = await promisify(execFile)('jq', ['--version']).then(
    () => true,
    () => false,
  );
  const list = join(work, 'objects.txt');
  await writeFile(list, (await listObjects(trail.dir)).join('\n'));
  const samples: { enrich: Run[]; floor: Run[]; jq: Run[] } = { enrich: [], floor: [], jq: [] };
  for (let round = 1; round <= rounds; round++) {
    progress(`round ${round}/${rounds}: trailmap enrich…`);
    samples.enrich.push(
      await run('node', ['bin/trailmap.js', 'enrich', trail.dir, '--format', 'signals-json'], { node: true }),
    );
    progress(`round ${round}/${rounds}: bare floor (gunzip + JSON.parse)…`);
    samples.floor.push(
      await run('node', ['--import', 'tsx', 'bench/parse-floor.ts', trail.dir], { node: true }),
    );
    if (jqInstalled) {
      progress(`round ${round}/${rounds}: jq -c '.Records[]'…`);
      samples.jq.push(await run('sh', ['-c', `xargs zcat < '${list}' | jq -c '.Records[]' > /dev/null`]));
    }
  }
  const enrich = median(samples.enrich);
  const floor = median(samples.floor);
  const jq = jqInstalled ? median(samples.jq) : null;
  const rate = (r: Run) => trail.events / r.seconds;
  say();
  const widths = [34, 10, 14, 10, 16];
  say(
    row(['reading the trail (same files)', 'seconds', 'events/s', 'peak RSS', `${rounds} runs (s)`], widths),
  );
  for (const [name, r, all] of [
    ['trailmap enrich (signals-json)', enrich, samples.enrich],
    ['bare floor: gunzip + JSON.parse', floor, samples.floor],
    ["jq -c '.Records[]' (with zcat)", jq, samples.jq],
  ] as const) {
    say(
      row(
        [
          name,
          r ? r.seconds.toFixed(1) : '—',
          r ? int(rate(r)) : 'not installed',
          r ? mb(r.peakRssBytes) : '—',
          all.map((x) => x.seconds.toFixed(1)).join(' '),
        ],
        widths,
      ),
    );
  }
  const ofFloor = rate(enrich) / rate(floor);
  say(
    `enrich = ${(100 * ofFloor).toFixed(0)}% of the floor (target ≥ 50%)${jq ? `, ${(rate(enrich) / rate(jq)).toFixed(1)}× jq (target ≥ 3×)` : ''} (medians of ${rounds} runs)`,
  );

  // 3. The ingest handler on one big object.
  const objectMb = Number(args['object-mb']);
  progress(`a ${objectMb} MB-compressed object…`);
  const perEventBytes = trail.compressedBytes / trail.events;
  const big = await writeSyntheticTrail(join(work, 'big'), {
    events: Math.ceil((objectMb * 2 ** 20) / perEventBytes),
    singleObject: true,
    accounts: 1,
    regions: ['us-east-1'],
    hours: 1,
    seed: 2,
  });
  const [bigFile] = await listObjects(big.dir);
  progress('ingest handler on it…');
  const ingestRun = await run('node', ['--import', 'tsx', 'bench/ingest-one-object.ts', bigFile], {
    node: true,
  });
  const ingest = JSON.parse(ingestRun.stdout.trim().split('\n').pop()!) as {
    wallMs: number;
    peakRssBytes: number;
    compressedBytes: number;
  };
  say();
  say(
    `ingest, one object of ${mb(ingest.compressedBytes)} gzip (${int(big.events)} events): ${(ingest.wallMs / 1000).toFixed(1)} s, ` +
      `${int(big.events / (ingest.wallMs / 1000))} events/s, peak RSS ${mb(ingestRun.peakRssBytes)} (target ≤ 1024 MB)`,
  );

  // 4. The pipeline through simulate, and what it costs.
  const simulateEvents = Number(args['simulate-events']);
  progress(`trailmap simulate on ${int(simulateEvents)} events…`);
  const small = await writeSyntheticTrail(join(work, 'small'), {
    events: simulateEvents,
    hours: 2,
    accounts: 12,
    seed: 3,
  });
  const report = await simulate(small.dir, { rules: loadRules(), duplicateRate: 0.05, seed: 1 });
  const u = report.usage;
  const perConsole = (n: number) => (1000 * n) / report.bufferedEvents;
  const perEvent = (n: number) => (1000 * n) / small.events;
  say();
  say(
    `simulate: ${int(small.events)} events, ${int(report.bufferedEvents)} console events, ${int(small.objects)} objects, signals equal to enrich: ${report.matchesEnrich ? 'yes' : 'NO'}`,
  );
  say(
    `  DynamoDB writes per 100 console events: ${((100 * report.ingestWriteRequests) / report.bufferedEvents).toFixed(2)} by ingest (target ≤ 2), ` +
      `${((100 * u.dynamoWriteRequests) / report.bufferedEvents).toFixed(2)} with flush`,
  );
  say(
    `  per 1,000 console events: ${perConsole(u.dynamoWriteRequests).toFixed(1)} write requests, ${int(perConsole(u.dynamoWriteUnits))} write units, ` +
      `${int(perConsole(u.dynamoWriteBytes) / 1024)} KiB written, ${int(perConsole(u.dynamoReadUnits))} read units`,
  );
  say(`  S3 per 1,000 events: ${perEvent(u.s3Puts).toFixed(2)} PUTs, ${perEvent(u.s3Gets).toFixed(2)} GETs`);

  // Cost per million trail events, with this trail's console share.
  const million = 1_000_000 / small.events;
  const ingestGbS = (ingest.wallMs / 1000 / big.events) * 1_000_000 * INGEST_MEMORY_GB;
  const flushGbS = (report.flushMs / 1000) * million * FLUSH_MEMORY_GB;
  const lambdaRequests = (small.objects / 100 + report.flushRuns) * million;
  const costs = {
    'Lambda ingest (GB-s, measured on the big object)': ingestGbS * PRICES.lambdaArmGbSecond,
    'Lambda flush (GB-s, simulate, emulator time included)': flushGbS * PRICES.lambdaArmGbSecond,
    'Lambda requests': (lambdaRequests / 1e6) * PRICES.lambdaRequestPerMillion,
    'DynamoDB writes (on-demand WRU)':
      ((u.dynamoWriteUnits * million) / 1e6) * PRICES.dynamoWriteUnitPerMillion,
    'DynamoDB reads (on-demand RRU, upper bound)':
      ((u.dynamoReadUnits * million) / 1e6) * PRICES.dynamoReadUnitPerMillion,
    'S3 PUTs and GETs':
      ((u.s3Puts * million) / 1000) * PRICES.s3PutPerThousand +
      ((u.s3Gets * million) / 1000) * PRICES.s3GetPerThousand,
  };
  say();
  say(
    'Estimated AWS cost per 1,000,000 trail events (us-east-1 on-demand prices: Lambda arm64 $0.0000133334/GB-s and $0.20/M requests,',
  );
  say(
    'DynamoDB $0.625/M write units and $0.125/M read units, S3 $0.005/1,000 PUTs and $0.0004/1,000 GETs; SQS, CloudWatch and storage not included):',
  );
  for (const [name, dollars] of Object.entries(costs)) say(`  ${name.padEnd(56)} $${dollars.toFixed(4)}`);
  say(
    `  ${'total'.padEnd(56)} $${Object.values(costs)
      .reduce((a, b) => a + b, 0)
      .toFixed(4)}`,
  );

  // 5. The report in a browser.
  if (!args['skip-report'] && existsSync('/usr/bin/chromium')) {
    progress('report of 100,000 events in Chromium…');
    const r = await measureReport(100_000);
    say();
    say(
      `report, ${int(r.events)} events: built in ${(r.buildMs / 1000).toFixed(1)} s, ${mb(r.htmlBytes)} HTML; in Chromium: ` +
        `load ${int(r.loadMs)} ms, open a session ${int(r.openSessionMs)} ms, filter ${int(r.riskFilterMs)} ms, ` +
        `search ${int(r.searchMs)} ms, first raw record ${int(r.firstRawMs)} ms`,
    );
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

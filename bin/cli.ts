/** The `trailmap` command line: wires options to the engine and prints results. */
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { renderAlerts, riskySignalsOf } from '../engine/alerts.ts';
import { writeDataset } from '../engine/dataset.ts';
import { DEFAULT_DETECTIONS_DIR, detect, loadDetections } from '../engine/detect.ts';
import { dedupe, enrich, type EnrichmentSummary } from '../engine/enrich.ts';
import { DEFAULT_MAX_INPUT_BYTES, inputsWithoutEvents, listInputFiles, readInputs } from '../engine/read.ts';
import {
  DEFAULT_RULES_DIR,
  formatRuleProblem,
  genericPolicyProblems,
  loadRules,
  RuleLoadError,
} from '../engine/rules/load.ts';
import { datasetRows, detectionRow } from '../engine/tables.ts';
import { printable, renderTimeline } from '../engine/timeline.ts';
import type { InputProblem, TrailEvent } from '../engine/types.ts';
import { ruleStats } from './rule-stats.ts';
import { append } from '../engine/arrays.ts';

const FORMATS = ['timeline', 'signals-json', 'sessions-json', 'events-json'] as const;
type Format = (typeof FORMATS)[number];

/** Exit code when some inputs could not be read but the others were processed. */
const EXIT_PARTIAL = 2;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function reportProblem(problem: InputProblem, kind = ''): void {
  const where = problem.index === undefined ? problem.source : `${problem.source} (record ${problem.index})`;
  process.stderr.write(`trailmap: ${kind}${printable(where)}: ${printable(problem.reason)}\n`);
}

/** What reading the inputs found beside the events: problems, conflicting copies, Insights records. */
interface InputReport {
  /** Inputs, files and records that could not be read, and inputs that yielded no event. */
  problems: InputProblem[];
  /** Records with one eventID and different content, both kept (engine/enrich.ts `dedupe`). */
  conflicts: InputProblem[];
  insightsSkipped: number;
  /** Events read, before filters and de-duplication. */
  readCount: number;
}

/** Says on stderr what reading found; true when nothing was read at all (exit 2, no output). */
function reportInputs(read: InputReport): boolean {
  for (const problem of read.problems) reportProblem(problem);
  for (const conflict of read.conflicts) reportProblem(conflict, 'warning: ');
  if (read.insightsSkipped > 0)
    process.stderr.write(`trailmap: ${read.insightsSkipped} Insights records skipped (not API events)\n`);
  if (read.problems.length > 0) process.exitCode = EXIT_PARTIAL;
  return read.readCount === 0 && read.problems.length > 0;
}

/** Loads rules, or prints every problem (file, rule, field) and exits 1. */
function orExit<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof RuleLoadError) {
      for (const problem of error.problems) process.stderr.write(`${formatRuleProblem(problem)}\n`);
      process.exit(1);
    }
    throw error;
  }
}

const loadRulesOrExit = (dir: string) => orExit(() => loadRules(dir));
const loadDetectionsOrExit = (dir: string) => orExit(() => loadDetections(dir));

function progress(enabled: boolean): ((done: number, total: number) => void) | undefined {
  if (!enabled) return undefined;
  return (done, total) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} inputs`);
    if (done === total) process.stderr.write('\r\x1b[K');
  };
}

/** The offline GeoIP lookup (about 2 s to load), unless --no-geoip. */
async function addressLookup(enabled: boolean) {
  if (!enabled) return undefined;
  const { geoIpDatabase } = await import('../engine/geoip.ts');
  const db = await geoIpDatabase();
  return (address: string | undefined) => db.lookup(address ?? '');
}

/** Places just these addresses (a pass over the GeoIP files, no tables: for a trail's session addresses). */
async function locateOnly(addresses: string[]) {
  const { lookupFor } = await import('../engine/geoip.ts');
  return lookupFor(addresses);
}

/** The input options, filters and live source that `enrich`, `detect` and `report` share. */
function withSelection(command: Command): Command {
  return command
    .option(
      '--action <glob...>',
      "keep events whose service:EventName matches (IAM-style globs, e.g. 's3:Get*' 'iam:*')",
    )
    .option(
      '--match <expression...>',
      'keep events matching a JSONPath test, e.g. \'$.userIdentity.userName == "alice"\' (ANDed)',
    )
    .option('--from <time>', 'keep events at or after this ISO-8601 time')
    .option('--to <time>', 'keep events before this ISO-8601 time')
    .option('--last <duration>', 'keep events of the last 3h / 45m / 2d')
    .option(
      '--lookup-events <KEY=VALUE>',
      'also read from the CloudTrail LookupEvents API (e.g. AccessKeyId=ASIA…)',
    )
    .option('--region <region>', 'AWS region for --lookup-events (default from the environment)')
    .option('--no-geoip', 'do not locate source addresses (country, network) with the offline GeoIP data')
    .option(
      '--max-input-bytes <n>',
      'largest decompressed input accepted',
      positiveInt,
      DEFAULT_MAX_INPUT_BYTES,
    );
}

interface SelectionOptions {
  /** Bodies of records outside console sessions are not needed (plain `enrich`). */
  consoleOnly?: boolean;
  action?: string[];
  match?: string[];
  from?: string;
  to?: string;
  last?: string;
  lookupEvents?: string;
  region?: string;
  maxInputBytes: number;
}

/** The filters the options ask for (`--last` counted from now), checked; a bad one exits 1 with why. */
async function selectionFilter(options: SelectionOptions) {
  const { buildEventFilter, FilterError } = await import('../engine/filter.ts');
  // Everything but --match: what threads that never see whole records can apply.
  const filterOptions = {
    actions: options.action,
    from: options.from,
    to: options.to,
    last: options.last,
    now: Date.now(),
  };
  try {
    return { filter: buildEventFilter({ ...filterOptions, match: options.match }), filterOptions };
  } catch (error) {
    if (error instanceof FilterError) {
      process.stderr.write(`trailmap: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/** Reads the inputs (and LookupEvents), then keeps the events the filters select. */
async function readSelected(inputs: string[], options: SelectionOptions) {
  const { timeBounds } = await import('../engine/filter.ts');
  const { filter, filterOptions } = await selectionFilter(options);
  if (inputs.length === 0 && !options.lookupEvents) {
    throw new InvalidArgumentError('give inputs, or --lookup-events KEY=VALUE');
  }
  const read = await readInputs(inputs, {
    now: Date.now(),
    maxInputBytes: options.maxInputBytes,
    onProgress: progress(process.stderr.isTTY === true && inputs.length > 0),
    // --match reads any field of any record, so every body is kept then.
    bodies: options.consoleOnly && !options.match?.length ? 'console' : 'all',
    workers: Math.min(4, availableParallelism()),
  });
  if (options.lookupEvents) {
    const { CloudTrailClient } = await import('@aws-sdk/client-cloudtrail');
    const { parseLookupAttribute, readLookupEvents } = await import('./lookup-events.ts');
    const bounds = timeBounds(filterOptions);
    const live = await readLookupEvents(
      new CloudTrailClient({ maxAttempts: 1, ...(options.region ? { region: options.region } : {}) }),
      {
        attributes: [parseLookupAttribute(options.lookupEvents)],
        startTime: bounds.from !== undefined ? new Date(bounds.from) : undefined,
        endTime: bounds.to !== undefined ? new Date(bounds.to) : undefined,
      },
    );
    append(read.events, live.events);
    append(read.problems, live.problems);
    read.sources.push('lookup-events');
  }
  const selected = read.events.filter(filter);
  // De-duplicated here, so records kept under new ids are reported (and every command agrees on ids).
  const { unique, conflicts } = dedupe(selected);
  return {
    ...read,
    problems: [...read.problems, ...read.empty],
    events: unique,
    conflicts,
    readCount: read.events.length,
    selectedCount: selected.length,
  };
}

/** What `enrich` found, wherever it ran. */
interface EnrichRun extends InputReport {
  enrichment: EnrichmentSummary;
  sources: string[];
  skipped: InputProblem[];
  /** Events read and selected (duplicates included). */
  eventCount: number;
  /** The records, when they were read in this thread. */
  events?: TrailEvent[];
  lookup?: Awaited<ReturnType<typeof addressLookup>>;
}

/** Below this many files, starting threads costs more than it saves. */
const MIN_FILES_FOR_THREADS = 8;

/**
 * Enriches on every core when that gives the same answer for less time: files only (not stdin or
 * LookupEvents), no --match and no --out (both need every record body in one place).
 */
async function enrichInThreads(
  inputs: string[],
  options: SelectionOptions & { out?: string; rules: string; geoip?: boolean },
  eventList: boolean,
): Promise<EnrichRun | undefined> {
  const threads = Math.min(4, availableParallelism());
  if (options.out || options.match?.length || options.lookupEvents || inputs.includes('-') || threads < 2)
    return undefined;
  const { filterOptions } = await selectionFilter(options);
  const listed = await listInputFiles(inputs);
  if (listed.files.length < MIN_FILES_FOR_THREADS) return undefined;
  const { enrichFilesInThreads } = await import('../engine/enrich-parallel.ts');
  const done = await enrichFilesInThreads(listed.files, {
    threads,
    byContent: listed.byContent,
    now: Date.now(),
    maxBytes: options.maxInputBytes,
    rules: () => loadRulesOrExit(options.rules),
    filter: filterOptions,
    locate: options.geoip === false ? undefined : locateOnly,
    eventList,
    onProgress: progress(process.stderr.isTTY === true),
  });
  return {
    ...done,
    problems: [...listed.problems, ...done.problems, ...inputsWithoutEvents(inputs, listed, done.outcomes)],
    skipped: [...listed.skipped, ...done.skipped],
    readCount: done.outcomes.reduce((n, outcome) => n + outcome.events, 0),
  };
}

/** Enriches in this thread: any input, any option. */
async function enrichHere(
  inputs: string[],
  options: SelectionOptions & { out?: string; rules: string; geoip?: boolean },
): Promise<EnrichRun> {
  const rules = loadRulesOrExit(options.rules);
  // Detections (--out) read every record; sessions and signals only console ones.
  const read = await readSelected(inputs, { ...options, consoleOnly: !options.out });
  const lookup = await addressLookup(options.geoip !== false);
  return {
    enrichment: enrich(read.events, rules, { lookup }),
    problems: read.problems,
    conflicts: read.conflicts,
    insightsSkipped: read.insightsSkipped,
    readCount: read.readCount,
    sources: read.sources,
    skipped: read.skipped,
    eventCount: read.selectedCount,
    events: read.events,
    lookup,
  };
}

const program = new Command()
  .name('trailmap')
  .description('Maps AWS CloudTrail console noise to the actions people took.')
  .showHelpAfterError();

withSelection(
  program
    .command('enrich')
    .description(
      'Map CloudTrail events (files, folders, .gz, NDJSON, lookup-events output, - for stdin) to console actions',
    )
    .argument('[inputs...]', 'files or folders to read; - reads stdin'),
)
  .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('timeline'))
  .option(
    '-o, --out <dir>',
    'also write the enriched dataset (signals, sessions, event_signals) to this folder',
  )
  .option('--rules <dir>', 'signal rules folder', DEFAULT_RULES_DIR)
  .option(
    '--detections <dir>',
    'detection rules folder (for the `detections` table of --out)',
    DEFAULT_DETECTIONS_DIR,
  )
  .option('--show-suppressed', 'show background (Suppress*) signals in the timeline', false)
  .option('--no-color', 'never colour the timeline')
  .action(async (inputs: string[], options) => {
    const format = options.format as Format;
    const run =
      (await enrichInThreads(inputs, options, format === 'events-json')) ??
      (await enrichHere(inputs, options));
    if (reportInputs(run)) return;
    const result = run.enrichment;
    if (format === 'timeline') {
      const color = options.color !== false && process.stdout.isTTY === true && !process.env.NO_COLOR;
      process.stdout.write(
        renderTimeline(result.sessions, { color, showSuppressed: options.showSuppressed }),
      );
      process.stdout.write(
        `${result.sessions.length} console sessions, ${result.sessions.reduce((n, s) => n + s.summary.signalCount, 0)} actions, ` +
          `${result.otherCount} programmatic events outside console sessions, ${run.eventCount} events read from ${run.sources.length} inputs` +
          `${run.skipped.length > 0 ? ` (${run.skipped.length} skipped: digests, Insights files, not CloudTrail)` : ''}.\n`,
      );
    } else {
      const payload =
        format === 'signals-json'
          ? result.sessions.flatMap((s) => s.signals)
          : format === 'sessions-json'
            ? result.sessions.map((s) => s.summary)
            : result.events;
      process.stdout.write(`${JSON.stringify(payload, null, 2)}\n`);
    }
    // Threads never take --out (detections read every record body), so the records are here.
    if (options.out && run.events) {
      const hits = detect(run.events, loadDetectionsOrExit(options.detections), { lookup: run.lookup });
      const sessionOf = new Map(result.events.map((e) => [e.eventId, e.sessionId]));
      const rows = {
        ...datasetRows(result.sessions, result.events),
        detections: hits.map((hit) => detectionRow(hit, sessionOf.get(hit.eventIds[0]) ?? null)),
      };
      const written = await writeDataset(options.out, rows);
      process.stderr.write(`trailmap: wrote ${written.length} objects to ${printable(options.out)}\n`);
    }
  });

withSelection(
  program
    .command('detect')
    .description('Detections on every event (console or not), and console actions of risk medium or above')
    .argument('[inputs...]', 'files or folders to read; - reads stdin'),
)
  .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
  .option('--rules <dir>', 'signal rules folder', DEFAULT_RULES_DIR)
  .option('--detections <dir>', 'detection rules folder', DEFAULT_DETECTIONS_DIR)
  .action(async (inputs: string[], options) => {
    const detections = loadDetectionsOrExit(options.detections);
    const rules = loadRulesOrExit(options.rules);
    const read = await readSelected(inputs, options);
    if (reportInputs(read)) return;
    const lookup = await addressLookup(options.geoip !== false);
    const alerts = {
      detections: detect(read.events, detections, { lookup }),
      riskySignals: riskySignalsOf(enrich(read.events, rules, { lookup })),
    };
    process.stdout.write(
      options.format === 'json' ? `${JSON.stringify(alerts, null, 2)}\n` : renderAlerts(alerts),
    );
  });

withSelection(
  program
    .command('report')
    .description('Write one self-contained HTML report: sessions, their actions, raw events, detections')
    .argument('[inputs...]', 'files or folders to read; - reads stdin'),
)
  .requiredOption('-o, --out <file>', 'HTML file to write')
  .option('--data <dir>', 'build the report from an enriched dataset folder (written by --out) instead')
  .option('--title <text>', 'report title', 'Trailmap report')
  .option('--rules <dir>', 'signal rules folder', DEFAULT_RULES_DIR)
  .option('--detections <dir>', 'detection rules folder', DEFAULT_DETECTIONS_DIR)
  .action(async (inputs: string[], options) => {
    const { writeFile } = await import('node:fs/promises');
    const { renderReport } = await import('../report/render.ts');
    const rules = loadRulesOrExit(options.rules);
    const detections = loadDetectionsOrExit(options.detections);
    const breadcrumbs = new Map<string, string | null>();
    for (const rule of rules) if (!breadcrumbs.get(rule.label)) breadcrumbs.set(rule.label, rule.breadcrumb);
    const filters = describeFilters(options);
    let data: import('../engine/report-data.ts').ReportData;
    // A dataset's problems; trail inputs are reported as soon as they are read.
    let problems: InputProblem[] = [];
    if (options.data) {
      if (inputs.length > 0 || options.lookupEvents) {
        throw new InvalidArgumentError('give trail inputs or --data DIR, not both');
      }
      if (options.match?.length) {
        throw new InvalidArgumentError(
          '--match needs raw records, which a dataset does not keep: give trail inputs',
        );
      }
      const { buildEventFilter } = await import('../engine/filter.ts');
      const { readDatasetTables } = await import('./report-dataset.ts');
      const { reportFromDataset } = await import('../engine/report-dataset.ts');
      const keep = buildEventFilter({
        actions: options.action,
        from: options.from,
        to: options.to,
        last: options.last,
      });
      const read = await readDatasetTables(options.data, options.maxInputBytes);
      problems = read.problems;
      data = reportFromDataset({
        tables: read.tables,
        breadcrumbs,
        attack: new Map(detections.map((d) => [d.spec.id, d.spec.attack])),
        inputs: [options.data],
        filters,
        keep: ([time, ref, id]) =>
          keep({ id, ref, time: Date.parse(time), record: {}, origin: { source: options.data, index: 0 } }),
      });
    } else {
      const { reportFromEnrichment } = await import('../engine/report-data.ts');
      const read = await readSelected(inputs, options);
      if (reportInputs(read)) {
        process.stderr.write('trailmap: no events read: no report written\n');
        return;
      }
      const lookup = await addressLookup(options.geoip !== false);
      data = reportFromEnrichment({
        events: read.events,
        enrichment: enrich(read.events, rules, { lookup }),
        detections: detect(read.events, detections, { lookup }),
        breadcrumbs,
        inputs: [...inputs, ...(options.lookupEvents ? ['CloudTrail LookupEvents'] : [])],
        filters,
      });
    }
    data.title = options.title;
    problems.forEach((problem) => reportProblem(problem));
    await writeFile(options.out, renderReport(data));
    process.stderr.write(
      `trailmap: wrote ${printable(options.out)}: ${data.sessions.length} sessions, ${data.signals.length} signals, ` +
        `${data.events.length} events, ${data.detections.length} detections\n`,
    );
    if (problems.length > 0) process.exitCode = EXIT_PARTIAL;
  });

/** The filters as given, for the report's header. */
function describeFilters(options: SelectionOptions): string[] {
  const quote = (value: string) => `'${value.replace(/'/g, "'\\''")}'`;
  return [
    ...(options.action ?? []).map((a) => `--action ${quote(a)}`),
    ...(options.match ?? []).map((m) => `--match ${quote(m)}`),
    ...(options.from ? [`--from ${options.from}`] : []),
    ...(options.to ? [`--to ${options.to}`] : []),
    ...(options.last ? [`--last ${options.last}`] : []),
    ...(options.lookupEvents ? [`--lookup-events ${quote(options.lookupEvents)}`] : []),
  ];
}

program
  .command('simulate')
  .description(
    'Run the cloud pipeline (ingest → DynamoDB buffer → flush) on local S3/DynamoDB emulators over a trail bucket folder',
  )
  .argument('<bucket-folder>', 'folder laid out like the trail bucket (AWSLogs/…)')
  .option('-o, --out <dir>', 'download the enriched prefix to this folder')
  .option('--seed <n>', 'seed of the shuffled, duplicated delivery', positiveInt, 1)
  .option('--settle-delay <seconds>', 'settle delay of the flush', positiveInt, 900)
  .option('--rules <dir>', 'signal rules folder', DEFAULT_RULES_DIR)
  .option('--verbose', 'print every simulated flush run', false)
  .option('--no-geoip', 'do not locate source addresses (country, network) with the offline GeoIP data')
  .action(async (folder: string, options) => {
    const { simulate } = await import('./simulate.ts');
    const report = await simulate(folder, {
      lookup: await addressLookup(options.geoip !== false),
      rules: loadRulesOrExit(options.rules),
      seed: options.seed,
      settleDelaySeconds: options.settleDelay,
      outDir: options.out,
      onStep: options.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
    });
    for (const session of report.sessions) process.stdout.write(`${printable(session.summary)}\n`);
    for (const rejected of report.rejectedObjects) {
      process.stderr.write(`trailmap: rejected ${printable(rejected.key)}: ${printable(rejected.reason)}\n`);
    }
    process.stdout.write(
      [
        `objects ${report.objects}, notifications ${report.notifications} (shuffled, some twice), flush runs ${report.flushRuns}`,
        `console events buffered ${report.bufferedEvents}; DynamoDB write requests: ingest ${report.ingestWriteRequests} ` +
          `(${report.writeRequestsPer100Events.toFixed(2)} per 100 buffered events), flush ${report.flushWriteRequests}`,
        `signals written ${report.signalsWritten}, enriched objects ${report.enrichedObjects.length}; ` +
          `identical to \`trailmap enrich\` on the same folder: ${report.matchesEnrich ? 'yes' : 'NO'}`,
        options.out ? `enriched dataset downloaded to ${printable(options.out)}` : '',
      ]
        .filter(Boolean)
        .join('\n') + '\n',
    );
    if (!report.matchesEnrich) process.exitCode = 1;
  });

program
  .command('query')
  .description(
    'Run SQL on signals, sessions, event_signals, detections (and cloudtrail): DuckDB locally, or Athena',
  )
  .argument('[sql]', 'the SQL to run (or use --saved)')
  .option('--data <dir>', 'enriched dataset folder (written by `enrich --out` or `simulate --out`)')
  .option('--trail <dir>', 'raw trail folder for the `cloudtrail` table (local mode)')
  .option('--saved <name>', 'run a saved investigation (see --list)')
  .option('--param <name=value...>', 'saved investigation parameters', [])
  .option('--list', 'list the saved investigations and their parameters', false)
  .addOption(
    new Option(
      '-f, --format <format>',
      'output format (default: table on a terminal, json otherwise)',
    ).choices(['table', 'json', 'csv']),
  )
  .option('--athena', 'run in Athena instead of DuckDB', false)
  .option('--workgroup <name>', 'Athena workgroup (with --athena)')
  .option('--database <name>', 'Glue database (with --athena)', 'trailmap')
  .option('--region <region>', 'AWS region (with --athena; default from the environment)')
  .action(async (sqlText: string | undefined, options) => {
    const { loadSavedQueries, bindParams } = await import('../engine/saved-queries.ts');
    const { formatResult } = await import('./query/format.ts');
    const saved = loadSavedQueries();
    if (options.list) {
      for (const q of saved) {
        process.stdout.write(`${q.name}\n  ${q.description}\n`);
        for (const p of q.params)
          process.stdout.write(`  --param ${p.name}=… (${p.kind}) ${p.description}\n`);
      }
      return;
    }
    let sql: string;
    let params: (string | number)[] = [];
    if (options.saved) {
      const query = saved.find((q) => q.name === options.saved);
      if (!query) throw new InvalidArgumentError(`no saved investigation ${options.saved} (see --list)`);
      const given = Object.fromEntries(
        (options.param as string[]).map((pair) => {
          const at = pair.indexOf('=');
          if (at <= 0) throw new InvalidArgumentError(`--param ${pair}: expected name=value`);
          return [pair.slice(0, at), pair.slice(at + 1)];
        }),
      );
      sql = query.sql;
      params = bindParams(query, given);
    } else if (sqlText) {
      sql = sqlText;
    } else {
      throw new InvalidArgumentError('give SQL, or --saved NAME (see --list)');
    }
    let engine: import('./query/types.ts').QueryEngine;
    if (options.athena) {
      if (!options.workgroup) throw new InvalidArgumentError('--athena needs --workgroup');
      const { AthenaClient } = await import('@aws-sdk/client-athena');
      const { AthenaQueryEngine } = await import('./query/athena.ts');
      engine = new AthenaQueryEngine({
        client: new AthenaClient(options.region ? { region: options.region } : {}),
        workGroup: options.workgroup,
        database: options.database,
      });
    } else {
      if (!options.data) throw new InvalidArgumentError('give --data DIR (an enriched dataset), or --athena');
      const { DuckDbQueryEngine } = await import('./query/duckdb.ts');
      engine = await DuckDbQueryEngine.open(options.data, options.trail);
    }
    try {
      const result = await engine.run(sql, params);
      const format = options.format ?? (process.stdout.isTTY ? 'table' : 'json');
      process.stdout.write(formatResult(result, format));
    } finally {
      await engine.close();
    }
  });

const rulesCommand = program.command('rules').description('Check and describe the signal rules');

rulesCommand
  .command('lint')
  .description('Validate rule files against the schema and the semantic checks')
  .argument('[dir]', 'rules folder', DEFAULT_RULES_DIR)
  .action((dir: string) => {
    const rules = loadRulesOrExit(dir);
    const generic = genericPolicyProblems();
    if (generic.length > 0) {
      process.stderr.write(`${generic.map(formatRuleProblem).join('\n')}\n`);
      process.exit(1);
    }
    process.stdout.write(`${rules.length} rules OK in ${printable(dir)}; generic-signal policy OK\n`);
  });

rulesCommand
  .command('stats')
  .description('Rules per service and risk level, and how many carry inline tests')
  .argument('[dir]', 'rules folder', DEFAULT_RULES_DIR)
  .action((dir: string) => {
    process.stdout.write(ruleStats(loadRulesOrExit(dir)));
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Usage mistakes found inside a command: one clear line, not a stack trace.
  if (error instanceof InvalidArgumentError) {
    process.stderr.write(`trailmap: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

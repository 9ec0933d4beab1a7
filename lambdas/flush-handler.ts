/** Lambda entry for `flush`: clients, rules and configuration built once per cold start. */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { geoIpDatabase } from '../engine/geoip.ts';
import { RuleIndex } from '../engine/map.ts';
import { DEFAULT_RULES_DIR, loadRules } from '../engine/rules/load.ts';
import { SessionBuffer } from './buffer.ts';
import { loadConfig } from './config.ts';
import { flush, type FlushReport } from './flush.ts';
import { powertoolsLogger } from './log.ts';
import { CloudWatchSessionLog, MemorySessionLog } from './session-log.ts';

const config = loadConfig();
const logger = powertoolsLogger(new Logger({ serviceName: 'trailmap-flush' }));
const metrics = new Metrics({ namespace: 'Trailmap', serviceName: 'trailmap-flush' });
const rules = new RuleIndex(loadRules(process.env.RULES_DIR || DEFAULT_RULES_DIR));
const s3 = new S3Client({});
const buffer = new SessionBuffer(new DynamoDBClient({}), {
  tableName: config.tableName,
  dueShards: config.dueShards,
});
const logs = new CloudWatchLogsClient({});
// The GeoIP CSVs ship in the bundle (GEOIP_DIR); loaded once per cold start (about 2 s).
const geo = process.env.GEOIP_DIR ? await geoIpDatabase({ dir: process.env.GEOIP_DIR }) : undefined;

/** Embedded-metric-format metrics the alarms watch. */
export function publishMetrics(report: FlushReport, target: Metrics = metrics): void {
  target.addMetric('Signals', MetricUnit.Count, report.newSignals);
  target.addMetric('UnmappedEvents', MetricUnit.Count, report.unmappedEvents);
  target.addMetric('FlushLag', MetricUnit.Milliseconds, report.maxLagMs);
  target.addMetric('FailedPartitions', MetricUnit.Count, report.failedPartitions);
  for (const [risk, count] of Object.entries(report.newRiskySignals)) {
    const single = target.singleMetric();
    single.addDimension('Risk', risk);
    single.addMetric('RiskySignals', MetricUnit.Count, count);
  }
  target.publishStoredMetrics();
}

export const handler = async (_event: unknown, context: Context): Promise<FlushReport> => {
  const sessionLog = config.sessionsLogGroup
    ? new CloudWatchSessionLog(
        logs,
        config.sessionsLogGroup,
        `flush/${new Date().toISOString().slice(0, 10)}/${context.awsRequestId}`,
      )
    : new MemorySessionLog();
  const lookup = geo ? (address: string) => geo.lookup(address) : undefined;
  const report = await flush({ s3, buffer, rules, config, sessionLog, logger, now: Date.now, lookup });
  publishMetrics(report);
  return report;
};

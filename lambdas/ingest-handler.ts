/** Lambda entry for `ingest`: clients, detection rules and configuration built once per cold start. */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DEFAULT_DETECTIONS_DIR, type DetectionHit, loadDetections } from '../engine/detect.ts';
import { geoIpDatabase } from '../engine/geoip.ts';
import { SessionBuffer } from './buffer.ts';
import { loadConfig } from './config.ts';
import { DetectionStateStore } from './detection-state.ts';
import { createIngestHandler } from './ingest.ts';
import { powertoolsLogger } from './log.ts';
import { append } from '../engine/arrays.ts';

const config = loadConfig();
const metrics = new Metrics({ namespace: 'Trailmap', serviceName: 'trailmap-ingest' });

/** Embedded-metric-format detection counts by severity, the metric the detection alarms watch. */
export function publishDetectionMetrics(hits: DetectionHit[], target: Metrics = metrics): void {
  const bySeverity = new Map<string, number>();
  for (const hit of hits) bySeverity.set(hit.risk, (bySeverity.get(hit.risk) ?? 0) + 1);
  for (const [severity, count] of bySeverity) {
    const single = target.singleMetric();
    single.addDimension('Severity', severity);
    single.addMetric('Detections', MetricUnit.Count, count);
  }
}

// The GeoIP CSVs ship in the bundle (GEOIP_DIR); loaded once per cold start (about 2 s).
const geo = process.env.GEOIP_DIR ? await geoIpDatabase({ dir: process.env.GEOIP_DIR }) : undefined;

let hits: DetectionHit[] = [];
const dynamodb = new DynamoDBClient({});
const ingest = createIngestHandler({
  s3: new S3Client({}),
  buffer: new SessionBuffer(dynamodb, {
    tableName: config.tableName,
    dueShards: config.dueShards,
  }),
  config,
  logger: powertoolsLogger(new Logger({ serviceName: 'trailmap-ingest' })),
  now: Date.now,
  detections: loadDetections(process.env.DETECTIONS_DIR || DEFAULT_DETECTIONS_DIR),
  onDetections: (found) => append(hits, found),
  lookup: geo ? (address) => geo.lookup(address ?? '') : undefined,
  detectionState: new DetectionStateStore(dynamodb, config.tableName),
});

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  hits = [];
  try {
    return await ingest(event, context);
  } finally {
    publishDetectionMetrics(hits);
  }
};

/** The Trailmap stack: wires the trail source, buffer, pipeline, enriched store and alarms. */
import { Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { Alarms } from './alarms.ts';
import { EnrichedStore } from './enriched-store.ts';
import { Pipeline } from './pipeline.ts';
import { secureBucket } from './secure-bucket.ts';
import { SessionBufferTable } from './session-buffer.ts';
import { TrailSource } from './trail-source.ts';
import { acknowledgeNagFindings } from './nag.ts';

/** Every setting, with its default; also readable from CDK context (see bin/cdk.ts). */
export interface TrailmapSettings {
  /** Existing trail bucket name. @default a new bucket and trail are created */
  trailBucketName?: string;
  /** Key prefix of the trail in its bucket. @default none */
  trailKeyPrefix?: string;
  /** Organization id (o-…) of an organization trail. @default single-account layout */
  organizationId?: string;
  /** Account ids for the `cloudtrail` table's account projection. @default injected (queries name the account) */
  accountIds?: string[];
  /** Regions for the `cloudtrail` table's region projection. @default all commercial regions */
  regions?: string[];
  /** Seconds after a session's last event before it is written. @default 900 */
  settleDelaySeconds?: number;
  /** Days Lambda logs are kept. @default 30 */
  logRetentionDays?: number;
  /** Days session summaries are kept in CloudWatch Logs. @default 365 */
  sessionsLogRetentionDays?: number;
  /** Email address for alarms. @default none (subscribe to the topic yourself) */
  alarmEmail?: string;
}

export const DEFAULT_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-south-1',
  'eu-south-2',
  'eu-north-1',
  'il-central-1',
  'me-south-1',
  'me-central-1',
  'sa-east-1',
];

/** Log retention in days → the nearest CloudWatch retention at or above it. */
export function retention(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter(
    (v): v is number => typeof v === 'number' && v > 0,
  );
  const match = allowed.sort((a, b) => a - b).find((v) => v >= days);
  return (match ?? logs.RetentionDays.INFINITE) as logs.RetentionDays;
}

export class TrailmapStack extends Stack {
  readonly source: TrailSource;
  readonly buffer: SessionBufferTable;
  readonly store: EnrichedStore;
  readonly pipeline: Pipeline;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, settings: TrailmapSettings = {}, props?: StackProps) {
    super(scope, id, props);
    const accessLogs = secureBucket(this, 'AccessLogs', { expirationDays: 365 });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket; logging it into itself would loop.',
    });
    const ingestTimeout = Duration.minutes(5);
    this.source = new TrailSource(this, 'TrailSource', {
      bucketName: settings.trailBucketName,
      keyPrefix: settings.trailKeyPrefix,
      organizationId: settings.organizationId,
      createTrail: !settings.trailBucketName,
      accessLogsBucket: accessLogs,
      consumerTimeout: ingestTimeout,
    });
    this.buffer = new SessionBufferTable(this, 'SessionBuffer');
    this.store = new EnrichedStore(this, 'EnrichedStore', {
      accessLogsBucket: accessLogs,
      trail: {
        bucket: this.source.bucket,
        keyPrefix: this.source.keyPrefix,
        organizationId: settings.organizationId,
        accountIds: settings.accountIds,
      },
      regions: settings.regions ?? DEFAULT_REGIONS,
    });
    this.pipeline = new Pipeline(this, 'Pipeline', {
      trailBucket: this.source.bucket,
      logsPrefix: this.source.logsPrefix,
      queue: this.source.queue,
      table: this.buffer.table,
      enrichedBucket: this.store.bucket,
      enrichedPrefix: this.store.prefix,
      settleDelaySeconds: settings.settleDelaySeconds,
      logRetention: retention(settings.logRetentionDays ?? 30),
      sessionsLogRetention: retention(settings.sessionsLogRetentionDays ?? 365),
      ingestTimeout,
    });
    this.alarms = new Alarms(this, 'Alarms', {
      alarmEmail: settings.alarmEmail,
      deadLetterQueue: this.source.deadLetterQueue,
      functions: [this.pipeline.ingest.function, this.pipeline.flush.function],
    });
    acknowledgeNagFindings(this);
  }
}

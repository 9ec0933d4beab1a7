/**
 * The two handlers and their wiring: trail notifications (SQS) → `ingest` → buffer table;
 * schedule → `flush` → enriched bucket + sessions log group. Each gets only the access it uses.
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DUE_INDEX } from '../lambdas/buffer.ts';
import { SQS_BATCH_SIZE, SQS_BATCHING_WINDOW_SECONDS } from '../lambdas/ingest.ts';
import { TrailmapFunction } from './trailmap-function.ts';

const handlerPath = (name: string) => new URL(`../lambdas/${name}`, import.meta.url).pathname;

/** The offline GeoIP tables (CSV, from the @ip-location-db packages) the handlers load from GEOIP_DIR. */
const GEOIP_FILES = [
  '@ip-location-db/asn/asn-ipv4-num.csv',
  '@ip-location-db/asn/asn-ipv6-num.csv',
  '@ip-location-db/geo-whois-asn-country/geo-whois-asn-country-ipv4-num.csv',
  '@ip-location-db/geo-whois-asn-country/geo-whois-asn-country-ipv6-num.csv',
];

/** Bundle extras: the rule files, and the GeoIP tables. */
const copyRulesAndGeoIp = (inputDir: string, outputDir: string) => [
  `cp -r "${inputDir}/rules" "${outputDir}/rules"`,
  `mkdir -p "${outputDir}/geoip"`,
  ...GEOIP_FILES.map((file) => `cp "${inputDir}/node_modules/${file}" "${outputDir}/geoip/"`),
];

export interface PipelineProps {
  trailBucket: s3.IBucket;
  /** Log objects' prefix (…`AWSLogs/`): ingest may read nothing else. */
  logsPrefix: string;
  queue: sqs.IQueue;
  table: dynamodb.ITable;
  enrichedBucket: s3.IBucket;
  enrichedPrefix: string;
  /** @default 900 */
  settleDelaySeconds?: number;
  /** Function log retention. @default one month */
  logRetention?: logs.RetentionDays;
  /** Session summary retention. @default one year */
  sessionsLogRetention?: logs.RetentionDays;
  /** How often flush runs. @default 5 minutes */
  flushEvery?: Duration;
  /** Concurrent ingest invocations at most (an organization trail delivers many objects). @default 20 */
  ingestConcurrency?: number;
  /** Ingest function timeout. */
  ingestTimeout: Duration;
}

export class Pipeline extends Construct {
  readonly ingest: TrailmapFunction;
  readonly flush: TrailmapFunction;
  readonly sessionsLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.sessionsLogGroup = new logs.LogGroup(this, 'Sessions', {
      retention: props.sessionsLogRetention ?? logs.RetentionDays.ONE_YEAR,
    });
    const environment = {
      BUFFER_TABLE: props.table.tableName,
      ENRICHED_BUCKET: props.enrichedBucket.bucketName,
      ENRICHED_PREFIX: props.enrichedPrefix,
      SETTLE_DELAY_SECONDS: String(props.settleDelaySeconds ?? 900),
      MAX_OBJECT_BYTES: String(256 * 1024 * 1024),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };

    this.ingest = new TrailmapFunction(this, 'Ingest', {
      entry: handlerPath('ingest-handler.ts'),
      description: 'Trailmap ingest: new trail objects to the session buffer',
      timeout: props.ingestTimeout,
      memorySize: 3008,
      reservedConcurrentExecutions: props.ingestConcurrency ?? 20,
      environment: {
        ...environment,
        DETECTIONS_DIR: '/var/task/rules/detections',
        GEOIP_DIR: '/var/task/geoip',
      },
      logRetention,
      afterBundling: copyRulesAndGeoIp,
    });
    // Detection hits are written at once, as rows of the `detections` table.
    this.ingest.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [props.enrichedBucket.arnForObjects(`${props.enrichedPrefix}detections/*`)],
      }),
    );
    this.ingest.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [props.trailBucket.arnForObjects(`${props.logsPrefix}*`)],
      }),
    );
    this.ingest.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:BatchWriteItem'], resources: [props.table.tableArn] }),
    );
    // Detection state (firstSeen baselines `s#…`, threshold events `t#…`), and only those items.
    this.ingest.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:Query'],
        resources: [props.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['s#*', 't#*'] } },
      }),
    );
    this.ingest.function.addEventSource(
      new sources.SqsEventSource(props.queue, {
        batchSize: SQS_BATCH_SIZE,
        maxBatchingWindow: Duration.seconds(SQS_BATCHING_WINDOW_SECONDS),
        reportBatchItemFailures: true,
        // Never poll faster than the function may run: throttled deliveries would count as receives.
        maxConcurrency: Math.max(2, props.ingestConcurrency ?? 20),
      }),
    );

    this.flush = new TrailmapFunction(this, 'Flush', {
      entry: handlerPath('flush-handler.ts'),
      description: 'Trailmap flush: settled sessions to the enriched store',
      timeout: Duration.minutes(10),
      memorySize: 2048,
      // One flush at a time: runs never race on a partition's state or the watermark.
      reservedConcurrentExecutions: 1,
      environment: {
        ...environment,
        SESSIONS_LOG_GROUP: this.sessionsLogGroup.logGroupName,
        RULES_DIR: '/var/task/rules/signals',
        GEOIP_DIR: '/var/task/geoip',
      },
      logRetention,
      afterBundling: copyRulesAndGeoIp,
    });
    this.flush.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [props.table.tableArn, `${props.table.tableArn}/index/${DUE_INDEX}`],
      }),
    );
    this.flush.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject', 's3:DeleteObject'],
        resources: [props.enrichedBucket.arnForObjects(`${props.enrichedPrefix}*`)],
      }),
    );
    this.flush.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [
          `${this.sessionsLogGroup.logGroupArn}`,
          `${this.sessionsLogGroup.logGroupArn}:log-stream:*`,
        ],
      }),
    );
    new events.Rule(this, 'FlushSchedule', {
      description: 'Run Trailmap flush',
      schedule: events.Schedule.rate(props.flushEvery ?? Duration.minutes(5)),
      targets: [new targets.LambdaFunction(this.flush.function, { retryAttempts: 0 })],
    });
  }
}

/**
 * Alarms: risky signals (flush's embedded metrics) and detections (ingest's), and operations (dead
 * letters, Lambda errors and throttles, flush lag) notify one encrypted SNS topic.
 */
import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Namespace and service dimension of the metrics flush publishes (Powertools Metrics). */
export const METRICS_NAMESPACE = 'Trailmap';
export const FLUSH_SERVICE = 'trailmap-flush';
export const INGEST_SERVICE = 'trailmap-ingest';

export interface AlarmsProps {
  /** Email address subscribed to the alarm topic. @default no subscription */
  alarmEmail?: string;
  deadLetterQueue: sqs.IQueue;
  functions: lambda.IFunction[];
  /** Alarm when flush has not caught up within this long. @default 30 minutes */
  maxFlushLag?: Duration;
}

export class Alarms extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    // A customer managed key: the AWS managed SNS key's policy cannot let CloudWatch alarms publish.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Trailmap alarm topic',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Trailmap alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // The topic policy replaces SNS's default one: without this, nothing lets the alarms publish.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisAccountsAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new actions.SnsAction(this.topic);
    const alarm = (name: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const created = new cloudwatch.Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(notify);
      return created;
    };
    const flushMetric = (metricName: string, dimensions: Record<string, string> = {}, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: FLUSH_SERVICE, ...dimensions },
        statistic,
        period: Duration.minutes(5),
      });

    for (const risk of ['high', 'critical']) {
      alarm(
        `RiskySignals-${risk}`,
        flushMetric('RiskySignals', { Risk: risk }),
        1,
        `A ${risk}-risk console action was mapped`,
      );
    }
    const detections = (severity: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: 'Detections',
        dimensionsMap: { service: INGEST_SERVICE, Severity: severity },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    for (const severity of ['high', 'critical']) {
      alarm(
        `Detections-${severity}`,
        detections(severity),
        1,
        `A ${severity}-severity detection rule matched`,
      );
    }
    // Medium detections alarm by rate: a burst of them in an hour, not every single one.
    alarm(
      'Detections-medium-rate',
      detections('medium').with({ period: Duration.hours(1) }),
      10,
      'Ten or more medium-severity detections within an hour',
    );
    alarm(
      'FlushLag',
      flushMetric('FlushLag', {}, 'Maximum'),
      (props.maxFlushLag ?? Duration.minutes(30)).toMilliseconds(),
      'Settled sessions waited too long to be written',
    );
    alarm(
      'FailedPartitions',
      flushMetric('FailedPartitions'),
      1,
      'Flush could not write some partitions (retried next run)',
    );
    alarm(
      'DeadLetters',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      1,
      'Trail objects could not be ingested after retries',
    );
    props.functions.forEach((fn, i) => {
      alarm(`Errors-${i}`, fn.metricErrors({ period: Duration.minutes(5) }), 1, `${fn.node.path} failed`);
      alarm(
        `Throttles-${i}`,
        fn.metricThrottles({ period: Duration.minutes(5) }),
        1,
        `${fn.node.path} was throttled`,
      );
    });
  }
}

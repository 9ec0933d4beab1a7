/**
 * Where the trail comes from: an existing trail bucket (optionally under a key prefix, optionally
 * an organization trail), or a new bucket with a new account or organization trail. New log
 * objects (`AWSLogs/…json.gz`) are announced to an encrypted SQS queue with a dead-letter queue.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { secureBucket } from './secure-bucket.ts';

export interface TrailSourceProps {
  /** Existing trail bucket, by name or ARN. Required unless `createTrail`. */
  bucketName?: string;
  /** Key prefix of the trail inside the bucket (no leading or trailing slash). @default none */
  keyPrefix?: string;
  /** Organization id (o-…) for an organization trail's key layout (and a new organization trail). */
  organizationId?: string;
  /** Create the bucket and a multi-region trail (organization trail when `organizationId` is set). @default false */
  createTrail?: boolean;
  /** Server access log destination for a new trail bucket. */
  accessLogsBucket: s3.IBucket;
  /** Timeout of the function consuming the queue: the visibility timeout is six times it. */
  consumerTimeout: Duration;
  /** Receives before a message goes to the dead-letter queue. @default 3 */
  maxReceiveCount?: number;
}

export class TrailSource extends Construct {
  readonly bucket: s3.IBucket;
  /** Key prefix of the log objects, ending in `AWSLogs/`. */
  readonly logsPrefix: string;
  readonly keyPrefix: string;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly trail?: cloudtrail.Trail;

  constructor(scope: Construct, id: string, props: TrailSourceProps) {
    super(scope, id);
    const keyPrefix = (props.keyPrefix ?? '').replace(/^\/+|\/+$/g, '');
    this.keyPrefix = keyPrefix;
    this.logsPrefix = `${keyPrefix ? `${keyPrefix}/` : ''}AWSLogs/`;

    if (props.createTrail) {
      const bucket = secureBucket(this, 'TrailBucket', {
        accessLogs: { bucket: props.accessLogsBucket, prefix: 'trail-bucket/' },
      });
      this.trail = new cloudtrail.Trail(this, 'Trail', {
        bucket,
        s3KeyPrefix: keyPrefix || undefined,
        isMultiRegionTrail: true,
        includeGlobalServiceEvents: true,
        enableFileValidation: true,
        isOrganizationTrail: props.organizationId !== undefined,
      });
      this.bucket = bucket;
    } else {
      if (!props.bucketName) throw new Error('TrailSource needs bucketName, or createTrail: true');
      // A name or an ARN (arn:aws:s3:::name) are both accepted.
      const name = props.bucketName.replace(/^arn:aws[a-z-]*:s3:::/, '');
      this.bucket = s3.Bucket.fromBucketName(this, 'TrailBucket', name);
    }

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'NewObjects', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's guidance for Lambda event sources: at least six times the function timeout.
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 3 },
    });
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.queue), {
      prefix: this.logsPrefix,
      suffix: '.json.gz',
    });
  }
}

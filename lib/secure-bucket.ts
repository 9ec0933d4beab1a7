/** Buckets made one way: encrypted, TLS only, no public access, versioned, access-logged. */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

export interface SecureBucketProps {
  /** Where server access logs go; omit only for the access-log bucket itself. */
  accessLogs?: { bucket: s3.IBucket; prefix: string };
  /** Days before noncurrent object versions are removed. @default 30 */
  noncurrentVersionDays?: number;
  /** Days before current objects expire. @default never */
  expirationDays?: number;
  /** @default RemovalPolicy.RETAIN */
  removalPolicy?: RemovalPolicy;
}

export function secureBucket(scope: Construct, id: string, props: SecureBucketProps = {}): s3.Bucket {
  const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
  return new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    serverAccessLogsBucket: props.accessLogs?.bucket,
    serverAccessLogsPrefix: props.accessLogs?.prefix,
    lifecycleRules: [
      {
        id: 'noncurrent-versions',
        noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 30),
        abortIncompleteMultipartUploadAfter: Duration.days(7),
        expiration: props.expirationDays ? Duration.days(props.expirationDays) : undefined,
      },
    ],
    removalPolicy,
    autoDeleteObjects: false,
  });
}

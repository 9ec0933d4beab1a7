/** The cdk-nag findings Trailmap acknowledges, each with the specific reason it is acceptable. */
import { type CfnResource, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { TrailmapStack } from './trailmap-stack.ts';

/** `<LogicalId.Arn>` as cdk-nag names a resource's ARN in a finding. */
function arnToken(resource: IConstruct): string {
  const cfn = (resource.node.defaultChild ?? resource) as CfnResource;
  return `<${Stack.of(resource).getLogicalId(cfn)}.Arn>`;
}

function acknowledgeWildcard(scope: IConstruct, resource: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
}

export function acknowledgeNagFindings(stack: TrailmapStack): void {
  const { pipeline, source, store } = stack;
  const streams =
    'Log stream names are created at run time; the grant is limited to streams of this one log group.';
  for (const fn of [pipeline.ingest, pipeline.flush]) {
    acknowledgeWildcard(fn.role, `${arnToken(fn.logGroup)}:log-stream:*`, streams);
  }
  acknowledgeWildcard(pipeline.flush.role, `${arnToken(pipeline.sessionsLogGroup)}:log-stream:*`, streams);
  // An imported bucket appears by name, a new one by its logical id.
  const trailObjects = source.trail
    ? `${arnToken(source.bucket)}/${source.logsPrefix}*`
    : `arn:<AWS::Partition>:s3:::${source.bucket.bucketName}/${source.logsPrefix}*`;
  acknowledgeWildcard(
    pipeline.ingest.role,
    trailObjects,
    'CloudTrail names log objects at delivery; ingest may read only objects under the trail prefix (s3:GetObject only).',
  );
  acknowledgeWildcard(
    pipeline.ingest.role,
    `${arnToken(store.bucket)}/${store.prefix}detections/*`,
    'Detection rows are keyed by the trail object they came from; ingest may only put objects under enriched/detections/.',
  );
  acknowledgeWildcard(
    pipeline.flush.role,
    `${arnToken(store.bucket)}/${store.prefix}*`,
    'Output keys derive from session ids at run time; flush may write and delete only under the enriched prefix.',
  );
  const notifications = stack.node.children.find((child) =>
    child.node.id.startsWith('BucketNotificationsHandler'),
  );
  if (notifications) {
    Validations.of(notifications).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "CDK's own handler that configures the trail bucket's notifications at deploy time; its role only needs basic logging.",
    });
  }
}

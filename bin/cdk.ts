/** CDK app entry: settings from CDK context (`cdk.json` or `-c key=value`), cdk-nag on every synth. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type TrailmapSettings, TrailmapStack } from '../lib/trailmap-stack.ts';

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === null || value === '' ? undefined : String(value);
};
const number = (key: string): number | undefined => {
  const value = context(key);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new Error(`context ${key} must be a positive integer (got ${value})`);
  return parsed;
};
const list = (key: string): string[] | undefined =>
  context(key)
    ?.split(',')
    .map((v) => v.trim())
    .filter(Boolean);

const settings: TrailmapSettings = {
  trailBucketName: context('trailBucketName'),
  trailKeyPrefix: context('trailKeyPrefix'),
  organizationId: context('organizationId'),
  accountIds: list('accountIds'),
  regions: list('regions'),
  settleDelaySeconds: number('settleDelaySeconds'),
  logRetentionDays: number('logRetentionDays'),
  sessionsLogRetentionDays: number('sessionsLogRetentionDays'),
  alarmEmail: context('alarmEmail'),
};

new TrailmapStack(app, context('stackName') ?? 'Trailmap', settings, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'Trailmap: maps CloudTrail console activity to the actions people took',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

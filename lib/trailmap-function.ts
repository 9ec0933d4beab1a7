/**
 * The one way Trailmap makes a Lambda function: Node.js 24 on ARM64, an ESM bundle built locally by
 * esbuild with source maps, an explicit log group with retention, and its own role that may only
 * write to that log group (grants are added by the constructs that wire the function).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface TrailmapFunctionProps {
  /** Handler module (TypeScript), exporting `handler`. */
  entry: string;
  description: string;
  timeout: Duration;
  /** @default 1024 */
  memorySize?: number;
  /** Reserved concurrency. */
  reservedConcurrentExecutions?: number;
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  /** Extra shell commands run after bundling (e.g. copying rule files), with `inputDir`/`outputDir`. */
  afterBundling?: (inputDir: string, outputDir: string) => string[];
}

export class TrailmapFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TrailmapFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (writes only its own log group)`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn, `${this.logGroup.logGroupArn}:log-stream:*`],
      }),
    );
    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize ?? 1024,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      role: this.role,
      logGroup: this.logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        sourceMap: true,
        minify: true,
        // Bundle the SDK versions we test with instead of the runtime's.
        externalModules: [],
        // Some CommonJS dependencies call require(): give the ESM bundle one.
        banner:
          "import { createRequire as trailmapRequire } from 'node:module'; const require = trailmapRequire(import.meta.url);",
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir, outputDir) => props.afterBundling?.(inputDir, outputDir) ?? [],
        },
      },
    });
  }
}

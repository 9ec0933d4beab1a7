/**
 * The enriched store and its catalog: the bucket the pipeline writes to, Glue tables over it (and
 * over the raw trail), an Athena workgroup with enforced, encrypted results and a scan cutoff, and
 * the saved investigations as named queries. Table columns come from engine/tables.ts, the same
 * definition the writers use, so the catalog cannot drift from the data.
 */
import { Aws, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PARTITION_COLUMN, TABLES, type TableName } from '../engine/tables.ts';
import { CLOUDTRAIL_COLUMNS } from './cloudtrail-table.ts';
import { loadSavedQueries } from '../engine/saved-queries.ts';
import { secureBucket } from './secure-bucket.ts';

export interface EnrichedStoreProps {
  accessLogsBucket: s3.IBucket;
  /** Prefix of the enriched dataset in its bucket. @default 'enriched/' */
  prefix?: string;
  /** Glue database name. @default 'trailmap' */
  databaseName?: string;
  /** Athena per-query scan limit in bytes. @default 10 GiB */
  bytesScannedCutoffPerQuery?: number;
  /** The raw trail, for the `cloudtrail` table. */
  trail: { bucket: s3.IBucket; keyPrefix: string; organizationId?: string; accountIds?: string[] };
  /** Regions listed in the `cloudtrail` table's region projection. */
  regions: string[];
}

/** Partition projection on `dt` (daily), so queries never need MSCK REPAIR or crawlers. */
export function dtProjection(location: string): Record<string, string> {
  return {
    'projection.enabled': 'true',
    [`projection.${PARTITION_COLUMN}.type`]: 'date',
    [`projection.${PARTITION_COLUMN}.format`]: 'yyyy-MM-dd',
    [`projection.${PARTITION_COLUMN}.range`]: '2020-01-01,NOW',
    [`projection.${PARTITION_COLUMN}.interval`]: '1',
    [`projection.${PARTITION_COLUMN}.interval.unit`]: 'DAYS',
    'storage.location.template': `${location}${PARTITION_COLUMN}=\${${PARTITION_COLUMN}}/`,
    classification: 'json',
    has_encrypted_data: 'false',
  };
}

export class EnrichedStore extends Construct {
  readonly bucket: s3.Bucket;
  readonly resultsBucket: s3.Bucket;
  readonly prefix: string;
  readonly databaseName: string;
  readonly workGroup: athena.CfnWorkGroup;
  readonly tables: Record<TableName | 'cloudtrail', glue.CfnTable>;

  constructor(scope: Construct, id: string, props: EnrichedStoreProps) {
    super(scope, id);
    this.prefix = props.prefix ?? 'enriched/';
    this.databaseName = props.databaseName ?? 'trailmap';
    this.bucket = secureBucket(this, 'Bucket', {
      accessLogs: { bucket: props.accessLogsBucket, prefix: 'enriched/' },
    });
    this.resultsBucket = secureBucket(this, 'AthenaResults', {
      accessLogs: { bucket: props.accessLogsBucket, prefix: 'athena-results/' },
      expirationDays: 30,
      noncurrentVersionDays: 1,
    });

    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: this.databaseName,
        description: 'Trailmap: console actions mapped from CloudTrail',
      },
    });

    const tables = {} as Record<TableName | 'cloudtrail', glue.CfnTable>;
    for (const [name, columns] of Object.entries(TABLES) as [TableName, (typeof TABLES)[TableName]][]) {
      const location = `s3://${this.bucket.bucketName}/${this.prefix}${name}/`;
      const table = new glue.CfnTable(this, `Table-${name}`, {
        catalogId: Aws.ACCOUNT_ID,
        databaseName: this.databaseName,
        tableInput: {
          name,
          description: `Trailmap ${name} (JSON Lines, gzip)`,
          tableType: 'EXTERNAL_TABLE',
          parameters: dtProjection(location),
          partitionKeys: [{ name: PARTITION_COLUMN, type: 'string', comment: 'UTC day, yyyy-MM-dd' }],
          storageDescriptor: {
            location,
            columns: columns.map((c) => ({ name: c.name, type: c.type, comment: c.description })),
            inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
            serdeInfo: {
              serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
              parameters: { 'ignore.malformed.json': 'true' },
            },
          },
        },
      });
      table.node.addDependency(database);
      tables[name] = table;
    }
    tables.cloudtrail = this.cloudTrailTable(props, database);
    this.tables = tables;

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: `${Stack.of(this).stackName}-trailmap`.toLowerCase().slice(0, 128),
      description: 'Trailmap investigations',
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });

    for (const query of loadSavedQueries()) {
      const named = new athena.CfnNamedQuery(this, `Query-${query.name}`, {
        name: query.name,
        description: query.description,
        database: this.databaseName,
        workGroup: this.workGroup.ref,
        queryString: query.sql,
      });
      named.node.addDependency(this.workGroup);
    }
  }

  /** AWS's documented CloudTrail table, with partition projection for the trail's key layout. */
  private cloudTrailTable(props: EnrichedStoreProps, database: glue.CfnDatabase): glue.CfnTable {
    const { bucket, keyPrefix, organizationId, accountIds } = props.trail;
    const root = `s3://${bucket.bucketName}/${keyPrefix ? `${keyPrefix}/` : ''}AWSLogs/${organizationId ? `${organizationId}/` : ''}`;
    const accounts: Record<string, string> =
      accountIds && accountIds.length > 0
        ? { 'projection.account.type': 'enum', 'projection.account.values': accountIds.join(',') }
        : { 'projection.account.type': 'injected' };
    const table = new glue.CfnTable(this, 'Table-cloudtrail', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: 'cloudtrail',
        description: 'Raw CloudTrail records of the trail bucket',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          'projection.enabled': 'true',
          ...accounts,
          'projection.region.type': 'enum',
          'projection.region.values': props.regions.join(','),
          'projection.timestamp.type': 'date',
          'projection.timestamp.format': 'yyyy/MM/dd',
          'projection.timestamp.range': '2020/01/01,NOW',
          'projection.timestamp.interval': '1',
          'projection.timestamp.interval.unit': 'DAYS',
          'storage.location.template': `${root}\${account}/CloudTrail/\${region}/\${timestamp}`,
          classification: 'cloudtrail',
        },
        partitionKeys: [
          { name: 'account', type: 'string' },
          { name: 'region', type: 'string' },
          { name: 'timestamp', type: 'string' },
        ],
        storageDescriptor: {
          location: root,
          columns: CLOUDTRAIL_COLUMNS.map(([name, type]) => ({ name, type })),
          inputFormat: 'com.amazon.emr.cloudtrail.CloudTrailInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hive.hcatalog.data.JsonSerDe' },
        },
      },
    });
    table.node.addDependency(database);
    return table;
  }
}

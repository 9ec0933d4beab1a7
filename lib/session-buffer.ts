/** The DynamoDB session buffer: on demand, TTL, point-in-time recovery, encrypted, due index. */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { BUFFER_TABLE, TTL_ATTRIBUTE } from '../lambdas/buffer.ts';

export interface SessionBufferProps {
  /** @default RemovalPolicy.DESTROY — the buffer holds only copies of trail records, for days. */
  removalPolicy?: RemovalPolicy;
}

const attributeType = (name: string): dynamodb.AttributeType => {
  const type = BUFFER_TABLE.AttributeDefinitions.find((a) => a.AttributeName === name)?.AttributeType;
  return type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING;
};

export class SessionBufferTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: SessionBufferProps = {}) {
    super(scope, id);
    const [hash, range] = BUFFER_TABLE.KeySchema.map((k) => k.AttributeName);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: hash, type: attributeType(hash) },
      sortKey: { name: range, type: attributeType(range) },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    for (const index of BUFFER_TABLE.GlobalSecondaryIndexes) {
      const [indexHash, indexRange] = index.KeySchema.map((k) => k.AttributeName);
      this.table.addGlobalSecondaryIndex({
        indexName: index.IndexName,
        partitionKey: { name: indexHash, type: attributeType(indexHash) },
        sortKey: { name: indexRange, type: attributeType(indexRange) },
        projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      });
    }
  }
}

import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { StateTable } from '../processors/schema.ts';

/** Arguments of {@link StateStore}. */
export interface StateStoreArgs {
  tableName: string;
  kmsKeyArn: pulumi.Input<string>;
}

/**
 * The DynamoDB state table (detector and window state, ingest intent checkpoints): key schema and
 * TTL attribute from `processors/schema.ts` `StateTable`, on-demand billing (traffic follows the
 * log volume), point-in-time recovery, and encryption with the stack key.
 *
 * @example
 * const state = new StateStore('state', { tableName: 'tidewatch-state', kmsKeyArn: key.keyArn });
 */
export class StateStore extends pulumi.ComponentResource {
  readonly tableName: pulumi.Output<string>;
  readonly tableArn: pulumi.Output<string>;

  constructor(name: string, args: StateStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tidewatch:infra:StateStore', name, {}, opts);
    const table = new aws.dynamodb.Table(
      name,
      {
        name: args.tableName,
        billingMode: 'PAY_PER_REQUEST',
        hashKey: StateTable.partitionKey,
        attributes: [{ name: StateTable.partitionKey, type: 'S' }],
        ttl: { attributeName: StateTable.ttlAttribute, enabled: true },
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArn },
      },
      { parent: this },
    );
    this.tableName = table.name;
    this.tableArn = table.arn;
    this.registerOutputs({ tableName: this.tableName, tableArn: this.tableArn });
  }
}

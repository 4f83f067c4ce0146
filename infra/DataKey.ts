import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { keyPolicy } from './policies.ts';

/** Arguments of {@link DataKey}. */
export interface DataKeyArgs {
  /** KMS alias, `alias/...`. */
  alias: string;
  partition: pulumi.Input<string>;
  accountId: pulumi.Input<string>;
  region: pulumi.Input<string>;
}

/**
 * The stack's customer-managed KMS key, used for encryption at rest by every data-holding resource:
 * Kinesis streams, the SNS topic, the on-failure queues, the DynamoDB state table, Timestream, the
 * Firehose buffers and the S3 archive, and the CloudWatch log groups. Rotation is on; each
 * function's role may use it only through the services it calls (`kms:ViaService`).
 *
 * @example
 * const key = new DataKey('key', { alias: 'alias/tidewatch', partition, accountId, region });
 * new aws.sns.Topic('alerts', { kmsMasterKeyId: key.keyArn });
 */
export class DataKey extends pulumi.ComponentResource {
  readonly keyArn: pulumi.Output<string>;
  readonly keyId: pulumi.Output<string>;

  constructor(name: string, args: DataKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tidewatch:infra:DataKey', name, {}, opts);
    const key = new aws.kms.Key(
      name,
      {
        description: 'tidewatch data at rest: streams, topic, queues, state, archive, logs',
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: pulumi
          .all([args.partition, args.accountId, args.region])
          .apply(([partition, accountId, region]) =>
            JSON.stringify(keyPolicy({ partition, accountId, region })),
          ),
      },
      { parent: this },
    );
    new aws.kms.Alias(name, { name: args.alias, targetKeyId: key.keyId }, { parent: this });
    this.keyArn = key.arn;
    this.keyId = key.keyId;
    this.registerOutputs({ keyArn: this.keyArn });
  }
}

import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { Dimension } from '../processors/schema.ts';

/** Arguments of {@link MetricsStore}. */
export interface MetricsStoreArgs {
  databaseName: string;
  windowsTable: string;
  pipelineTable: string;
  memoryRetentionHours: number;
  magneticRetentionDays: number;
  kmsKeyArn: pulumi.Input<string>;
  /** Where Timestream reports records its magnetic store rejects asynchronously. */
  rejectedData: { bucketName: pulumi.Input<string>; objectKeyPrefix: string };
}

/**
 * Timestream for LiveAnalytics database (KMS-encrypted) with the windows table (one multi-measure
 * record per series·window) and the pipeline-health table. Magnetic-store writes are on so late
 * corrections older than the memory store retention still upsert; their asynchronous rejects (a
 * lower `Version`, https://docs.aws.amazon.com/timestream/latest/developerguide/troubleshoot-rejectedrecords.html)
 * land in the archive bucket.
 *
 * Timestream for LiveAnalytics is closed to new AWS customers since 2025-06-20: an account that did
 * not use it before cannot create this database (docs/deploy.md).
 *
 * @example
 * const store = new MetricsStore('metrics', { databaseName: 'tidewatch', windowsTable: 'windows',
 *   pipelineTable: 'pipeline', memoryRetentionHours: 24, magneticRetentionDays: 365, kmsKeyArn,
 *   rejectedData: { bucketName: archive.bucketName, objectKeyPrefix: 'timestream-rejected/' } });
 */
export class MetricsStore extends pulumi.ComponentResource {
  readonly databaseName: pulumi.Output<string>;
  readonly databaseArn: pulumi.Output<string>;
  readonly windowsTableName: pulumi.Output<string>;
  readonly windowsTableArn: pulumi.Output<string>;
  readonly pipelineTableName: pulumi.Output<string>;
  readonly pipelineTableArn: pulumi.Output<string>;

  constructor(name: string, args: MetricsStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tidewatch:infra:MetricsStore', name, {}, opts);
    const database = new aws.timestreamwrite.Database(
      name,
      { databaseName: args.databaseName, kmsKeyId: args.kmsKeyArn },
      { parent: this },
    );

    const table = (tableName: string, partitionDimension: string | undefined): aws.timestreamwrite.Table =>
      new aws.timestreamwrite.Table(
        `${name}-${tableName}`,
        {
          databaseName: database.databaseName,
          tableName,
          retentionProperties: {
            memoryStoreRetentionPeriodInHours: args.memoryRetentionHours,
            magneticStoreRetentionPeriodInDays: args.magneticRetentionDays,
          },
          magneticStoreWriteProperties: {
            enableMagneticStoreWrites: true,
            magneticStoreRejectedDataLocation: {
              s3Configuration: {
                bucketName: args.rejectedData.bucketName,
                objectKeyPrefix: `${args.rejectedData.objectKeyPrefix}${tableName}/`,
                // Timestream writes these reports itself; SSE-S3 keeps them encrypted at rest without
                // granting the Timestream service use of the stack key.
                encryptionOption: 'SSE_S3',
              },
            },
          },
          // Customer-defined partition key: queries filter by service, so partition by it
          // (https://docs.aws.amazon.com/timestream/latest/developerguide/customer-defined-partition-keys.html).
          ...(partitionDimension === undefined
            ? {}
            : {
                schema: {
                  compositePartitionKey: {
                    type: 'DIMENSION',
                    name: partitionDimension,
                    enforcementInRecord: 'OPTIONAL',
                  },
                },
              }),
        },
        { parent: this },
      );

    const windows = table(args.windowsTable, Dimension.service);
    const pipeline = table(args.pipelineTable, undefined);

    this.databaseName = database.databaseName;
    this.databaseArn = database.arn;
    this.windowsTableName = windows.tableName;
    this.windowsTableArn = windows.arn;
    this.pipelineTableName = pipeline.tableName;
    this.pipelineTableArn = pipeline.arn;
    this.registerOutputs({
      databaseName: this.databaseName,
      windowsTableArn: this.windowsTableArn,
      pipelineTableArn: this.pipelineTableArn,
    });
  }
}

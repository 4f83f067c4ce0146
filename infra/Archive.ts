import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ArchivePrefix } from '../processors/schema.ts';
import {
  firehoseAssumeRolePolicy,
  firehoseDeliveryPolicy,
  tlsOnlyBucketPolicy,
  toLeastPrivilegeJson,
} from './policies.ts';

/** Hourly time partitions in UTC, the layout Athena/Glue partition projection expects. */
export const HourlyPartition = '!{timestamp:yyyy/MM/dd/HH}/';
/** Days after which an unfinished multipart upload is aborted (it is billed but never readable). */
const abortMultipartDays = 7;

/** Arguments of {@link Archive}. */
export interface ArchiveArgs {
  /** Delivery stream of raw log lines (`logs/` prefix). */
  archiveDeliveryStreamName: string;
  /** Delivery stream of rejected input with reject codes (`errors/` prefix). */
  archiveErrorDeliveryStreamName: string;
  bufferingSizeMb: number;
  bufferingIntervalSeconds: number;
  /** Days before objects move to Standard-IA; 0 = never. */
  transitionDays: number;
  expirationDays: number;
  logRetentionDays: number;
  kmsKeyArn: pulumi.Input<string>;
  accountId: pulumi.Input<string>;
  region: pulumi.Input<string>;
}

/**
 * The S3 key prefix (hourly, UTC) a delivery stream writes under, and where Firehose puts what it
 * could not deliver.
 *
 * @example
 * deliveryPrefixes('tidewatch-archive', 'logs/').prefix; // 'logs/!{timestamp:yyyy/MM/dd/HH}/'
 */
export function deliveryPrefixes(
  streamName: string,
  prefix: string,
): { prefix: string; errorOutputPrefix: string } {
  return {
    prefix: `${prefix}${HourlyPartition}`,
    // Firehose requires !{firehose:error-output-type} in the error prefix once the prefix uses
    // expressions (https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html).
    errorOutputPrefix: `${ArchivePrefix.deliveryFailures}${streamName}/!{firehose:error-output-type}/${HourlyPartition}`,
  };
}

/**
 * The raw-log archive: a private, KMS-encrypted, TLS-only S3 bucket with a lifecycle, and two
 * Firehose delivery streams into it — raw lines under `logs/` and rejected input under `errors/`,
 * both gzip-compressed in hourly prefixes, Firehose's own failures under `delivery-failures/`.
 *
 * @example
 * const archive = new Archive('archive', { archiveDeliveryStreamName: 'tidewatch-archive',
 *   archiveErrorDeliveryStreamName: 'tidewatch-archive-errors', bufferingSizeMb: 64,
 *   bufferingIntervalSeconds: 60, transitionDays: 30, expirationDays: 365, logRetentionDays: 30,
 *   kmsKeyArn, accountId, region });
 */
export class Archive extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly archiveDeliveryStreamName: pulumi.Output<string>;
  readonly archiveDeliveryStreamArn: pulumi.Output<string>;
  readonly archiveErrorDeliveryStreamName: pulumi.Output<string>;
  readonly archiveErrorDeliveryStreamArn: pulumi.Output<string>;

  constructor(name: string, args: ArchiveArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tidewatch:infra:Archive', name, {}, opts);
    const parent = { parent: this };

    const bucket = new aws.s3.Bucket(name, { bucketPrefix: `${args.archiveDeliveryStreamName}-` }, parent);
    new aws.s3.BucketOwnershipControls(
      name,
      // ACLs disabled: the bucket owner owns every object, access is by policy only.
      { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } },
      parent,
    );
    const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
      name,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      parent,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      name,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: args.kmsKeyArn },
            // One data key per bucket instead of per object: up to 99% fewer KMS requests.
            bucketKeyEnabled: true,
          },
        ],
      },
      parent,
    );
    new aws.s3.BucketPolicy(
      name,
      { bucket: bucket.id, policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))) },
      { parent: this, dependsOn: [publicAccessBlock] },
    );
    new aws.s3.BucketLifecycleConfiguration(
      name,
      {
        bucket: bucket.id,
        rules: [
          {
            id: 'archive-retention',
            status: 'Enabled',
            filter: {},
            ...(args.transitionDays > 0
              ? { transitions: [{ days: args.transitionDays, storageClass: 'STANDARD_IA' }] }
              : {}),
            expiration: { days: args.expirationDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: abortMultipartDays },
          },
        ],
      },
      parent,
    );

    const logGroup = new aws.cloudwatch.LogGroup(
      name,
      {
        name: `/aws/kinesisfirehose/${args.archiveDeliveryStreamName}`,
        retentionInDays: args.logRetentionDays,
        kmsKeyId: args.kmsKeyArn,
      },
      parent,
    );

    const role = new aws.iam.Role(
      `${name}-firehose`,
      {
        description: 'Firehose delivery role of the tidewatch archive',
        assumeRolePolicy: pulumi
          .output(args.accountId)
          .apply((accountId) => JSON.stringify(firehoseAssumeRolePolicy(accountId))),
      },
      parent,
    );
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-firehose`,
      {
        role: role.id,
        policy: pulumi
          .all([args.region, bucket.arn, args.kmsKeyArn, logGroup.arn])
          .apply(([region, bucketArn, keyArn, logGroupArn]) =>
            toLeastPrivilegeJson(
              'firehose',
              firehoseDeliveryPolicy({ region, bucketArn, keyArn, logGroupArn }),
            ),
          ),
      },
      parent,
    );

    const deliveryStream = (streamName: string, prefix: string): aws.kinesis.FirehoseDeliveryStream => {
      const logStream = new aws.cloudwatch.LogStream(
        streamName,
        { logGroupName: logGroup.name, name: streamName },
        parent,
      );
      return new aws.kinesis.FirehoseDeliveryStream(
        streamName,
        {
          name: streamName,
          destination: 'extended_s3',
          serverSideEncryption: { enabled: true, keyType: 'CUSTOMER_MANAGED_CMK', keyArn: args.kmsKeyArn },
          extendedS3Configuration: {
            roleArn: role.arn,
            bucketArn: bucket.arn,
            ...deliveryPrefixes(streamName, prefix),
            bufferingSize: args.bufferingSizeMb,
            bufferingInterval: args.bufferingIntervalSeconds,
            compressionFormat: 'GZIP',
            kmsKeyArn: args.kmsKeyArn,
            cloudwatchLoggingOptions: {
              enabled: true,
              logGroupName: logGroup.name,
              logStreamName: logStream.name,
            },
          },
        },
        // Firehose assumes the role when the stream is created: attach its policy first.
        { parent: this, dependsOn: [rolePolicy] },
      );
    };
    const archive = deliveryStream(args.archiveDeliveryStreamName, ArchivePrefix.logs);
    const errors = deliveryStream(args.archiveErrorDeliveryStreamName, ArchivePrefix.errors);

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.archiveDeliveryStreamName = archive.name;
    this.archiveDeliveryStreamArn = archive.arn;
    this.archiveErrorDeliveryStreamName = errors.name;
    this.archiveErrorDeliveryStreamArn = errors.arn;
    this.registerOutputs({
      bucketName: this.bucketName,
      archiveDeliveryStreamArn: this.archiveDeliveryStreamArn,
      archiveErrorDeliveryStreamArn: this.archiveErrorDeliveryStreamArn,
    });
  }
}

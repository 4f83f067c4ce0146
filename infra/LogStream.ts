import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { StreamMode, type StreamModeName } from './config.ts';
import { producerPolicy, toLeastPrivilegeJson } from './policies.ts';

/** Arguments of {@link LogStream}. */
export interface LogStreamArgs {
  /** Physical stream name, from `processors/schema.ts` `Names` (+ suffix). */
  streamName: string;
  mode: StreamModeName;
  /** Used in PROVISIONED mode only (ON_DEMAND scales by itself and rejects a shard count). */
  shardCount: number;
  retentionHours: number;
  kmsKeyArn: pulumi.Input<string>;
  /** Also create a managed policy producers attach to their roles to write to this stream. */
  producerPolicy?: { policyName: string; region: pulumi.Input<string> };
}

/**
 * A KMS-encrypted Kinesis data stream: the logs stream producers write to, or the metrics stream
 * that carries ingest's partial window summaries to detect.
 *
 * @example
 * const logs = new LogStream('logs', { streamName: 'tidewatch-logs', mode: 'ON_DEMAND', shardCount: 2,
 *   retentionHours: 24, kmsKeyArn: key.keyArn });
 */
export class LogStream extends pulumi.ComponentResource {
  readonly streamName: pulumi.Output<string>;
  readonly streamArn: pulumi.Output<string>;
  /** ARN of the producer policy, or undefined when none was asked for. */
  readonly producerPolicyArn: pulumi.Output<string> | undefined;

  constructor(name: string, args: LogStreamArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tidewatch:infra:LogStream', name, {}, opts);
    const provisioned = args.mode === StreamMode.provisioned;
    const stream = new aws.kinesis.Stream(
      name,
      {
        name: args.streamName,
        streamModeDetails: { streamMode: args.mode },
        ...(provisioned ? { shardCount: args.shardCount } : {}),
        retentionPeriod: args.retentionHours,
        encryptionType: 'KMS',
        kmsKeyId: args.kmsKeyArn,
      },
      { parent: this },
    );
    this.streamName = stream.name;
    this.streamArn = stream.arn;
    const producer = args.producerPolicy;
    this.producerPolicyArn =
      producer === undefined
        ? undefined
        : new aws.iam.Policy(
            `${name}-producer`,
            {
              name: producer.policyName,
              description: `put records on ${args.streamName} (tidewatch producers: SDK, Fluent Bit, agents)`,
              policy: pulumi
                .all([producer.region, stream.arn, args.kmsKeyArn])
                .apply(([region, logsStreamArn, keyArn]) =>
                  toLeastPrivilegeJson('producers', producerPolicy({ region, logsStreamArn, keyArn })),
                ),
            },
            { parent: this },
          ).arn;
    this.registerOutputs({
      streamName: this.streamName,
      streamArn: this.streamArn,
      producerPolicyArn: this.producerPolicyArn,
    });
  }
}

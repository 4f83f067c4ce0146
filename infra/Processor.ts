import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { LambdaRuntimeName, ProcessorSettings } from './config.ts';
import {
  type DetectPolicyInput,
  detectPolicy,
  type IngestPolicyInput,
  ingestPolicy,
  lambdaAssumeRolePolicy,
  toLeastPrivilegeJson,
} from './policies.ts';

/** ARNs the component creates itself; the rest of a policy's input comes from `grants`. */
type OwnArns = 'region' | 'keyArn' | 'logGroupArn' | 'failureQueueArn';
type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** What the function may touch beyond its own log group and on-failure queue, per stage. */
export type ProcessorGrants =
  | ({ stage: 'ingest' } & Inputs<Omit<IngestPolicyInput, OwnArns>>)
  | ({ stage: 'detect' } & Inputs<Omit<DetectPolicyInput, OwnArns>>);

/** The handler export of both bundles (`dist/<stage>/index.mjs`, built by `npm run build`). */
export const LambdaHandler = 'index.handler';
/** Graviton: about 20% cheaper per GB-second than x86_64 for the same work. */
export const LambdaArchitecture = 'arm64';
/** Lambda's partial-batch response: only failed sequence numbers are retried (DESIGN.md §3). */
export const ReportBatchItemFailures = 'ReportBatchItemFailures';
/** SQS maximum message retention (14 days): time to inspect and replay discarded batches. */
const failureRetentionSeconds = 14 * 24 * 3600;

/** Arguments of {@link Processor}. */
export interface ProcessorArgs {
  functionName: string;
  failureQueueName: string;
  /** The esbuild bundle directory as a FileArchive (see `lambdaCode`). */
  code: pulumi.asset.Archive;
  runtime: LambdaRuntimeName;
  settings: ProcessorSettings;
  failureHandling: { maxRetryAttempts: number; maxRecordAgeSeconds: number };
  logRetentionDays: number;
  /** Kinesis stream the event source mapping reads. */
  sourceStreamArn: pulumi.Input<string>;
  /** Handler environment, keyed by `processors/schema.ts` `EnvVar` names. */
  environment: Record<string, pulumi.Input<string>>;
  grants: ProcessorGrants;
  region: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
}

/**
 * One pipeline stage: a Lambda function with its own role (least privilege, built by
 * `infra/policies.ts`), its log group with retention, and the Kinesis event source mapping with
 * bounded failure handling — partial batch responses, bisect on error, bounded retries and record
 * age, and an encrypted SQS queue as on-failure destination, so a poison record costs at most
 * `maxRecordAgeSeconds` of one shard's progress instead of blocking it for the stream's retention.
 *
 * @example
 * const ingest = new Processor('ingest', { functionName: 'tidewatch-ingest', code: lambdaCode('ingest'),
 *   sourceStreamArn: logs.streamArn, grants: { stage: 'ingest', ... }, ... });
 */
export class Processor extends pulumi.ComponentResource {
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  readonly failureQueueName: pulumi.Output<string>;
  readonly failureQueueArn: pulumi.Output<string>;
  readonly eventSourceMappingUuid: pulumi.Output<string>;

  constructor(name: string, args: ProcessorArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tidewatch:infra:Processor', name, {}, opts);
    const parent = { parent: this };

    const logGroup = new aws.cloudwatch.LogGroup(
      name,
      {
        name: `/aws/lambda/${args.functionName}`,
        retentionInDays: args.logRetentionDays,
        kmsKeyId: args.kmsKeyArn,
      },
      parent,
    );

    const failureQueue = new aws.sqs.Queue(
      `${name}-failures`,
      {
        name: args.failureQueueName,
        kmsMasterKeyId: args.kmsKeyArn,
        messageRetentionSeconds: failureRetentionSeconds,
      },
      parent,
    );

    const role = new aws.iam.Role(
      name,
      {
        description: `execution role of ${args.functionName} (tidewatch)`,
        assumeRolePolicy: JSON.stringify(lambdaAssumeRolePolicy()),
      },
      parent,
    );

    const policy = pulumi
      .all([pulumi.output(args.grants), args.region, args.kmsKeyArn, logGroup.arn, failureQueue.arn])
      .apply(([grants, region, keyArn, logGroupArn, failureQueueArn]) => {
        const own = { region, keyArn, logGroupArn, failureQueueArn };
        const document =
          grants.stage === 'ingest'
            ? ingestPolicy({ ...grants, ...own })
            : detectPolicy({ ...grants, ...own });
        return toLeastPrivilegeJson(args.functionName, document);
      });
    const rolePolicy = new aws.iam.RolePolicy(name, { role: role.id, policy }, parent);

    const fn = new aws.lambda.Function(
      name,
      {
        name: args.functionName,
        role: role.arn,
        runtime: args.runtime,
        architectures: [LambdaArchitecture],
        handler: LambdaHandler,
        code: args.code,
        memorySize: args.settings.memoryMb,
        timeout: args.settings.timeoutSeconds,
        environment: {
          // The bundle ships a linked source map; this makes stack traces point at our TypeScript.
          variables: { ...args.environment, NODE_OPTIONS: '--enable-source-maps' },
        },
        loggingConfig: { logFormat: 'JSON', logGroup: logGroup.name },
      },
      // The log group must exist first (or Lambda creates one without retention or encryption).
      { parent: this, dependsOn: [logGroup, rolePolicy] },
    );

    const mapping = new aws.lambda.EventSourceMapping(
      name,
      {
        eventSourceArn: args.sourceStreamArn,
        functionName: fn.arn,
        // Everything still retained: at-least-once from the first record (DESIGN.md §3).
        startingPosition: 'TRIM_HORIZON',
        batchSize: args.settings.batchSize,
        maximumBatchingWindowInSeconds: args.settings.batchingWindowSeconds,
        parallelizationFactor: args.settings.parallelizationFactor,
        functionResponseTypes: [ReportBatchItemFailures],
        // Splitting does not consume retries and isolates a record that crashes the handler
        // (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html).
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: args.failureHandling.maxRetryAttempts,
        maximumRecordAgeInSeconds: args.failureHandling.maxRecordAgeSeconds,
        destinationConfig: { onFailure: { destinationArn: failureQueue.arn } },
      },
      // CreateEventSourceMapping checks that the role can read the stream: the policy must be attached.
      { parent: this, dependsOn: [rolePolicy] },
    );

    this.functionName = fn.name;
    this.functionArn = fn.arn;
    this.roleArn = role.arn;
    this.logGroupName = logGroup.name;
    this.failureQueueName = failureQueue.name;
    this.failureQueueArn = failureQueue.arn;
    this.eventSourceMappingUuid = mapping.uuid;
    this.registerOutputs({
      functionName: this.functionName,
      functionArn: this.functionArn,
      failureQueueArn: this.failureQueueArn,
    });
  }
}

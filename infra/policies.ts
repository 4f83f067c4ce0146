/**
 * Pure builders of every IAM and resource policy the stack attaches, plus the least-privilege check
 * the components run on them before deploying and the tests run on the whole program.
 *
 * Each builder takes plain ARN strings (components call them inside `pulumi.all(...).apply`) and
 * returns a policy document: only the actions the function calls, only on the ARNs it owns. The one
 * `"*"` resource an identity policy may hold is for actions AWS does not scope to a resource
 * (`AllowedStarResourceActions`).
 */
import { InfraError } from './errors.ts';

/** `Condition` block: operator → context key → value(s). */
export type PolicyCondition = Record<string, Record<string, string | string[]>>;

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: string | Record<string, string | string[]>;
  Action: string | string[];
  /** Absent only in trust policies. */
  Resource?: string | string[];
  Condition?: PolicyCondition;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/**
 * Actions AWS only authorizes on `"*"` (no resource type in
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazontimestream.html):
 * the Timestream SDK calls DescribeEndpoints for endpoint discovery before every WriteRecords and
 * query; the optional Grafana workspace role (infra/Dashboards.ts) also lists databases and runs
 * table-less `SELECT`s for template variables — read-only, account-level.
 */
export const AllowedStarResourceActions: readonly string[] = [
  'timestream:DescribeEndpoints',
  'timestream:ListDatabases',
  'timestream:SelectValues',
];

/** What the Kinesis event source mapping reads with the function's role (standard iterator, no EFO). */
export const KinesisConsumerActions = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
] as const;

/**
 * State store calls (processors/sinks/dynamoDbStateStore.ts): reads, conditional puts and deletes,
 * batches, plus UpdateItem and Query for checkpoint updates and per-series scans.
 */
export const StateTableActions = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:Query',
] as const;

const doc = (Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });

/** `kms:ViaService` restricts use of the stack key to calls a given AWS service makes for the caller. */
const viaService = (service: string, region: string): PolicyCondition => ({
  StringEquals: { 'kms:ViaService': `${service}.${region}.amazonaws.com` },
});

const logsStatement = (logGroupArn: string): PolicyStatement => ({
  Sid: 'WriteOwnLogs',
  Effect: 'Allow',
  // The log group is created by the stack, so CreateLogGroup is not granted.
  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  Resource: `${logGroupArn}:*`,
});

const onFailureStatements = (failureQueueArn: string, keyArn: string, region: string): PolicyStatement[] => [
  // The event source mapping sends discarded-batch records with the function's role
  // (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html).
  { Sid: 'SendOnFailure', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: failureQueueArn },
  {
    Sid: 'EncryptOnFailure',
    Effect: 'Allow',
    Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
    Resource: keyArn,
    Condition: viaService('sqs', region),
  },
];

/** Trust policy letting Lambda assume a function's execution role. */
export function lambdaAssumeRolePolicy(): PolicyDocument {
  return doc([
    {
      Effect: 'Allow',
      Principal: { Service: 'lambda.amazonaws.com' },
      Action: 'sts:AssumeRole',
    },
  ]);
}

/**
 * Trust policy for the Firehose delivery role; `sts:ExternalId` = account id is what the Firehose
 * docs recommend against the confused-deputy problem.
 */
export function firehoseAssumeRolePolicy(accountId: string): PolicyDocument {
  return doc([
    {
      Effect: 'Allow',
      Principal: { Service: 'firehose.amazonaws.com' },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': accountId } },
    },
  ]);
}

/** ARNs the ingest function touches. */
export interface IngestPolicyInput {
  region: string;
  logsStreamArn: string;
  metricsStreamArn: string;
  archiveDeliveryStreamArn: string;
  archiveErrorDeliveryStreamArn: string;
  stateTableArn: string;
  failureQueueArn: string;
  keyArn: string;
  logGroupArn: string;
}

/**
 * Ingest: read the logs stream, write partials to the metrics stream, archive raw lines and rejects
 * through Firehose, keep intent checkpoints in the state table.
 *
 * @example
 * JSON.stringify(ingestPolicy({ region: 'eu-west-1', logsStreamArn, metricsStreamArn, ... }));
 */
export function ingestPolicy(r: IngestPolicyInput): PolicyDocument {
  return doc([
    {
      Sid: 'ReadLogsStream',
      Effect: 'Allow',
      Action: [...KinesisConsumerActions],
      Resource: r.logsStreamArn,
    },
    { Sid: 'WritePartials', Effect: 'Allow', Action: ['kinesis:PutRecords'], Resource: r.metricsStreamArn },
    {
      // Kinesis server-side encryption: consumers need Decrypt, producers GenerateDataKey
      // (https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html).
      Sid: 'UseStreamKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: r.keyArn,
      Condition: viaService('kinesis', r.region),
    },
    {
      Sid: 'Archive',
      Effect: 'Allow',
      Action: ['firehose:PutRecordBatch'],
      Resource: [r.archiveDeliveryStreamArn, r.archiveErrorDeliveryStreamArn],
    },
    { Sid: 'StateTable', Effect: 'Allow', Action: [...StateTableActions], Resource: r.stateTableArn },
    ...onFailureStatements(r.failureQueueArn, r.keyArn, r.region),
    logsStatement(r.logGroupArn),
  ]);
}

/** ARNs the detect function touches. */
export interface DetectPolicyInput {
  region: string;
  metricsStreamArn: string;
  windowsTableArn: string;
  pipelineTableArn: string;
  stateTableArn: string;
  alertTopicArn: string;
  archiveErrorDeliveryStreamArn: string;
  failureQueueArn: string;
  keyArn: string;
  logGroupArn: string;
}

/**
 * Detect: read partials, write windows and pipeline health to Timestream, keep detector state,
 * publish alerts, archive rejected rows.
 *
 * @example
 * JSON.stringify(detectPolicy({ region: 'eu-west-1', metricsStreamArn, windowsTableArn, ... }));
 */
export function detectPolicy(r: DetectPolicyInput): PolicyDocument {
  return doc([
    {
      Sid: 'ReadMetricsStream',
      Effect: 'Allow',
      Action: [...KinesisConsumerActions],
      Resource: r.metricsStreamArn,
    },
    {
      Sid: 'ReadStreamKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: r.keyArn,
      Condition: viaService('kinesis', r.region),
    },
    {
      Sid: 'WriteTimeSeries',
      Effect: 'Allow',
      Action: ['timestream:WriteRecords'],
      Resource: [r.windowsTableArn, r.pipelineTableArn],
    },
    // Endpoint discovery: DescribeEndpoints has no resource-level permissions.
    {
      Sid: 'DiscoverTimestreamEndpoints',
      Effect: 'Allow',
      Action: ['timestream:DescribeEndpoints'],
      Resource: '*',
    },
    { Sid: 'StateTable', Effect: 'Allow', Action: [...StateTableActions], Resource: r.stateTableArn },
    { Sid: 'PublishAlerts', Effect: 'Allow', Action: ['sns:Publish'], Resource: r.alertTopicArn },
    {
      // Publishing to a KMS-encrypted topic needs GenerateDataKey and Decrypt on its key
      // (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
      Sid: 'EncryptAlerts',
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: r.keyArn,
      Condition: viaService('sns', r.region),
    },
    {
      Sid: 'ArchiveRejects',
      Effect: 'Allow',
      Action: ['firehose:PutRecordBatch'],
      Resource: r.archiveErrorDeliveryStreamArn,
    },
    ...onFailureStatements(r.failureQueueArn, r.keyArn, r.region),
    logsStatement(r.logGroupArn),
  ]);
}

/** ARNs the Firehose delivery role touches. */
export interface FirehosePolicyInput {
  region: string;
  bucketArn: string;
  keyArn: string;
  logGroupArn: string;
}

/**
 * Firehose → S3 delivery role, as the Firehose developer guide lists it for an S3 destination with
 * SSE-KMS (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3).
 *
 * @example
 * JSON.stringify(firehoseDeliveryPolicy({ region, bucketArn, keyArn, logGroupArn }));
 */
export function firehoseDeliveryPolicy(r: FirehosePolicyInput): PolicyDocument {
  return doc([
    {
      Sid: 'WriteArchive',
      Effect: 'Allow',
      Action: [
        's3:AbortMultipartUpload',
        's3:GetBucketLocation',
        's3:GetObject',
        's3:ListBucket',
        's3:ListBucketMultipartUploads',
        's3:PutObject',
      ],
      Resource: [r.bucketArn, `${r.bucketArn}/*`],
    },
    {
      Sid: 'EncryptArchive',
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: r.keyArn,
      Condition: viaService('s3', r.region),
    },
    {
      Sid: 'LogDeliveryErrors',
      Effect: 'Allow',
      Action: ['logs:PutLogEvents'],
      Resource: `${r.logGroupArn}:*`,
    },
  ]);
}

/** ARNs a log producer (a service using the SDK, a Fluent Bit sidecar) needs. */
export interface ProducerPolicyInput {
  region: string;
  logsStreamArn: string;
  keyArn: string;
}

/**
 * Managed policy for producers to attach to their own roles: put records on the logs stream
 * (encrypted with the stack key) and nothing else.
 *
 * @example
 * new aws.iam.RolePolicyAttachment('svc', { role: svcRole.name, policyArn: stack.producerPolicyArn });
 */
export function producerPolicy(r: ProducerPolicyInput): PolicyDocument {
  return doc([
    {
      Sid: 'PutLogs',
      Effect: 'Allow',
      Action: [
        'kinesis:PutRecord',
        'kinesis:PutRecords',
        'kinesis:DescribeStreamSummary',
        'kinesis:ListShards',
      ],
      Resource: r.logsStreamArn,
    },
    {
      Sid: 'EncryptLogs',
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey'],
      Resource: r.keyArn,
      Condition: viaService('kinesis', r.region),
    },
  ]);
}

/** Account facts the key policy needs. */
export interface KeyPolicyInput {
  partition: string;
  accountId: string;
  region: string;
}

/** Sid of the key-policy statement that hands control of the key to the account's IAM policies. */
export const KeyPolicyAccountSid = 'EnableIamPolicies';

/**
 * Policy of the stack's KMS key. In a key policy `Resource: "*"` means "this key" (KMS requires it).
 * The first statement is the AWS default key policy, without which IAM policies (including ours)
 * could not grant use of the key
 * (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html); the others let
 * CloudWatch publish alarms to the encrypted topic and CloudWatch Logs encrypt the log groups.
 *
 * @example
 * new aws.kms.Key('key', { policy: JSON.stringify(keyPolicy({ partition, accountId, region })) });
 */
export function keyPolicy(r: KeyPolicyInput): PolicyDocument {
  return doc([
    {
      Sid: KeyPolicyAccountSid,
      Effect: 'Allow',
      Principal: { AWS: `arn:${r.partition}:iam::${r.accountId}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
    {
      // CloudWatch alarms need these on the key of an encrypted SNS topic
      // (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger).
      Sid: 'CloudWatchAlarmsToEncryptedTopic',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: '*',
    },
    {
      // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
      Sid: 'CloudWatchLogsEncryption',
      Effect: 'Allow',
      Principal: { Service: `logs.${r.region}.amazonaws.com` },
      Action: [
        'kms:Encrypt',
        'kms:Decrypt',
        'kms:ReEncryptFrom',
        'kms:ReEncryptTo',
        'kms:GenerateDataKey',
        'kms:GenerateDataKeyWithoutPlaintext',
        'kms:DescribeKey',
      ],
      Resource: '*',
      Condition: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${r.partition}:logs:${r.region}:${r.accountId}:log-group:*`,
        },
      },
    },
  ]);
}

/**
 * Bucket policy: deny any request not made over TLS, and TLS older than 1.2
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html).
 *
 * @example
 * new aws.s3.BucketPolicy('tls', { bucket: b.id, policy: b.arn.apply((a) => JSON.stringify(tlsOnlyBucketPolicy(a))) });
 */
export function tlsOnlyBucketPolicy(bucketArn: string): PolicyDocument {
  const resources = [bucketArn, `${bucketArn}/*`];
  return doc([
    {
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: resources,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
    {
      Sid: 'DenyOutdatedTls',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: resources,
      Condition: { NumericLessThan: { 's3:TlsVersion': '1.2' } },
    },
  ]);
}

const asList = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

/**
 * Least-privilege violations of an identity policy: an `Allow` of action `*` or `service:*` (or any
 * wildcard), or of resource `*` for an action outside `AllowedStarResourceActions`. Deny statements
 * are not checked (a broad deny only narrows access).
 *
 * @example
 * findPolicyViolations(ingestPolicy(arns)); // []
 */
export function findPolicyViolations(policy: PolicyDocument): string[] {
  const violations: string[] = [];
  policy.Statement.forEach((s, i) => {
    if (s.Effect !== 'Allow') return;
    const where = s.Sid ?? `#${i}`;
    const actions = asList(s.Action);
    for (const a of actions) {
      if (a.includes('*')) violations.push(`${where}: wildcard action ${a}`);
    }
    for (const r of asList(s.Resource ?? [])) {
      if (r === '*' && !actions.every((a) => AllowedStarResourceActions.includes(a))) {
        violations.push(`${where}: resource "*" for ${actions.join(', ')}`);
      }
    }
  });
  return violations;
}

/**
 * Throws if `findPolicyViolations` finds anything: components call it on every identity policy so a
 * broadened policy fails `pulumi preview` instead of reaching the account.
 *
 * @example
 * const json = toLeastPrivilegeJson('ingest', ingestPolicy(arns));
 */
export function toLeastPrivilegeJson(owner: string, policy: PolicyDocument): string {
  const violations = findPolicyViolations(policy);
  if (violations.length > 0) {
    throw new InfraError(`policy of ${owner} is broader than least privilege: ${violations.join('; ')}`);
  }
  return JSON.stringify(policy);
}

/**
 * The whole Pulumi program (index.ts) run once against mocks with the default config — what a new
 * stack gets with no config at all — and the invariants of issue 8 asserted on what it registers.
 */
import type * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigDefaults, LambdaRuntime } from '../../infra/config.ts';
import { LocalOnlyEnvVars } from '../../infra/handlerEnvironment.ts';
import {
  AllowedStarResourceActions,
  findPolicyViolations,
  KeyPolicyAccountSid,
  type PolicyDocument,
} from '../../infra/policies.ts';
import { ArchivePrefix, EnvVar, Names, StateTable } from '../../processors/schema.ts';
import {
  type CapturedResource,
  installMocks,
  MockAccountId,
  MockRegion,
  resolved,
  settle,
} from './pulumiMocks.ts';

const T = {
  key: 'aws:kms/key:Key',
  stream: 'aws:kinesis/stream:Stream',
  fn: 'aws:lambda/function:Function',
  esm: 'aws:lambda/eventSourceMapping:EventSourceMapping',
  queue: 'aws:sqs/queue:Queue',
  logGroup: 'aws:cloudwatch/logGroup:LogGroup',
  role: 'aws:iam/role:Role',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  policy: 'aws:iam/policy:Policy',
  topic: 'aws:sns/topic:Topic',
  subscription: 'aws:sns/topicSubscription:TopicSubscription',
  alarm: 'aws:cloudwatch/metricAlarm:MetricAlarm',
  table: 'aws:dynamodb/table:Table',
  tsDatabase: 'aws:timestreamwrite/database:Database',
  tsTable: 'aws:timestreamwrite/table:Table',
  firehose: 'aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream',
  bucket: 'aws:s3/bucket:Bucket',
  publicAccessBlock: 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  bucketPolicy: 'aws:s3/bucketPolicy:BucketPolicy',
  bucketSse: 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  bucketLifecycle: 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  bucketOwnership: 'aws:s3/bucketOwnershipControls:BucketOwnershipControls',
} as const;

let captured: CapturedResource[] = [];
let program: Record<string, unknown> = {};
let extra: { provisioned: CapturedResource; onDemand: CapturedResource; subscriptions: CapturedResource[] };

const ofType = (type: string): CapturedResource[] => captured.filter((r) => r.type === type);
function one(type: string, name: string): CapturedResource {
  const found = captured.filter((r) => r.type === type && r.name === name);
  expect(found, `${type} ${name}`).toHaveLength(1);
  return found[0]!;
}
const arnOf = (type: string, name: string): string => one(type, name).state.arn as string;
const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];
const identityPolicies = (): { owner: string; doc: PolicyDocument }[] =>
  [...ofType(T.rolePolicy), ...ofType(T.policy)].map((r) => ({
    owner: r.name,
    doc: JSON.parse(r.inputs.policy),
  }));

beforeAll(async () => {
  // Prepare: mocks first, then the program (it registers resources as a side effect of importing).
  captured = await installMocks();
  program = await import('../../index.ts');
  // Components the default config does not exercise, in the same mocked run.
  const { LogStream } = await import('../../infra/LogStream.ts');
  const { Alerts } = await import('../../infra/Alerts.ts');
  new LogStream('extra-provisioned', {
    streamName: 'extra-provisioned',
    mode: 'PROVISIONED',
    shardCount: 4,
    retentionHours: 48,
    kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/extra',
  });
  new LogStream('extra-on-demand', {
    streamName: 'extra-on-demand',
    mode: 'ON_DEMAND',
    shardCount: 4,
    retentionHours: 24,
    kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/extra',
  });
  new Alerts('extra-alerts', {
    topicName: 'extra-alerts',
    kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/extra',
    emails: ['oncall@example.com', 'sre@example.com'],
    httpsEndpoints: ['https://hooks.example.com/tidewatch'],
  });
  // Act
  await settle();
  extra = {
    provisioned: one(T.stream, 'extra-provisioned'),
    onDemand: one(T.stream, 'extra-on-demand'),
    subscriptions: ofType(T.subscription).filter((s) => s.name.startsWith('extra-alerts')),
  };
  captured = captured.filter((r) => !r.name.startsWith('extra-'));
}, 120_000);

describe('the program with the default config', () => {
  it('builds with no config and names every resource as processors/schema.ts does', async () => {
    // Assess
    expect(
      ofType(T.stream)
        .map((s) => s.inputs.name)
        .sort(),
    ).toEqual([Names.logsStream, Names.metricsStream]);
    expect(
      ofType(T.firehose)
        .map((s) => s.inputs.name)
        .sort(),
    ).toEqual([Names.archiveDeliveryStream, Names.archiveErrorDeliveryStream].sort());
    expect(ofType(T.topic).map((s) => s.inputs.name)).toEqual([Names.alertTopic]);
    expect(ofType(T.table).map((s) => s.inputs.name)).toEqual([Names.stateTable]);
    expect(ofType(T.tsDatabase).map((s) => s.inputs.databaseName)).toEqual([Names.timestreamDatabase]);
    expect(
      ofType(T.tsTable)
        .map((s) => s.inputs.tableName)
        .sort(),
    ).toEqual([Names.pipelineTable, Names.windowsTable].sort());
    expect(
      ofType(T.fn)
        .map((s) => s.inputs.name)
        .sort(),
    ).toEqual([Names.detectFunction, Names.ingestFunction]);
    expect(await resolved(program.logsStreamName as pulumi.Output<string>)).toBe(Names.logsStream);
    expect(await resolved(program.metricsStreamName as pulumi.Output<string>)).toBe(Names.metricsStream);
  });

  it('exports what a user needs: streams, SDK config, archive bucket, dashboard URL', async () => {
    // Act
    const sdk = await resolved(program.sdkConfig as pulumi.Output<{ streamName: string; snippet: string }>);
    const bucket = await resolved(program.archiveBucket as pulumi.Output<string>);
    // Assess
    expect(await resolved(program.logsStreamArn as pulumi.Output<string>)).toBe(arnOf(T.stream, 'logs'));
    expect(await resolved(program.metricsStreamArn as pulumi.Output<string>)).toBe(
      arnOf(T.stream, 'metrics'),
    );
    expect(sdk).toMatchObject({ streamName: Names.logsStream, region: MockRegion });
    expect(sdk.snippet).toContain(
      `createShipper({"streamName":"${Names.logsStream}","region":"${MockRegion}"})`,
    );
    expect(bucket).toBe(one(T.bucket, 'archive').state.bucket);
    expect(await resolved(program.producerPolicyArn as pulumi.Output<string>)).toMatch(
      /:policy\/tidewatch-producer$/,
    );
    // No Grafana by default (config grafana.enabled = false).
    expect(program.dashboardUrl).toBeNull();
  });
});

describe('Lambda functions', () => {
  it('run a current Node runtime on arm64 from the esbuild bundle, with their own log group', async () => {
    for (const stage of ['ingest', 'detect'] as const) {
      // Prepare
      const fn = one(T.fn, stage);
      const logGroup = one(T.logGroup, stage);
      // Assess
      expect(Object.values(LambdaRuntime)).toContain(fn.inputs.runtime);
      expect(fn.inputs.architectures).toEqual(['arm64']);
      expect(fn.inputs.handler).toBe('index.handler');
      expect(await fn.inputs.code.path).toBe(`dist/${stage}`);
      expect(logGroup.inputs.name).toBe(`/aws/lambda/${fn.inputs.name}`);
      expect(logGroup.inputs.retentionInDays).toBe(ConfigDefaults.logRetentionDays);
      expect(fn.inputs.loggingConfig.logGroup).toBe(logGroup.inputs.name);
      expect(fn.inputs.memorySize).toBe(ConfigDefaults[`${stage}MemoryMb`]);
    }
  });

  it('get every handler environment variable of processors/schema.ts EnvVar', () => {
    // Prepare
    const expected = Object.values(EnvVar).filter((v) => !LocalOnlyEnvVars.includes(v));
    for (const stage of ['ingest', 'detect']) {
      const vars = one(T.fn, stage).inputs.environment.variables as Record<string, string>;
      // Assess
      for (const name of expected) expect(vars[name], `${stage} ${name}`).toBeTypeOf('string');
      expect(vars[EnvVar.timestreamEndpoint]).toBeUndefined();
      expect(vars).toMatchObject({
        [EnvVar.logsStream]: Names.logsStream,
        [EnvVar.metricsStream]: Names.metricsStream,
        [EnvVar.archiveDeliveryStream]: Names.archiveDeliveryStream,
        [EnvVar.archiveErrorDeliveryStream]: Names.archiveErrorDeliveryStream,
        [EnvVar.alertTopicArn]: arnOf(T.topic, 'alerts'),
        [EnvVar.stateTable]: Names.stateTable,
        [EnvVar.timestreamDatabase]: Names.timestreamDatabase,
        [EnvVar.windowsTable]: Names.windowsTable,
        [EnvVar.pipelineTable]: Names.pipelineTable,
        [EnvVar.windowMs]: String(ConfigDefaults.windowMs),
        [EnvVar.allowedLatenessMs]: String(ConfigDefaults.allowedLatenessMs),
        [EnvVar.idleSourceTimeoutMs]: String(ConfigDefaults.idleSourceTimeoutMs),
        [EnvVar.config]: '{}',
      });
    }
  });
});

describe('event source mappings', () => {
  it('every mapping reports partial failures, bisects, bounds retries and age, and has an on-failure queue', () => {
    // Prepare
    const mappings = ofType(T.esm);
    const queueArns = ofType(T.queue).map((q) => q.state.arn);
    expect(mappings).toHaveLength(2);
    for (const m of mappings) {
      // Assess
      expect(m.inputs.functionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(m.inputs.bisectBatchOnFunctionError).toBe(true);
      expect(m.inputs.maximumRetryAttempts).toBeGreaterThanOrEqual(0);
      expect(m.inputs.maximumRetryAttempts).toBe(ConfigDefaults.maxRetryAttempts);
      expect(m.inputs.maximumRecordAgeInSeconds).toBeGreaterThanOrEqual(60);
      expect(m.inputs.maximumRecordAgeInSeconds).toBeLessThan(ConfigDefaults.streamRetentionHours * 3600);
      expect(queueArns).toContain(m.inputs.destinationConfig.onFailure.destinationArn);
      expect(m.inputs.startingPosition).toBe('TRIM_HORIZON');
      expect(m.inputs.parallelizationFactor).toBeGreaterThanOrEqual(1);
      expect(m.inputs.maximumBatchingWindowInSeconds).toBeTypeOf('number');
    }
  });

  it('ingest reads the logs stream, detect the metrics stream, each with its own queue and settings', () => {
    // Prepare
    const ingest = one(T.esm, 'ingest');
    const detect = one(T.esm, 'detect');
    // Assess
    expect(ingest.inputs.eventSourceArn).toBe(arnOf(T.stream, 'logs'));
    expect(ingest.inputs.functionName).toBe(arnOf(T.fn, 'ingest'));
    expect(ingest.inputs.destinationConfig.onFailure.destinationArn).toBe(arnOf(T.queue, 'ingest-failures'));
    expect(ingest.inputs.batchSize).toBe(ConfigDefaults.ingestBatchSize);
    expect(detect.inputs.eventSourceArn).toBe(arnOf(T.stream, 'metrics'));
    expect(detect.inputs.functionName).toBe(arnOf(T.fn, 'detect'));
    expect(detect.inputs.destinationConfig.onFailure.destinationArn).toBe(arnOf(T.queue, 'detect-failures'));
    expect(detect.inputs.batchSize).toBe(ConfigDefaults.detectBatchSize);
  });
});

describe('encryption at rest everywhere', () => {
  it('uses the stack key (with rotation) for streams, topic, queues, state, Timestream, Firehose, S3 and logs', () => {
    // Prepare
    const key = one(T.key, 'key');
    const keyArn = key.state.arn;
    // Assess
    expect(key.inputs.enableKeyRotation).toBe(true);
    for (const s of ofType(T.stream))
      expect(s.inputs).toMatchObject({ encryptionType: 'KMS', kmsKeyId: keyArn });
    for (const t of ofType(T.topic)) expect(t.inputs.kmsMasterKeyId).toBe(keyArn);
    for (const q of ofType(T.queue)) expect(q.inputs.kmsMasterKeyId).toBe(keyArn);
    for (const g of ofType(T.logGroup)) expect(g.inputs.kmsKeyId).toBe(keyArn);
    for (const t of ofType(T.table))
      expect(t.inputs.serverSideEncryption).toEqual({ enabled: true, kmsKeyArn: keyArn });
    for (const d of ofType(T.tsDatabase)) expect(d.inputs.kmsKeyId).toBe(keyArn);
    for (const f of ofType(T.firehose)) {
      expect(f.inputs.serverSideEncryption).toEqual({
        enabled: true,
        keyType: 'CUSTOMER_MANAGED_CMK',
        keyArn,
      });
      expect(f.inputs.extendedS3Configuration.kmsKeyArn).toBe(keyArn);
    }
    for (const t of ofType(T.tsTable)) {
      const s3 = t.inputs.magneticStoreWriteProperties.magneticStoreRejectedDataLocation.s3Configuration;
      expect(s3.encryptionOption).toBe('SSE_S3');
    }
    const sse = one(T.bucketSse, 'archive').inputs.rules;
    expect(sse).toEqual([
      {
        applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: keyArn },
        bucketKeyEnabled: true,
      },
    ]);
  });

  it('has no data-holding resource type the encryption check above does not cover', () => {
    // A new resource type must be added to this list, with an encryption assertion if it holds data.
    const covered = new Set<string>(Object.values(T));
    for (const extraType of ['aws:kms/alias:Alias', 'aws:cloudwatch/logStream:LogStream'])
      covered.add(extraType);
    const custom = captured.filter((r) => r.custom).map((r) => r.type);
    expect(custom.filter((t) => !covered.has(t))).toEqual([]);
  });
});

describe('archive bucket and Firehose', () => {
  it('is private: public access block, owner-enforced objects, TLS-only policy', () => {
    // Prepare
    const bucket = one(T.bucket, 'archive');
    const policy = JSON.parse(one(T.bucketPolicy, 'archive').inputs.policy) as PolicyDocument;
    // Assess
    expect(one(T.publicAccessBlock, 'archive').inputs).toEqual({
      bucket: bucket.state.bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(one(T.bucketOwnership, 'archive').inputs.rule).toEqual({ objectOwnership: 'BucketOwnerEnforced' });
    expect(one(T.bucketPolicy, 'archive').inputs.bucket).toBe(bucket.state.bucket);
    const insecure = policy.Statement.find((s) => s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
    expect(insecure).toMatchObject({ Effect: 'Deny', Principal: '*', Action: 's3:*' });
    expect(insecure?.Resource).toEqual([bucket.state.arn, `${bucket.state.arn}/*`]);
  });

  it('is lifecycle-managed: Standard-IA transition, expiry, abandoned uploads aborted', () => {
    // Prepare
    const rules = one(T.bucketLifecycle, 'archive').inputs.rules;
    // Assess
    expect(rules).toEqual([
      {
        id: 'archive-retention',
        status: 'Enabled',
        filter: {},
        transitions: [{ days: ConfigDefaults.archiveTransitionDays, storageClass: 'STANDARD_IA' }],
        expiration: { days: ConfigDefaults.archiveExpirationDays },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
      },
    ]);
  });

  it('delivers gzip into hourly prefixes with an error-output prefix and configured buffering', () => {
    // Prepare
    const bucketArn = one(T.bucket, 'archive').state.arn;
    const prefixes: Record<string, string> = {
      [Names.archiveDeliveryStream]: ArchivePrefix.logs,
      [Names.archiveErrorDeliveryStream]: ArchivePrefix.errors,
    };
    for (const f of ofType(T.firehose)) {
      const s3 = f.inputs.extendedS3Configuration;
      // Assess
      expect(f.inputs.destination).toBe('extended_s3');
      expect(s3.bucketArn).toBe(bucketArn);
      expect(s3.compressionFormat).toBe('GZIP');
      expect(s3.prefix).toBe(`${prefixes[f.inputs.name]}!{timestamp:yyyy/MM/dd/HH}/`);
      expect(s3.errorOutputPrefix).toBe(
        `${ArchivePrefix.deliveryFailures}${f.inputs.name}/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/`,
      );
      expect(s3.bufferingSize).toBe(ConfigDefaults.archiveBufferingSizeMb);
      expect(s3.bufferingInterval).toBe(ConfigDefaults.archiveBufferingIntervalSeconds);
      expect(s3.roleArn).toBe(arnOf(T.role, 'archive-firehose'));
      expect(s3.cloudwatchLoggingOptions.enabled).toBe(true);
    }
    expect(prefixes[Names.archiveDeliveryStream]).toBe('logs/');
  });
});

describe('state, time series and alerts', () => {
  it('state table: key schema from schema.ts, on-demand, PITR, TTL', () => {
    // Prepare
    const table = one(T.table, 'state').inputs;
    // Assess
    expect(table).toMatchObject({
      billingMode: 'PAY_PER_REQUEST',
      hashKey: StateTable.partitionKey,
      attributes: [{ name: StateTable.partitionKey, type: 'S' }],
      pointInTimeRecovery: { enabled: true },
      ttl: { attributeName: StateTable.ttlAttribute, enabled: true },
    });
  });

  it('Timestream tables: retention by config, magnetic writes with rejected data in the archive bucket', () => {
    // Prepare
    const bucket = one(T.bucket, 'archive').state.bucket;
    for (const t of ofType(T.tsTable)) {
      // Assess
      expect(t.inputs.retentionProperties).toEqual({
        memoryStoreRetentionPeriodInHours: ConfigDefaults.timestreamMemoryRetentionHours,
        magneticStoreRetentionPeriodInDays: ConfigDefaults.timestreamMagneticRetentionDays,
      });
      const w = t.inputs.magneticStoreWriteProperties;
      expect(w.enableMagneticStoreWrites).toBe(true);
      expect(w.magneticStoreRejectedDataLocation.s3Configuration).toMatchObject({
        bucketName: bucket,
        objectKeyPrefix: `${ArchivePrefix.timestreamRejected}${t.inputs.tableName}/`,
      });
    }
  });

  it('has no subscriptions by default, and email/https subscriptions from config', () => {
    // Assess
    expect(ofType(T.subscription)).toEqual([]);
    expect(extra.subscriptions.map((s) => [s.inputs.protocol, s.inputs.endpoint]).sort()).toEqual([
      ['email', 'oncall@example.com'],
      ['email', 'sre@example.com'],
      ['https', 'https://hooks.example.com/tidewatch'],
    ]);
  });

  it('wires every alarm to the alert topic, for alarm and for recovery', () => {
    // Prepare
    const topicArn = arnOf(T.topic, 'alerts');
    const alarms = ofType(T.alarm);
    // Assess
    expect(alarms.length).toBeGreaterThan(0);
    for (const a of alarms) {
      expect(a.inputs.alarmActions, a.name).toEqual([topicArn]);
      expect(a.inputs.okActions, a.name).toEqual([topicArn]);
      expect(a.inputs.treatMissingData).toBe('notBreaching');
    }
  });

  it('alarms on iterator age, errors and throttles per function, queue depth, Firehose delivery', () => {
    // Prepare
    const watched = ofType(T.alarm).map(
      (a) => `${a.inputs.namespace} ${a.inputs.metricName} ${Object.values(a.inputs.dimensions)[0]}`,
    );
    // Assess
    for (const fn of [Names.ingestFunction, Names.detectFunction]) {
      for (const metric of ['IteratorAge', 'Errors', 'Throttles'])
        expect(watched).toContain(`AWS/Lambda ${metric} ${fn}`);
    }
    for (const q of ofType(T.queue)) {
      expect(watched).toContain(`AWS/SQS ApproximateNumberOfMessagesVisible ${q.inputs.name}`);
    }
    for (const f of [Names.archiveDeliveryStream, Names.archiveErrorDeliveryStream]) {
      expect(watched).toContain(`AWS/Firehose DeliveryToS3.Success ${f}`);
      expect(watched).toContain(`AWS/Firehose DeliveryToS3.DataFreshness ${f}`);
    }
    const iteratorAge = ofType(T.alarm).find((a) => a.inputs.metricName === 'IteratorAge');
    expect(iteratorAge?.inputs.threshold).toBe(ConfigDefaults.alarmIteratorAgeMs);
  });
});

describe('least privilege', () => {
  it('gives each function its own role with one inline policy, and no managed policies at all', () => {
    // Prepare
    const ingestRole = one(T.fn, 'ingest').inputs.role;
    const detectRole = one(T.fn, 'detect').inputs.role;
    // Assess
    expect(ingestRole).not.toBe(detectRole);
    expect(
      ofType(T.rolePolicy)
        .map((p) => p.inputs.role)
        .sort(),
    ).toEqual(
      ofType(T.role)
        .map((r) => `${r.name}-id`)
        .sort(),
    );
    for (const r of ofType(T.role)) expect(r.inputs.managedPolicyArns ?? []).toEqual([]);
    expect(captured.filter((r) => r.type.includes('PolicyAttachment'))).toEqual([]);
    expect(JSON.stringify(captured.map((r) => r.inputs))).not.toMatch(/FullAccess/);
  });

  it('has no IAM action "*" or "service:*" and no "*" resource outside the allowed list', () => {
    // Prepare
    const policies = identityPolicies();
    expect(policies.map((p) => p.owner).sort()).toEqual([
      'archive-firehose',
      'detect',
      'ingest',
      'logs-producer',
    ]);
    for (const { owner, doc } of policies) {
      // Assess
      expect(findPolicyViolations(doc), owner).toEqual([]);
      for (const s of doc.Statement) {
        for (const a of list(s.Action)) expect(a, owner).not.toMatch(/^\*$|:\*$/);
        if (list(s.Resource).includes('*')) {
          expect(
            list(s.Action).every((a) => AllowedStarResourceActions.includes(a)),
            owner,
          ).toBe(true);
        }
      }
    }
  });

  it('names only ARNs of this stack in identity policies', () => {
    // Prepare
    const stackArns = new Set(
      captured.map((r) => r.state.arn).filter((a): a is string => typeof a === 'string'),
    );
    for (const { owner, doc } of identityPolicies()) {
      for (const s of doc.Statement) {
        for (const r of list(s.Resource)) {
          if (r === '*') continue;
          // Assess: an ARN of a resource created here, or its sub-resources (`:*` log streams, `/*` objects).
          expect(stackArns.has(r.replace(/(:\*|\/\*)$/, '')), `${owner}: ${r}`).toBe(true);
        }
      }
    }
  });

  it('keeps kms:* to the account root statement of the key policy', () => {
    // Prepare
    const policy = JSON.parse(one(T.key, 'key').inputs.policy) as PolicyDocument;
    const wildcard = policy.Statement.filter((s) => list(s.Action).some((a) => a.includes('*')));
    // Assess
    expect(wildcard.map((s) => [s.Sid, s.Principal])).toEqual([
      [KeyPolicyAccountSid, { AWS: `arn:aws:iam::${MockAccountId}:root` }],
    ]);
  });

  it('trusts only Lambda for function roles and only Firehose (this account) for the archive role', () => {
    for (const r of ofType(T.role)) {
      const trust = JSON.parse(r.inputs.assumeRolePolicy) as PolicyDocument;
      const principals = trust.Statement.map((s) => s.Principal);
      expect(principals).toEqual([
        { Service: r.name === 'archive-firehose' ? 'firehose.amazonaws.com' : 'lambda.amazonaws.com' },
      ]);
    }
  });
});

describe('components outside the default config', () => {
  it('PROVISIONED streams get a shard count, ON_DEMAND streams none', () => {
    expect(extra.provisioned.inputs).toMatchObject({
      streamModeDetails: { streamMode: 'PROVISIONED' },
      shardCount: 4,
      retentionPeriod: 48,
    });
    expect(extra.onDemand.inputs.streamModeDetails).toEqual({ streamMode: 'ON_DEMAND' });
    expect(extra.onDemand.inputs.shardCount).toBeUndefined();
  });
});

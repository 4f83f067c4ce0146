import { describe, expect, it } from 'vitest';
import { InfraError } from '../../infra/errors.ts';
import {
  AllowedStarResourceActions,
  detectPolicy,
  findPolicyViolations,
  firehoseAssumeRolePolicy,
  firehoseDeliveryPolicy,
  ingestPolicy,
  KeyPolicyAccountSid,
  keyPolicy,
  lambdaAssumeRolePolicy,
  type PolicyDocument,
  type PolicyStatement,
  producerPolicy,
  tlsOnlyBucketPolicy,
  toLeastPrivilegeJson,
} from '../../infra/policies.ts';

const region = 'eu-west-1';
const acct = '123456789012';
const arn = {
  logs: `arn:aws:kinesis:${region}:${acct}:stream/tidewatch-logs`,
  metrics: `arn:aws:kinesis:${region}:${acct}:stream/tidewatch-metrics`,
  archive: `arn:aws:firehose:${region}:${acct}:deliverystream/tidewatch-archive`,
  archiveErrors: `arn:aws:firehose:${region}:${acct}:deliverystream/tidewatch-archive-errors`,
  state: `arn:aws:dynamodb:${region}:${acct}:table/tidewatch-state`,
  queue: `arn:aws:sqs:${region}:${acct}:tidewatch-ingest-failures`,
  key: `arn:aws:kms:${region}:${acct}:key/k`,
  logGroup: `arn:aws:logs:${region}:${acct}:log-group:/aws/lambda/tidewatch-ingest`,
  windows: `arn:aws:timestream:${region}:${acct}:database/tidewatch/table/windows`,
  pipeline: `arn:aws:timestream:${region}:${acct}:database/tidewatch/table/pipeline`,
  topic: `arn:aws:sns:${region}:${acct}:tidewatch-alerts`,
  bucket: 'arn:aws:s3:::tidewatch-archive-abc',
};

const ingest = (): PolicyDocument =>
  ingestPolicy({
    region,
    logsStreamArn: arn.logs,
    metricsStreamArn: arn.metrics,
    archiveDeliveryStreamArn: arn.archive,
    archiveErrorDeliveryStreamArn: arn.archiveErrors,
    stateTableArn: arn.state,
    failureQueueArn: arn.queue,
    keyArn: arn.key,
    logGroupArn: arn.logGroup,
  });
const detect = (): PolicyDocument =>
  detectPolicy({
    region,
    metricsStreamArn: arn.metrics,
    windowsTableArn: arn.windows,
    pipelineTableArn: arn.pipeline,
    stateTableArn: arn.state,
    alertTopicArn: arn.topic,
    archiveErrorDeliveryStreamArn: arn.archiveErrors,
    failureQueueArn: arn.queue,
    keyArn: arn.key,
    logGroupArn: arn.logGroup,
  });

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** Resources on which `action` is allowed, across all Allow statements. */
function allowedOn(policy: PolicyDocument, action: string): string[] {
  return policy.Statement.filter((s) => s.Effect === 'Allow' && list(s.Action).includes(action)).flatMap(
    (s) => list(s.Resource),
  );
}
const actionsOf = (policy: PolicyDocument): Set<string> =>
  new Set(policy.Statement.flatMap((s: PolicyStatement) => list(s.Action)));

describe('identity policies', () => {
  it.each([
    ['ingest', ingest],
    ['detect', detect],
    [
      'firehose',
      () =>
        firehoseDeliveryPolicy({ region, bucketArn: arn.bucket, keyArn: arn.key, logGroupArn: arn.logGroup }),
    ],
    ['producer', () => producerPolicy({ region, logsStreamArn: arn.logs, keyArn: arn.key })],
  ])('%s has no wildcard action and no "*" resource outside the allowed list', (_name, build) => {
    // Act
    const policy = build();
    // Assess
    expect(findPolicyViolations(policy)).toEqual([]);
    for (const s of policy.Statement) {
      expect(s.Effect).toBe('Allow');
      for (const a of list(s.Action)) expect(a).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
    }
  });

  it('ingest reads only the logs stream and writes only partials, archive and state', () => {
    // Act
    const policy = ingest();
    // Assess
    expect(allowedOn(policy, 'kinesis:GetRecords')).toEqual([arn.logs]);
    expect(allowedOn(policy, 'kinesis:PutRecords')).toEqual([arn.metrics]);
    expect(allowedOn(policy, 'firehose:PutRecordBatch').sort()).toEqual(
      [arn.archive, arn.archiveErrors].sort(),
    );
    expect(allowedOn(policy, 'dynamodb:PutItem')).toEqual([arn.state]);
    expect(allowedOn(policy, 'sqs:SendMessage')).toEqual([arn.queue]);
    expect(allowedOn(policy, 'logs:PutLogEvents')).toEqual([`${arn.logGroup}:*`]);
    const actions = actionsOf(policy);
    for (const forbidden of [
      'sns:Publish',
      'timestream:WriteRecords',
      'kinesis:PutRecord',
      'logs:CreateLogGroup',
    ]) {
      expect(actions.has(forbidden), forbidden).toBe(false);
    }
  });

  it('detect reads only the metrics stream and cannot write streams or the raw archive', () => {
    // Act
    const policy = detect();
    // Assess
    expect(allowedOn(policy, 'kinesis:GetRecords')).toEqual([arn.metrics]);
    expect(allowedOn(policy, 'timestream:WriteRecords').sort()).toEqual([arn.pipeline, arn.windows].sort());
    expect(allowedOn(policy, 'timestream:DescribeEndpoints')).toEqual(['*']);
    expect(allowedOn(policy, 'sns:Publish')).toEqual([arn.topic]);
    expect(allowedOn(policy, 'firehose:PutRecordBatch')).toEqual([arn.archiveErrors]);
    const actions = actionsOf(policy);
    for (const forbidden of ['kinesis:PutRecords', 'kinesis:PutRecord', 'kms:Encrypt']) {
      expect(actions.has(forbidden), forbidden).toBe(false);
    }
  });

  it('limits key use to the services each function calls (kms:ViaService)', () => {
    for (const policy of [ingest(), detect()]) {
      for (const s of policy.Statement.filter((x) => list(x.Action).some((a) => a.startsWith('kms:')))) {
        expect(s.Resource).toBe(arn.key);
        expect(s.Condition?.StringEquals?.['kms:ViaService']).toMatch(
          /^(kinesis|sqs|sns)\.eu-west-1\.amazonaws\.com$/,
        );
      }
    }
  });

  it('lets only Lambda and Firehose assume the roles, Firehose only for this account', () => {
    // Act
    const lambda = lambdaAssumeRolePolicy();
    const firehose = firehoseAssumeRolePolicy(acct);
    // Assess
    expect(lambda.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(firehose.Statement[0]?.Condition).toEqual({ StringEquals: { 'sts:ExternalId': acct } });
  });
});

describe('findPolicyViolations', () => {
  it.each([
    [{ Effect: 'Allow', Action: '*', Resource: arn.logs }, 'wildcard action *'],
    [{ Effect: 'Allow', Action: ['kinesis:*'], Resource: arn.logs }, 'wildcard action kinesis:*'],
    [{ Effect: 'Allow', Action: ['kinesis:Get*'], Resource: arn.logs }, 'wildcard action kinesis:Get*'],
    [
      { Effect: 'Allow', Action: ['kinesis:GetRecords'], Resource: '*' },
      'resource "*" for kinesis:GetRecords',
    ],
    [
      {
        Effect: 'Allow',
        Action: ['timestream:DescribeEndpoints', 'timestream:WriteRecords'],
        Resource: ['*'],
      },
      'resource "*" for timestream:DescribeEndpoints, timestream:WriteRecords',
    ],
  ] as [PolicyStatement, string][])('flags %j', (statement, expected) => {
    // Act
    const violations = findPolicyViolations({ Version: '2012-10-17', Statement: [statement] });
    // Assess
    expect(violations).toEqual([`#0: ${expected}`]);
  });

  it('allows "*" only for the actions AWS requires it for, and ignores Deny statements', () => {
    // Prepare
    const policy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: [...AllowedStarResourceActions], Resource: '*' },
        { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*' },
      ],
    };
    // Act / Assess
    expect(findPolicyViolations(policy)).toEqual([]);
  });

  it('toLeastPrivilegeJson refuses a broad policy and serializes a narrow one', () => {
    // Prepare
    const broad: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'Everything', Effect: 'Allow', Action: 's3:*', Resource: '*' }],
    };
    // Act / Assess
    expect(() => toLeastPrivilegeJson('test', broad)).toThrow(InfraError);
    expect(() => toLeastPrivilegeJson('test', broad)).toThrow(/Everything: wildcard action s3:\*/);
    expect(JSON.parse(toLeastPrivilegeJson('ingest', ingest()))).toEqual(ingest());
  });
});

describe('resource policies', () => {
  it('bucket policy denies non-TLS and pre-1.2 TLS requests on the bucket and its objects', () => {
    // Act
    const policy = tlsOnlyBucketPolicy(arn.bucket);
    // Assess
    expect(policy.Statement).toHaveLength(2);
    for (const s of policy.Statement) {
      expect(s.Effect).toBe('Deny');
      expect(s.Principal).toBe('*');
      expect(s.Resource).toEqual([arn.bucket, `${arn.bucket}/*`]);
    }
    expect(policy.Statement[0]?.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    expect(policy.Statement[1]?.Condition).toEqual({ NumericLessThan: { 's3:TlsVersion': '1.2' } });
  });

  it('key policy: only the account root gets kms:*, services get named actions', () => {
    // Act
    const policy = keyPolicy({ partition: 'aws', accountId: acct, region });
    // Assess
    const wildcard = policy.Statement.filter((s) => list(s.Action).some((a) => a.includes('*')));
    expect(wildcard).toEqual([
      {
        Sid: KeyPolicyAccountSid,
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${acct}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ]);
    const services = policy.Statement.flatMap((s) =>
      typeof s.Principal === 'object' ? list(s.Principal.Service) : [],
    );
    expect(services.sort()).toEqual(['cloudwatch.amazonaws.com', `logs.${region}.amazonaws.com`]);
  });
});

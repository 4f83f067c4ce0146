/**
 * Pulumi mocks for the infra tests: every resource registration is captured (type, logical name,
 * resolved inputs) and answered with plausible ARNs, so policies and wiring can be asserted on the
 * exact strings AWS would see. Call `installMocks()` BEFORE importing any module that creates
 * resources, then `settle()` to wait until every registration has happened.
 */
import * as pulumi from '@pulumi/pulumi';

export const MockAccountId = '123456789012';
export const MockRegion = 'eu-west-1';
export const MockPartition = 'aws';

export interface CapturedResource {
  type: string;
  name: string;
  custom: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: resolved Pulumi inputs are untyped JSON.
  inputs: Record<string, any>;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  state: Record<string, any>;
}

const arnPrefix = (service: string): string =>
  `arn:${MockPartition}:${service}:${MockRegion}:${MockAccountId}`;

// biome-ignore lint/suspicious/noExplicitAny: resolved Pulumi inputs are untyped JSON.
function outputsFor(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (type) {
    case 'aws:kms/key:Key':
      return { arn: `${arnPrefix('kms')}:key/${name}-key-id`, keyId: `${name}-key-id` };
    case 'aws:kinesis/stream:Stream':
      return { arn: `${arnPrefix('kinesis')}:stream/${inputs.name}` };
    case 'aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream':
      return { arn: `${arnPrefix('firehose')}:deliverystream/${inputs.name}` };
    case 'aws:s3/bucket:Bucket': {
      const bucket = inputs.bucket ?? `${inputs.bucketPrefix ?? name}0123abcd`;
      return { bucket, arn: `arn:${MockPartition}:s3:::${bucket}` };
    }
    case 'aws:timestreamwrite/database:Database':
      return { arn: `${arnPrefix('timestream')}:database/${inputs.databaseName}` };
    case 'aws:timestreamwrite/table:Table':
      return { arn: `${arnPrefix('timestream')}:database/${inputs.databaseName}/table/${inputs.tableName}` };
    case 'aws:dynamodb/table:Table':
      return { arn: `${arnPrefix('dynamodb')}:table/${inputs.name}` };
    case 'aws:sns/topic:Topic':
      return { arn: `${arnPrefix('sns')}:${inputs.name}` };
    case 'aws:sqs/queue:Queue':
      return {
        arn: `${arnPrefix('sqs')}:${inputs.name}`,
        url: `https://sqs.${MockRegion}.amazonaws.com/${MockAccountId}/${inputs.name}`,
      };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { arn: `${arnPrefix('logs')}:log-group:${inputs.name}` };
    case 'aws:iam/role:Role':
      return { arn: `arn:${MockPartition}:iam::${MockAccountId}:role/${name}` };
    case 'aws:iam/policy:Policy':
      return { arn: `arn:${MockPartition}:iam::${MockAccountId}:policy/${inputs.name ?? name}` };
    case 'aws:lambda/function:Function':
      return { arn: `${arnPrefix('lambda')}:function:${inputs.name}` };
    case 'aws:lambda/eventSourceMapping:EventSourceMapping':
      return { uuid: `${name}-uuid` };
    case 'aws:grafana/workspace:Workspace':
      return {
        arn: `${arnPrefix('grafana')}:/workspaces/g-mock`,
        endpoint: `g-mock.grafana-workspace.${MockRegion}.amazonaws.com`,
      };
    case 'aws:grafana/workspaceServiceAccount:WorkspaceServiceAccount':
      return { serviceAccountId: `${name}-sa` };
    case 'aws:grafana/workspaceServiceAccountToken:WorkspaceServiceAccountToken':
      return { key: 'glsa_mock' };
    default:
      return { arn: `${arnPrefix('mock')}:${type}/${name}` };
  }
}

/**
 * Installs the mocks and returns the (live) list every registration is appended to. `config` sets
 * project config keys (`tidewatch:<key>`) as `pulumi config set` would, before the program reads them.
 */
export async function installMocks(config: Record<string, string> = {}): Promise<CapturedResource[]> {
  const captured: CapturedResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state = { ...args.inputs, ...outputsFor(args.type, args.name, args.inputs) };
        captured.push({
          type: args.type,
          name: args.name,
          custom: args.custom ?? true,
          inputs: args.inputs,
          state,
        });
        const id = args.type === 'aws:s3/bucket:Bucket' ? (state.bucket as string) : `${args.name}-id`;
        return { id, state };
      },
      call(args) {
        switch (args.token) {
          case 'aws:index/getCallerIdentity:getCallerIdentity':
            return {
              accountId: MockAccountId,
              arn: `arn:${MockPartition}:iam::${MockAccountId}:user/deployer`,
              userId: 'AIDAMOCK',
              id: MockAccountId,
            };
          case 'aws:index/getRegion:getRegion':
            return {
              region: MockRegion,
              name: MockRegion,
              id: MockRegion,
              description: 'mock',
              endpoint: 'mock',
            };
          case 'aws:index/getPartition:getPartition':
            return { partition: MockPartition, dnsSuffix: 'amazonaws.com', id: MockPartition };
          default:
            throw new Error(`unmocked call ${args.token}`);
        }
      },
    },
    'tidewatch',
    'test',
    // A preview: a missing Lambda bundle is a warning, as in `pulumi preview` before `npm run build`.
    true,
  );
  for (const [key, value] of Object.entries(config)) pulumi.runtime.setConfig(`tidewatch:${key}`, value);
  return captured;
}

/**
 * Resolves once every resource registration started so far (and those they trigger) has completed;
 * rejects after `timeoutMs` (a registration whose inputs failed never completes — see the errors above).
 */
export async function settle(timeoutMs = 60_000): Promise<void> {
  // `waitForRPCs` is what `pulumi.runtime.disconnect()` awaits before disconnecting; call it without
  // disconnecting so more resources can still be created afterwards.
  const runtime = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  if (runtime.waitForRPCs === undefined)
    throw new Error('@pulumi/pulumi no longer exposes runtime.waitForRPCs');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`resource registrations did not settle in ${timeoutMs} ms: see the errors above`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([runtime.waitForRPCs(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The value of an Output, for asserting on stack exports. */
export function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => {
    output.apply((v) => {
      resolve(v);
      return v;
    });
  });
}

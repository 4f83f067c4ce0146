/**
 * tidewatch on AWS: stack config → infra components → stack outputs. No logic lives here: every
 * decision is in `infra/` (components, pure policy and alarm builders) and is unit-tested there.
 *
 * Build the handler bundles first (`npm run build`), then `pulumi up`; see docs/deploy.md.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { Alarms, pipelineAlarmSpecs } from './infra/Alarms.ts';
import { Alerts } from './infra/Alerts.ts';
import { Archive } from './infra/Archive.ts';
import { readStackConfig } from './infra/config.ts';
import { DataKey } from './infra/DataKey.ts';
import { handlerEnvironment } from './infra/handlerEnvironment.ts';
import { LogStream } from './infra/LogStream.ts';
import { lambdaCode } from './infra/lambdaCode.ts';
import { MetricsStore } from './infra/MetricsStore.ts';
import { Processor } from './infra/Processor.ts';
import { StateStore } from './infra/StateStore.ts';
import { sdkConfigSnippet } from './infra/sdkConfig.ts';
import { ArchivePrefix } from './processors/schema.ts';

const cfg = readStackConfig(new pulumi.Config());
const { names } = cfg;

const accountId = aws.getCallerIdentityOutput().accountId;
const region = aws.getRegionOutput().region;
const partition = aws.getPartitionOutput().partition;

const key = new DataKey('key', { alias: names.keyAlias, partition, accountId, region });
const kmsKeyArn = key.keyArn;

const logs = new LogStream('logs', {
  streamName: names.logsStream,
  mode: cfg.streams.mode,
  shardCount: cfg.streams.logsShardCount,
  retentionHours: cfg.streams.retentionHours,
  kmsKeyArn,
  producerPolicy: { policyName: names.producerPolicy, region },
});
const metrics = new LogStream('metrics', {
  streamName: names.metricsStream,
  mode: cfg.streams.mode,
  shardCount: cfg.streams.metricsShardCount,
  retentionHours: cfg.streams.retentionHours,
  kmsKeyArn,
});

const archive = new Archive('archive', {
  archiveDeliveryStreamName: names.archiveDeliveryStream,
  archiveErrorDeliveryStreamName: names.archiveErrorDeliveryStream,
  ...cfg.archive,
  logRetentionDays: cfg.lambda.logRetentionDays,
  kmsKeyArn,
  accountId,
  region,
});

const store = new MetricsStore('timestream', {
  databaseName: names.timestreamDatabase,
  windowsTable: names.windowsTable,
  pipelineTable: names.pipelineTable,
  ...cfg.timestream,
  kmsKeyArn,
  rejectedData: { bucketName: archive.bucketName, objectKeyPrefix: ArchivePrefix.timestreamRejected },
});

const state = new StateStore('state', { tableName: names.stateTable, kmsKeyArn });

const alerts = new Alerts('alerts', {
  topicName: names.alertTopic,
  kmsKeyArn,
  emails: cfg.alerts.emails,
  httpsEndpoints: cfg.alerts.httpsEndpoints,
});

const environment = handlerEnvironment({
  logsStream: logs.streamName,
  metricsStream: metrics.streamName,
  archiveDeliveryStream: archive.archiveDeliveryStreamName,
  archiveErrorDeliveryStream: archive.archiveErrorDeliveryStreamName,
  alertTopicArn: alerts.topicArn,
  stateTable: state.tableName,
  timestreamDatabase: store.databaseName,
  windowsTable: store.windowsTableName,
  pipelineTable: store.pipelineTableName,
  ...cfg.processing,
});
const lambdaCommon = {
  runtime: cfg.lambda.runtime,
  logRetentionDays: cfg.lambda.logRetentionDays,
  failureHandling: cfg.failureHandling,
  environment,
  region,
  kmsKeyArn,
};

const ingest = new Processor('ingest', {
  ...lambdaCommon,
  functionName: names.ingestFunction,
  failureQueueName: names.ingestFailureQueue,
  code: lambdaCode('ingest'),
  settings: cfg.ingest,
  sourceStreamArn: logs.streamArn,
  grants: {
    stage: 'ingest',
    logsStreamArn: logs.streamArn,
    metricsStreamArn: metrics.streamArn,
    archiveDeliveryStreamArn: archive.archiveDeliveryStreamArn,
    archiveErrorDeliveryStreamArn: archive.archiveErrorDeliveryStreamArn,
    stateTableArn: state.tableArn,
  },
});

const detect = new Processor('detect', {
  ...lambdaCommon,
  functionName: names.detectFunction,
  failureQueueName: names.detectFailureQueue,
  code: lambdaCode('detect'),
  settings: cfg.detect,
  sourceStreamArn: metrics.streamArn,
  grants: {
    stage: 'detect',
    metricsStreamArn: metrics.streamArn,
    windowsTableArn: store.windowsTableArn,
    pipelineTableArn: store.pipelineTableArn,
    stateTableArn: state.tableArn,
    alertTopicArn: alerts.topicArn,
    archiveErrorDeliveryStreamArn: archive.archiveErrorDeliveryStreamArn,
  },
});

new Alarms('alarms', {
  alertTopicArn: alerts.topicArn,
  specs: pipelineAlarmSpecs({
    processors: [
      { functionName: names.ingestFunction, failureQueueName: names.ingestFailureQueue },
      { functionName: names.detectFunction, failureQueueName: names.detectFailureQueue },
    ],
    deliveryStreams: [names.archiveDeliveryStream, names.archiveErrorDeliveryStream].map((name) => ({
      name,
      bufferingIntervalSeconds: cfg.archive.bufferingIntervalSeconds,
    })),
    iteratorAgeMs: cfg.alerts.iteratorAgeMs,
  }),
});

// Optional dashboards (config `grafana.enabled`, default false), in one of three modes
// (`grafana.mode`): an Amazon Managed Grafana workspace with the Timestream data source, dashboards
// and alert rules; the same into an existing Grafana (`grafana.url`, secret `grafana.auth`); or only
// the dashboard JSON as a stack output. Loaded only when enabled, so a stack without Grafana does not
// load the Grafana provider SDK or the dashboard generators.
const grafanaConfig = cfg.grafana;
const dashboards = grafanaConfig.enabled
  ? new (await import('./infra/Dashboards.ts')).Dashboards('dashboards', {
      mode: grafanaConfig.mode,
      workspaceName: names.grafanaWorkspace,
      ...(grafanaConfig.mode === 'existing'
        ? { grafanaUrl: grafanaConfig.url, grafanaAuth: new pulumi.Config().requireSecret('grafana.auth') }
        : {}),
      databaseName: store.databaseName,
      windowsTableName: store.windowsTableName,
      pipelineTableName: store.pipelineTableName,
      databaseArn: store.databaseArn,
      windowMs: cfg.processing.windowMs,
      region,
      accountId,
    })
  : undefined;
/** Dashboard JSON by file name, with this stack's Timestream names (import it into any Grafana). */
export const dashboardJson: pulumi.Output<Record<string, string>> | null = dashboards?.dashboardJson ?? null;
export const dashboardUrl: pulumi.Output<string | undefined> | null = dashboards?.url ?? null;

export const logsStreamName = logs.streamName;
export const logsStreamArn = logs.streamArn;
export const metricsStreamName = metrics.streamName;
export const metricsStreamArn = metrics.streamArn;
export const producerPolicyArn = logs.producerPolicyArn;
export const sdkConfig = pulumi
  .all([logs.streamName, region])
  .apply(([streamName, r]) => sdkConfigSnippet({ streamName, region: r }));
export const archiveBucket = archive.bucketName;
export const archiveDeliveryStream = archive.archiveDeliveryStreamName;
export const archiveErrorDeliveryStream = archive.archiveErrorDeliveryStreamName;
export const alertTopicArn = alerts.topicArn;
export const stateTable = state.tableName;
export const timestreamDatabase = store.databaseName;
export const ingestFunction = ingest.functionName;
export const detectFunction = detect.functionName;
export const ingestFailureQueue = ingest.failureQueueName;
export const detectFailureQueue = detect.failureQueueName;
export const dataKeyArn = key.keyArn;

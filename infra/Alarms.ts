import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** One CloudWatch metric alarm, as plain data (built by `pipelineAlarmSpecs`, tested without Pulumi). */
export interface AlarmSpec {
  /** Physical alarm name, also the logical name. */
  alarmName: string;
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  statistic: 'Sum' | 'Maximum' | 'Average';
  periodSeconds: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparisonOperator: 'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold' | 'LessThanThreshold';
}

/** What the alarms watch. */
export interface AlarmTargets {
  processors: readonly { functionName: string; failureQueueName: string }[];
  deliveryStreams: readonly { name: string; bufferingIntervalSeconds: number }[];
  /** Alarm when a processor's oldest unprocessed record is older than this. */
  iteratorAgeMs: number;
}

/**
 * The alarms that tell someone the pipeline is falling behind or losing data: per function, iterator
 * age (lag behind the stream), errors (handler crashes: the batch is retried, bisected and finally
 * discarded) and throttles; per on-failure queue, any message (a discarded batch); per delivery
 * stream, failed S3 deliveries and stale data.
 *
 * @example
 * pipelineAlarmSpecs({ processors: [{ functionName: 'tidewatch-ingest', failureQueueName: 'tidewatch-ingest-failures' }],
 *   deliveryStreams: [{ name: 'tidewatch-archive', bufferingIntervalSeconds: 60 }], iteratorAgeMs: 60_000 });
 */
export function pipelineAlarmSpecs(t: AlarmTargets): AlarmSpec[] {
  const specs: AlarmSpec[] = [];
  for (const p of t.processors) {
    const fn = { FunctionName: p.functionName };
    specs.push(
      {
        alarmName: `${p.functionName}-iterator-age`,
        description: `${p.functionName} is more than ${t.iteratorAgeMs} ms behind its Kinesis stream`,
        namespace: 'AWS/Lambda',
        metricName: 'IteratorAge',
        dimensions: fn,
        statistic: 'Maximum',
        periodSeconds: 60,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        threshold: t.iteratorAgeMs,
        comparisonOperator: 'GreaterThanThreshold',
      },
      {
        alarmName: `${p.functionName}-errors`,
        description: `${p.functionName} failed invocations (whole batches retried, bisected, then sent to the on-failure queue)`,
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions: fn,
        statistic: 'Sum',
        periodSeconds: 300,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
      },
      {
        alarmName: `${p.functionName}-throttles`,
        description: `${p.functionName} invocations throttled (concurrency limit): the shard falls behind`,
        namespace: 'AWS/Lambda',
        metricName: 'Throttles',
        dimensions: fn,
        statistic: 'Sum',
        periodSeconds: 300,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
      },
      {
        alarmName: `${p.failureQueueName}-depth`,
        description: `batches discarded by ${p.functionName} after retries or max record age; replay them from the stream`,
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: p.failureQueueName },
        statistic: 'Maximum',
        periodSeconds: 300,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
      },
    );
  }
  for (const d of t.deliveryStreams) {
    const stream = { DeliveryStreamName: d.name };
    specs.push(
      {
        alarmName: `${d.name}-delivery-failures`,
        description: `${d.name} failed to deliver to S3 (Firehose retries for 24 h, then writes to delivery-failures/)`,
        namespace: 'AWS/Firehose',
        metricName: 'DeliveryToS3.Success',
        dimensions: stream,
        statistic: 'Average',
        periodSeconds: 300,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        threshold: 1,
        comparisonOperator: 'LessThanThreshold',
      },
      {
        alarmName: `${d.name}-data-freshness`,
        description: `${d.name} holds records older than its buffer interval plus 10 minutes`,
        namespace: 'AWS/Firehose',
        metricName: 'DeliveryToS3.DataFreshness',
        dimensions: stream,
        statistic: 'Maximum',
        periodSeconds: 300,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        threshold: d.bufferingIntervalSeconds + 600,
        comparisonOperator: 'GreaterThanThreshold',
      },
    );
  }
  return specs;
}

/** Arguments of {@link Alarms}. */
export interface AlarmsArgs {
  specs: readonly AlarmSpec[];
  /** Alarm and OK notifications go here. */
  alertTopicArn: pulumi.Input<string>;
}

/**
 * CloudWatch alarms from `pipelineAlarmSpecs`, each notifying the alert topic when it fires and when
 * it recovers. A quiet pipeline emits no datapoints, which is not an alarm (`notBreaching`).
 *
 * @example
 * new Alarms('alarms', { specs: pipelineAlarmSpecs(targets), alertTopicArn: alerts.topicArn });
 */
export class Alarms extends pulumi.ComponentResource {
  readonly alarmArns: pulumi.Output<string>[];

  constructor(name: string, args: AlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tidewatch:infra:Alarms', name, {}, opts);
    this.alarmArns = args.specs.map(
      (s) =>
        new aws.cloudwatch.MetricAlarm(
          s.alarmName,
          {
            name: s.alarmName,
            alarmDescription: s.description,
            namespace: s.namespace,
            metricName: s.metricName,
            dimensions: s.dimensions,
            statistic: s.statistic,
            period: s.periodSeconds,
            evaluationPeriods: s.evaluationPeriods,
            datapointsToAlarm: s.datapointsToAlarm,
            threshold: s.threshold,
            comparisonOperator: s.comparisonOperator,
            treatMissingData: 'notBreaching',
            alarmActions: [args.alertTopicArn],
            okActions: [args.alertTopicArn],
          },
          { parent: this },
        ).arn,
    );
    this.registerOutputs({ alarmArns: this.alarmArns });
  }
}

/**
 * Pipeline health: the processors watching themselves, from the `pipeline` table (one record per
 * Lambda invocation, dimensions `stage` and `shard`): throughput, rejects and late events, iterator
 * age, retries, archive (Firehose) and Timestream delivery failures, invocation duration.
 */

import {
  DashboardBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { Dimension, PipelineMeasure } from '../processors/schema.ts';
import {
  DASHBOARD_TAGS,
  type DashboardOptions,
  DashboardUid,
  datasourceVariable,
  grid,
  pipelineTarget,
  windowInterval,
} from './common.ts';
import { SeriesColor } from './fieldConfig.ts';
import { timeseriesPanel, Unit } from './panels.ts';
import { alias, type SelectSpec, TimestreamFormat, ts } from './timestreamQuery.ts';

const bucket = { expr: ts.bin(), as: alias.time };
const stage = { expr: ts.dim(Dimension.stage), as: alias.dim(Dimension.stage) };
const perBucket = { groupBy: [ts.bin()], orderBy: [{ expr: ts.time }] } as const;
const perBucketAndStage = {
  groupBy: [ts.bin(), ts.dim(Dimension.stage)],
  orderBy: [{ expr: ts.time }, { expr: ts.dim(Dimension.stage) }],
} as const;

const rate = (m: (typeof PipelineMeasure)[keyof typeof PipelineMeasure]) => ({
  expr: ts.perSecond(m),
  as: alias.perSecond(m),
});

/** The SELECTs of the pipeline-health dashboard. */
export const pipelineSelects = {
  throughput: {
    columns: [bucket, stage, rate(PipelineMeasure.records), rate(PipelineMeasure.events)],
    ...perBucketAndStage,
  },
  bytes: {
    columns: [bucket, stage, rate(PipelineMeasure.bytes)],
    ...perBucketAndStage,
  },
  rejects: {
    columns: [bucket, stage, rate(PipelineMeasure.rejected), rate(PipelineMeasure.late)],
    ...perBucketAndStage,
  },
  iteratorAge: {
    columns: [
      bucket,
      stage,
      { expr: ts.max(PipelineMeasure.iteratorAgeMs), as: alias.of(PipelineMeasure.iteratorAgeMs) },
    ],
    ...perBucketAndStage,
  },
  deliveryFailures: {
    columns: [bucket, rate(PipelineMeasure.archiveFailed), rate(PipelineMeasure.timestreamRejected)],
    ...perBucket,
  },
  retried: {
    columns: [bucket, stage, rate(PipelineMeasure.retried)],
    ...perBucketAndStage,
  },
  duration: {
    columns: [
      bucket,
      stage,
      { expr: ts.avg(PipelineMeasure.durationMs), as: alias.avgOf(PipelineMeasure.durationMs) },
      { expr: ts.max(PipelineMeasure.durationMs), as: alias.maxOf(PipelineMeasure.durationMs) },
    ],
    ...perBucketAndStage,
  },
} as const satisfies Record<string, SelectSpec>;

/** Panel ids of the pipeline-health dashboard. */
export const PipelinePanel = {
  throughput: 1,
  iteratorAge: 2,
  rejects: 3,
  deliveryFailures: 4,
  retried: 5,
  duration: 6,
  bytes: 7,
} as const;

/**
 * Builds the pipeline-health dashboard.
 *
 * @example
 * const json = buildPipelineDashboard(resolveDashboardOptions());
 */
export function buildPipelineDashboard(o: DashboardOptions): ReturnType<DashboardBuilder['build']> {
  const interval = windowInterval(o);
  const series = (sel: SelectSpec) => [pipelineTarget(o, 'A', sel, TimestreamFormat.timeSeries)];

  return new DashboardBuilder('tidewatch · pipeline health')
    .uid(DashboardUid.pipeline)
    .description('The processors themselves: throughput, rejects, lag, retries and delivery failures.')
    .tags([...DASHBOARD_TAGS])
    .timezone('browser')
    .time({ from: 'now-3h', to: 'now' })
    .refresh(interval)
    .editable()
    .withVariable(datasourceVariable(o))
    .link(
      new DashboardLinkBuilder('tidewatch dashboards')
        .type(DashboardLinkType.Dashboards)
        .tags([DASHBOARD_TAGS[0]])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    )
    .withPanel(
      timeseriesPanel({
        id: PipelinePanel.throughput,
        title: 'Throughput',
        description: 'Kinesis records and log events processed per second, by stage.',
        grid: grid(0, 0, 12, 8),
        unit: Unit.perSecond,
        min: 0,
        interval,
        targets: series(pipelineSelects.throughput),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: PipelinePanel.iteratorAge,
        title: 'Iterator age',
        description:
          'How far behind the stream tip each stage reads (max over shards). Growing age means the stage cannot keep up.',
        grid: grid(12, 0, 12, 8),
        unit: Unit.ms,
        min: 0,
        fillOpacity: 0,
        interval,
        threshold: { value: 60_000, color: SeriesColor.warn },
        targets: series(pipelineSelects.iteratorAge),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: PipelinePanel.rejects,
        title: 'Rejected and late events',
        description:
          'Rejected records (archived under the error prefix with their reason code) and events later than the allowed lateness, per second.',
        grid: grid(0, 8, 12, 8),
        unit: Unit.perSecond,
        min: 0,
        interval,
        targets: series(pipelineSelects.rejects),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: PipelinePanel.deliveryFailures,
        title: 'Delivery failures',
        description:
          'Firehose archive entries that failed for good, and Timestream records rejected, per second.',
        grid: grid(12, 8, 12, 8),
        unit: Unit.perSecond,
        min: 0,
        interval,
        series: {
          [alias.perSecond(PipelineMeasure.archiveFailed).name]: {
            displayName: 'archive failed/s',
            color: SeriesColor.warn,
          },
          [alias.perSecond(PipelineMeasure.timestreamRejected).name]: {
            displayName: 'Timestream rejected/s',
            color: SeriesColor.error,
          },
        },
        targets: series(pipelineSelects.deliveryFailures),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: PipelinePanel.retried,
        title: 'Retried records',
        description: 'Parent records handed back to Lambda (batchItemFailures) for retry, per second.',
        grid: grid(0, 16, 12, 8),
        unit: Unit.perSecond,
        min: 0,
        interval,
        targets: series(pipelineSelects.retried),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: PipelinePanel.duration,
        title: 'Invocation duration',
        description: 'Mean and maximum handler duration per invocation, by stage.',
        grid: grid(12, 16, 12, 8),
        unit: Unit.ms,
        min: 0,
        fillOpacity: 0,
        interval,
        targets: series(pipelineSelects.duration),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: PipelinePanel.bytes,
        title: 'Bytes in',
        description: 'Record bytes read per second, by stage.',
        grid: grid(0, 24, 12, 8),
        unit: Unit.bytesPerSecond,
        min: 0,
        interval,
        targets: series(pipelineSelects.bytes),
      }),
    )
    .build();
}

/**
 * Service drill-down: one service (the `service` variable) — event rate, error rate, 4xx/5xx,
 * latency p50/p90/p99, anomaly score with the detector's expected band, and the processor's alerts
 * as annotations. The local dashboard of `tidewatch start` renders these same panels and queries.
 */

import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { Dimension, Measure } from '../processors/schema.ts';
import {
  DASHBOARD_TAGS,
  type DashboardOptions,
  DashboardUid,
  datasourceVariable,
  grid,
  panelDatasource,
  Variable,
  windowInterval,
  windowsTarget,
} from './common.ts';
import { SeriesColor } from './fieldConfig.ts';
import { statPanel, timeseriesPanel, Unit } from './panels.ts';
import { alias, type SelectSpec, TimestreamFormat, TimestreamQueryBuilder, ts } from './timestreamQuery.ts';

const byService = ts.eqVariable(Dimension.service, Variable.service);
const bucket = { expr: ts.bin(), as: alias.time };
const perBucket = { groupBy: [ts.bin()], orderBy: [{ expr: ts.time }] } as const;

/** The SELECTs of the drill-down, shared with alert rules and tests. */
export const serviceSelects = {
  eventRate: {
    columns: [bucket, { expr: ts.windowRate(Measure.eventRate), as: alias.of(Measure.eventRate) }],
    where: [byService],
    ...perBucket,
  },
  errorRate: {
    columns: [bucket, { expr: ts.ratio(Measure.errors, Measure.count), as: alias.of(Measure.errorRate) }],
    where: [byService],
    ...perBucket,
  },
  statusRates: {
    columns: [
      bucket,
      {
        expr: ts.windowRateShare(Measure.eventRate, Measure.status4xx, Measure.count),
        as: alias.perSecond(Measure.status4xx),
      },
      {
        expr: ts.windowRateShare(Measure.eventRate, Measure.status5xx, Measure.count),
        as: alias.perSecond(Measure.status5xx),
      },
    ],
    where: [byService],
    ...perBucket,
  },
  latency: {
    columns: [
      bucket,
      {
        expr: ts.weightedMean(Measure.latencyP50Ms, Measure.latencyCount),
        as: alias.of(Measure.latencyP50Ms),
      },
      {
        expr: ts.weightedMean(Measure.latencyP90Ms, Measure.latencyCount),
        as: alias.of(Measure.latencyP90Ms),
      },
      {
        expr: ts.weightedMean(Measure.latencyP99Ms, Measure.latencyCount),
        as: alias.of(Measure.latencyP99Ms),
      },
    ],
    where: [byService],
    ...perBucket,
  },
  anomaly: {
    columns: [
      bucket,
      { expr: ts.max(Measure.anomalyScore), as: alias.of(Measure.anomalyScore) },
      // The band of the bucket's highest-scoring window: the detect stage writes the band of the metric
      // that scored highest, so bands of different windows may belong to different metrics and must
      // not be mixed. Error rate, event rate and latency are never negative.
      {
        expr: ts.atLeast(ts.maxBy(Measure.expectedLow, Measure.anomalyScore), 0),
        as: alias.of(Measure.expectedLow),
      },
      { expr: ts.maxBy(Measure.expectedHigh, Measure.anomalyScore), as: alias.of(Measure.expectedHigh) },
    ],
    where: [byService],
    ...perBucket,
  },
  /** Windows the processor alerted on (annotations): one row per alerting window. */
  alerts: {
    columns: [
      { expr: ts.time, as: alias.time },
      { expr: ts.labelled('anomaly score ', Measure.anomalyScore, 2), as: alias.text },
      { expr: ts.col(Measure.anomalyScore), as: alias.of(Measure.anomalyScore) },
    ],
    where: [byService, ts.eq(Measure.alerting, 1)],
    orderBy: [{ expr: ts.time }],
  },
  /** Values of the `service` variable: services seen in the range, most recently seen first. */
  services: {
    columns: [{ expr: ts.dim(Dimension.service), as: alias.dim(Dimension.service) }],
    groupBy: [ts.dim(Dimension.service)],
    orderBy: [{ expr: ts.max(ts.time), desc: true }],
  },
} as const satisfies Record<string, SelectSpec>;

/** Panel ids of the drill-down (stable: alert annotations and links refer to them). */
export const ServicePanel = {
  eventRateNow: 1,
  errorRateNow: 2,
  latencyP99Now: 3,
  anomalyScoreNow: 4,
  eventRate: 5,
  errorRate: 6,
  statusRates: 7,
  latency: 8,
  anomaly: 9,
} as const;

/**
 * Builds the service drill-down dashboard.
 *
 * @example
 * const json = buildServiceDashboard(resolveDashboardOptions());
 */
export function buildServiceDashboard(o: DashboardOptions): ReturnType<DashboardBuilder['build']> {
  const interval = windowInterval(o);
  const target = (s: SelectSpec) => [windowsTarget(o, 'A', s, TimestreamFormat.timeSeries)];
  const errorThreshold = { value: o.errorRateThreshold, color: SeriesColor.error };
  const scoreThreshold = { value: o.scoreThreshold, color: SeriesColor.error };

  return new DashboardBuilder('tidewatch · service')
    .uid(DashboardUid.service)
    .description('One service: traffic, errors, latency and anomaly score, with the processor alerts marked.')
    .tags([...DASHBOARD_TAGS])
    .timezone('browser')
    .time({ from: 'now-1h', to: 'now' })
    .refresh(interval)
    .editable()
    .withVariable(datasourceVariable(o))
    .withVariable(
      new QueryVariableBuilder(Variable.service)
        .label('Service')
        .datasource(panelDatasource)
        .query(windowsTarget(o, Variable.service, serviceSelects.services, TimestreamFormat.table) as never)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name('tidewatch alerts')
        .datasource(panelDatasource)
        .enable(true)
        .iconColor(SeriesColor.error)
        .target(
          new TimestreamQueryBuilder(
            windowsTarget(o, 'alerts', serviceSelects.alerts, TimestreamFormat.table),
          ),
        ),
    )
    .withPanel(
      statPanel({
        id: ServicePanel.eventRateNow,
        title: 'Event rate',
        description: 'Events per second in the latest window.',
        grid: grid(0, 0, 6, 4),
        unit: Unit.eventsPerSecond,
        interval,
        targets: target(serviceSelects.eventRate),
      }),
    )
    .withPanel(
      statPanel({
        id: ServicePanel.errorRateNow,
        title: 'Error rate',
        description: `Share of error events in the latest window; red above ${o.errorRateThreshold * 100} %.`,
        grid: grid(6, 0, 6, 4),
        unit: Unit.fraction,
        decimals: 2,
        interval,
        threshold: errorThreshold,
        targets: target(serviceSelects.errorRate),
      }),
    )
    .withPanel(
      statPanel({
        id: ServicePanel.latencyP99Now,
        title: 'Latency p99',
        description: '99th percentile request duration in the latest window.',
        grid: grid(12, 0, 6, 4),
        unit: Unit.ms,
        interval,
        field: Measure.latencyP99Ms.name,
        targets: target(serviceSelects.latency),
      }),
    )
    .withPanel(
      statPanel({
        id: ServicePanel.anomalyScoreNow,
        title: 'Anomaly score',
        description: `Highest detector score in the latest window (0–1); red at ${o.scoreThreshold} and above.`,
        grid: grid(18, 0, 6, 4),
        unit: Unit.none,
        decimals: 2,
        interval,
        threshold: scoreThreshold,
        field: Measure.anomalyScore.name,
        targets: target(serviceSelects.anomaly),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: ServicePanel.eventRate,
        title: 'Event rate',
        description:
          'Events per second (all series of the service, averaged over the windows in each bucket).',
        grid: grid(0, 4, 12, 8),
        unit: Unit.eventsPerSecond,
        min: 0,
        interval,
        series: { [Measure.eventRate.name]: { displayName: 'events/s', color: SeriesColor.traffic } },
        targets: target(serviceSelects.eventRate),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: ServicePanel.errorRate,
        title: 'Error rate',
        description: `errors / events per bucket; the dashed line is the static alert bound (${o.errorRateThreshold * 100} %).`,
        grid: grid(12, 4, 12, 8),
        unit: Unit.fraction,
        min: 0,
        softMax: o.errorRateThreshold,
        decimals: 2,
        interval,
        threshold: errorThreshold,
        series: { [Measure.errorRate.name]: { displayName: 'error rate', color: SeriesColor.error } },
        targets: target(serviceSelects.errorRate),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: ServicePanel.statusRates,
        title: 'HTTP 4xx / 5xx',
        description: 'Responses per second by status class (lines that carried an HTTP status).',
        grid: grid(0, 12, 12, 8),
        unit: Unit.perSecond,
        min: 0,
        interval,
        series: {
          [alias.perSecond(Measure.status4xx).name]: { displayName: '4xx/s', color: SeriesColor.warn },
          [alias.perSecond(Measure.status5xx).name]: { displayName: '5xx/s', color: SeriesColor.error },
        },
        targets: target(serviceSelects.statusRates),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: ServicePanel.latency,
        title: 'Latency p50 / p90 / p99',
        description:
          'Request duration quantiles from the window sketches, weighted by the number of timed events.',
        grid: grid(12, 12, 12, 8),
        unit: Unit.ms,
        min: 0,
        fillOpacity: 0,
        interval,
        series: {
          [Measure.latencyP50Ms.name]: { displayName: 'p50', color: SeriesColor.ok },
          [Measure.latencyP90Ms.name]: { displayName: 'p90', color: SeriesColor.p90 },
          [Measure.latencyP99Ms.name]: { displayName: 'p99', color: SeriesColor.error },
        },
        targets: target(serviceSelects.latency),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: ServicePanel.anomaly,
        title: 'Anomaly score and expected band',
        description:
          'Highest detector score of the window (right axis, 0–1; dashed line = alert threshold) and the range the detector expected for the metric that scored it — error rate, events/s or p99 ms (shaded band, left axis). Red marks are windows the processor alerted on.',
        grid: grid(0, 20, 24, 9),
        unit: Unit.short,
        fillOpacity: 0,
        interval,
        series: {
          [Measure.expectedHigh.name]: {
            displayName: 'expected range',
            color: SeriesColor.band,
            fillBelowTo: Measure.expectedLow.name,
            fillOpacity: 18,
            lineWidth: 1,
          },
          [Measure.expectedLow.name]: {
            displayName: 'expected low',
            color: SeriesColor.band,
            lineWidth: 1,
            hideInLegend: true,
          },
          [Measure.anomalyScore.name]: {
            displayName: 'anomaly score',
            color: SeriesColor.score,
            axisPlacement: 'right',
            min: 0,
            max: 1,
            decimals: 2,
            unit: Unit.none,
            threshold: scoreThreshold,
          },
        },
        targets: target(serviceSelects.anomaly),
      }),
    )
    .build();
}

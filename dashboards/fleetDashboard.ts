/**
 * Fleet overview: which services are in trouble right now — top services by error rate and by
 * anomaly score, the fleet's traffic and error rate, and alerts over time. Each service links to the
 * drill-down.
 */

import {
  DashboardBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { Dimension, Measure } from '../processors/schema.ts';
import {
  DASHBOARD_TAGS,
  type DashboardOptions,
  DashboardUid,
  datasourceVariable,
  grid,
  Variable,
  windowInterval,
  windowsTarget,
} from './common.ts';
import { SeriesColor } from './fieldConfig.ts';
import { statPanel, tablePanel, timeseriesPanel, Unit } from './panels.ts';
import {
  alias,
  type ColumnAlias,
  type SelectSpec,
  TimestreamColumn,
  TimestreamFormat,
  ts,
} from './timestreamQuery.ts';

const bucket = { expr: ts.bin(), as: alias.time };
const service = { expr: ts.dim(Dimension.service), as: alias.dim(Dimension.service) };
const errorRate = ts.ratio(Measure.errors, Measure.count);
const perBucket = { groupBy: [ts.bin()], orderBy: [{ expr: ts.time }] } as const;
const perBucketAndService = {
  groupBy: [ts.bin(), ts.dim(Dimension.service)],
  orderBy: [{ expr: ts.time }, { expr: ts.dim(Dimension.service) }],
} as const;

/** A ranking of services over the whole range; `rankBy` is one of the result columns. */
function ranking(rankBy: ColumnAlias, limit: number): SelectSpec {
  return {
    columns: [
      service,
      { expr: errorRate, as: alias.of(Measure.errorRate) },
      { expr: ts.max(Measure.anomalyScore), as: alias.of(Measure.anomalyScore) },
      { expr: ts.sum(Measure.count), as: alias.of(Measure.count) },
      { expr: ts.max(ts.time), as: alias.time },
    ],
    groupBy: [ts.dim(Dimension.service)],
    // Ranked first, then most recently seen: every query is ordered by time at some level.
    orderBy: [
      { expr: ts.ref(rankBy), desc: true },
      { expr: ts.time, desc: true },
    ],
    limit,
  };
}

/** The SELECTs of the fleet overview. */
export function fleetSelects(o: DashboardOptions) {
  const n = o.topServices;
  return {
    servicesReporting: {
      columns: [bucket, { expr: ts.countDistinct(Dimension.service), as: alias.countOf(Dimension.service) }],
      ...perBucket,
    },
    eventRate: {
      columns: [bucket, { expr: ts.windowRate(Measure.eventRate), as: alias.of(Measure.eventRate) }],
      ...perBucket,
    },
    errorRate: {
      columns: [bucket, { expr: errorRate, as: alias.of(Measure.errorRate) }],
      ...perBucket,
    },
    alerting: {
      columns: [bucket, { expr: ts.sum(Measure.alerting), as: alias.of(Measure.alerting) }],
      ...perBucket,
    },
    topByErrorRate: ranking(alias.of(Measure.errorRate), n * 2),
    topByAnomalyScore: ranking(alias.of(Measure.anomalyScore), n * 2),
    errorRateTop: {
      columns: [bucket, service, { expr: errorRate, as: alias.of(Measure.errorRate) }],
      where: [ts.inTop(Dimension.service, errorRate, n)],
      ...perBucketAndService,
    },
    anomalyScoreTop: {
      columns: [bucket, service, { expr: ts.max(Measure.anomalyScore), as: alias.of(Measure.anomalyScore) }],
      where: [ts.inTop(Dimension.service, ts.max(Measure.anomalyScore), n)],
      ...perBucketAndService,
    },
    alertsByService: {
      columns: [bucket, service, { expr: ts.sum(Measure.alerting), as: alias.of(Measure.alerting) }],
      where: [ts.gt(Measure.alerting, 0)],
      ...perBucketAndService,
    },
    eventRateTop: {
      columns: [bucket, service, { expr: ts.windowRate(Measure.eventRate), as: alias.of(Measure.eventRate) }],
      where: [ts.inTop(Dimension.service, ts.sum(Measure.count), n)],
      ...perBucketAndService,
    },
  } as const satisfies Record<string, SelectSpec>;
}

/** Panel ids of the fleet overview. */
export const FleetPanel = {
  servicesReporting: 1,
  eventRate: 2,
  errorRate: 3,
  alerting: 4,
  topByErrorRate: 5,
  topByAnomalyScore: 6,
  errorRateTop: 7,
  anomalyScoreTop: 8,
  alertsByService: 9,
  eventRateTop: 10,
} as const;

/** Drill-down URL for a service cell (Grafana data-link syntax). */
const drillDownUrl = `/d/${DashboardUid.service}?var-${Variable.service}=\${__value.raw}&\${__url_time_range}`;

/**
 * Builds the fleet overview dashboard.
 *
 * @example
 * const json = buildFleetDashboard(resolveDashboardOptions());
 */
export function buildFleetDashboard(o: DashboardOptions): ReturnType<DashboardBuilder['build']> {
  const interval = windowInterval(o);
  const s = fleetSelects(o);
  const series = (sel: SelectSpec) => [windowsTarget(o, 'A', sel, TimestreamFormat.timeSeries)];
  const table = (sel: SelectSpec) => [windowsTarget(o, 'A', sel, TimestreamFormat.table)];
  const rankingColumns = {
    [Dimension.service]: { displayName: 'Service' },
    [Measure.errorRate.name]: { displayName: 'Error rate', unit: Unit.fraction, decimals: 2 },
    [Measure.anomalyScore.name]: { displayName: 'Max anomaly score', unit: Unit.none, decimals: 2 },
    [Measure.count.name]: { displayName: 'Events in range', unit: Unit.short },
    [TimestreamColumn.time]: { displayName: 'Last seen', unit: 'dateTimeFromNow' },
  };
  const link = { column: Dimension.service, title: 'Open service dashboard', url: drillDownUrl };

  return new DashboardBuilder('tidewatch · fleet overview')
    .uid(DashboardUid.fleet)
    .description('Every service at a glance: who is erroring, who is anomalous, and when alerts fired.')
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
      statPanel({
        id: FleetPanel.servicesReporting,
        title: 'Services reporting',
        description: 'Services with at least one closed window in the latest bucket.',
        grid: grid(0, 0, 6, 4),
        unit: Unit.short,
        interval,
        targets: series(s.servicesReporting),
      }),
    )
    .withPanel(
      statPanel({
        id: FleetPanel.eventRate,
        title: 'Fleet event rate',
        description: 'Events per second across all services.',
        grid: grid(6, 0, 6, 4),
        unit: Unit.eventsPerSecond,
        interval,
        targets: series(s.eventRate),
      }),
    )
    .withPanel(
      statPanel({
        id: FleetPanel.errorRate,
        title: 'Fleet error rate',
        description: 'Error events / events across all services.',
        grid: grid(12, 0, 6, 4),
        unit: Unit.fraction,
        decimals: 2,
        interval,
        threshold: { value: o.errorRateThreshold, color: SeriesColor.error },
        targets: series(s.errorRate),
      }),
    )
    .withPanel(
      statPanel({
        id: FleetPanel.alerting,
        title: 'Alerting windows',
        description: 'Series·windows the processors alerted on, over the dashboard range.',
        grid: grid(18, 0, 6, 4),
        unit: Unit.short,
        reducer: 'sum',
        interval,
        threshold: { value: 1, color: SeriesColor.error },
        targets: series(s.alerting),
      }),
    )
    .withPanel(
      tablePanel({
        id: FleetPanel.topByErrorRate,
        title: 'Top services by error rate',
        description: 'Error rate over the dashboard range; click a service for its drill-down.',
        grid: grid(0, 4, 12, 9),
        unit: Unit.short,
        interval,
        columns: rankingColumns,
        link,
        targets: table(s.topByErrorRate),
      }),
    )
    .withPanel(
      tablePanel({
        id: FleetPanel.topByAnomalyScore,
        title: 'Top services by anomaly score',
        description: 'Highest detector score over the dashboard range; click a service for its drill-down.',
        grid: grid(12, 4, 12, 9),
        unit: Unit.short,
        interval,
        columns: rankingColumns,
        link,
        targets: table(s.topByAnomalyScore),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: FleetPanel.errorRateTop,
        title: `Error rate — top ${o.topServices} services`,
        description: 'Error rate over time of the services with the highest error rate in the range.',
        grid: grid(0, 13, 12, 8),
        unit: Unit.fraction,
        min: 0,
        softMax: o.errorRateThreshold,
        decimals: 2,
        fillOpacity: 0,
        interval,
        threshold: { value: o.errorRateThreshold, color: SeriesColor.error },
        targets: series(s.errorRateTop),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: FleetPanel.anomalyScoreTop,
        title: `Anomaly score — top ${o.topServices} services`,
        description: 'Detector score over time of the most anomalous services (0–1).',
        grid: grid(12, 13, 12, 8),
        unit: Unit.none,
        min: 0,
        max: 1,
        decimals: 2,
        fillOpacity: 0,
        interval,
        threshold: { value: o.scoreThreshold, color: SeriesColor.error },
        targets: series(s.anomalyScoreTop),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: FleetPanel.alertsByService,
        title: 'Alerts over time',
        description: 'Alerting series·windows per bucket, stacked by service.',
        grid: grid(0, 21, 12, 8),
        unit: Unit.short,
        min: 0,
        bars: true,
        stacked: true,
        interval,
        targets: series(s.alertsByService),
      }),
    )
    .withPanel(
      timeseriesPanel({
        id: FleetPanel.eventRateTop,
        title: `Event rate — top ${o.topServices} services by volume`,
        description: 'Events per second of the busiest services.',
        grid: grid(12, 21, 12, 8),
        unit: Unit.eventsPerSecond,
        min: 0,
        fillOpacity: 0,
        interval,
        targets: series(s.eventRateTop),
      }),
    )
    .build();
}

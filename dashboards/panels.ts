/**
 * Panel factories on top of the Grafana Foundation SDK builders, so the three dashboards look alike:
 * explicit ids and grid positions, units on every panel, the same legend and tooltip settings.
 */

import {
  BigValueColorMode,
  BigValueGraphMode,
  GraphDrawStyle,
  GraphThresholdsStyleConfigBuilder,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VisibilityMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import { ThresholdsConfigBuilder, ThresholdsMode } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanelBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { panelDatasource } from './common.ts';
import { type SeriesColorName, type SeriesStyle, seriesStyle } from './fieldConfig.ts';
import { type TimestreamQuery, TimestreamQueryBuilder } from './timestreamQuery.ts';

/** Grafana unit ids we use. */
export const Unit = {
  perSecond: 'reqps',
  eventsPerSecond: 'cps',
  fraction: 'percentunit',
  ms: 'ms',
  bytesPerSecond: 'Bps',
  short: 'short',
  none: 'none',
} as const;

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Threshold {
  value: number;
  color: SeriesColorName;
}

interface PanelCommon {
  id: number;
  title: string;
  description: string;
  grid: GridPos;
  unit: string;
  targets: readonly TimestreamQuery[];
  /** Minimum interval (Grafana duration, e.g. `10s`). */
  interval?: string;
}

export interface TimeseriesPanelSpec extends PanelCommon {
  min?: number;
  max?: number;
  /** The y axis reaches at least this value (Grafana `axisSoftMax`): quiet series stay visibly low. */
  softMax?: number;
  decimals?: number;
  series?: Readonly<Record<string, SeriesStyle>>;
  /** A dashed threshold line (and the colour above it). */
  threshold?: Threshold;
  bars?: boolean;
  stacked?: boolean;
  fillOpacity?: number;
}

function thresholds(base: SeriesColorName, t: Threshold | undefined): ThresholdsConfigBuilder {
  const steps: Array<{ value: number | null; color: string }> = [{ value: null, color: base }];
  if (t !== undefined) steps.push({ value: t.value, color: t.color });
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps);
}

/**
 * A time-series panel reading Timestream.
 *
 * @example
 * timeseriesPanel({ id: 5, title: 'Event rate', description: '...', grid: grid(0, 4, 12, 8), unit: Unit.eventsPerSecond, targets: [q] });
 */
export function timeseriesPanel(spec: TimeseriesPanelSpec): TimeseriesPanelBuilder {
  const p = new TimeseriesPanelBuilder()
    .id(spec.id)
    .title(spec.title)
    .description(spec.description)
    .gridPos(spec.grid)
    .datasource(panelDatasource)
    .unit(spec.unit)
    .lineWidth(2)
    .fillOpacity(spec.fillOpacity ?? 10)
    .showPoints(VisibilityMode.Never)
    .spanNulls(false)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.List)
        .placement(LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending))
    .thresholds(thresholds('green', spec.threshold))
    .thresholdsStyle(
      new GraphThresholdsStyleConfigBuilder().mode(
        spec.threshold === undefined ? GraphThresholdsStyleMode.Off : GraphThresholdsStyleMode.Dashed,
      ),
    );
  if (spec.interval !== undefined) p.interval(spec.interval);
  if (spec.min !== undefined) p.min(spec.min);
  if (spec.max !== undefined) p.max(spec.max);
  if (spec.softMax !== undefined) p.axisSoftMax(spec.softMax);
  if (spec.decimals !== undefined) p.decimals(spec.decimals);
  if (spec.bars === true) p.drawStyle(GraphDrawStyle.Bars).fillOpacity(spec.fillOpacity ?? 80);
  if (spec.stacked === true) p.stacking(new StackingConfigBuilder().mode(StackingMode.Normal).group('A'));
  for (const t of spec.targets) p.withTarget(new TimestreamQueryBuilder(t));
  for (const [name, style] of Object.entries(spec.series ?? {})) p.overrideByName(name, seriesStyle(style));
  return p;
}

export interface StatPanelSpec extends PanelCommon {
  decimals?: number;
  threshold?: Threshold;
  /** Reducer over the series (`lastNotNull` for "now", `max` for the range). */
  reducer?: 'lastNotNull' | 'max' | 'sum';
  /** Show only this result column (the query may return several, e.g. p50/p90/p99). */
  field?: string;
}

/** A single-number panel (the last value of a series by default), coloured by threshold. */
export function statPanel(spec: StatPanelSpec): StatPanelBuilder {
  const p = new StatPanelBuilder()
    .id(spec.id)
    .title(spec.title)
    .description(spec.description)
    .gridPos(spec.grid)
    .datasource(panelDatasource)
    .unit(spec.unit)
    .graphMode(BigValueGraphMode.Area)
    .colorMode(BigValueColorMode.Value)
    .reduceOptions(
      new ReduceDataOptionsBuilder()
        .calcs([spec.reducer ?? 'lastNotNull'])
        .values(false)
        .fields(spec.field === undefined ? '' : `/^${spec.field}$/`),
    )
    .thresholds(thresholds('green', spec.threshold));
  if (spec.interval !== undefined) p.interval(spec.interval);
  if (spec.decimals !== undefined) p.decimals(spec.decimals);
  for (const t of spec.targets) p.withTarget(new TimestreamQueryBuilder(t));
  return p;
}

export interface TablePanelSpec extends PanelCommon {
  columns: Readonly<Record<string, SeriesStyle>>;
  /** Column that links to another dashboard, and the URL (Grafana data-link syntax). */
  link?: { column: string; title: string; url: string };
}

/** A table (ranking) panel. */
export function tablePanel(spec: TablePanelSpec): TablePanelBuilder {
  const p = new TablePanelBuilder()
    .id(spec.id)
    .title(spec.title)
    .description(spec.description)
    .gridPos(spec.grid)
    .datasource(panelDatasource)
    .unit(spec.unit);
  if (spec.interval !== undefined) p.interval(spec.interval);
  for (const t of spec.targets) p.withTarget(new TimestreamQueryBuilder(t));
  for (const [name, style] of Object.entries(spec.columns)) {
    const props = seriesStyle(style);
    if (spec.link?.column === name) {
      // A field data link (`DataLink`: title + url), not a dashboard link.
      props.push({ id: 'links', value: [{ title: spec.link.title, url: spec.link.url }] });
    }
    p.overrideByName(name, props);
  }
  return p;
}

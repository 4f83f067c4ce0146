/**
 * Field-config overrides in Grafana's JSON vocabulary (`DynamicConfigValue` ids), kept in one place so
 * the generator and the local dashboard renderer agree on the few properties we use.
 */

import type { DynamicConfigValue } from '@grafana/grafana-foundation-sdk/dashboard';

/** Grafana palette names we use; the local renderer maps them to the same hues. */
export const SeriesColor = {
  traffic: 'blue',
  error: 'red',
  warn: 'orange',
  ok: 'green',
  p90: 'yellow',
  band: 'purple',
  score: 'dark-red',
} as const;
export type SeriesColorName = (typeof SeriesColor)[keyof typeof SeriesColor];

/** Override property ids (Grafana field-config paths). */
export const OverrideId = {
  displayName: 'displayName',
  color: 'color',
  fillBelowTo: 'custom.fillBelowTo',
  fillOpacity: 'custom.fillOpacity',
  lineWidth: 'custom.lineWidth',
  axisPlacement: 'custom.axisPlacement',
  min: 'min',
  max: 'max',
  unit: 'unit',
  decimals: 'decimals',
  hideFrom: 'custom.hideFrom',
  thresholds: 'thresholds',
  thresholdsStyle: 'custom.thresholdsStyle',
} as const;

export interface SeriesStyle {
  displayName?: string;
  color?: SeriesColorName;
  /** Fill the area between this series and the named one (Grafana's band). */
  fillBelowTo?: string;
  fillOpacity?: number;
  lineWidth?: number;
  axisPlacement?: 'left' | 'right';
  min?: number;
  max?: number;
  unit?: string;
  decimals?: number;
  /** Keep the series out of the legend (the lower edge of a band). */
  hideInLegend?: boolean;
  /** A dashed threshold line on this series' own axis (e.g. the score threshold on the right axis). */
  threshold?: { value: number; color: SeriesColorName };
}

/**
 * The override properties for one series.
 *
 * @example
 * panel.overrideByName(Measure.latencyP99Ms.name, seriesStyle({ displayName: 'p99', color: SeriesColor.error }));
 */
export function seriesStyle(s: SeriesStyle): DynamicConfigValue[] {
  const p: DynamicConfigValue[] = [];
  if (s.displayName !== undefined) p.push({ id: OverrideId.displayName, value: s.displayName });
  if (s.color !== undefined) p.push({ id: OverrideId.color, value: { mode: 'fixed', fixedColor: s.color } });
  if (s.fillBelowTo !== undefined) p.push({ id: OverrideId.fillBelowTo, value: s.fillBelowTo });
  if (s.fillOpacity !== undefined) p.push({ id: OverrideId.fillOpacity, value: s.fillOpacity });
  if (s.lineWidth !== undefined) p.push({ id: OverrideId.lineWidth, value: s.lineWidth });
  if (s.axisPlacement !== undefined) p.push({ id: OverrideId.axisPlacement, value: s.axisPlacement });
  if (s.min !== undefined) p.push({ id: OverrideId.min, value: s.min });
  if (s.max !== undefined) p.push({ id: OverrideId.max, value: s.max });
  if (s.unit !== undefined) p.push({ id: OverrideId.unit, value: s.unit });
  if (s.decimals !== undefined) p.push({ id: OverrideId.decimals, value: s.decimals });
  if (s.hideInLegend === true)
    p.push({ id: OverrideId.hideFrom, value: { legend: true, tooltip: false, viz: false } });
  if (s.threshold !== undefined) {
    p.push({
      id: OverrideId.thresholds,
      value: {
        mode: 'absolute',
        steps: [
          { value: null, color: 'green' },
          { value: s.threshold.value, color: s.threshold.color },
        ],
      },
    });
    p.push({ id: OverrideId.thresholdsStyle, value: { mode: 'dashed' } });
  }
  return p;
}

/**
 * Grafana-managed alert rules as code, for teams that route alerts through Grafana rather than SNS.
 * They mirror the processors' alert rules (issue: anomaly detection, "alert rules as configuration"):
 *
 * - **processor alert**: the detect stage decided to alert (`alerting = 1` in the window record) —
 *   exactly the SNS decision, threshold, minimum count, consecutive windows and cooldown included;
 * - **anomaly score**: the window's score at or above the score threshold, once the series has the
 *   minimum event count;
 * - **error rate**: the static bound (error rate above 5 % always alerts), same minimum event count.
 *
 * Grafana alerting needs wide series from Timestream (`CREATE_TIME_SERIES`) and all result pages
 * ("Wait for all queries"): https://grafana.com/docs/plugins/grafana-timestream-datasource/latest/alerting/.
 * Rules are built with the Foundation SDK's alerting builders and exported in Grafana's file
 * provisioning format (`apiVersion: 1`, `groups`), and as `@pulumiverse/grafana` rule-group args.
 */

import type { Rule, RuleGroup } from '@grafana/grafana-foundation-sdk/alerting';
import { QueryBuilder, RuleBuilder, RuleGroupBuilder } from '@grafana/grafana-foundation-sdk/alerting';
import { TypeMathBuilder, TypeReduceBuilder } from '@grafana/grafana-foundation-sdk/expr';
import { Dimension, Measure } from '../processors/schema.ts';
import { type DashboardOptions, DashboardUid, windowsTarget } from './common.ts';
import { DashboardsError } from './errors.ts';
import { ServicePanel } from './serviceDashboard.ts';
import {
  alias,
  type DataSourceRef,
  type MeasureDef,
  type SelectSpec,
  TIMESTREAM_DATASOURCE_TYPE,
  TimestreamFormat,
  TimestreamQueryBuilder,
  ts,
} from './timestreamQuery.ts';

/** The server-side-expression pseudo data source of Grafana alerting. */
export const EXPRESSION_DATASOURCE_UID = '__expr__';

/** Settings of the Grafana rules; defaults mirror the processors' default alert rules. */
export interface GrafanaAlertOptions {
  /** Folder (title and uid) the rule group lives in. */
  folder: string;
  /** Rule group name. */
  group: string;
  /** Minimum events in a window before a series can alert (the processors' minimum count). */
  minEvents: number;
  /** Consecutive anomalous windows before firing (Grafana `for` = (n − 1) × window). */
  consecutiveWindows: number;
  /** How far back each evaluation reads (s); several windows so a late window is still seen. */
  lookbackSeconds: number;
  /** Labels added to every rule (routing in Grafana notification policies). */
  labels: Readonly<Record<string, string>>;
}

/** Mirrors `DEFAULT_ALERT_RULE` (`minEventCount`, `consecutiveWindows`); a unit test keeps them equal. */
export const defaultGrafanaAlertOptions: Readonly<GrafanaAlertOptions> = {
  folder: 'tidewatch',
  group: 'tidewatch',
  minEvents: 10,
  consecutiveWindows: 1,
  lookbackSeconds: 300,
  labels: { source: 'tidewatch' },
};

/** Stable rule UIDs (≤ 40 characters, Grafana's limit). */
export const AlertRuleUid = {
  processorAlert: 'tidewatch-processor-alert',
  anomalyScore: 'tidewatch-anomaly-score',
  errorRate: 'tidewatch-error-rate',
} as const;

/** `SELECT service, CREATE_TIME_SERIES(time, m) ... GROUP BY service`: one wide series per service. */
function seriesPerService(m: MeasureDef): SelectSpec {
  return {
    columns: [
      { expr: ts.dim(Dimension.service), as: alias.dim(Dimension.service) },
      { expr: ts.createTimeSeries(m), as: alias.of(m) },
    ],
    where: [ts.notNull(m)],
    groupBy: [ts.dim(Dimension.service)],
    orderBy: [{ expr: ts.max(ts.time), desc: true }],
  };
}

/** The Timestream SELECTs of the rules (exported for the translation tests). */
export const alertSelects = {
  alerting: seriesPerService(Measure.alerting),
  anomalyScore: seriesPerService(Measure.anomalyScore),
  errorRate: seriesPerService(Measure.errorRate),
  count: seriesPerService(Measure.count),
} as const satisfies Record<string, SelectSpec>;

interface RuleSpec {
  uid: string;
  title: string;
  summary: string;
  /** `$V` (value) compared with the bound; `$N` is the window's event count when gated. */
  expression: string;
  value: SelectSpec;
  gateOnCount: boolean;
  severity: 'page' | 'ticket';
}

function durationSeconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

function buildRule(
  o: DashboardOptions,
  a: GrafanaAlertOptions,
  spec: RuleSpec,
  ds: DataSourceRef,
): RuleBuilder {
  const range = { from: a.lookbackSeconds, to: 0 };
  const query = (refId: string, select: SelectSpec) =>
    new QueryBuilder(refId)
      .datasourceUid(ds.uid)
      .relativeTimeRange(range)
      .model(
        new TimestreamQueryBuilder({
          ...windowsTarget(o, refId, select, TimestreamFormat.timeSeries, ds),
          waitForResult: true,
        }),
      );
  const expression = (refId: string, model: TypeReduceBuilder | TypeMathBuilder) =>
    new QueryBuilder(refId).datasourceUid(EXPRESSION_DATASOURCE_UID).relativeTimeRange(range).model(model);

  const rule = new RuleBuilder(spec.title)
    .uid(spec.uid)
    .folderUID(a.folder)
    .ruleGroup(a.group)
    .orgID(1)
    .withQuery(query('A', spec.value))
    .withQuery(
      expression(
        'V',
        new TypeReduceBuilder().refId('V').expression('A').reducer('last').settings({ mode: 'dropNN' }),
      ),
    );
  if (spec.gateOnCount) {
    rule
      .withQuery(query('B', alertSelects.count))
      .withQuery(
        expression(
          'N',
          new TypeReduceBuilder().refId('N').expression('B').reducer('last').settings({ mode: 'dropNN' }),
        ),
      );
  }
  return rule
    .withQuery(expression('C', new TypeMathBuilder().refId('C').expression(spec.expression)))
    .condition('C')
    .forDuration(durationSeconds((a.consecutiveWindows - 1) * o.windowMs))
    .noDataState('OK')
    .execErrState('Error')
    .labels({ ...a.labels, severity: spec.severity })
    .annotations({
      summary: spec.summary,
      description: `{{ $labels.${Dimension.service} }}: value {{ $values.V }} (tidewatch window ${durationSeconds(o.windowMs)})`,
      __dashboardUid__: DashboardUid.service,
      __panelId__: String(ServicePanel.anomaly),
    });
}

/**
 * The rule group mirroring the processors' alert rules.
 *
 * @example
 * const group = buildAlertRuleGroup(resolveDashboardOptions());
 * // group.rules.map((r) => r.uid) → ['tidewatch-processor-alert', 'tidewatch-anomaly-score', 'tidewatch-error-rate']
 */
export function buildAlertRuleGroup(
  o: DashboardOptions,
  partial: Partial<GrafanaAlertOptions> = {},
): RuleGroup {
  const a: GrafanaAlertOptions = { ...defaultGrafanaAlertOptions, ...partial };
  if (!Number.isInteger(a.consecutiveWindows) || a.consecutiveWindows < 1) {
    throw new DashboardsError(`consecutiveWindows must be a positive integer, got ${a.consecutiveWindows}`);
  }
  if (!(a.minEvents >= 0)) throw new DashboardsError(`minEvents must be ≥ 0, got ${a.minEvents}`);
  const ds: DataSourceRef = { type: TIMESTREAM_DATASOURCE_TYPE, uid: o.datasourceUid };
  const specs: RuleSpec[] = [
    {
      uid: AlertRuleUid.processorAlert,
      title: 'tidewatch: processor alert',
      summary: 'The tidewatch detector alerted on this service (same decision as the SNS alert).',
      expression: '$V > 0',
      value: alertSelects.alerting,
      gateOnCount: false,
      severity: 'page',
    },
    {
      uid: AlertRuleUid.anomalyScore,
      title: 'tidewatch: anomaly score',
      summary: `Anomaly score at or above ${o.scoreThreshold} with at least ${a.minEvents} events in the window.`,
      expression: `$V >= ${o.scoreThreshold} && $N >= ${a.minEvents}`,
      value: alertSelects.anomalyScore,
      gateOnCount: true,
      severity: 'page',
    },
    {
      uid: AlertRuleUid.errorRate,
      title: 'tidewatch: error rate above static bound',
      summary: `Error rate above ${o.errorRateThreshold * 100} % with at least ${a.minEvents} events in the window.`,
      expression: `$V > ${o.errorRateThreshold} && $N >= ${a.minEvents}`,
      value: alertSelects.errorRate,
      gateOnCount: true,
      severity: 'page',
    },
  ];
  const group = new RuleGroupBuilder(a.group)
    .folderUid(a.folder)
    .interval(Math.max(10, Math.round(o.windowMs / 1000)));
  for (const spec of specs) group.withRule(buildRule(o, a, spec, ds));
  return group.build();
}

/** One rule in Grafana's alerting file-provisioning format. */
export interface ProvisionedRule {
  uid: string;
  title: string;
  condition: string;
  data: Array<{
    refId: string;
    relativeTimeRange: { from: number; to: number };
    datasourceUid: string;
    model: Record<string, unknown>;
  }>;
  noDataState: string;
  execErrState: string;
  for: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  isPaused: boolean;
}

/** Grafana's alerting provisioning file (`provisioning/alerting/*.yaml`). */
export interface AlertProvisioningFile {
  apiVersion: 1;
  groups: Array<{ orgId: number; name: string; folder: string; interval: string; rules: ProvisionedRule[] }>;
}

function plainModel(model: unknown): Record<string, unknown> {
  // Drops the SDK's marker function and undefined fields.
  return JSON.parse(JSON.stringify(model)) as Record<string, unknown>;
}

function provisionedRule(r: Rule): ProvisionedRule {
  if (r.uid === undefined) throw new DashboardsError(`rule ${r.title} has no uid`);
  return {
    uid: r.uid,
    title: r.title,
    condition: r.condition,
    data: r.data.map((q) => {
      if (q.refId === undefined || q.datasourceUid === undefined || q.model === undefined) {
        throw new DashboardsError(`rule ${r.uid}: query without refId, datasourceUid or model`);
      }
      return {
        refId: q.refId,
        relativeTimeRange: {
          from: Number(q.relativeTimeRange?.from ?? 0),
          to: Number(q.relativeTimeRange?.to ?? 0),
        },
        datasourceUid: q.datasourceUid,
        model: plainModel(q.model),
      };
    }),
    noDataState: r.noDataState,
    execErrState: r.execErrState,
    for: r.for,
    annotations: { ...(r.annotations ?? {}) },
    labels: { ...(r.labels ?? {}) },
    isPaused: r.isPaused ?? false,
  };
}

/**
 * The rule group as a Grafana alerting provisioning document.
 *
 * @example
 * writeFileSync('provisioning/alerting/tidewatch.yaml', toYaml(alertProvisioningFile(group, 'tidewatch')));
 */
export function alertProvisioningFile(group: RuleGroup, folderTitle: string): AlertProvisioningFile {
  return {
    apiVersion: 1,
    groups: [
      {
        orgId: 1,
        name: group.title ?? 'tidewatch',
        folder: folderTitle,
        interval: `${group.interval ?? 60}s`,
        rules: (group.rules ?? []).map(provisionedRule),
      },
    ],
  };
}

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AlertRuleUid,
  alertProvisioningFile,
  buildAlertRuleGroup,
  defaultGrafanaAlertOptions,
  EXPRESSION_DATASOURCE_UID,
} from '../../dashboards/alertRules.ts';
import {
  DashboardUid,
  defaultDashboardOptions,
  resolveDashboardOptions,
  Variable,
} from '../../dashboards/common.ts';
import {
  DashboardFile,
  GENERATED_DIR,
  generateDashboardFiles,
  ProvisioningFile,
  staleFiles,
} from '../../dashboards/generate.ts';
import { ServicePanel } from '../../dashboards/serviceDashboard.ts';
import {
  AliasSuffix,
  GrafanaField,
  TIMESTREAM_DATASOURCE_TYPE,
  TimestreamFormat,
} from '../../dashboards/timestreamQuery.ts';
import {
  Dimension,
  Measure,
  Names,
  PipelineMeasure,
  PipelineMeasureName,
  WindowDefaults,
  WindowMeasureName,
} from '../../processors/schema.ts';
import { DEFAULT_ALERT_RULE } from '../../processors/transforms/detect/alertRules.ts';

// biome-ignore lint/suspicious/noExplicitAny: dashboard JSON is untyped.
type Json = any;

const files = generateDashboardFiles();
const dashboards: Array<[string, Json]> = Object.values(DashboardFile).map((f) => [
  f,
  JSON.parse(files.get(f) as string),
]);

interface TargetRef {
  dashboard: string;
  where: string;
  panelType: string;
  target: Json;
}

function allTargets(): TargetRef[] {
  const out: TargetRef[] = [];
  for (const [file, d] of dashboards) {
    for (const p of d.panels) {
      for (const t of p.targets ?? [])
        out.push({ dashboard: file, where: `panel ${p.id} ${p.title}`, panelType: p.type, target: t });
    }
    for (const v of d.templating?.list ?? []) {
      if (v.type === 'query')
        out.push({ dashboard: file, where: `variable ${v.name}`, panelType: 'variable', target: v.query });
    }
    for (const a of d.annotations?.list ?? []) {
      if (a.target?.rawQuery !== undefined)
        out.push({
          dashboard: file,
          where: `annotation ${a.name}`,
          panelType: 'annotation',
          target: a.target,
        });
    }
  }
  return out;
}

const schemaNames = new Set<string>([
  ...Object.values(Measure).map((m) => m.name),
  ...Object.values(PipelineMeasure).map((m) => m.name),
  ...Object.values(Dimension),
]);
const derivedNames = new Set<string>(
  [...schemaNames].flatMap((n) => Object.values(AliasSuffix).map((suffix) => `${n}${suffix}`)),
);
/** Bare words a query may contain: SQL keywords, Timestream functions, and Timestream's own columns. */
const SQL_WORDS = new Set([
  'SELECT',
  'AS',
  'FROM',
  'WHERE',
  'AND',
  'GROUP',
  'BY',
  'ORDER',
  'DESC',
  'LIMIT',
  'IN',
  'SUM',
  'MAX',
  'MIN',
  'AVG',
  'COUNT',
  'DISTINCT',
  'CAST',
  'DOUBLE',
  'VARCHAR',
  'NULLIF',
  'CASE',
  'WHEN',
  'IS',
  'NOT',
  'NULL',
  'THEN',
  'ELSE',
  'END',
  'ROUND',
  'BIN',
  'CREATE_TIME_SERIES',
  'MAX_BY',
  'GREATEST',
  'TIME',
  'MEASURE_NAME',
]);
const MACROS = [
  '$__database',
  '$__table',
  '$__measure',
  '$__timeFilter',
  '$__interval_ms',
  '$__interval_raw_ms',
];

/** Identifiers of a Timestream query, split by how they are written. */
function identifiers(sql: string): {
  literals: string[];
  quoted: string[];
  words: string[];
  macros: string[];
} {
  const literals = [...sql.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1] as string);
  const noLiterals = sql.replace(/'(?:[^']|'')*'/g, ' ');
  const quoted = [...noLiterals.matchAll(/"([^"]*)"/g)].map((m) => m[1] as string);
  const bare = noLiterals.replace(/"[^"]*"/g, ' ');
  const macros = [...bare.matchAll(/\$__[A-Za-z_]+/g)].map((m) => m[0]);
  const words = [...bare.replace(/\$__[A-Za-z_]+/g, ' ').matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)].map(
    (m) => m[0],
  );
  return { literals, quoted, words, macros };
}

describe('generated dashboards', () => {
  it('are checked in exactly as the generator writes them (run `npm run dashboards` when this fails)', () => {
    // Prepare
    const fresh = generateDashboardFiles();
    // Act
    const stale = staleFiles(fresh, GENERATED_DIR);
    // Assess
    expect(stale).toEqual([]);
  });

  it.each(dashboards)(
    '%s is a Grafana dashboard model with a stable uid, tags and a schema version',
    (file, d) => {
      expect(typeof d.schemaVersion).toBe('number');
      expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
      expect(Object.values(DashboardUid)).toContain(d.uid);
      expect(file).toBe(`${d.uid}.json`);
      expect(d.title).toMatch(/^tidewatch · /);
      expect(d.tags).toContain('tidewatch');
      expect(d.panels.length).toBeGreaterThan(0);
    },
  );

  it.each(dashboards)('%s has unique positive panel ids and a non-overlapping 24-column grid', (_file, d) => {
    const ids = d.panels.map((p: Json) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(Number.isInteger(id) && id > 0).toBe(true);
    const cells = new Set<string>();
    for (const p of d.panels) {
      const g = p.gridPos;
      expect(g.x + g.w).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          const cell = `${x},${y}`;
          expect(cells.has(cell), `panel ${p.id} overlaps at ${cell}`).toBe(false);
          cells.add(cell);
        }
      }
    }
  });

  it.each(dashboards)(
    '%s references the Timestream data source through the datasource variable',
    (_file, d) => {
      const variable = d.templating.list.find((v: Json) => v.name === Variable.datasource);
      expect(variable).toMatchObject({ type: 'datasource', query: TIMESTREAM_DATASOURCE_TYPE });
      expect(variable.current.value).toBe(defaultDashboardOptions.datasourceUid);
      const ref = { type: TIMESTREAM_DATASOURCE_TYPE, uid: `\${${Variable.datasource}}` };
      for (const p of d.panels) {
        expect(p.datasource, `panel ${p.id}`).toEqual(ref);
        for (const t of p.targets) expect(t.datasource, `panel ${p.id} ${t.refId}`).toEqual(ref);
        expect(p.fieldConfig.defaults.unit, `panel ${p.id} unit`).toBeTruthy();
        expect(p.description, `panel ${p.id} description`).toBeTruthy();
      }
    },
  );

  it('service drill-down has a service variable, alert annotations and every required panel', () => {
    const d = dashboards.find(([f]) => f === DashboardFile.service)?.[1];
    const service = d.templating.list.find((v: Json) => v.name === Variable.service);
    expect(service.type).toBe('query');
    expect(service.query.rawQuery).toContain(`"${Dimension.service}"`);
    expect(
      d.annotations.list.some((a: Json) => a.target?.rawQuery?.includes(`"${Measure.alerting.name}" = 1`)),
    ).toBe(true);
    const columns = d.panels.flatMap((p: Json) => p.targets.map((t: Json) => t.rawQuery)).join('\n');
    for (const m of [
      Measure.eventRate,
      Measure.errorRate,
      Measure.latencyP50Ms,
      Measure.latencyP90Ms,
      Measure.latencyP99Ms,
      Measure.anomalyScore,
      Measure.expectedLow,
      Measure.expectedHigh,
    ]) {
      expect(columns).toContain(`AS "${m.name}"`);
    }
    expect(columns).toContain(`AS "${Measure.status4xx.name}${AliasSuffix.perSecond}"`);
    expect(columns).toContain(`AS "${Measure.status5xx.name}${AliasSuffix.perSecond}"`);
    const anomaly = d.panels.find((p: Json) => p.id === ServicePanel.anomaly);
    const band = anomaly.fieldConfig.overrides.find(
      (o: Json) => o.matcher.options === Measure.expectedHigh.name,
    );
    expect(band.properties).toContainEqual({ id: 'custom.fillBelowTo', value: Measure.expectedLow.name });
  });

  it('pipeline-health reads every pipeline measure', () => {
    const d = dashboards.find(([f]) => f === DashboardFile.pipeline)?.[1];
    const sql = d.panels.flatMap((p: Json) => p.targets.map((t: Json) => t.rawQuery)).join('\n');
    for (const m of Object.values(PipelineMeasure)) expect(sql).toContain(`"${m.name}"`);
  });

  it('fleet overview ranks services by error rate and anomaly score and shows alerts over time', () => {
    const d = dashboards.find(([f]) => f === DashboardFile.fleet)?.[1];
    const tables = d.panels.filter((p: Json) => p.type === 'table').map((p: Json) => p.targets[0].rawQuery);
    expect(tables.some((q: string) => /ORDER BY "error_rate" DESC, time DESC/.test(q))).toBe(true);
    expect(tables.some((q: string) => /ORDER BY "anomaly_score" DESC, time DESC/.test(q))).toBe(true);
    const alerts = d.panels.find((p: Json) => p.title === 'Alerts over time');
    expect(alerts.targets[0].rawQuery).toContain(`SUM("${Measure.alerting.name}")`);
  });
});

describe('dashboard queries', () => {
  const targets = allTargets();

  it('exist (every panel, variable and annotation query is collected)', () => {
    expect(targets.length).toBeGreaterThan(20);
  });

  it.each(targets.map((t) => [`${t.dashboard} ${t.where}`, t] as const))(
    '%s is raw Timestream SQL over the macros, on the right table and measure',
    (_name, { target, panelType }) => {
      expect(target.queryType).toBe('raw');
      expect([TimestreamFormat.timeSeries, TimestreamFormat.table]).toContain(target.format);
      expect(target.database).toBe(Names.timestreamDatabase);
      const pair = [target.table, target.measure];
      expect([
        [Names.windowsTable, WindowMeasureName],
        [Names.pipelineTable, PipelineMeasureName],
      ]).toContainEqual(pair);
      const sql: string = target.rawQuery;
      expect(sql).toContain('FROM "$__database"."$__table"');
      expect(sql).toContain('WHERE $__timeFilter');
      expect(sql).toContain("measure_name = '$__measure'");
      const order = sql.slice(sql.lastIndexOf('ORDER BY'));
      expect(order).toMatch(/\btime\b/);
      if (panelType === 'timeseries' || panelType === 'stat') {
        expect(sql).toMatch(/^SELECT bin\(time, \$__interval_ms\) AS time/);
        expect(sql).toMatch(/ORDER BY time(, "[a-z_]+")?$/);
        expect(target.format).toBe(TimestreamFormat.timeSeries);
      }
    },
  );

  it.each(targets.map((t) => [`${t.dashboard} ${t.where}`, t] as const))(
    '%s names only measures and dimensions from schema.ts',
    (_name, { target }) => {
      const { literals, quoted, words, macros } = identifiers(target.rawQuery);
      for (const q of quoted) {
        const ok = schemaNames.has(q) || derivedNames.has(q) || q === GrafanaField.text || MACROS.includes(q);
        expect(ok, `identifier "${q}"`).toBe(true);
      }
      for (const w of words) expect(SQL_WORDS.has(w.toUpperCase()), `bare word ${w}`).toBe(true);
      for (const m of macros) expect(MACROS, `macro ${m}`).toContain(m);
      for (const l of literals) {
        expect(['$__measure', `\${${Variable.service}}`, 'anomaly score '], `literal '${l}'`).toContain(l);
      }
    },
  );
});

describe('dashboards source', () => {
  it('never spells a schema name: every measure and dimension name comes from processors/schema.ts', () => {
    // Prepare
    const dir = join(GENERATED_DIR, '..');
    const sources = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    const offenders: string[] = [];
    // Act
    for (const f of sources) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const m of text.matchAll(/'([a-z0-9_]+)'/g)) {
        if (schemaNames.has(m[1] as string)) offenders.push(`${f}: '${m[1]}'`);
      }
    }
    // Assess
    expect(offenders).toEqual([]);
  });
});

describe('Grafana alert rules', () => {
  const o = resolveDashboardOptions();
  const group = buildAlertRuleGroup(o);
  const file = alertProvisioningFile(group, 'tidewatch');
  const rules = file.groups[0]?.rules ?? [];

  it('mirror the processors’ default alert rule (threshold, minimum events, consecutive windows)', () => {
    expect(defaultDashboardOptions.scoreThreshold).toBe(DEFAULT_ALERT_RULE.scoreThreshold);
    expect(defaultGrafanaAlertOptions.minEvents).toBe(DEFAULT_ALERT_RULE.minEventCount);
    expect(defaultGrafanaAlertOptions.consecutiveWindows).toBe(DEFAULT_ALERT_RULE.consecutiveWindows);
    expect(defaultDashboardOptions.windowMs).toBe(WindowDefaults.windowMs);
    expect(defaultDashboardOptions.errorRateThreshold).toBe(0.05);
  });

  it('cover the processor decision, the anomaly score and the static error-rate bound', () => {
    expect(rules.map((r) => r.uid).sort()).toEqual(Object.values(AlertRuleUid).sort());
    for (const r of rules) expect(r.uid.length).toBeLessThanOrEqual(40);
    const byUid = new Map(rules.map((r) => [r.uid, r]));
    const math = (uid: string) =>
      byUid.get(uid)?.data.find((d) => d.refId === byUid.get(uid)?.condition)?.model;
    expect(math(AlertRuleUid.anomalyScore)?.expression).toBe(
      `$V >= ${DEFAULT_ALERT_RULE.scoreThreshold} && $N >= ${DEFAULT_ALERT_RULE.minEventCount}`,
    );
    expect(math(AlertRuleUid.errorRate)?.expression).toBe(
      `$V > 0.05 && $N >= ${DEFAULT_ALERT_RULE.minEventCount}`,
    );
    expect(math(AlertRuleUid.processorAlert)?.expression).toBe('$V > 0');
  });

  it.each(rules.map((r) => [r.uid, r] as const))('%s is well formed', (_uid, r) => {
    const refIds = r.data.map((d) => d.refId);
    expect(new Set(refIds).size).toBe(refIds.length);
    expect(refIds).toContain(r.condition);
    expect(r.for).toBe(`${((defaultGrafanaAlertOptions.consecutiveWindows - 1) * o.windowMs) / 1000}s`);
    expect(r.annotations.__dashboardUid__).toBe(DashboardUid.service);
    expect(r.annotations.__panelId__).toBe(String(ServicePanel.anomaly));
    expect(r.labels.severity).toBeTruthy();
    for (const d of r.data) {
      expect(d.relativeTimeRange.from).toBeGreaterThan(0);
      if (d.datasourceUid === EXPRESSION_DATASOURCE_UID) {
        const expr = String(d.model.expression);
        for (const ref of expr.match(/\$[A-Z]+/g) ?? []) expect(refIds).toContain(ref.slice(1));
        if (d.model.type === 'reduce') expect(refIds).toContain(expr);
      } else {
        expect(d.datasourceUid).toBe(o.datasourceUid);
        expect(d.model).toMatchObject({
          queryType: 'raw',
          waitForResult: true,
          database: Names.timestreamDatabase,
        });
        expect(String(d.model.rawQuery)).toMatch(/CREATE_TIME_SERIES\(time, "[a-z_0-9]+"\)/);
        expect(String(d.model.rawQuery)).toContain('WHERE $__timeFilter');
        for (const q of identifiers(String(d.model.rawQuery)).quoted) {
          expect(schemaNames.has(q) || MACROS.includes(q), q).toBe(true);
        }
      }
    }
  });

  it('are written to the alerting provisioning file', () => {
    const yaml = files.get(ProvisioningFile.alerting) as string;
    expect(yaml.startsWith('apiVersion: 1\ngroups:\n')).toBe(true);
    for (const uid of Object.values(AlertRuleUid)) expect(yaml).toContain(`uid: "${uid}"`);
    expect(yaml).toContain('CREATE_TIME_SERIES(time, "anomaly_score")');
  });
});

describe('generator options', () => {
  it('rejects values Grafana cannot express', () => {
    expect(() => resolveDashboardOptions({ windowMs: 500 })).toThrow(/windowMs/);
    expect(() => resolveDashboardOptions({ scoreThreshold: 0 })).toThrow(/scoreThreshold/);
    expect(() => resolveDashboardOptions({ errorRateThreshold: 2 })).toThrow(/errorRateThreshold/);
    expect(() => resolveDashboardOptions({ topServices: 0 })).toThrow(/topServices/);
  });

  it('carries the deployed database and table names into every query', () => {
    // Prepare
    const custom = generateDashboardFiles({
      dashboards: { database: 'prod_tw', windowsTable: 'w2', pipelineTable: 'p2' },
    });
    // Act
    const service = JSON.parse(custom.get(DashboardFile.service) as string);
    const pipeline = JSON.parse(custom.get(DashboardFile.pipeline) as string);
    // Assess
    for (const p of service.panels)
      for (const t of p.targets) expect([t.database, t.table]).toEqual(['prod_tw', 'w2']);
    for (const p of pipeline.panels)
      for (const t of p.targets) expect([t.database, t.table]).toEqual(['prod_tw', 'p2']);
    expect(custom.get(ProvisioningFile.datasources)).toContain('defaultDatabase: "prod_tw"');
  });
});

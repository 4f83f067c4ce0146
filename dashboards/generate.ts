/**
 * `npm run dashboards`: writes the dashboards, alert rules and provisioning files under
 * `dashboards/generated/`. The output is checked in; a test fails when it is stale.
 * `npm run dashboards -- --check` only compares and exits 1 when a file differs.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { alertProvisioningFile, buildAlertRuleGroup, type GrafanaAlertOptions } from './alertRules.ts';
import { type DashboardOptions, DashboardUid, resolveDashboardOptions } from './common.ts';
import { buildFleetDashboard } from './fleetDashboard.ts';
import { buildPipelineDashboard } from './pipelineDashboard.ts';
import {
  type DatasourceProvisioningOptions,
  dashboardProviderProvisioning,
  datasourceProvisioning,
  defaultDatasourceProvisioningOptions,
  GRAFANA_FOLDER,
} from './provisioning.ts';
import { buildServiceDashboard } from './serviceDashboard.ts';
import { toYaml } from './yaml.ts';

/** `dashboards/generated/`, where the checked-in output lives. */
export const GENERATED_DIR = join(dirname(fileURLToPath(import.meta.url)), 'generated');

/** File names of the dashboards under {@link GENERATED_DIR}. */
export const DashboardFile = {
  fleet: `${DashboardUid.fleet}.json`,
  service: `${DashboardUid.service}.json`,
  pipeline: `${DashboardUid.pipeline}.json`,
} as const;

/** Paths of the provisioning files under {@link GENERATED_DIR}. */
export const ProvisioningFile = {
  datasources: 'provisioning/datasources/tidewatch.yaml',
  dashboards: 'provisioning/dashboards/tidewatch.yaml',
  alerting: 'provisioning/alerting/tidewatch.yaml',
} as const;

/** The three dashboards as Grafana dashboard JSON models. */
export function buildDashboards(o: DashboardOptions): Record<keyof typeof DashboardFile, object> {
  return {
    fleet: buildFleetDashboard(o),
    service: buildServiceDashboard(o),
    pipeline: buildPipelineDashboard(o),
  };
}

export interface GenerateOptions {
  dashboards?: Partial<DashboardOptions>;
  alerts?: Partial<GrafanaAlertOptions>;
  datasource?: Partial<DatasourceProvisioningOptions>;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Every generated file: path relative to `dashboards/generated/` → content.
 *
 * @example
 * const files = generateDashboardFiles();
 * JSON.parse(files.get('tidewatch-service.json')!).uid; // 'tidewatch-service'
 */
export function generateDashboardFiles(options: GenerateOptions = {}): Map<string, string> {
  const o = resolveDashboardOptions(options.dashboards);
  const ds = { ...defaultDatasourceProvisioningOptions, ...options.datasource };
  const files = new Map<string, string>();
  const dashboards = buildDashboards(o);
  for (const [k, file] of Object.entries(DashboardFile) as Array<[keyof typeof DashboardFile, string]>) {
    files.set(file, json(dashboards[k]));
  }
  files.set(ProvisioningFile.datasources, toYaml(datasourceProvisioning(o, ds)));
  files.set(ProvisioningFile.dashboards, toYaml(dashboardProviderProvisioning()));
  files.set(
    ProvisioningFile.alerting,
    toYaml(
      alertProvisioningFile(
        buildAlertRuleGroup(o, { folder: GRAFANA_FOLDER, ...options.alerts }),
        GRAFANA_FOLDER,
      ),
    ),
  );
  return files;
}

/** Files under `dir` whose content differs from `files` (missing files included). */
export function staleFiles(files: ReadonlyMap<string, string>, dir = GENERATED_DIR): string[] {
  const stale: string[] = [];
  for (const [path, content] of files) {
    let current: string | undefined;
    try {
      current = readFileSync(join(dir, path), 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== content) stale.push(path);
  }
  return stale;
}

/** Writes `files` under `dir`, creating folders. */
export function writeGeneratedFiles(files: ReadonlyMap<string, string>, dir = GENERATED_DIR): void {
  for (const [path, content] of files) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

/**
 * CLI entry: `tsx dashboards/generate.ts [--check] [--out DIR]`. Resolves to the exit code.
 *
 * @example
 * process.exitCode = await main(['--check']);
 */
export async function main(argv: string[]): Promise<number> {
  let values: { check?: boolean; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { check: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(
      `dashboards: ${(err as Error).message}\nusage: npm run dashboards -- [--check] [--out DIR]\n`,
    );
    return 2;
  }
  if (values.help === true) {
    process.stdout.write('usage: npm run dashboards -- [--check] [--out DIR]\n');
    return 0;
  }
  const dir = values.out ?? GENERATED_DIR;
  const files = generateDashboardFiles();
  const stale = staleFiles(files, dir);
  if (values.check === true) {
    if (stale.length === 0) return 0;
    process.stderr.write(
      `dashboards: stale generated files in ${dir}: ${stale.join(', ')}\nRun: npm run dashboards\n`,
    );
    return 1;
  }
  writeGeneratedFiles(files, dir);
  process.stdout.write(`dashboards: wrote ${files.size} files to ${dir} (${stale.length} changed)\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}

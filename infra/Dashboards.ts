import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as grafana from '@pulumiverse/grafana';
import {
  alertProvisioningFile,
  buildAlertRuleGroup,
  type ProvisionedRule,
} from '../dashboards/alertRules.ts';
import { type DashboardOptions, resolveDashboardOptions } from '../dashboards/common.ts';
import { buildDashboards, DashboardFile } from '../dashboards/generate.ts';
import { GRAFANA_FOLDER, timestreamJsonData } from '../dashboards/provisioning.ts';
import { TIMESTREAM_DATASOURCE_TYPE } from '../dashboards/timestreamQuery.ts';

/**
 * Where the dashboards go:
 * - `workspace`: a new Amazon Managed Grafana workspace (AWS IAM Identity Center sign-in) with the
 *   Timestream data source, the dashboards and the alert rules;
 * - `existing`: an existing Grafana (URL + service-account token), same content;
 * - `json`: no resources, only the dashboard JSON as stack outputs (import it by hand, or use the
 *   file-provisioning files under `dashboards/generated/provisioning/`).
 */
export type DashboardsMode = 'workspace' | 'existing' | 'json';

/** Arguments of {@link Dashboards}. */
export interface DashboardsArgs {
  mode: DashboardsMode;
  /** Timestream database and tables as deployed (names may carry a stack prefix). */
  databaseName: pulumi.Input<string>;
  windowsTableName: pulumi.Input<string>;
  pipelineTableName: pulumi.Input<string>;
  /** ARN of the Timestream database: the workspace role may query it and its tables only. */
  databaseArn: pulumi.Input<string>;
  region: pulumi.Input<string>;
  accountId: pulumi.Input<string>;
  /** Window size of the processors (minimum panel interval). Default `WindowDefaults.windowMs`. */
  windowMs?: number;
  /** Name of the workspace (mode `workspace`). */
  workspaceName?: string;
  /** Grafana version of the workspace; Timestream alerting needs ≥ 10.4. */
  grafanaVersion?: string;
  /** Lifetime of the workspace service-account token Pulumi uses (max 30 days; refreshed on `up`). */
  tokenSecondsToLive?: number;
  /** URL and service-account token of an existing Grafana (mode `existing`). */
  grafanaUrl?: pulumi.Input<string>;
  grafanaAuth?: pulumi.Input<string>;
  /** Create the Grafana alert rules too (default true). */
  alertRules?: boolean;
  tags?: Record<string, string>;
}

/** Timestream read actions the workspace needs (https://docs.aws.amazon.com/timestream/latest/developerguide/security-iam.html). */
const TIMESTREAM_ACCOUNT_ACTIONS = [
  'timestream:DescribeEndpoints',
  'timestream:SelectValues',
  'timestream:ListDatabases',
];
const TIMESTREAM_RESOURCE_ACTIONS = [
  'timestream:Select',
  'timestream:DescribeDatabase',
  'timestream:DescribeTable',
  'timestream:ListTables',
  'timestream:ListMeasures',
];
/** AWS caps workspace service-account tokens at 30 days. */
const MAX_TOKEN_SECONDS = 30 * 24 * 3600;

/**
 * The workspace role's policy: read-only Timestream on our database and its tables (the account-level
 * actions cannot be scoped to a resource).
 *
 * @example
 * grafanaTimestreamPolicy('arn:aws:timestream:eu-west-1:123456789012:database/tidewatch');
 */
export function grafanaTimestreamPolicy(databaseArn: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: TIMESTREAM_ACCOUNT_ACTIONS, Resource: '*' },
      {
        Effect: 'Allow',
        Action: TIMESTREAM_RESOURCE_ACTIONS,
        Resource: [databaseArn, `${databaseArn}/table/*`],
      },
    ],
  });
}

/** Trust policy letting Amazon Managed Grafana in this account assume the workspace role (confused-deputy guard). */
export function grafanaAssumeRolePolicy(accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'grafana.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
      },
    ],
  });
}

/**
 * `@pulumiverse/grafana` rule-group rules from the provisioned rules (same content as the file).
 *
 * @example
 * const rules = toRuleGroupRules(alertProvisioningFile(group, 'tidewatch').groups[0].rules);
 */
export function toRuleGroupRules(
  rules: readonly ProvisionedRule[],
): grafana.types.input.alerting.RuleGroupRule[] {
  return rules.map((r) => ({
    uid: r.uid,
    name: r.title,
    condition: r.condition,
    for: r.for,
    noDataState: r.noDataState,
    execErrState: r.execErrState,
    annotations: r.annotations,
    labels: r.labels,
    isPaused: r.isPaused,
    datas: r.data.map((d) => ({
      refId: d.refId,
      datasourceUid: d.datasourceUid,
      model: JSON.stringify(d.model),
      relativeTimeRange: { from: d.relativeTimeRange.from, to: d.relativeTimeRange.to },
    })),
  }));
}

/**
 * Grafana dashboards as code, deployed: an Amazon Managed Grafana workspace (or an existing Grafana)
 * with the Timestream data source, the fleet / service / pipeline dashboards and the alert rules — or
 * just the dashboard JSON as outputs.
 *
 * @example
 * const dashboards = new Dashboards('dashboards', {
 *   mode: 'workspace', databaseName: store.databaseName, windowsTableName: store.windowsTableName,
 *   pipelineTableName: store.pipelineTableName, databaseArn: store.databaseArn, region, accountId,
 * });
 * export const dashboardUrl = dashboards.url;
 */
export class Dashboards extends pulumi.ComponentResource {
  /** Base URL of the Grafana (undefined in `json` mode). */
  readonly url: pulumi.Output<string | undefined>;
  /** Dashboard JSON by file name (`tidewatch-service.json`, ...), with the deployed names. */
  readonly dashboardJson: pulumi.Output<Record<string, string>>;
  /** UIDs of the dashboards (stable across deployments). */
  readonly dashboardUids: string[];
  readonly workspaceId: pulumi.Output<string | undefined>;

  constructor(name: string, args: DashboardsArgs, opts?: pulumi.ComponentResourceOptions) {
    if (args.mode === 'existing' && (args.grafanaUrl === undefined || args.grafanaAuth === undefined)) {
      throw new Error(
        "Dashboards mode 'existing' needs grafanaUrl and grafanaAuth (a Grafana service-account token); set them or use mode 'json'.",
      );
    }
    super('tidewatch:infra:Dashboards', name, {}, opts);
    const base: Partial<DashboardOptions> = args.windowMs === undefined ? {} : { windowMs: args.windowMs };
    const options = pulumi
      .all([args.databaseName, args.windowsTableName, args.pipelineTableName])
      .apply(([database, windowsTable, pipelineTable]) =>
        resolveDashboardOptions({ ...base, database, windowsTable, pipelineTable }),
      );
    const dashboards = options.apply((o) => buildDashboards(o));
    this.dashboardJson = dashboards.apply((d) => {
      const out: Record<string, string> = {};
      for (const [k, file] of Object.entries(DashboardFile) as Array<[keyof typeof DashboardFile, string]>) {
        out[file] = JSON.stringify(d[k]);
      }
      return out;
    });
    const defaults = resolveDashboardOptions(base);
    this.dashboardUids = Object.values(buildDashboards(defaults)).map((d) => (d as { uid: string }).uid);

    let url: pulumi.Output<string | undefined> = pulumi.output(undefined);
    let workspaceId: pulumi.Output<string | undefined> = pulumi.output(undefined);
    let provider: grafana.Provider | undefined;
    let authType: 'default' | 'ec2_iam_role' = 'default';

    if (args.mode === 'workspace') {
      const role = new aws.iam.Role(
        `${name}-workspace`,
        {
          assumeRolePolicy: pulumi.output(args.accountId).apply(grafanaAssumeRolePolicy),
          description:
            'Amazon Managed Grafana workspace role: read-only Timestream for the tidewatch dashboards',
          ...(args.tags === undefined ? {} : { tags: args.tags }),
        },
        { parent: this },
      );
      new aws.iam.RolePolicy(
        `${name}-timestream-read`,
        { role: role.id, policy: pulumi.output(args.databaseArn).apply(grafanaTimestreamPolicy) },
        { parent: this },
      );
      const workspace = new aws.grafana.Workspace(
        `${name}-workspace`,
        {
          name: args.workspaceName ?? 'tidewatch',
          description: 'tidewatch dashboards and alerts',
          accountAccessType: 'CURRENT_ACCOUNT',
          authenticationProviders: ['AWS_SSO'],
          // Our own role (least privilege) rather than the console's service-managed one.
          permissionType: 'CUSTOMER_MANAGED',
          roleArn: role.arn,
          dataSources: ['TIMESTREAM'],
          grafanaVersion: args.grafanaVersion ?? '10.4',
          configuration: JSON.stringify({ unifiedAlerting: { enabled: true } }),
          ...(args.tags === undefined ? {} : { tags: args.tags }),
        },
        { parent: this },
      );
      const account = new aws.grafana.WorkspaceServiceAccount(
        `${name}-pulumi`,
        { name: 'tidewatch-pulumi', grafanaRole: 'ADMIN', workspaceId: workspace.id },
        { parent: this },
      );
      const token = new aws.grafana.WorkspaceServiceAccountToken(
        `${name}-pulumi`,
        {
          name: 'tidewatch-pulumi',
          serviceAccountId: account.serviceAccountId,
          workspaceId: workspace.id,
          secondsToLive: Math.min(args.tokenSecondsToLive ?? MAX_TOKEN_SECONDS, MAX_TOKEN_SECONDS),
        },
        { parent: this, additionalSecretOutputs: ['key'] },
      );
      const workspaceUrl = pulumi.interpolate`https://${workspace.endpoint}`;
      url = workspaceUrl;
      workspaceId = workspace.id;
      // The data source authenticates as the workspace role (the plugin's `ec2_iam_role` auth type).
      authType = 'ec2_iam_role';
      provider = new grafana.Provider(
        `${name}-grafana`,
        { url: workspaceUrl, auth: token.key },
        { parent: this },
      );
    } else if (args.mode === 'existing') {
      const grafanaUrl = args.grafanaUrl as pulumi.Input<string>;
      url = pulumi.output(grafanaUrl);
      provider = new grafana.Provider(
        `${name}-grafana`,
        { url: grafanaUrl, auth: pulumi.secret(args.grafanaAuth as pulumi.Input<string>) },
        { parent: this },
      );
    }

    if (provider !== undefined) {
      const child = { parent: this, provider };
      const datasource = new grafana.oss.DataSource(
        `${name}-timestream`,
        {
          name: 'Amazon Timestream (tidewatch)',
          type: TIMESTREAM_DATASOURCE_TYPE,
          uid: defaults.datasourceUid,
          jsonDataEncoded: pulumi
            .all([options, args.region])
            .apply(([o, region]) => JSON.stringify(timestreamJsonData(o, { region, authType }))),
        },
        child,
      );
      const folder = new grafana.oss.Folder(
        `${name}-folder`,
        { title: GRAFANA_FOLDER, uid: GRAFANA_FOLDER },
        child,
      );
      for (const [key, file] of Object.entries(DashboardFile) as Array<
        [keyof typeof DashboardFile, string]
      >) {
        new grafana.oss.Dashboard(
          `${name}-${key}`,
          {
            folder: folder.uid,
            overwrite: true,
            configJson: dashboards.apply((d) => JSON.stringify(d[key])),
            message: `tidewatch: ${file}`,
          },
          { ...child, dependsOn: [datasource] },
        );
      }
      if (args.alertRules !== false) {
        const group = options.apply((o) =>
          alertProvisioningFile(buildAlertRuleGroup(o, { folder: GRAFANA_FOLDER }), GRAFANA_FOLDER),
        );
        new grafana.alerting.RuleGroup(
          `${name}-alerts`,
          {
            folderUid: folder.uid,
            name: group.apply((g) => g.groups[0]?.name ?? GRAFANA_FOLDER),
            intervalSeconds: options.apply((o) => Math.max(10, Math.round(o.windowMs / 1000))),
            rules: group.apply((g) => toRuleGroupRules(g.groups[0]?.rules ?? [])),
          },
          { ...child, dependsOn: [datasource] },
        );
      }
    }

    this.url = url;
    this.workspaceId = workspaceId;
    this.registerOutputs({ url: this.url, workspaceId: this.workspaceId, dashboardJson: this.dashboardJson });
  }
}

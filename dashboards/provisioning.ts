/**
 * Grafana file provisioning for an existing Grafana: the Timestream data source and a dashboard
 * provider pointing at a directory holding `dashboards/generated/*.json`
 * (https://grafana.com/docs/grafana/latest/administration/provisioning/).
 */

import { WindowMeasureName } from '../processors/schema.ts';
import type { DashboardOptions } from './common.ts';
import { TIMESTREAM_DATASOURCE_TYPE } from './timestreamQuery.ts';

/** Where the provisioning example expects the dashboard JSON files inside the Grafana container. */
export const PROVISIONED_DASHBOARDS_PATH = '/var/lib/grafana/dashboards/tidewatch';

/** Folder the dashboards and alert rules are provisioned into. */
export const GRAFANA_FOLDER = 'tidewatch';

export interface DatasourceProvisioningOptions {
  /** AWS region of the Timestream database. */
  region: string;
  /**
   * The plugin's `authType`: `default` (the SDK credential chain of the Grafana host), `ec2_iam_role`
   * (the instance or, in Amazon Managed Grafana, the workspace role), `keys`, `credentials`, `arn`.
   */
  authType: 'default' | 'ec2_iam_role' | 'keys' | 'credentials' | 'arn';
}

export const defaultDatasourceProvisioningOptions: Readonly<DatasourceProvisioningOptions> = {
  region: 'us-east-1',
  authType: 'default',
};

/**
 * The `jsonData` of the Timestream data source (defaults feed `$__database`, `$__table`, `$__measure`
 * when a query names none).
 *
 * @example
 * timestreamJsonData(resolveDashboardOptions(), { region: 'eu-west-1', authType: 'ec2_iam_role' });
 */
export function timestreamJsonData(
  o: DashboardOptions,
  d: DatasourceProvisioningOptions,
): Record<string, string> {
  return {
    authType: d.authType,
    defaultRegion: d.region,
    defaultDatabase: o.database,
    defaultTable: o.windowsTable,
    defaultMeasure: WindowMeasureName,
  };
}

/** `provisioning/datasources/tidewatch.yaml` as data. */
export function datasourceProvisioning(
  o: DashboardOptions,
  d: DatasourceProvisioningOptions,
): Record<string, unknown> {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'Amazon Timestream (tidewatch)',
        uid: o.datasourceUid,
        type: TIMESTREAM_DATASOURCE_TYPE,
        access: 'proxy',
        editable: false,
        jsonData: timestreamJsonData(o, d),
      },
    ],
  };
}

/** `provisioning/dashboards/tidewatch.yaml` as data: a file provider for the generated JSON. */
export function dashboardProviderProvisioning(): Record<string, unknown> {
  return {
    apiVersion: 1,
    providers: [
      {
        name: GRAFANA_FOLDER,
        orgId: 1,
        folder: GRAFANA_FOLDER,
        folderUid: GRAFANA_FOLDER,
        type: 'file',
        disableDeletion: false,
        allowUiUpdates: false,
        updateIntervalSeconds: 60,
        options: { path: PROVISIONED_DASHBOARDS_PATH, foldersFromFilesStructure: false },
      },
    ],
  };
}

import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import { AlertRuleUid } from '../../dashboards/alertRules.ts';
import { DashboardUid } from '../../dashboards/common.ts';
import { DashboardFile } from '../../dashboards/generate.ts';
import { TIMESTREAM_DATASOURCE_TYPE } from '../../dashboards/timestreamQuery.ts';

// infra/Dashboards.ts on Pulumi mocks: which resources each mode creates, and with what.

interface Captured {
  type: string;
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: resolved Pulumi inputs are untyped JSON.
  inputs: Record<string, any>;
}

const captured: Captured[] = [];
let Dashboards: typeof import('../../infra/Dashboards.ts').Dashboards;

function outputsFor(type: string, name: string): Record<string, unknown> {
  switch (type) {
    case 'aws:grafana/workspace:Workspace':
      return { endpoint: `g-${name}.grafana-workspace.eu-west-1.amazonaws.com` };
    case 'aws:grafana/workspaceServiceAccount:WorkspaceServiceAccount':
      return { serviceAccountId: `${name}-sa` };
    case 'aws:grafana/workspaceServiceAccountToken:WorkspaceServiceAccountToken':
      return { key: 'glsa_mock_token' };
    case 'aws:iam/role:Role':
      return { arn: `arn:aws:iam::123456789012:role/${name}` };
    default:
      return {};
  }
}

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        captured.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: { ...args.inputs, ...outputsFor(args.type, args.name) } };
      },
      call(args) {
        return args.inputs;
      },
    },
    'tidewatch',
    'test',
    false,
  );
  ({ Dashboards } = await import('../../infra/Dashboards.ts'));
});

function value<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply(resolve));
}

/** Resolves once registrations have stopped arriving (mocks answer asynchronously). */
async function settle(): Promise<void> {
  let before = -1;
  while (before !== captured.length) {
    before = captured.length;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const baseArgs = {
  databaseName: 'tw_prod',
  windowsTableName: 'windows',
  pipelineTableName: 'pipeline',
  databaseArn: 'arn:aws:timestream:eu-west-1:123456789012:database/tw_prod',
  region: 'eu-west-1',
  accountId: '123456789012',
};

function ofComponent(prefix: string): Captured[] {
  return captured.filter((c) => c.name.startsWith(prefix));
}

describe('Dashboards component', () => {
  it("mode 'json' creates nothing and outputs the dashboards with the deployed names", async () => {
    // Act
    const d = new Dashboards('jsononly', { ...baseArgs, mode: 'json' });
    const json = await value(d.dashboardJson);
    await settle();
    // Assess
    expect(ofComponent('jsononly').map((c) => c.type)).toEqual(['tidewatch:infra:Dashboards']);
    expect(Object.keys(json).sort()).toEqual(Object.values(DashboardFile).sort());
    const service = JSON.parse(json[DashboardFile.service] as string);
    expect(service.uid).toBe(DashboardUid.service);
    for (const p of service.panels) for (const t of p.targets) expect(t.database).toBe('tw_prod');
    expect(await value(d.url)).toBeUndefined();
    expect(d.dashboardUids.sort()).toEqual(Object.values(DashboardUid).sort());
  });

  it("mode 'workspace' creates a least-privilege Managed Grafana workspace with data source, dashboards and alert rules", async () => {
    // Act
    const d = new Dashboards('amg', { ...baseArgs, mode: 'workspace', tokenSecondsToLive: 99_999_999 });
    const url = await value(d.url);
    await settle();
    const mine = ofComponent('amg');
    const one = (type: string) => {
      const found = mine.filter((c) => c.type === type);
      expect(found.length, type).toBe(1);
      return found[0] as Captured;
    };
    // Assess
    expect(url).toBe('https://g-amg-workspace.grafana-workspace.eu-west-1.amazonaws.com');
    const workspace = one('aws:grafana/workspace:Workspace');
    expect(workspace.inputs).toMatchObject({
      accountAccessType: 'CURRENT_ACCOUNT',
      authenticationProviders: ['AWS_SSO'],
      permissionType: 'CUSTOMER_MANAGED',
      dataSources: ['TIMESTREAM'],
      roleArn: 'arn:aws:iam::123456789012:role/amg-workspace',
    });
    const trust = JSON.parse(one('aws:iam/role:Role').inputs.assumeRolePolicy);
    expect(trust.Statement[0].Principal.Service).toBe('grafana.amazonaws.com');
    expect(trust.Statement[0].Condition.StringEquals['aws:SourceAccount']).toBe('123456789012');
    const policy = JSON.parse(one('aws:iam/rolePolicy:RolePolicy').inputs.policy);
    const scoped = policy.Statement.find((s: { Resource: unknown }) => Array.isArray(s.Resource));
    expect(scoped.Resource).toEqual([baseArgs.databaseArn, `${baseArgs.databaseArn}/table/*`]);
    for (const s of policy.Statement) {
      for (const a of s.Action) expect(a).toMatch(/^timestream:(Select|Describe|List|SelectValues)/);
    }
    expect(one('aws:grafana/workspaceServiceAccount:WorkspaceServiceAccount').inputs.grafanaRole).toBe(
      'ADMIN',
    );
    expect(
      one('aws:grafana/workspaceServiceAccountToken:WorkspaceServiceAccountToken').inputs.secondsToLive,
    ).toBe(30 * 24 * 3600);
    expect(one('pulumi:providers:grafana').inputs.url).toBe(url);

    const ds = one('grafana:oss/dataSource:DataSource');
    expect(ds.inputs.type).toBe(TIMESTREAM_DATASOURCE_TYPE);
    expect(JSON.parse(ds.inputs.jsonDataEncoded)).toMatchObject({
      authType: 'ec2_iam_role',
      defaultRegion: 'eu-west-1',
      defaultDatabase: 'tw_prod',
      defaultTable: 'windows',
    });
    const dashboards = mine.filter((c) => c.type === 'grafana:oss/dashboard:Dashboard');
    expect(dashboards.map((c) => JSON.parse(c.inputs.configJson).uid).sort()).toEqual(
      Object.values(DashboardUid).sort(),
    );
    for (const c of dashboards) expect(c.inputs.overwrite).toBe(true);

    const rules = one('grafana:alerting/ruleGroup:RuleGroup').inputs;
    expect(rules.intervalSeconds).toBe(10);
    // biome-ignore lint/suspicious/noExplicitAny: resolved inputs.
    expect(rules.rules.map((r: any) => r.uid).sort()).toEqual(Object.values(AlertRuleUid).sort());
    for (const r of rules.rules) {
      for (const q of r.datas) {
        const model = JSON.parse(q.model);
        if (q.datasourceUid !== '__expr__')
          expect(model).toMatchObject({ waitForResult: true, database: 'tw_prod' });
      }
    }
  });

  it("mode 'existing' needs a URL and a token", () => {
    expect(() => new Dashboards('existing-missing', { ...baseArgs, mode: 'existing' })).toThrow(/grafanaUrl/);
  });

  it("mode 'existing' provisions into the given Grafana without creating AWS resources", async () => {
    // Act
    const d = new Dashboards('existing', {
      ...baseArgs,
      mode: 'existing',
      grafanaUrl: 'https://grafana.example.com',
      grafanaAuth: 'glsa_token',
      alertRules: false,
    });
    const url = await value(d.url);
    await settle();
    // Assess
    const types = ofComponent('existing-').map((c) => c.type);
    expect(url).toBe('https://grafana.example.com');
    expect(types.filter((t) => t.startsWith('aws:'))).toEqual([]);
    expect(types).toContain('grafana:oss/dataSource:DataSource');
    expect(types).not.toContain('grafana:alerting/ruleGroup:RuleGroup');
    expect(types.filter((t) => t === 'grafana:oss/dashboard:Dashboard').length).toBe(3);
  });
});

/**
 * The program with `grafana.enabled = true` and a name suffix: the optional Amazon Managed Grafana
 * workspace is wired to the deployed Timestream names, its URL is the `dashboardUrl` output, and the
 * least-privilege invariants still hold with its role added.
 */
import type * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import { findPolicyViolations, type PolicyDocument } from '../../infra/policies.ts';
import { Names } from '../../processors/schema.ts';
import { type CapturedResource, installMocks, MockRegion, resolved, settle } from './pulumiMocks.ts';

let captured: CapturedResource[] = [];
let program: Record<string, unknown> = {};
const ofType = (type: string): CapturedResource[] => captured.filter((r) => r.type === type);

beforeAll(async () => {
  // Prepare
  captured = await installMocks({ 'grafana.enabled': 'true', nameSuffix: 'staging' });
  // Act
  program = await import('../../index.ts');
  await settle();
}, 120_000);

describe('the program with grafana.enabled', () => {
  it('creates one workspace and exports its URL as dashboardUrl', async () => {
    // Prepare
    const workspaces = ofType('aws:grafana/workspace:Workspace');
    // Assess
    expect(workspaces).toHaveLength(1);
    expect(workspaces[0]?.inputs.name).toBe('tidewatch-staging');
    expect(program.dashboardUrl).not.toBeNull();
    expect(await resolved(program.dashboardUrl as pulumi.Output<string>)).toBe(
      `https://g-mock.grafana-workspace.${MockRegion}.amazonaws.com`,
    );
  });

  it('points the workspace role at the deployed (suffixed) Timestream database only', () => {
    // Prepare
    const database = ofType('aws:timestreamwrite/database:Database')[0]!;
    const grafanaPolicy = ofType('aws:iam/rolePolicy:RolePolicy').find((p) =>
      p.name.startsWith('dashboards'),
    );
    // Assess
    expect(database.inputs.databaseName).toBe(`${Names.timestreamDatabase}-staging`);
    expect(grafanaPolicy?.inputs.policy).toContain(database.state.arn);
  });

  it('keeps every identity policy free of wildcard actions and unallowed "*" resources', () => {
    // Prepare
    const policies = [...ofType('aws:iam/rolePolicy:RolePolicy'), ...ofType('aws:iam/policy:Policy')];
    expect(policies.length).toBeGreaterThan(4);
    for (const p of policies) {
      // Assess
      expect(findPolicyViolations(JSON.parse(p.inputs.policy) as PolicyDocument), p.name).toEqual([]);
    }
  });
});

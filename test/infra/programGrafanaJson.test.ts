/**
 * The program with `grafana.enabled` and `grafana.mode = json`: no workspace, no Grafana provider, no
 * IAM role for Grafana — only the `dashboardJson` stack output, three dashboards whose queries name this
 * stack's (suffixed) Timestream database, ready to import into any Grafana.
 */
import type * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import { Names } from '../../processors/schema.ts';
import { type CapturedResource, installMocks, resolved, settle } from './pulumiMocks.ts';

let captured: CapturedResource[] = [];
let program: Record<string, unknown> = {};

beforeAll(async () => {
  // Prepare
  captured = await installMocks({ 'grafana.enabled': 'true', 'grafana.mode': 'json', nameSuffix: 'qa' });
  // Act
  program = await import('../../index.ts');
  await settle();
}, 120_000);

describe('the program with grafana.mode json', () => {
  it('creates no Grafana resources and no URL', async () => {
    // Assess
    expect(captured.filter((r) => r.type.startsWith('aws:grafana') || r.type.startsWith('grafana:'))).toEqual(
      [],
    );
    expect(captured.filter((r) => r.type === 'aws:iam/role:Role' && r.name.startsWith('dashboards'))).toEqual(
      [],
    );
    expect(await resolved(program.dashboardUrl as pulumi.Output<string | undefined>)).toBeUndefined();
  });

  it('outputs every dashboard as JSON against the deployed database', async () => {
    // Act
    const json = await resolved(program.dashboardJson as pulumi.Output<Record<string, string>>);
    // Assess
    expect(Object.keys(json).sort()).toEqual(
      ['tidewatch-fleet.json', 'tidewatch-pipeline.json', 'tidewatch-service.json'].sort(),
    );
    for (const [file, text] of Object.entries(json)) {
      const d = JSON.parse(text) as { uid: string; panels: unknown[] };
      expect(d.uid, file).toMatch(/^tidewatch-/);
      expect(d.panels.length, file).toBeGreaterThan(0);
      expect(text, file).toContain(`${Names.timestreamDatabase}-qa`);
    }
  });
});

import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import { InfraError } from '../../infra/errors.ts';
import { handlerEnvironment, LocalOnlyEnvVars } from '../../infra/handlerEnvironment.ts';
import { lambdaCode } from '../../infra/lambdaCode.ts';
import { EnvVar } from '../../processors/schema.ts';

describe('lambdaCode', () => {
  it('ships the bundle directory dist/<stage> as a FileArchive', async () => {
    // Act
    const archive = lambdaCode('ingest', { exists: (p) => p === 'dist/ingest/index.mjs', dryRun: false });
    // Assess
    expect(archive).toBeInstanceOf(pulumi.asset.FileArchive);
    expect(await archive.path).toBe('dist/ingest');
  });

  it('refuses to deploy a missing bundle and names the command that builds it', () => {
    // Act / Assess
    expect(() => lambdaCode('detect', { exists: () => false, dryRun: false })).toThrow(InfraError);
    expect(() => lambdaCode('detect', { exists: () => false, dryRun: false })).toThrow(/npm run build/);
  });

  it('only warns in a preview', async () => {
    // Act
    const archive = lambdaCode('detect', { exists: () => false, dryRun: true });
    // Assess
    expect(await archive.path).toBe('dist/detect');
  });
});

describe('handlerEnvironment', () => {
  it('sets every EnvVar but the local-only endpoint override, numbers as decimal strings', () => {
    // Act
    const env = handlerEnvironment({
      logsStream: 'l',
      metricsStream: 'm',
      archiveDeliveryStream: 'a',
      archiveErrorDeliveryStream: 'e',
      alertTopicArn: 't',
      stateTable: 's',
      timestreamDatabase: 'd',
      windowsTable: 'w',
      pipelineTable: 'p',
      windowMs: 10_000,
      allowedLatenessMs: 0,
      idleSourceTimeoutMs: 60_000,
      processorConfigJson: '{}',
      dashboardUrlTemplate: '',
    });
    // Assess
    expect(Object.keys(env).sort()).toEqual(
      Object.values(EnvVar)
        .filter((v) => !LocalOnlyEnvVars.includes(v))
        .sort(),
    );
    expect(env[EnvVar.windowMs]).toBe('10000');
    expect(env[EnvVar.allowedLatenessMs]).toBe('0');
  });
});

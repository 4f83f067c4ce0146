import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ConfigDefaults, type ConfigSource, readStackConfig, resourceNames } from '../../infra/config.ts';
import { InfraConfigError } from '../../infra/errors.ts';
import { Names, WindowDefaults } from '../../processors/schema.ts';

// js-yaml ships with @pulumi/pulumi (it parses Pulumi.yaml itself); no types are installed.
const { load } = createRequire(import.meta.url)('js-yaml') as { load: (text: string) => unknown };

/** A config bag over plain values, typed like `pulumi.Config` returns them. */
function configOf(values: Record<string, unknown>): ConfigSource {
  return {
    get: (k) => (values[k] === undefined ? undefined : String(values[k])),
    getNumber: (k) => (values[k] === undefined ? undefined : Number(values[k])),
    getBoolean: (k) => (values[k] === undefined ? undefined : values[k] === true),
    getObject: <T>(k: string) => values[k] as T | undefined,
  };
}

const expectConfigError = (values: Record<string, unknown>, key: string): void => {
  let caught: unknown;
  try {
    readStackConfig(configOf(values));
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InfraConfigError);
  expect((caught as InfraConfigError).key).toBe(key);
  expect((caught as InfraConfigError).message).toContain(`pulumi config set ${key}`);
};

describe('Pulumi.yaml config schema', () => {
  it('declares exactly the keys of ConfigDefaults, with the same defaults', () => {
    // Prepare
    const project = load(readFileSync(new URL('../../Pulumi.yaml', import.meta.url), 'utf8')) as {
      name: string;
      config: Record<string, { type: string; default: unknown }>;
    };
    // Act
    const declared = Object.fromEntries(Object.entries(project.config).map(([k, v]) => [k, v.default]));
    // Assess
    expect(project.name).toBe('tidewatch');
    expect(declared).toEqual(ConfigDefaults);
    for (const [key, decl] of Object.entries(project.config)) {
      const value = ConfigDefaults[key as keyof typeof ConfigDefaults];
      const type = Array.isArray(value) ? 'array' : typeof value === 'number' ? 'integer' : typeof value;
      expect(decl.type, key).toBe(type);
    }
  });

  it('takes the window defaults from processors/schema.ts', () => {
    expect(ConfigDefaults.windowMs).toBe(WindowDefaults.windowMs);
    expect(ConfigDefaults.allowedLatenessMs).toBe(WindowDefaults.allowedLatenessMs);
    expect(ConfigDefaults.idleSourceTimeoutMs).toBe(WindowDefaults.idleSourceTimeoutMs);
  });

  it('example stack Pulumi.dev.yaml is valid', () => {
    // Prepare
    const stack = load(readFileSync(new URL('../../Pulumi.dev.yaml', import.meta.url), 'utf8')) as {
      config: Record<string, unknown>;
    };
    const values = Object.fromEntries(
      Object.entries(stack.config)
        .filter(([k]) => k.startsWith('tidewatch:'))
        .map(([k, v]) => [k.slice('tidewatch:'.length), v]),
    );
    // Act
    const cfg = readStackConfig(configOf(values));
    // Assess
    expect(cfg.names.logsStream).toBe(`${Names.logsStream}-dev`);
    expect(cfg.streams.mode).toBe('PROVISIONED');
  });
});

describe('readStackConfig', () => {
  it('needs no config: every value has a default and names equal processors/schema.ts', () => {
    // Act
    const cfg = readStackConfig(configOf({}));
    // Assess
    expect(cfg.names.logsStream).toBe(Names.logsStream);
    expect(cfg.names.metricsStream).toBe(Names.metricsStream);
    expect(cfg.names.archiveDeliveryStream).toBe(Names.archiveDeliveryStream);
    expect(cfg.names.archiveErrorDeliveryStream).toBe(Names.archiveErrorDeliveryStream);
    expect(cfg.names.alertTopic).toBe(Names.alertTopic);
    expect(cfg.names.stateTable).toBe(Names.stateTable);
    expect(cfg.names.timestreamDatabase).toBe(Names.timestreamDatabase);
    expect(cfg.names.windowsTable).toBe(Names.windowsTable);
    expect(cfg.names.pipelineTable).toBe(Names.pipelineTable);
    expect(cfg.names.ingestFunction).toBe(Names.ingestFunction);
    expect(cfg.names.detectFunction).toBe(Names.detectFunction);
    expect(cfg.streams.mode).toBe('ON_DEMAND');
    expect(cfg.lambda.runtime).toBe('nodejs22.x');
    expect(cfg.failureHandling.maxRetryAttempts).toBeGreaterThanOrEqual(0);
    expect(cfg.failureHandling.maxRecordAgeSeconds).toBeLessThan(cfg.streams.retentionHours * 3600);
    expect(cfg.processing.processorConfigJson).toBe('{}');
    expect(cfg.alerts).toEqual({ emails: [], httpsEndpoints: [], iteratorAgeMs: 60_000 });
    expect(cfg.grafana.enabled).toBe(false);
  });

  it('suffixes every stack-level name but keeps table names inside the database', () => {
    // Act
    const names = resourceNames('prod-eu');
    // Assess
    expect(names.logsStream).toBe('tidewatch-logs-prod-eu');
    expect(names.timestreamDatabase).toBe('tidewatch-prod-eu');
    expect(names.ingestFailureQueue).toBe('tidewatch-ingest-prod-eu-failures');
    expect(names.keyAlias).toBe('alias/tidewatch-prod-eu');
    expect(names.windowsTable).toBe(Names.windowsTable);
  });

  it('reads overrides, including lists and the processor JSON', () => {
    // Act
    const cfg = readStackConfig(
      configOf({
        streamMode: 'PROVISIONED',
        logsShardCount: 8,
        lambdaRuntime: 'nodejs24.x',
        ingestBatchSize: 10_000,
        alertEmails: ['oncall@example.com'],
        alertHttpsEndpoints: ['https://events.pagerduty.com/integration/abc/enqueue'],
        processorConfig: '{ "dimensions": ["route"] }',
        'grafana.enabled': true,
      }),
    );
    // Assess
    expect(cfg.streams).toMatchObject({ mode: 'PROVISIONED', logsShardCount: 8 });
    expect(cfg.lambda.runtime).toBe('nodejs24.x');
    expect(cfg.ingest.batchSize).toBe(10_000);
    expect(cfg.alerts.emails).toEqual(['oncall@example.com']);
    expect(cfg.alerts.httpsEndpoints).toHaveLength(1);
    expect(cfg.processing.processorConfigJson).toBe('{"dimensions":["route"]}');
    expect(cfg.grafana.enabled).toBe(true);
  });

  it.each([
    [{ maxRetryAttempts: -1 }, 'maxRetryAttempts'],
    [{ maxRecordAgeSeconds: -1 }, 'maxRecordAgeSeconds'],
    [{ maxRecordAgeSeconds: 86_400 }, 'maxRecordAgeSeconds'],
    [{ lambdaRuntime: 'nodejs20.x' }, 'lambdaRuntime'],
    [{ streamMode: 'on-demand' }, 'streamMode'],
    [{ streamRetentionHours: 12 }, 'streamRetentionHours'],
    [{ ingestBatchSize: 10_001 }, 'ingestBatchSize'],
    [{ detectBatchingWindowSeconds: 301 }, 'detectBatchingWindowSeconds'],
    [{ ingestParallelizationFactor: 11 }, 'ingestParallelizationFactor'],
    [{ ingestParallelizationFactor: 2 }, 'ingestParallelizationFactor'],
    [{ detectParallelizationFactor: 10 }, 'detectParallelizationFactor'],
    [{ ingestMemoryMb: 64 }, 'ingestMemoryMb'],
    [{ detectTimeoutSeconds: 901 }, 'detectTimeoutSeconds'],
    [{ logRetentionDays: 10 }, 'logRetentionDays'],
    [{ archiveBufferingSizeMb: 129 }, 'archiveBufferingSizeMb'],
    [{ archiveBufferingIntervalSeconds: 901 }, 'archiveBufferingIntervalSeconds'],
    [{ archiveTransitionDays: 10 }, 'archiveTransitionDays'],
    [{ archiveTransitionDays: 400, archiveExpirationDays: 365 }, 'archiveTransitionDays'],
    [{ windowMs: 500 }, 'windowMs'],
    [{ windowMs: 1.5e3 + 0.5 }, 'windowMs'],
    [{ processorConfig: '{not json' }, 'processorConfig'],
    [{ processorConfig: '[1,2]' }, 'processorConfig'],
    [{ alertEmails: ['not-an-email'] }, 'alertEmails'],
    [{ alertEmails: 'oncall@example.com' }, 'alertEmails'],
    [{ alertHttpsEndpoints: ['http://insecure.example.com'] }, 'alertHttpsEndpoints'],
    [{ nameSuffix: 'Prod' }, 'nameSuffix'],
    [{ nameSuffix: 'a-very-long-suffix-indeed' }, 'nameSuffix'],
  ])('rejects %j naming the key %s', (values, key) => {
    expectConfigError(values, key);
  });

  it('accepts the edges AWS accepts', () => {
    // Act
    const cfg = readStackConfig(
      configOf({
        maxRetryAttempts: 0,
        maxRecordAgeSeconds: 60,
        streamRetentionHours: 8760,
        ingestBatchingWindowSeconds: 0,
        archiveBufferingIntervalSeconds: 0,
        archiveTransitionDays: 0,
        windowMs: WindowDefaults.maxWindowMs,
      }),
    );
    // Assess
    expect(cfg.failureHandling).toEqual({ maxRetryAttempts: 0, maxRecordAgeSeconds: 60 });
    expect(cfg.archive.transitionDays).toBe(0);
    expect(cfg.processing.windowMs).toBe(WindowDefaults.maxWindowMs);
  });

  it('reads the Grafana mode, and needs a URL for an existing Grafana', () => {
    // Act
    const json = readStackConfig(configOf({ 'grafana.enabled': true, 'grafana.mode': 'json' }));
    const existing = readStackConfig(
      configOf({
        'grafana.enabled': true,
        'grafana.mode': 'existing',
        'grafana.url': 'https://grafana.example.com',
      }),
    );
    // Assess
    expect(readStackConfig(configOf({})).grafana).toEqual({ enabled: false, mode: 'workspace', url: '' });
    expect(json.grafana).toMatchObject({ enabled: true, mode: 'json' });
    expect(existing.grafana.url).toBe('https://grafana.example.com');
    expectConfigError({ 'grafana.mode': 'cloud' }, 'grafana.mode');
    expectConfigError({ 'grafana.enabled': true, 'grafana.mode': 'existing' }, 'grafana.url');
    expectConfigError(
      { 'grafana.enabled': true, 'grafana.mode': 'existing', 'grafana.url': 'grafana:3000' },
      'grafana.url',
    );
  });
});

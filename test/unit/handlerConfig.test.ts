/**
 * Handler configuration from the environment: defaults, overrides, endpoints, and every problem
 * reported at once.
 */
import { describe, expect, it } from 'vitest';
import { HandlerConfigError } from '../../processors/pipeline/errors.ts';
import { readHandlerConfig } from '../../processors/pipeline/handlerConfig.ts';
import { EnvVar, Names } from '../../processors/schema.ts';

describe('readHandlerConfig', () => {
  it('fills the schema defaults from an empty environment', () => {
    // Act
    const c = readHandlerConfig({});
    // Assess
    expect(c.logsStream).toBe(Names.logsStream);
    expect(c.window.windowMs).toBe(10_000);
    expect(c.alertTopicArn).toBe('');
    expect(c.endpoints).toEqual({});
  });

  it('reads the window variables, TW_CONFIG and the AWS_ENDPOINT_URL_<SERVICE> endpoints', () => {
    // Act
    const c = readHandlerConfig({
      [EnvVar.windowMs]: '60000',
      [EnvVar.allowedLatenessMs]: '5000',
      [EnvVar.config]: JSON.stringify({ dimensions: ['route'], alerts: { rule: { scoreThreshold: 0.8 } } }),
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL_TIMESTREAM_WRITE: 'http://127.0.0.1:2',
    });
    // Assess
    expect(c.window.windowMs).toBe(60_000);
    expect(c.window.allowedLatenessMs).toBe(5_000);
    expect(c.window.dimensions).toEqual(['route']);
    expect(c.alerts.rule.scoreThreshold).toBe(0.8);
    expect(c.endpoints.kinesis).toBe('http://127.0.0.1:1');
    expect(c.endpoints.timestreamWrite).toBe('http://127.0.0.1:2');
  });

  it('lists every problem with the variable it came from', () => {
    // Act
    let error: unknown;
    try {
      readHandlerConfig({ [EnvVar.windowMs]: 'ten', [EnvVar.config]: '{"detector":"magic","colour":1}' });
    } catch (err) {
      error = err;
    }
    // Assess
    expect(error).toBeInstanceOf(HandlerConfigError);
    const problems = (error as HandlerConfigError).problems.join('\n');
    expect(problems).toMatch(/TW_WINDOW_MS/);
    expect(problems).toMatch(/unknown key 'colour'/);
    expect(problems).toMatch(/detector must be one of/);
  });
});

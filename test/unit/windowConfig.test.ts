import { describe, expect, it } from 'vitest';
import { WindowDefaults } from '../../processors/schema.ts';
import { parseWindowConfig } from '../../processors/transforms/window/windowConfig.ts';

describe('parseWindowConfig', () => {
  it('fills defaults from schema.ts WindowDefaults', () => {
    // Act
    const out = parseWindowConfig(undefined);
    // Assess
    expect(out).toEqual({
      kind: 'ok',
      value: {
        windowMs: 10_000,
        allowedLatenessMs: 30_000,
        // The same default the Pulumi stack deploys (infra/config.ts reads WindowDefaults too).
        idleSourceTimeoutMs: WindowDefaults.idleSourceTimeoutMs,
        maxFutureMs: 900_000,
        closedRetentionMs: 30_000,
        dimensions: [],
        maxDistinctPerDimension: 100,
        relativeAccuracy: 0.01,
        rules: [],
      },
    });
  });

  it('accepts hopping windows, dimensions in canonical order and rules', () => {
    const out = parseWindowConfig(
      JSON.stringify({
        windowMs: 60_000,
        slideMs: 10_000,
        dimensions: ['status_class', 'route'],
        rules: [
          { name: 'declines', kind: 'count', where: { field: 'message', matches: 'declin', flags: 'i' } },
          { name: 'payload_bytes', kind: 'sketch', field: 'attributes.http.bytes' },
        ],
      }),
    );
    expect(out.kind).toBe('ok');
    if (out.kind !== 'ok') return;
    expect(out.value.slideMs).toBe(10_000);
    expect(out.value.dimensions).toEqual(['route', 'status_class']);
    expect(out.value.rules[0]!.where).toEqual([{ field: 'message', matches: 'declin', flags: 'i' }]);
  });

  it('lists every problem with the setting, what was wrong and what is accepted', () => {
    // Act
    const out = parseWindowConfig({
      windowMs: 500,
      slideMs: 3_000,
      allowedLatenessMs: -1,
      dimensions: ['host'],
      relativeAccuracy: 0.5,
      windowSize: 10,
      rules: [
        { name: 'count', kind: 'count' },
        { name: 'x', kind: 'avg' },
        { name: 'y', kind: 'sum' },
        { name: 'z', kind: 'count', where: [{ field: 'message', matches: '(' }] },
      ],
    });
    // Assess
    expect(out.kind).toBe('invalid');
    if (out.kind !== 'invalid') return;
    const text = out.problems.join('\n');
    expect(text).toContain('windowMs: must be an integer from 1000 to 900000 (got 500)');
    expect(text).toContain('allowedLatenessMs: must be an integer from 0');
    expect(text).toContain('dimensions: "host" is not one of route, status_class');
    expect(text).toContain('relativeAccuracy: must be from 0.005 to 0.1');
    expect(text).toContain('windowSize: unknown setting');
    expect(text).toContain("rules[0].name: 'count' is a built-in measure");
    expect(text).toContain('rules[1].kind: must be count, sum or sketch (got "avg")');
    expect(text).toContain('rules[2].field: sum needs a numeric field');
    expect(text).toContain('rules[3].where[0].matches: not a valid regular expression');
  });

  it('rejects a slide that does not divide the window, and bad JSON', () => {
    expect(parseWindowConfig({ windowMs: 10_000, slideMs: 3_000 })).toMatchObject({ kind: 'invalid' });
    expect(parseWindowConfig('{windowMs:')).toMatchObject({ kind: 'invalid' });
    expect(parseWindowConfig([])).toMatchObject({ kind: 'invalid' });
  });
});

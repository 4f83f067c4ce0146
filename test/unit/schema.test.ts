import { describe, expect, it } from 'vitest';
import { Measure, MetricMeasure, Names, PipelineMeasure, RejectCode } from '../../processors/schema.ts';

describe('schema', () => {
  it('spells every measure name once', () => {
    // Prepare
    const names = Object.values(Measure).map((m) => m.name);
    // Assess
    expect(new Set(names).size).toBe(names.length);
    for (const n of [...names, ...Object.values(PipelineMeasure).map((m) => m.name)]) {
      expect(n).toMatch(/^[a-z][a-z0-9_]*$/);
    }
  });

  it('maps every scored metric to a measure that exists', () => {
    const names = new Set(Object.values(Measure).map((m) => m.name));
    for (const measure of Object.values(MetricMeasure)) expect(names.has(measure)).toBe(true);
  });

  it('uses low-cardinality snake_case reject codes', () => {
    const codes = Object.values(RejectCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^[a-z0-9_]+$/);
  });

  it('names resources within AWS naming rules', () => {
    // Kinesis stream, Firehose, SNS and DynamoDB names: [a-zA-Z0-9_.-], Timestream names 3–256 chars.
    for (const n of Object.values(Names)) expect(n).toMatch(/^[a-zA-Z0-9_.-]{3,64}$/);
  });
});

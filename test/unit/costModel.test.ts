import { describe, expect, it } from 'vitest';
import { defaultCostInputs, estimateMonthlyCost } from '../../cli/costModel.ts';

function total(lines: { monthlyUsd: number }[]): number {
  return lines.reduce((s, l) => s + l.monthlyUsd, 0);
}

describe('estimateMonthlyCost', () => {
  it('bills Firehose on packed records rounded up to 5 KB steps', () => {
    // Prepare: 1 GB/day packed into ~1,000 KiB records: 1,000 KiB is exactly 200 × 5 KiB steps.
    const inputs = { ...defaultCostInputs(), gbPerDay: 1, services: 1 };
    // Act
    const firehose = estimateMonthlyCost(inputs).find((l) => l.component.startsWith('Kinesis Data Firehose'));
    // Assess: records = ceil(1e9 / 1,024,000) = 977 per day; billed = 977 × 1,024,000 bytes × 30 days.
    expect(firehose?.monthlyUsd).toBeCloseTo(((977 * 1_024_000 * 30) / 1e9) * 0.029, 6);
  });

  it('grows with volume and with services', () => {
    const base = { ...defaultCostInputs(), gbPerDay: 1000, services: 100 };
    expect(total(estimateMonthlyCost({ ...base, gbPerDay: 5000 }))).toBeGreaterThan(
      total(estimateMonthlyCost(base)),
    );
    expect(total(estimateMonthlyCost({ ...base, services: 10_000 }))).toBeGreaterThan(
      total(estimateMonthlyCost(base)),
    );
  });

  it('sizes provisioned shards for twice the average write rate under the 1 MiB/s shard limit', () => {
    // Prepare: 100 GB/day ≈ 1.16 MB/s average → 2.3 MB/s peak → 4 shards at 70 % of 1 MiB/s, +1 metrics.
    const inputs = {
      ...defaultCostInputs(),
      gbPerDay: 100,
      services: 10,
      kinesisMode: 'provisioned' as const,
    };
    // Act
    const kinesis = estimateMonthlyCost(inputs).find((l) => l.component.includes('provisioned'));
    // Assess
    expect(kinesis?.basis).toMatch(/^5 shards/);
  });

  it('takes overridden prices', () => {
    const inputs = defaultCostInputs();
    const free = { ...inputs, prices: Object.fromEntries(Object.keys(inputs.prices).map((k) => [k, 0])) };
    expect(total(estimateMonthlyCost(free as typeof inputs))).toBe(0);
  });
});

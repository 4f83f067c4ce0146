/**
 * SnsAlertPublisher → real @aws-sdk/client-sns (Query protocol) → local SNS endpoint, with throttling,
 * 500s and lost responses: every alert the deduper lets through reaches alerts.jsonl at least once,
 * nothing it suppressed does, and every subject respects the SNS limit.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SnsEndpoint, type StoredSnsMessage, startSnsEndpoint } from '../../local/snsEndpoint.ts';
import { AlertDeduper } from '../../processors/sinks/alertDeduper.ts';
import type { AlertEvent, AlertMessage } from '../../processors/sinks/alertEvent.ts';
import { seededRandom } from '../../processors/sinks/backoff.ts';
import { createSnsClient } from '../../processors/sinks/sinkClients.ts';
import { SnsAlertPublisher } from '../../processors/sinks/snsAlertPublisher.ts';

const W = 10_000;
const T0 = 1_700_000_000_000;
let dir: string;
let sns: SnsEndpoint;
const echoed: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tw-sns-'));
  sns = await startSnsEndpoint({
    dataDir: dir,
    echo: (line) => echoed.push(line),
    faults: { throttleCallFraction: 0.25, failCallFraction: 0.1, dropResponseFraction: 0.1, seed: 21 },
  });
});

afterAll(async () => {
  await sns.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Four services: each alerts for a stretch of windows, then recovers; the detector emits every window. */
function events(): AlertEvent[] {
  const out: AlertEvent[] = [];
  for (let s = 0; s < 4; s++) {
    for (let k = 0; k < 30; k++) {
      const alerting = k >= 3 + s && k < 20 + s;
      const recovered = k === 20 + s;
      if (!alerting && !recovered) continue;
      out.push({
        kind: alerting ? 'alert' : 'recovery',
        service: `service-${s}-${'long-name-'.repeat(s * 3)}`,
        metric: 'error_rate',
        windowStartMs: T0 + k * W,
        windowEndMs: T0 + (k + 1) * W,
        value: alerting ? 0.3 : 0.01,
        expectedLow: 0,
        expectedHigh: 0.05,
        score: alerting ? 8 : 0.5,
        threshold: 5,
      });
    }
  }
  return out;
}

describe('SnsAlertPublisher against the local endpoint with faults', () => {
  it('publishes each deduplicated alert and recovery at least once and nothing else', async () => {
    // Prepare: the expected notifications, from a fault-free deduper over the same events.
    const all = events();
    const reference = new AlertDeduper({ cooldownMs: 6 * W });
    const expected = new Set<string>();
    for (const e of all) {
      if (reference.decide(e) === 'publish') {
        reference.record(e);
        expected.add(`${e.service}|${e.kind}|${e.windowEndMs}`);
      }
    }
    const publisher = new SnsAlertPublisher({
      client: createSnsClient({ endpoint: sns.url }),
      topicArn: sns.topicArn(),
      cooldownMs: 6 * W,
      dashboardUrlTemplate: 'http://127.0.0.1:4580/?service={service}&from={fromMs}&to={toMs}',
      backoff: { baseDelayMs: 5, maxDelayMs: 50, random: seededRandom(2) },
    });

    // Act: the detect handler publishes window by window (one call per 4 events).
    const results = [];
    for (let i = 0; i < all.length; i += 4)
      results.push(await publisher.publish(all.slice(i, i + 4), { budgetMs: 30_000 }));
    await sns.close();

    // Assess: outcomes
    const outcomes = results.flatMap((r) => r.outcomes);
    expect(outcomes.every((o) => o.kind === 'ok')).toBe(true);
    expect(results.reduce((n, r) => n + r.stats.published, 0)).toBe(expected.size);
    expect(publisher.openAlerts).toBe(0);

    // Assess: the file has every expected message (lost responses may duplicate) and nothing else.
    const stored = readFileSync(sns.alertsFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as StoredSnsMessage);
    const seen = new Set<string>();
    for (const m of stored) {
      const body = JSON.parse(m.message) as AlertMessage;
      seen.add(`${body.service}|${body.kind}|${body.window.endMs}`);
      expect(m.topicArn).toBe(sns.topicArn());
      expect(m.subject!.length).toBeLessThan(100);
      expect(m.attributes).toEqual({ kind: body.kind, service: body.service, metric: 'error_rate' });
      expect(body.dashboardUrl).toContain(`service=${encodeURIComponent(body.service)}`);
    }
    expect(seen).toEqual(expected);
    expect(echoed.length).toBe(stored.length);
    expect(sns.faults.stats.throttledCalls).toBeGreaterThan(0);
  });
});

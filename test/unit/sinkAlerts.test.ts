import {
  NotFoundException,
  type PublishCommandInput,
  type SNSClient,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { AlertDeduper } from '../../processors/sinks/alertDeduper.ts';
import {
  type AlertEvent,
  alertMessage,
  alertSubject,
  MAX_SNS_SUBJECT_CHARS,
  renderDashboardUrl,
} from '../../processors/sinks/alertEvent.ts';
import { SnsAlertPublisher } from '../../processors/sinks/snsAlertPublisher.ts';
import { fakeClock } from './sinkTestClock.ts';

const W = 10_000;
const T0 = 1_700_000_000_000;
const meta = { $metadata: {} };

function alertAt(k: number, overrides: Partial<AlertEvent> = {}): AlertEvent {
  return {
    kind: 'alert',
    service: 'checkout',
    metric: 'error_rate',
    windowStartMs: T0 + k * W,
    windowEndMs: T0 + (k + 1) * W,
    value: 0.2134,
    expectedLow: 0,
    expectedHigh: 0.05,
    score: 7.23456,
    threshold: 5,
    ...overrides,
  };
}

function fakeSns(respond: (input: PublishCommandInput, n: number) => unknown = () => ({ MessageId: 'm' })) {
  const calls: PublishCommandInput[] = [];
  const client = {
    send: async (command: { input: PublishCommandInput }) => {
      calls.push(command.input);
      const out = respond(command.input, calls.length);
      if (out instanceof Error) throw out;
      return out;
    },
  } as unknown as SNSClient;
  return { client, calls };
}

describe('alert formatting', () => {
  it('writes a short ASCII subject within the SNS limit', () => {
    // Prepare
    const long = alertAt(0, { service: `größe-${'x'.repeat(200)}` });
    // Act
    const subject = alertSubject(long);
    // Assess
    expect(alertSubject(alertAt(0))).toBe(
      '[ALERT] checkout error_rate=0.2134 outside [0, 0.05] (score 7.235 >= 5)',
    );
    expect(alertSubject(alertAt(0, { kind: 'recovery', value: 0.01 }))).toBe(
      '[RECOVERED] checkout error_rate=0.01 back within [0, 0.05]',
    );
    expect(subject.length).toBe(MAX_SNS_SUBJECT_CHARS);
    expect(subject).toMatch(/^\[ALERT\] gr\?\?e-x+\.\.\.$/);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it('builds the structured message with window, expected range, score and a dashboard link', () => {
    // Act
    const msg = alertMessage(
      alertAt(0, { dimensions: { route: '/pay' } }),
      'https://grafana.example.com/d/tw?var-service={service}&var-route={dim.route}&from={fromMs}&to={toMs}&x={unknown}',
    );
    // Assess
    expect(msg).toMatchObject({
      version: 1,
      kind: 'alert',
      service: 'checkout',
      metric: 'error_rate',
      dimensions: { route: '/pay' },
      window: { startMs: T0, endMs: T0 + W, start: new Date(T0).toISOString() },
      observed: 0.2134,
      expected: { low: 0, high: 0.05 },
      score: 7.23456,
      threshold: 5,
    });
    expect(msg.dashboardUrl).toBe(
      `https://grafana.example.com/d/tw?var-service=checkout&var-route=%2Fpay&from=${T0 - 3_600_000}&to=${T0 + W + 600_000}&x={unknown}`,
    );
    expect(msg.summary).toContain('outside the expected 0..0.05');
  });

  it('URL-encodes template values', () => {
    expect(renderDashboardUrl('/d?s={service}', alertAt(0, { service: 'a b&c' }))).toBe('/d?s=a%20b%26c');
  });
});

describe('AlertDeduper', () => {
  it('publishes the first alert, suppresses repeats within the cooldown, reminds after it', () => {
    // Prepare
    const dedupe = new AlertDeduper({ cooldownMs: 3 * W });
    const decisions: string[] = [];
    // Act: alerts in 5 consecutive windows.
    for (let k = 0; k < 5; k++) {
      const e = alertAt(k);
      const d = dedupe.decide(e);
      decisions.push(d);
      if (d === 'publish') dedupe.record(e);
    }
    // Assess
    expect(decisions).toEqual(['publish', 'cooldown', 'cooldown', 'publish', 'cooldown']);
  });

  it('sends a recovery only for a series that is alerting, then closes it', () => {
    const dedupe = new AlertDeduper();
    const recovery = alertAt(3, { kind: 'recovery' });
    expect(dedupe.decide(recovery)).toBe('not_alerting');
    dedupe.record(alertAt(0));
    expect(dedupe.decide(recovery)).toBe('publish');
    dedupe.record(recovery);
    expect(dedupe.openCount).toBe(0);
    expect(dedupe.decide(alertAt(4))).toBe('publish');
  });

  it('dedupes per series (service, metric, dimensions) and survives a snapshot round trip', () => {
    // Prepare
    const a = new AlertDeduper();
    a.record(alertAt(0));
    a.record(alertAt(0, { metric: 'latency_p99' }));
    // Act
    const b = new AlertDeduper({ snapshot: JSON.parse(JSON.stringify(a.snapshot())) });
    // Assess
    expect(b.openCount).toBe(2);
    expect(b.decide(alertAt(1))).toBe('cooldown');
    expect(b.decide(alertAt(1, { dimensions: { route: '/x' } }))).toBe('publish');
    expect(b.decide(alertAt(1, { service: 'search' }))).toBe('publish');
  });
});

describe('SnsAlertPublisher', () => {
  it('publishes alert and recovery with subject, JSON body and filterable attributes; suppresses repeats', async () => {
    // Prepare
    const { client, calls } = fakeSns();
    const publisher = new SnsAlertPublisher({
      client,
      topicArn: 'arn:aws:sns:us-east-1:1:t',
      cooldownMs: 60_000,
    });
    // Act
    const { outcomes, stats } = await publisher.publish([
      alertAt(0),
      alertAt(1),
      alertAt(2, { kind: 'recovery', value: 0.01 }),
    ]);
    // Assess
    expect(calls.length).toBe(2);
    expect(calls[0]!.TopicArn).toBe('arn:aws:sns:us-east-1:1:t');
    expect(calls[0]!.Subject).toBe(alertSubject(alertAt(0)));
    expect(JSON.parse(calls[0]!.Message!)).toMatchObject({ kind: 'alert', service: 'checkout' });
    expect(calls[1]!.MessageAttributes).toEqual({
      kind: { DataType: 'String', StringValue: 'recovery' },
      service: { DataType: 'String', StringValue: 'checkout' },
      metric: { DataType: 'String', StringValue: 'error_rate' },
    });
    expect(outcomes.map((o) => (o.kind === 'ok' ? o.value.published : o.kind))).toEqual([true, false, true]);
    expect(stats).toMatchObject({ events: 3, published: 2, suppressed: 1 });
    expect(publisher.openAlerts).toBe(0);
  });

  it('retries throttling; after the budget the event is retry and dedupe state is unchanged', async () => {
    // Prepare
    const clock = fakeClock();
    const flaky = fakeSns((_, n) =>
      n === 1 ? new ThrottledException({ ...meta, message: 'Rate exceeded' }) : { MessageId: 'm' },
    );
    const down = fakeSns(() => new ThrottledException({ ...meta, message: 'Rate exceeded' }));
    const ok = new SnsAlertPublisher({
      client: flaky.client,
      topicArn: 'arn:aws:sns:us-east-1:1:t',
      backoff: clock,
    });
    const failing = new SnsAlertPublisher({
      client: down.client,
      topicArn: 'arn:aws:sns:us-east-1:1:t',
      backoff: clock,
    });
    // Act
    const a = await ok.publish([alertAt(0)]);
    const b = await failing.publish([alertAt(0)], { budgetMs: 2_000 });
    // Assess
    expect(a.outcomes[0]).toEqual({ kind: 'ok', value: { published: true, messageId: 'm' } });
    expect(a.stats.retriedCalls).toBe(1);
    expect(b.outcomes[0]).toEqual({ kind: 'retry', reason: 'sns:ThrottledException' });
    expect(failing.openAlerts).toBe(0);
  });

  it('rejects (does not retry) when the topic does not exist', async () => {
    const { client, calls } = fakeSns(
      () => new NotFoundException({ ...meta, message: 'Topic does not exist' }),
    );
    const publisher = new SnsAlertPublisher({ client, topicArn: 'arn:aws:sns:us-east-1:1:gone' });
    const { outcomes } = await publisher.publish([alertAt(0)]);
    expect(outcomes[0]).toMatchObject({ kind: 'reject', code: 'alert_rejected' });
    expect(calls.length).toBe(1);
  });
});

/**
 * Publishes alert and recovery events to an SNS topic, deduplicated per series with a cooldown.
 *
 * Each published message is the JSON {@link AlertMessage} with a plain-text subject (email
 * subscribers see it) and String message attributes `kind`, `service`, `metric` so subscriptions can
 * filter (SNS subscription filter policies). Throttling (`Throttled`), 5xx and network errors are
 * retried with full-jitter backoff within the budget, then the event is `retry` and the dedupe state
 * is left untouched, so the redelivered batch publishes it again. SNS delivery is at-least-once; a
 * response lost after SNS accepted the message can duplicate it.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type Outcome, RejectCode } from '../schema.ts';
import { AlertDeduper, type AlertDedupeSnapshot } from './alertDeduper.ts';
import { type AlertEvent, alertMessage, alertSubject } from './alertEvent.ts';
import { Backoff, type BackoffOptions, errorName, isRetryableError } from './backoff.ts';
import { SinkConfigError } from './errors.ts';

/** What happened to one event. */
export type AlertDelivery =
  | { readonly published: true; readonly messageId: string }
  | { readonly published: false; readonly reason: 'cooldown' | 'not_alerting' };

/** Counters of one publish call. */
export interface AlertPublishStats {
  events: number;
  published: number;
  /** Suppressed by dedupe (cooldown, or a recovery of a series that was not alerting). */
  suppressed: number;
  retry: number;
  rejected: number;
  calls: number;
  retriedCalls: number;
}

/** Result of {@link SnsAlertPublisher.publish}: `outcomes[i]` belongs to `events[i]`. */
export interface AlertPublishResult {
  outcomes: Outcome<AlertDelivery>[];
  stats: AlertPublishStats;
}

/** Options of {@link SnsAlertPublisher}. */
export interface SnsAlertPublisherOptions {
  /** An `SNSClient`; prefer `maxAttempts: 1` so this publisher's budgeted backoff is the only retry loop. */
  client: SNSClient;
  topicArn: string;
  /** Link template, see `renderDashboardUrl` (e.g. from `EnvVar.dashboardUrlTemplate`). */
  dashboardUrlTemplate?: string;
  /** Cooldown between notifications of one open series (event time). Default 15 min. */
  cooldownMs?: number;
  /** Dedupe state from a checkpoint. */
  snapshot?: AlertDedupeSnapshot;
  /** Budget when a call passes none. Default 10,000 ms. */
  defaultBudgetMs?: number;
  backoff?: Omit<BackoffOptions, 'budgetMs' | 'deadlineMs'>;
}

const COOLDOWN: Outcome<AlertDelivery> = Object.freeze({
  kind: 'ok',
  value: Object.freeze({ published: false, reason: 'cooldown' }),
});
const NOT_ALERTING: Outcome<AlertDelivery> = Object.freeze({
  kind: 'ok',
  value: Object.freeze({ published: false, reason: 'not_alerting' }),
});

/**
 * SNS alert publisher with per-series dedupe.
 *
 * @example
 * const alerts = new SnsAlertPublisher({ client: new SNSClient({ maxAttempts: 1 }), topicArn,
 *   dashboardUrlTemplate: 'https://grafana.example.com/d/tw?var-service={service}&from={fromMs}&to={toMs}' });
 * const { stats } = await alerts.publish(events, { budgetMs: 5_000 });
 * await stateStore.put({ kind: 'alerts', key: shardId, version, data: encode(alerts.snapshot()) });
 */
export class SnsAlertPublisher {
  readonly topicArn: string;
  private readonly client: SNSClient;
  private readonly dashboardUrlTemplate: string | undefined;
  private readonly deduper: AlertDeduper;
  private readonly defaultBudgetMs: number;
  private readonly backoffOptions: Omit<BackoffOptions, 'budgetMs' | 'deadlineMs'>;

  constructor(options: SnsAlertPublisherOptions) {
    if (options.topicArn === '') throw new SinkConfigError('topicArn must not be empty');
    this.client = options.client;
    this.topicArn = options.topicArn;
    this.dashboardUrlTemplate = options.dashboardUrlTemplate;
    const dedupeOptions: { cooldownMs?: number; snapshot?: AlertDedupeSnapshot } = {};
    if (options.cooldownMs !== undefined) dedupeOptions.cooldownMs = options.cooldownMs;
    if (options.snapshot !== undefined) dedupeOptions.snapshot = options.snapshot;
    this.deduper = new AlertDeduper(dedupeOptions);
    this.defaultBudgetMs = options.defaultBudgetMs ?? 10_000;
    this.backoffOptions = options.backoff ?? {};
  }

  /** Series currently alerting (published alert, no published recovery yet). */
  get openAlerts(): number {
    return this.deduper.openCount;
  }

  /** Dedupe state to checkpoint after a publish. */
  snapshot(): AlertDedupeSnapshot {
    return this.deduper.snapshot();
  }

  /**
   * Publishes `events` in order. Suppressed events are `ok` with `published: false`; failed ones are
   * `retry` (transient, budget spent) or `reject{alert_rejected}` (topic missing, no permission).
   */
  async publish(
    events: readonly AlertEvent[],
    options: { budgetMs?: number } = {},
  ): Promise<AlertPublishResult> {
    const stats: AlertPublishStats = {
      events: events.length,
      published: 0,
      suppressed: 0,
      retry: 0,
      rejected: 0,
      calls: 0,
      retriedCalls: 0,
    };
    const outcomes: Outcome<AlertDelivery>[] = new Array(events.length);
    const now = this.backoffOptions.now ?? Date.now;
    const deadlineMs = now() + (options.budgetMs ?? this.defaultBudgetMs);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const decision = this.deduper.decide(e);
      if (decision !== 'publish') {
        outcomes[i] = decision === 'cooldown' ? COOLDOWN : NOT_ALERTING;
        stats.suppressed++;
        continue;
      }
      const outcome = await this.publishOne(e, deadlineMs, stats);
      outcomes[i] = outcome;
      if (outcome.kind === 'ok') {
        this.deduper.record(e);
        stats.published++;
      } else if (outcome.kind === 'retry') stats.retry++;
      else stats.rejected++;
    }
    return { outcomes, stats };
  }

  private async publishOne(
    e: AlertEvent,
    deadlineMs: number,
    stats: AlertPublishStats,
  ): Promise<Outcome<AlertDelivery>> {
    const command = new PublishCommand({
      TopicArn: this.topicArn,
      Subject: alertSubject(e),
      Message: JSON.stringify(alertMessage(e, this.dashboardUrlTemplate)),
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: e.kind },
        service: { DataType: 'String', StringValue: e.service },
        metric: { DataType: 'String', StringValue: e.metric },
      },
    });
    const backoff = new Backoff({ ...this.backoffOptions, deadlineMs });
    for (;;) {
      stats.calls++;
      try {
        const res = await this.client.send(command);
        return { kind: 'ok', value: { published: true, messageId: res.MessageId ?? '' } };
      } catch (err) {
        if (isRetryableError(err)) {
          if (await backoff.wait()) {
            stats.retriedCalls++;
            continue;
          }
          return { kind: 'retry', reason: `sns:${errorName(err)}` };
        }
        return {
          kind: 'reject',
          code: RejectCode.alertRejected,
          detail: `sns:${errorName(err)}: ${(err as Error).message ?? ''}`.slice(0, 300),
        };
      }
    }
  }
}

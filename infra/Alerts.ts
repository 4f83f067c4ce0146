import { createHash } from 'node:crypto';
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** Arguments of {@link Alerts}. */
export interface AlertsArgs {
  topicName: string;
  kmsKeyArn: pulumi.Input<string>;
  /** Each gets an SNS email subscription (the recipient must confirm it). */
  emails: readonly string[];
  /** Each gets an SNS HTTPS subscription (the endpoint must confirm it, or auto-confirm). */
  httpsEndpoints: readonly string[];
}

/**
 * Logical name of a subscription, stable when the config list is reordered (a hash of the endpoint,
 * so reordering `alertEmails` does not replace and re-confirm every subscription).
 *
 * @example
 * subscriptionName('alerts', 'email', 'oncall@example.com'); // 'alerts-email-<10 hex digits>'
 */
export function subscriptionName(base: string, protocol: string, endpoint: string): string {
  return `${base}-${protocol}-${createHash('sha256').update(endpoint).digest('hex').slice(0, 10)}`;
}

/**
 * The KMS-encrypted SNS topic that carries both detector alerts (published by the detect function)
 * and the pipeline's own CloudWatch alarms, with optional email and HTTPS subscriptions from config.
 *
 * @example
 * const alerts = new Alerts('alerts', { topicName: 'tidewatch-alerts', kmsKeyArn: key.keyArn,
 *   emails: ['oncall@example.com'], httpsEndpoints: [] });
 */
export class Alerts extends pulumi.ComponentResource {
  readonly topicArn: pulumi.Output<string>;
  readonly topicName: pulumi.Output<string>;

  constructor(name: string, args: AlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('tidewatch:infra:Alerts', name, {}, opts);
    const topic = new aws.sns.Topic(
      name,
      { name: args.topicName, displayName: 'tidewatch alerts', kmsMasterKeyId: args.kmsKeyArn },
      { parent: this },
    );
    const subscribe = (protocol: 'email' | 'https', endpoint: string): void => {
      new aws.sns.TopicSubscription(
        subscriptionName(name, protocol, endpoint),
        { topic: topic.arn, protocol, endpoint },
        { parent: this },
      );
    };
    for (const email of args.emails) subscribe('email', email);
    for (const url of args.httpsEndpoints) subscribe('https', url);

    this.topicArn = topic.arn;
    this.topicName = topic.name;
    this.registerOutputs({ topicArn: this.topicArn });
  }
}

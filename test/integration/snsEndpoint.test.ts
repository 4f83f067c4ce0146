/**
 * The local SNS endpoint through the real SDK client (AWS Query protocol, XML responses).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SnsEndpoint, startSnsEndpoint } from '../../local/snsEndpoint.ts';
import { createSnsClient } from '../../processors/sinks/sinkClients.ts';

let dir: string;
let sns: SnsEndpoint;
let client: SNSClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tw-snse-'));
  sns = await startSnsEndpoint({ dataDir: dir, topics: [] });
  client = createSnsClient({ endpoint: sns.url });
});

afterAll(async () => {
  await sns.close();
  rmSync(dir, { recursive: true, force: true });
});

async function errorOf(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe('local SNS endpoint', () => {
  it('creates a topic, publishes to it and appends the message to alerts.jsonl', async () => {
    // Act
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: 'tidewatch-alerts' }));
    const res = await client.send(
      new PublishCommand({
        TopicArn,
        Subject: 'x'.repeat(99),
        Message: '{"kind":"alert"}',
        MessageAttributes: { service: { DataType: 'String', StringValue: 'checkout' } },
      }),
    );
    // Assess
    expect(TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:tidewatch-alerts');
    expect(res.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    const lines = readFileSync(sns.alertsFile, 'utf8').trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({
      messageId: res.MessageId,
      topicArn: TopicArn,
      subject: 'x'.repeat(99),
      message: '{"kind":"alert"}',
      attributes: { service: 'checkout' },
    });
  });

  it('refuses subjects of 100 characters or with non-ASCII, and unknown topics', async () => {
    const TopicArn = sns.topicArn();
    const long = await errorOf(
      client.send(new PublishCommand({ TopicArn, Subject: 'x'.repeat(100), Message: 'm' })),
    );
    const accented = await errorOf(
      client.send(new PublishCommand({ TopicArn, Subject: 'café', Message: 'm' })),
    );
    const unknown = await errorOf(
      client.send(new PublishCommand({ TopicArn: sns.topicArn('other'), Message: 'm' })),
    );
    expect(long.name).toBe('InvalidParameterException');
    expect(accented.name).toBe('InvalidParameterException');
    expect(unknown.name).toBe('NotFoundException');
    expect(unknown.$metadata?.httpStatusCode).toBe(404);
  });

  it('answers injected throttling with Throttled (429) and failures with InternalError (500)', async () => {
    sns.faults.set({ throttleCallFraction: 1 });
    const throttled = await errorOf(
      client.send(new PublishCommand({ TopicArn: sns.topicArn(), Message: 'm' })),
    );
    sns.faults.set({ failCallFraction: 1 });
    const failed = await errorOf(client.send(new PublishCommand({ TopicArn: sns.topicArn(), Message: 'm' })));
    sns.faults.set({});
    expect(throttled.name).toBe('ThrottledException');
    expect(throttled.$metadata?.httpStatusCode).toBe(429);
    expect(failed.name).toBe('InternalErrorException');
    expect(failed.$metadata?.httpStatusCode).toBe(500);
  });
});

/**
 * A local SNS endpoint speaking the AWS Query protocol (form-encoded `Action=Publish&Version=2010-03-31`,
 * XML responses), so `@aws-sdk/client-sns` runs unchanged. Published messages are appended to
 * `<dataDir>/alerts.jsonl` (one JSON object per line) and optionally echoed to the console.
 *
 * `Publish` validation as SNS does (API_Publish): `Message` required and ≤ 256 KB (262,144 bytes);
 * `Subject` ASCII without control characters and fewer than 100 characters; otherwise
 * `InvalidParameter`. A topic not created here, when `topics` are configured, is `NotFound`.
 * `CreateTopic` is served so setup code can run unchanged. Faults: `Throttled` (HTTP 429) and
 * `InternalError` (500).
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Names } from '../processors/schema.ts';
import { AwsServiceError, startAwsServer, xmlEscape } from './awsJsonServer.ts';
import { type FaultConfig, FaultInjector } from './faults.ts';

/** One published message as stored in `alerts.jsonl`. */
export interface StoredSnsMessage {
  messageId: string;
  topicArn: string;
  timeMs: number;
  subject?: string;
  /** The message body exactly as published (tidewatch alerts: an `AlertMessage` JSON document). */
  message: string;
  attributes: Record<string, string>;
}

/** Options of {@link startSnsEndpoint}. */
export interface SnsEndpointOptions {
  /** 0 or absent: ephemeral. `LocalPorts.sns` in `tidewatch start`. */
  port?: number;
  /** Directory of `alerts.jsonl`. */
  dataDir: string;
  faults?: FaultInjector | FaultConfig;
  /**
   * Topic names that exist; others are `NotFound`. Default: any topic ARN is accepted. `CreateTopic`
   * adds to the list.
   */
  topics?: string[];
  /** `true` prints the subject (and dashboard link) of each message; a function receives the line. */
  echo?: boolean | ((line: string) => void);
  /** ARN region/account of created topics. Default `us-east-1` / `000000000000`. */
  region?: string;
  accountId?: string;
  now?: () => number;
}

/** A running local SNS endpoint. */
export interface SnsEndpoint {
  url: string;
  port: number;
  faults: FaultInjector;
  /** Path of the JSON-lines file. */
  alertsFile: string;
  /** ARN of a topic name on this endpoint. */
  topicArn(name?: string): string;
  stats: { published: number };
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 262_144;
const MAX_SUBJECT_CHARS = 99;

function invalid(what: string): AwsServiceError {
  return new AwsServiceError('InvalidParameter', `Invalid parameter: ${what}`, 400);
}

function topicNameOf(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts.length === 6 && parts[0] === 'arn' && parts[2] === 'sns' ? parts[5] : undefined;
}

/**
 * Starts the local SNS endpoint on 127.0.0.1.
 *
 * @example
 * const sns = await startSnsEndpoint({ dataDir: '.tidewatch', echo: true });
 * const publisher = new SnsAlertPublisher({ client: createSnsClient({ endpoint: sns.url }), topicArn: sns.topicArn() });
 */
export async function startSnsEndpoint(options: SnsEndpointOptions): Promise<SnsEndpoint> {
  const faults =
    options.faults instanceof FaultInjector ? options.faults : new FaultInjector(options.faults ?? {});
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const topics = options.topics === undefined ? undefined : new Set(options.topics);
  const now = options.now ?? Date.now;
  const alertsFile = join(options.dataDir, 'alerts.jsonl');
  await mkdir(options.dataDir, { recursive: true });
  const stats = { published: 0 };
  let appendChain: Promise<void> = Promise.resolve();
  const echo =
    options.echo === true ? (line: string) => process.stdout.write(`${line}\n`) : options.echo || undefined;
  const topicArn = (name: string = Names.alertTopic) => `arn:aws:sns:${region}:${accountId}:${name}`;

  const server = await startAwsServer({
    protocol: 'query',
    port: options.port ?? 0,
    xmlns: 'http://sns.amazonaws.com/doc/2010-03-31/',
    faults,
    faultErrors: {
      throttle: { code: 'Throttled', statusCode: 429, message: 'Rate exceeded' },
      internal: { code: 'InternalError', statusCode: 500, message: 'Internal error' },
    },
    operations: {
      CreateTopic: (params) => {
        const name = params.get('Name') ?? '';
        if (!/^[A-Za-z0-9_-]{1,256}$/.test(name)) throw invalid('Topic Name');
        topics?.add(name);
        return `<TopicArn>${xmlEscape(topicArn(name))}</TopicArn>`;
      },
      Publish: async (params) => {
        const arn = params.get('TopicArn') ?? params.get('TargetArn') ?? '';
        const name = topicNameOf(arn);
        if (name === undefined) throw invalid('TopicArn');
        if (topics !== undefined && !topics.has(name)) {
          throw new AwsServiceError('NotFound', 'Topic does not exist', 404);
        }
        const message = params.get('Message');
        if (message === null || message === '') throw invalid('Empty message');
        if (Buffer.byteLength(message) > MAX_MESSAGE_BYTES) throw invalid('Message too long');
        const subject = params.get('Subject');
        if (
          subject !== null &&
          (subject.length > MAX_SUBJECT_CHARS || subject === '' || /[^\x20-\x7e]/.test(subject))
        ) {
          throw invalid('Subject');
        }
        const attributes: Record<string, string> = {};
        for (let n = 1; params.has(`MessageAttributes.entry.${n}.Name`); n++) {
          const key = params.get(`MessageAttributes.entry.${n}.Name`)!;
          attributes[key] =
            params.get(`MessageAttributes.entry.${n}.Value.StringValue`) ??
            params.get(`MessageAttributes.entry.${n}.Value.BinaryValue`) ??
            '';
        }
        const stored: StoredSnsMessage = {
          messageId: randomUUID(),
          topicArn: arn,
          timeMs: now(),
          message,
          attributes,
        };
        if (subject !== null) stored.subject = subject;
        const line = `${JSON.stringify(stored)}\n`;
        // Appends are chained so lines never interleave and the file order is the publish order.
        const write = appendChain.then(() => appendFile(alertsFile, line));
        appendChain = write.catch(() => undefined);
        await write;
        stats.published++;
        if (echo !== undefined) {
          let link = '';
          try {
            const url = (JSON.parse(message) as { dashboardUrl?: unknown }).dashboardUrl;
            if (typeof url === 'string') link = `  ${url}`;
          } catch {
            // not JSON: print the subject only
          }
          echo(`${subject ?? message.slice(0, 99)}${link}`);
        }
        return `<MessageId>${stored.messageId}</MessageId>`;
      },
    },
  });

  return {
    url: server.url,
    port: server.port,
    faults,
    alertsFile,
    topicArn,
    stats,
    close: async () => {
      await server.close();
      await appendChain;
    },
  };
}

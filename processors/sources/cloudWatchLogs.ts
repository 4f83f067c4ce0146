/**
 * CloudWatch Logs subscription-filter envelopes: what a subscription to Kinesis puts in each record
 * (gzip-compressed JSON). CONTROL_MESSAGEs (sent when the subscription is created, to check the
 * destination) are skipped on purpose; each DATA_MESSAGE fans out to its `logEvents`.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#DestinationKinesisExample
 */

import { type LogEvent, RejectCode, type RejectCodeName } from '../schema.ts';
import { logEventFromObject } from '../transforms/formats/json.ts';
import { isOtelLogRecord, logEventFromOtelRecord } from '../transforms/formats/otel.ts';
import { logEventFromText } from '../transforms/formats/text.ts';
import { type DecodeCursor, emit, rejectText } from './decodeCursor.ts';
import { JSON_INVALID, tryParseJson } from './tryParseJson.ts';

/** The envelope (fields tidewatch reads). */
export interface CloudWatchLogsEnvelope {
  messageType: 'DATA_MESSAGE' | 'CONTROL_MESSAGE';
  owner: string;
  logGroup: string;
  logStream: string;
  subscriptionFilters: string[];
  logEvents: { id: string; timestamp: number; message: string }[];
}

/**
 * True when a parsed JSON object is a subscription envelope (has `messageType` and `logEvents`).
 * @example if (isCloudWatchLogsEnvelope(parsed)) decodeCloudWatchLogs(parsed, text, cursor);
 */
export function isCloudWatchLogsEnvelope(o: Record<string, unknown>): boolean {
  return typeof o.messageType === 'string' && (o.logEvents !== undefined || o.logGroup !== undefined);
}

/**
 * Service name from a log group: its last path segment (`/aws/lambda/checkout` → `checkout`,
 * `/ecs/shop/api` → `api`).
 * @example serviceFromLogGroup('/aws/lambda/checkout') // 'checkout'
 */
export function serviceFromLogGroup(logGroup: string): string {
  let end = logGroup.length;
  while (end > 0 && logGroup.charCodeAt(end - 1) === 47) end--;
  const start = logGroup.lastIndexOf('/', end - 1) + 1;
  return start === 0 && end === logGroup.length ? logGroup : logGroup.slice(start, end) || logGroup;
}

function parseMessage(message: string, cur: DecodeCursor): LogEvent | RejectCodeName {
  // Lambda, ECS and app logs put JSON lines in `message`; anything else is text. A message that
  // merely starts with "{" but is not JSON is text too: CloudWatch messages are free text.
  if (message.charCodeAt(0) === 123 /* { */) {
    const v = tryParseJson(message);
    if (v !== JSON_INVALID && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return isOtelLogRecord(o)
        ? logEventFromOtelRecord(o, undefined, cur.ctx, cur.mapping)
        : logEventFromObject(o, cur.ctx, cur.mapping);
    }
  }
  return logEventFromText(message, cur.ctx, cur.mapping);
}

/**
 * Fans a subscription envelope out into events (or rejects). Every event keeps `logGroup` and
 * `logStream` in its attributes; its service defaults to the log group's last segment; its time,
 * when the line has none, is the CloudWatch event `timestamp`.
 * @param raw the envelope's JSON text (archived if the envelope itself is malformed)
 * @example decodeCloudWatchLogs(JSON.parse(gunzipped) as Record<string, unknown>, gunzipped, cursor);
 */
export function decodeCloudWatchLogs(o: Record<string, unknown>, raw: string, cur: DecodeCursor): void {
  if (o.messageType === 'CONTROL_MESSAGE') {
    cur.out.addSkip(cur.record);
    return;
  }
  const logEvents = o.logEvents;
  const logGroup = o.logGroup;
  const logStream = typeof o.logStream === 'string' ? o.logStream : '';
  if (o.messageType !== 'DATA_MESSAGE' || !Array.isArray(logEvents) || typeof logGroup !== 'string') {
    const what =
      o.messageType !== 'DATA_MESSAGE'
        ? `unknown messageType ${JSON.stringify(o.messageType).slice(0, 40)}`
        : !Array.isArray(logEvents)
          ? 'logEvents is not an array'
          : 'logGroup is not a string';
    rejectText(cur, RejectCode.cloudwatchMalformed, `DATA_MESSAGE envelope: ${what}`, raw);
    return;
  }
  if (logEvents.length === 0) {
    cur.out.addSkip(cur.record);
    return;
  }
  const ctx = cur.ctx;
  const savedService = ctx.fallbackService;
  const savedTime = ctx.fallbackTimeMs;
  const savedText = ctx.textTimeMs;
  ctx.fallbackService = cur.defaultService ?? serviceFromLogGroup(logGroup);
  for (let i = 0; i < logEvents.length; i++) {
    const le = logEvents[i] as { timestamp?: unknown; message?: unknown } | null;
    if (le === null || typeof le !== 'object' || typeof le.message !== 'string') {
      rejectText(
        cur,
        RejectCode.cloudwatchMalformed,
        `logEvents[${i}] has no string message`,
        JSON.stringify(le),
      );
      continue;
    }
    // The CloudWatch event timestamp (ms) is the producer's event time: better than arrival.
    const ts = typeof le.timestamp === 'number' && le.timestamp > 0 ? le.timestamp : Number.NaN;
    ctx.fallbackTimeMs = Number.isNaN(ts) ? savedTime : ts;
    ctx.textTimeMs = Number.isNaN(ts) ? savedText : ts;
    let message = le.message;
    let end = message.length;
    while (end > 0 && (message.charCodeAt(end - 1) === 10 || message.charCodeAt(end - 1) === 13)) end--;
    if (end < message.length) message = message.slice(0, end);
    if (message.length === 0) {
      rejectText(cur, RejectCode.empty, `logEvents[${i}] has an empty message`, JSON.stringify(le));
      continue;
    }
    const result = parseMessage(message, cur);
    if (typeof result !== 'string' && cur.keepAttributes) {
      const attrs = result.attributes as Record<string, unknown> | undefined;
      if (attrs === undefined) result.attributes = { logGroup, logStream };
      else {
        attrs.logGroup = logGroup;
        attrs.logStream = logStream;
      }
    }
    emit(cur, result, message);
  }
  ctx.fallbackService = savedService;
  ctx.fallbackTimeMs = savedTime;
  ctx.textTimeMs = savedText;
}

/**
 * How each demo service writes its logs: one line per event in the service's format, and the
 * envelopes some transports wrap lines in (an OTLP/JSON export, a CloudWatch Logs subscription
 * message). Pure functions of the events.
 */
import { Buffer } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import { Level } from '../../processors/schema.ts';
import type { DemoFormatName } from './fleetPlan.ts';
import type { DemoEvent } from './traffic.ts';

/** OTel severity numbers (logs data model §SeverityNumber): the first number of each range. */
const OTEL_SEVERITY: Readonly<Record<string, number>> = {
  trace: 1,
  debug: 5,
  info: 9,
  warn: 13,
  error: 17,
  fatal: 21,
};

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function logfmtValue(v: string): string {
  return /[\s"=\\]/.test(v) || v.length === 0 ? JSON.stringify(v) : v;
}

/** A stable fake host name per service (pino's `hostname`, ECS `host.name`). */
function host(service: string): string {
  return `${service}-7d9f8c6b5-x2k4p`;
}

/**
 * One event as one line in `format`. For `otel` the line is a single OTLP `LogRecord` (the form the
 * OTLP/JSON export wraps; see {@link otlpExport}).
 *
 * @example
 * renderLine('logfmt', event);
 * // 'ts=2026-01-15T10:00:00.000Z level=info service=search msg="GET /search completed" ...'
 */
export function renderLine(format: DemoFormatName, e: DemoEvent): string {
  switch (format) {
    case 'pino':
      return JSON.stringify({
        level: Level[e.level],
        time: e.timeMs,
        pid: 1,
        hostname: host(e.service),
        service: e.service,
        req: { id: e.id, method: e.method, url: e.route },
        res: { statusCode: e.status },
        responseTime: e.durationMs,
        trace_id: e.traceId,
        demo_id: e.id,
        msg: e.message,
      });
    case 'ecs':
      return JSON.stringify({
        '@timestamp': iso(e.timeMs),
        'log.level': e.level,
        message: e.message,
        'ecs.version': '8.11.0',
        'service.name': e.service,
        'host.name': host(e.service),
        'http.request.method': e.method,
        'url.path': e.route,
        'http.response.status_code': e.status,
        // ECS event.duration is in nanoseconds (ECS field reference, event fields).
        'event.duration': Math.round(e.durationMs * 1_000_000),
        'trace.id': e.traceId,
        labels: { demo_id: e.id },
      });
    case 'logfmt':
      return [
        `ts=${iso(e.timeMs)}`,
        `level=${e.level}`,
        `service=${logfmtValue(e.service)}`,
        `msg=${logfmtValue(e.message)}`,
        `method=${e.method}`,
        `path=${logfmtValue(e.route)}`,
        `status=${e.status}`,
        `duration_ms=${e.durationMs}`,
        `trace_id=${e.traceId}`,
        `demo_id=${e.id}`,
      ].join(' ');
    case 'text':
      return `${iso(e.timeMs)} ${e.level.toUpperCase()} [${e.service}] ${e.method} ${e.route} ${e.status} ${e.durationMs}ms - ${e.message} trace=${e.traceId} demo_id=${e.id}`;
    case 'otel':
      return JSON.stringify(otlpLogRecord(e));
  }
}

/** One OTLP/JSON `LogRecord` (64-bit integers as decimal strings, per the OTLP JSON mapping). */
export function otlpLogRecord(e: DemoEvent): Record<string, unknown> {
  return {
    timeUnixNano: `${e.timeMs}000000`,
    observedTimeUnixNano: `${e.timeMs}000000`,
    severityNumber: OTEL_SEVERITY[e.level],
    severityText: e.level.toUpperCase(),
    body: { stringValue: e.message },
    attributes: [
      { key: 'http.request.method', value: { stringValue: e.method } },
      { key: 'http.route', value: { stringValue: e.route } },
      { key: 'http.response.status_code', value: { intValue: String(e.status) } },
      { key: 'duration_ms', value: { doubleValue: e.durationMs } },
      { key: 'demo_id', value: { stringValue: e.id } },
    ],
    traceId: e.traceId,
    spanId: e.traceId.slice(0, 16),
  };
}

/**
 * An OTLP/JSON logs export (`ExportLogsServiceRequest`) of one service's events, as the
 * Collector's `otlphttp`/`awskinesis` exporters write it. `events` must be non-empty.
 */
export function otlpExport(service: string, events: readonly DemoEvent[]): string {
  return JSON.stringify({
    resourceLogs: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: service } },
            { key: 'deployment.environment', value: { stringValue: 'demo' } },
          ],
        },
        scopeLogs: [
          { scope: { name: 'tidewatch-demo', version: '1' }, logRecords: events.map(otlpLogRecord) },
        ],
      },
    ],
  });
}

/** Log group of a CloudWatch-shipping service: plain-text services run on ECS, JSON ones on Lambda. */
export function cloudWatchLogGroup(service: string, format: DemoFormatName): string {
  return format === 'text' ? `/ecs/${service}` : `/aws/lambda/${service}`;
}

/**
 * A CloudWatch Logs subscription-filter delivery (DATA_MESSAGE), gzip-compressed as CloudWatch Logs
 * writes it to Kinesis (CloudWatch Logs User Guide, "Using subscription filters with Kinesis").
 * `logEvents[].id` follows CloudWatch's 56-digit form closely enough for a demo.
 */
export function cloudWatchEnvelope(
  service: string,
  format: DemoFormatName,
  events: readonly DemoEvent[],
  lines: readonly string[],
): Buffer {
  const logEvents = events.map((e, i) => ({
    id: `${e.timeMs}${String(e.seq).padStart(12, '0')}`.padEnd(56, '0'),
    timestamp: e.timeMs,
    message: lines[i] as string,
  }));
  const body = {
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: cloudWatchLogGroup(service, format),
    logStream: `${service}/web/${host(service)}`,
    subscriptionFilters: ['tidewatch-demo'],
    logEvents,
  };
  return gzipSync(Buffer.from(JSON.stringify(body), 'utf8'));
}

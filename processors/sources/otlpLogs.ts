/**
 * OTLP/JSON logs export envelopes (`ExportLogsServiceRequest`: `resourceLogs` → `scopeLogs` →
 * `logRecords`), as the OpenTelemetry Collector's Kinesis exporter (`encoding: otlp_json`) and file
 * exporter write them. https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
 */

import { RejectCode } from '../schema.ts';
import { logEventFromOtelRecord } from '../transforms/formats/otel.ts';
import { type DecodeCursor, emit, rejectText } from './decodeCursor.ts';

/**
 * True when a parsed JSON object is an OTLP logs export.
 * @example if (isOtlpLogsExport(parsed)) decodeOtlpLogs(parsed, text, cursor);
 */
export function isOtlpLogsExport(o: Record<string, unknown>): boolean {
  return o.resourceLogs !== undefined;
}

function serviceOf(resource: unknown): string | undefined {
  if (resource === null || typeof resource !== 'object') return undefined;
  const attrs = (resource as { attributes?: unknown }).attributes;
  if (!Array.isArray(attrs)) return undefined;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i] as { key?: unknown; value?: { stringValue?: unknown } } | null;
    if (kv?.key === 'service.name' && typeof kv.value?.stringValue === 'string') return kv.value.stringValue;
  }
  return undefined;
}

/**
 * Fans an export out into one event per log record. The resource's `service.name` is the service;
 * each record's raw line is the record re-serialized as JSON (the archive keeps one line per event).
 * @param raw the export's JSON text (archived if the envelope itself is malformed)
 * @example decodeOtlpLogs(JSON.parse(text) as Record<string, unknown>, text, cursor);
 */
export function decodeOtlpLogs(o: Record<string, unknown>, raw: string, cur: DecodeCursor): void {
  const resourceLogs = o.resourceLogs;
  if (!Array.isArray(resourceLogs)) {
    rejectText(cur, RejectCode.otlpMalformed, 'resourceLogs is not an array', raw);
    return;
  }
  let seen = 0;
  for (let r = 0; r < resourceLogs.length; r++) {
    const rl = resourceLogs[r] as { resource?: unknown; scopeLogs?: unknown } | null;
    const scopeLogs = rl?.scopeLogs;
    if (rl === null || typeof rl !== 'object' || (scopeLogs !== undefined && !Array.isArray(scopeLogs))) {
      rejectText(
        cur,
        RejectCode.otlpMalformed,
        `resourceLogs[${r}].scopeLogs is not an array`,
        JSON.stringify(rl),
      );
      seen++;
      continue;
    }
    if (scopeLogs === undefined) continue;
    const service = serviceOf(rl.resource);
    for (let s = 0; s < scopeLogs.length; s++) {
      const records = (scopeLogs[s] as { logRecords?: unknown } | null)?.logRecords;
      if (records === undefined) continue;
      if (!Array.isArray(records)) {
        rejectText(
          cur,
          RejectCode.otlpMalformed,
          `resourceLogs[${r}].scopeLogs[${s}].logRecords is not an array`,
          JSON.stringify(scopeLogs[s]),
        );
        seen++;
        continue;
      }
      for (let i = 0; i < records.length; i++) {
        const rec = records[i];
        seen++;
        const line = JSON.stringify(rec);
        if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
          rejectText(cur, RejectCode.otlpMalformed, 'a logRecord is not an object', line);
          continue;
        }
        emit(
          cur,
          logEventFromOtelRecord(rec as Record<string, unknown>, service, cur.ctx, cur.mapping),
          line,
        );
      }
    }
  }
  if (seen === 0) cur.out.addSkip(cur.record); // an empty export: nothing to count
}

import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Level, type LevelName } from '../../processors/schema.ts';
import { decodeKinesisBatch } from '../../processors/sources/decodeKinesisBatch.ts';
import type { KinesisEventRecord } from '../../processors/sources/kinesisEvent.ts';
import { encodeAggregate } from '../../sdk/kpl.ts';
import { cloudWatchData, kinesisRecord } from '../fixtures/factories/kinesisEvent.ts';

const levels = Object.keys(Level) as LevelName[];

const logEvent = fc.record({
  timeMs: fc.integer({ min: 946_684_800_000, max: 4_102_444_800_000 }),
  service: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
  level: fc.constantFrom(...levels),
  message: fc.string({ unit: 'grapheme', maxLength: 200 }),
  status: fc.option(fc.integer({ min: 100, max: 599 }), { nil: undefined }),
  durationMs: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: undefined }),
  route: fc.option(fc.stringMatching(/^\/[a-z0-9/:_-]{0,30}$/), { nil: undefined }),
  traceId: fc.option(fc.stringMatching(/^[0-9a-f]{32}$/), { nil: undefined }),
});
type Ev = typeof logEvent extends fc.Arbitrary<infer T> ? T : never;

/** The event as a pino line. */
function pinoLine(e: Ev): string {
  return JSON.stringify({
    level: Level[e.level],
    time: e.timeMs,
    name: e.service,
    msg: e.message,
    status: e.status,
    duration_ms: e.durationMs,
    route: e.route,
    trace_id: e.traceId,
  });
}

function strip(e: object): object {
  const { attributes: _, ...rest } = e as { attributes?: unknown };
  return JSON.parse(JSON.stringify(rest)) as object;
}

/** Arbitrary record data: bytes, text, JSON-ish text, gzip of those, KPL-ish bytes. */
const junk: fc.Arbitrary<Uint8Array | string> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.json().map((j) => j),
  fc.jsonValue().map((v) => `${JSON.stringify(v)}\n${JSON.stringify(v)}`),
  fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.concat([Buffer.of(0xf3, 0x89, 0x9a, 0xc2), b])),
  fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.concat([Buffer.of(0x1f, 0x8b), b])),
  fc.string({ maxLength: 200 }).map((s) => gzipSync(s)),
  fc
    .record({
      messageType: fc.constantFrom('DATA_MESSAGE', 'CONTROL_MESSAGE', 'X'),
      logEvents: fc.jsonValue(),
    })
    .map((o) => JSON.stringify(o)),
  fc.record({ resourceLogs: fc.jsonValue() }).map((o) => JSON.stringify(o)),
);

describe('decodeKinesisBatch properties', () => {
  it('never throws on arbitrary record data and accounts for every record', () => {
    fc.assert(
      fc.property(fc.array(junk, { maxLength: 30 }), (datas) => {
        // Prepare
        const records = datas.map((d, n) => kinesisRecord(d, { n }));
        // Act
        const batch = decodeKinesisBatch(records);
        // Assess
        for (let r = 0; r < records.length; r++) {
          expect(batch.recordEvents[r]! + batch.recordRejects[r]! + batch.recordSkipped[r]!).toBeGreaterThan(
            0,
          );
        }
        expect(batch.events.every((e) => Number.isFinite(e.timeMs))).toBe(true);
        expect(batch.eventRaw).toHaveLength(batch.eventCount);
        expect(batch.rejectRaw).toHaveLength(batch.rejectCount);
      }),
      { numRuns: 400 },
    );
  });

  it('never throws on arbitrary record objects', () => {
    fc.assert(
      fc.property(fc.array(fc.anything(), { maxLength: 10 }), (records) => {
        const batch = decodeKinesisBatch(records as KinesisEventRecord[]);
        expect(batch.rejectCount + batch.eventCount + batch.stats.skipped).toBeGreaterThanOrEqual(
          records.length,
        );
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips events through pino lines in KPL aggregates, NDJSON and gzip', () => {
    fc.assert(
      fc.property(
        fc.array(logEvent, { minLength: 1, maxLength: 40 }),
        fc.constantFrom('kpl', 'ndjson', 'gzip-ndjson', 'one-per-record'),
        (events, how) => {
          // Prepare
          const lines = events.map(pinoLine);
          let records: KinesisEventRecord[];
          if (how === 'kpl') {
            records = [
              kinesisRecord(
                encodeAggregate(lines.map((l) => ({ partitionKey: 'p', data: Buffer.from(l) }))).data,
              ),
            ];
          } else if (how === 'ndjson') records = [kinesisRecord(lines.join('\n'))];
          else if (how === 'gzip-ndjson') records = [kinesisRecord(gzipSync(`${lines.join('\n')}\n`))];
          else records = lines.map((l, n) => kinesisRecord(l, { n }));
          // Act
          const batch = decodeKinesisBatch(records);
          // Assess
          expect(batch.rejectCount).toBe(0);
          expect(batch.events.map(strip)).toEqual(events.map(strip));
          expect(batch.eventRaw).toEqual(lines);
          if (how === 'kpl') expect(batch.eventSubSequence).toEqual(lines.map((_, i) => i));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps every raw line as the exact UTF-8 bytes of its text, pointing into the decoded record when ASCII', () => {
    // Lines with non-ASCII text, surrounding whitespace, a BOM and blank lines between them: the
    // raw bytes must stay exactly what today's archive wrote (the line's text, UTF-8 encoded).
    const line = fc.oneof(
      logEvent.map(pinoLine),
      fc
        .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
        .map((s) => `note ${s.replace(/[\r\n]/g, ' ')}`),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(line, fc.constantFrom('', ' ', '\t', '\r')), { minLength: 1, maxLength: 30 }),
        fc.constantFrom('kpl', 'ndjson', 'gzip-ndjson', 'bom', 'cloudwatch'),
        (parts, how) => {
          // Prepare
          const lines = parts.map(([l, pad]) => `${pad}${l}${pad}`);
          let records: KinesisEventRecord[];
          if (how === 'kpl') {
            records = [
              kinesisRecord(
                encodeAggregate(lines.map((l) => ({ partitionKey: 'p', data: Buffer.from(l) }))).data,
              ),
            ];
          } else if (how === 'ndjson') records = [kinesisRecord(lines.join('\n\n'))];
          else if (how === 'gzip-ndjson') records = [kinesisRecord(gzipSync(`${lines.join('\n')}\n`))];
          else if (how === 'bom') records = lines.map((l, n) => kinesisRecord(`\ufeff${l}`, { n }));
          else {
            records = [
              kinesisRecord(
                cloudWatchData(
                  '/ecs/shop',
                  's',
                  lines.map((message, i) => ({ timestamp: 1_700_000_000_000 + i, message })),
                ),
              ),
            ];
          }
          // Act
          const batch = decodeKinesisBatch(records);
          // Assess
          expect(batch.eventRaw).toHaveLength(batch.eventCount);
          for (let i = 0; i < batch.eventCount; i++) {
            const view = batch.eventRawView(i);
            expect(Buffer.compare(view, Buffer.from(batch.eventRaw[i]!, 'utf8'))).toBe(0);
            expect(batch.eventRawBytes(i)).toBe(Buffer.byteLength(batch.eventRaw[i]!, 'utf8'));
          }
          if (how !== 'cloudwatch') {
            // Trimmed as before: the line without its surrounding whitespace (and BOM).
            const expected = lines.map((l) => l.replace(/^[ \t\r]+|[ \t\r]+$/g, ''));
            expect(
              [...batch.eventRaw, ...batch.rejectRaw.map((b) => Buffer.from(b).toString())].sort(),
            ).toEqual(expected.sort());
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keepAttributes: false yields the same events, rejects and raw bytes, without attributes', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(logEvent.map(pinoLine), junk), { maxLength: 20 }), (datas) => {
        // Prepare
        const records = datas.map((d, n) => kinesisRecord(d, { n }));
        // Act
        const kept = decodeKinesisBatch(records);
        const dropped = decodeKinesisBatch(records, { keepAttributes: false });
        // Assess
        expect(dropped.events.map((e) => e.attributes)).toEqual(dropped.events.map(() => undefined));
        expect(dropped.events.map(strip)).toEqual(kept.events.map(strip));
        expect(dropped.eventRaw).toEqual(kept.eventRaw);
        expect(dropped.eventRecord).toEqual(kept.eventRecord);
        expect(dropped.rejectCode).toEqual(kept.rejectCode);
        expect(dropped.rejectRaw).toEqual(kept.rejectRaw);
      }),
      { numRuns: 200 },
    );
  });

  it('fans out every non-empty CloudWatch message with its timestamp, the log group as service', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            timestamp: fc.integer({ min: 1_000_000_000_000, max: 2_000_000_000_000 }),
            // Free text (a leading word keeps it from being JSON, logfmt or time-prefixed), or empty.
            message: fc.oneof(
              fc.constantFrom('', '\n', '\r\n'),
              fc.string({ unit: 'grapheme', maxLength: 80 }).map((s) => `msg ${s}`),
            ),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        (logEvents) => {
          // Prepare
          const record = kinesisRecord(cloudWatchData('/aws/lambda/fn', 's', logEvents));
          const kept = logEvents
            .map((e) => ({ ...e, message: e.message.replace(/[\r\n]+$/, '') }))
            .filter((e) => e.message !== '');
          // Act
          const batch = decodeKinesisBatch([record]);
          // Assess
          expect(batch.eventRaw).toEqual(kept.map((e) => e.message));
          expect(batch.events.map((e) => [e.service, e.timeMs])).toEqual(
            kept.map((e) => ['fn', e.timestamp]),
          );
          expect(batch.rejectCode).toEqual(Array(logEvents.length - kept.length).fill('empty'));
        },
      ),
      { numRuns: 200 },
    );
  });
});

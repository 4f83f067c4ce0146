/**
 * A minimal structured logger for the handlers: one JSON line per call on stdout, which CloudWatch
 * Logs (and Lambda's JSON log format) index by field. Telemetry is per batch, never per event
 * (DESIGN.md §5). The level comes from `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging control),
 * default `info`.
 */

/** Log levels, lowest first. */
export const LogLevel = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevelName = keyof typeof LogLevel;

/** What the handlers log through. */
export interface PipelineLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function isLevel(v: string): v is LogLevelName {
  return Object.hasOwn(LogLevel, v);
}

/**
 * A JSON-lines logger.
 *
 * @example
 * const log = jsonLogger({ level: 'warn', stage: 'ingest' });
 * log.warn('archive failed', { records: 3 });
 * // {"level":"warn","time":"…","stage":"ingest","msg":"archive failed","records":3}
 */
export function jsonLogger(
  options: { level?: string | undefined; stage?: string; write?: (line: string) => void } = {},
): PipelineLogger {
  const raw = (options.level ?? 'info').toLowerCase();
  const min = LogLevel[isLevel(raw) ? raw : 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const emit = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => {
    if (LogLevel[level] < min) return;
    const base: Record<string, unknown> = { level, time: new Date().toISOString() };
    if (options.stage !== undefined) base.stage = options.stage;
    base.msg = message;
    write(`${JSON.stringify(fields === undefined ? base : { ...base, ...fields })}\n`);
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: PipelineLogger = { info() {}, warn() {}, error() {} };

/**
 * The live terminal view of `tidewatch start`: events/s, lag, open windows, alerts. On a terminal
 * one status line is redrawn in place and alerts scroll above it; otherwise (CI, a pipe, a log file)
 * a plain line is printed every few seconds.
 */
import { Names } from '../processors/schema.ts';
import type { EmbeddedStats } from './embedded.ts';

/** What the view polls. */
export interface TerminalViewSource {
  stats(): EmbeddedStats;
  store: { query(sql: string): Promise<Record<string, unknown>[]> };
  /** Demo events produced so far, when a demo runs. */
  produced?: () => number;
}

/** Options of {@link startTerminalView}. */
export interface TerminalViewOptions {
  out?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
  /** Refresh interval; default 1,000 ms on a terminal, 5,000 ms otherwise. */
  intervalMs?: number;
  /** Run start (epoch ms): the event counter starts here. */
  sinceMs: number;
}

/** A running view. */
export interface TerminalView {
  /** Prints a line (an alert) above the status line. */
  print(line: string): void;
  /** Stops refreshing and leaves the last status on screen. */
  stop(): Promise<void>;
}

const fmt = new Intl.NumberFormat('en-US');

function ms(v: number): string {
  return v < 1_000 ? `${Math.round(v)} ms` : `${(v / 1_000).toFixed(1)} s`;
}

/**
 * Starts the view.
 *
 * @example
 * const view = startTerminalView(pipeline, { sinceMs: Date.now() });
 * // ... on stop:
 * await view.stop();
 */
export function startTerminalView(source: TerminalViewSource, options: TerminalViewOptions): TerminalView {
  const out = options.out ?? process.stdout;
  const tty = out.isTTY === true;
  const intervalMs = options.intervalMs ?? (tty ? 1_000 : 5_000);
  let lastEvents = 0;
  let lastAt = Date.now();
  let status = '';
  let refreshing: Promise<void> | undefined;

  const render = async () => {
    const s = source.stats();
    let events = lastEvents;
    try {
      const [row] = await source.store.query(
        `SELECT coalesce(sum(events), 0) AS n FROM "${Names.timestreamDatabase}"."${Names.pipelineTable}" WHERE stage = 'ingest' AND time >= epoch_ms(${Math.floor(options.sinceMs)})`,
      );
      events = Number(row?.n ?? 0);
    } catch {
      // The store is closing: keep the last numbers.
    }
    const now = Date.now();
    const rate = ((events - lastEvents) * 1_000) / Math.max(1, now - lastAt);
    lastEvents = events;
    lastAt = now;
    const clock = new Date(now).toISOString().slice(11, 19);
    const produced = source.produced === undefined ? '' : `  produced ${fmt.format(source.produced())}`;
    status =
      `${clock}  ${fmt.format(Math.round(rate))} events/s  ingested ${fmt.format(events)}${produced}` +
      `  lag ${ms(s.logsLagMs)} / ${ms(s.metricsLagMs)}  open windows ${s.openWindows}` +
      `  series ${s.series}  alerts ${s.alertsPublished}`;
    if (tty) out.write(`\r\x1b[2K${status}`);
    else out.write(`${status}\n`);
  };

  const timer = setInterval(() => {
    refreshing ??= render().finally(() => {
      refreshing = undefined;
    });
  }, intervalMs);
  timer.unref();

  return {
    print(line) {
      if (tty) out.write(`\r\x1b[2K${line}\n${status}`);
      else out.write(`${line}\n`);
    },
    async stop() {
      clearInterval(timer);
      await refreshing;
      await render().catch(() => undefined);
      if (tty) out.write('\n');
    },
  };
}

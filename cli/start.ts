/**
 * `tidewatch start [--demo] [--seconds N] [--summary FILE] [--data-dir DIR] [--window-ms N] [--no-dashboard]`
 *
 * Runs the whole pipeline on this machine (local/embedded.ts): kinesalite, dynalite, the local
 * Timestream/Firehose/SNS endpoints, the dashboard, and both Lambda handlers behind local event-source
 * runners. `--demo` adds a synthetic fleet of services with injected incidents (local/demo/). Ctrl-C or
 * SIGTERM (or `--seconds`) stops cleanly: the producer stops, the runners drain, every open window is
 * closed and written, the archive is flushed, and the servers close. Exit codes: 0 ok, 1 the pipeline
 * failed, 2 usage errors.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type EmbeddedPipeline, type EmbeddedPorts, startEmbedded, windowKey } from '../local/embedded.ts';
import { createKinesisClient } from '../local/kinesisClient.ts';
import { buildSummary, type IncidentInput, type RunSummary } from '../local/summary.ts';
import { startTerminalView, type TerminalView } from '../local/terminalView.ts';
import { LocalPorts, Names, WindowDefaults } from '../processors/schema.ts';

const USAGE = `usage: tidewatch start [--demo] [--seconds N] [--summary FILE] [--data-dir DIR] [--window-ms N] [--no-dashboard]

Runs the whole tidewatch pipeline on this machine: Kinesis (kinesalite) on port ${LocalPorts.kinesis}, DynamoDB,
Timestream (DuckDB), Firehose (archive directory) and SNS stand-ins, the local dashboard, and the ingest
and detect Lambda handlers. Send logs to the '${Names.logsStream}' stream with any Kinesis producer.

options:
  --demo                     add a synthetic fleet of services with injected incidents
  --seconds N                stop by itself after N seconds (default: run until Ctrl-C)
  --summary FILE             on stop, write a JSON summary (events, windows, incidents, alerts, latency)
  --data-dir DIR             state directory, kept across runs (default .tidewatch)
  --window-ms N              window size, ${WindowDefaults.minWindowMs}..${WindowDefaults.maxWindowMs} ms (default ${WindowDefaults.windowMs}; 1000 with --demo)
  --allowed-lateness-ms N    how late an event may arrive and still count (default 2000)
  --no-dashboard             do not serve the local dashboard
  --ports 0                  bind every service to a free port instead of the fixed ones (tests)
  --kinesis-port N           Kinesis port (default ${LocalPorts.kinesis})
  --dashboard-port N         dashboard port (default ${LocalPorts.dashboard})
  --seed N                   demo seed: same seed, same traffic and incidents (default: random)
  --events-per-second N      demo traffic, fleet-wide (default 400)
  -h, --help                 this help`;

function usage(message: string): number {
  process.stderr.write(`tidewatch start: ${message}\n\n${USAGE}\n`);
  return 2;
}

function intOption(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
): number | string | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    return `--${name} must be an integer from ${min} to ${max}, got '${value}'`;
  }
  return n;
}

/** The parsed command line. */
interface StartArgs {
  demo: boolean;
  seconds: number | undefined;
  summary: string | undefined;
  dataDir: string;
  windowMs: number;
  allowedLatenessMs: number;
  dashboard: boolean;
  ports: Partial<EmbeddedPorts>;
  seed: number;
  eventsPerSecond: number | undefined;
}

function parse(argv: string[]): StartArgs | string | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        demo: { type: 'boolean' },
        seconds: { type: 'string' },
        summary: { type: 'string' },
        'data-dir': { type: 'string' },
        'window-ms': { type: 'string' },
        'allowed-lateness-ms': { type: 'string' },
        'no-dashboard': { type: 'boolean' },
        ports: { type: 'string' },
        'kinesis-port': { type: 'string' },
        'dashboard-port': { type: 'string' },
        seed: { type: 'string' },
        'events-per-second': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return (err as Error).message;
  }
  if (values.help === true) return 'help';
  const demo = values.demo === true;
  const seconds = intOption(values.seconds as string | undefined, 'seconds', 1, 7 * 86_400);
  const windowMs = intOption(
    values['window-ms'] as string | undefined,
    'window-ms',
    WindowDefaults.minWindowMs,
    WindowDefaults.maxWindowMs,
  );
  const lateness = intOption(
    values['allowed-lateness-ms'] as string | undefined,
    'allowed-lateness-ms',
    0,
    86_400_000,
  );
  const kinesisPort = intOption(values['kinesis-port'] as string | undefined, 'kinesis-port', 0, 65_535);
  const dashboardPort = intOption(
    values['dashboard-port'] as string | undefined,
    'dashboard-port',
    0,
    65_535,
  );
  const seed = intOption(values.seed as string | undefined, 'seed', 0, 2 ** 31 - 1);
  const eps = intOption(values['events-per-second'] as string | undefined, 'events-per-second', 1, 100_000);
  for (const v of [seconds, windowMs, lateness, kinesisPort, dashboardPort, seed, eps]) {
    if (typeof v === 'string') return v;
  }
  if (values.ports !== undefined && values.ports !== '0') {
    return `--ports only accepts 0 (every service on a free port), got '${String(values.ports)}'`;
  }
  if (values.summary === '') return '--summary needs a file name';
  const ports: Partial<EmbeddedPorts> = {};
  if (values.ports === '0') {
    for (const k of Object.keys(LocalPorts) as Array<keyof EmbeddedPorts>) ports[k] = 0;
  }
  if (typeof kinesisPort === 'number') ports.kinesis = kinesisPort;
  if (typeof dashboardPort === 'number') ports.dashboard = dashboardPort;
  return {
    demo,
    seconds: seconds as number | undefined,
    summary: values.summary as string | undefined,
    dataDir: resolve((values['data-dir'] as string | undefined) ?? '.tidewatch'),
    windowMs: (windowMs as number | undefined) ?? (demo ? 1_000 : WindowDefaults.windowMs),
    allowedLatenessMs: (lateness as number | undefined) ?? 2_000,
    dashboard: values['no-dashboard'] !== true,
    ports,
    seed: (seed as number | undefined) ?? Math.floor(Math.random() * 2 ** 31),
    eventsPerSecond: eps as number | undefined,
  };
}

function banner(p: EmbeddedPipeline, args: StartArgs): string {
  const e = p.endpoints;
  const lines = [
    `tidewatch is running — data in ${p.dataDir}`,
    `  Kinesis     ${e.kinesis}   streams '${p.streams.logs}' (send here), '${p.streams.metrics}'`,
    `  DynamoDB    ${e.dynamodb}   state table '${Names.stateTable}'`,
    `  Timestream  ${e.timestream}   DuckDB ${p.dataDir}/tidewatch.duckdb`,
    `  Firehose    ${e.firehose}   archive ${p.archiveDir}/`,
    `  SNS         ${e.sns}   alerts ${p.alertsFile}`,
  ];
  if (e.dashboard !== undefined) lines.push(`  Dashboard   ${e.dashboard}`);
  lines.push(
    `  windows ${args.windowMs} ms, allowed lateness ${args.allowedLatenessMs} ms${args.demo ? `, demo seed ${args.seed}` : ''}`,
    '',
    'Send logs (one JSON or text line per event):',
    `  npx tidewatch send --stream ${p.streams.logs} --endpoint ${e.kinesis} app.ndjson`,
    `  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 \\`,
    `    aws kinesis put-record --endpoint-url ${e.kinesis} --stream-name ${p.streams.logs} \\`,
    `    --partition-key demo --cli-binary-format raw-in-base64-out \\`,
    `    --data '{"time":'$(date +%s000)',"service":"demo","level":"info","msg":"hello"}'`,
    '',
    args.seconds === undefined
      ? 'Ctrl-C stops (cleanly).'
      : `Stops after ${args.seconds} s (Ctrl-C stops earlier).`,
    '',
  );
  return lines.join('\n');
}

interface DemoRun {
  stop(): Promise<void>;
  produced(): number;
  malformed(): Record<string, number>;
  incidents(): readonly IncidentInput[];
  demoIdOf(line: string): string | undefined;
  eventTimes: Map<string, number[]>;
}

async function startDemo(p: EmbeddedPipeline, args: StartArgs, warn: (m: string) => void): Promise<DemoRun> {
  const demo = await import('../local/demo/index.ts');
  const client = createKinesisClient(p.endpoints.kinesis);
  const eventTimes = new Map<string, number[]>();
  const windowMs = args.windowMs;
  // Stop producing a little before the end, so the last windows close and land before the summary.
  const durationMs =
    args.seconds === undefined
      ? undefined
      : Math.max(10_000, args.seconds * 1_000 - Math.max(2_000, args.allowedLatenessMs + windowMs));
  const fleet = demo.startDemoFleet({
    kinesisClient: client,
    streamName: p.streams.logs,
    seed: args.seed,
    windowMs,
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(args.eventsPerSecond === undefined ? {} : { eventsPerSecond: args.eventsPerSecond }),
    onEvent: (e) => {
      const key = windowKey(e.service, Math.floor(e.timeMs / windowMs) * windowMs);
      let list = eventTimes.get(key);
      if (list === undefined) {
        list = [];
        eventTimes.set(key, list);
      }
      list.push(e.timeMs);
    },
    onWarning: warn,
  });
  return {
    async stop() {
      await fleet.stop();
      client.destroy();
    },
    produced: () => fleet.produced(),
    malformed: () => ({ ...fleet.malformed() }) as Record<string, number>,
    incidents: () => fleet.incidents(),
    demoIdOf: demo.demoIdOf,
    eventTimes,
  };
}

function printSummary(s: RunSummary, file: string | undefined): string {
  const rejected = Object.entries(s.events.rejected)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [
    `events: ${s.events.produced === null ? '' : `produced ${s.events.produced}, `}ingested ${s.events.ingested}, archived ${s.events.archived}, late ${s.events.late}, rejected {${rejected}}`,
    `windows written: ${s.windows.written}`,
  ];
  if (s.incidents.length > 0) {
    const detected = s.incidents.filter((i) => i.detectedAt !== null).length;
    lines.push(`incidents: ${detected} of ${s.incidents.length} detected`);
  }
  const falseAlarms = s.alerts.filter((a) => a.incident === null).length;
  lines.push(`alerts: ${s.alerts.length} (${falseAlarms} not matching an incident)`);
  const m = s.latencyMs.eventToMetric;
  const a = s.latencyMs.eventToAlert;
  lines.push(
    `latency ms: event→metric p50 ${m.p50 ?? '-'} p99 ${m.p99 ?? '-'}; event→alert p50 ${a.p50 ?? '-'} p99 ${a.p99 ?? '-'}`,
  );
  if (file !== undefined) lines.push(`summary written to ${file}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Runs `tidewatch start`; resolves to the exit code once stopped.
 *
 * @example
 * process.exitCode = await run(['--demo', '--seconds', '90', '--summary', 's.json']);
 */
export async function run(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (typeof args === 'string') return usage(args);
  const sinceMs = Date.now();
  let view: TerminalView | undefined;
  const say = (line: string) => (view === undefined ? process.stdout.write(`${line}\n`) : view.print(line));
  let pipeline: EmbeddedPipeline;
  try {
    pipeline = await startEmbedded({
      dataDir: args.dataDir,
      ports: args.ports,
      windowMs: args.windowMs,
      allowedLatenessMs: args.allowedLatenessMs,
      dashboard: args.dashboard,
      echoAlerts: (line) => say(line),
      warn: (message, detail) =>
        say(`warning: ${message}${detail === undefined ? '' : ` ${JSON.stringify(detail)}`}`),
    });
  } catch (err) {
    const msg = (err as Error).message ?? String(err);
    const hint = /EADDRINUSE/.test(msg)
      ? ' A port is taken — is another `tidewatch start` running? Stop it, or pass --ports 0 / --kinesis-port N.'
      : '';
    process.stderr.write(`tidewatch start: could not start the pipeline: ${msg}.${hint}\n`);
    return 1;
  }
  process.stdout.write(banner(pipeline, args));

  let demo: DemoRun | undefined;
  if (args.demo) {
    try {
      demo = await startDemo(pipeline, args, (m) => say(`demo: ${m}`));
    } catch (err) {
      process.stderr.write(`tidewatch start: the demo fleet failed to start: ${(err as Error).message}\n`);
      await pipeline.stop();
      return 1;
    }
  }
  const viewSource =
    demo === undefined ? pipeline : { ...pipeline, stats: pipeline.stats, produced: demo.produced };
  view = startTerminalView(viewSource, { sinceMs });

  const stopSignal = new Promise<string>((resolveStop) => {
    const onSignal = (signal: string) => {
      process.once(signal, () => {
        process.stderr.write('\ntidewatch start: stopping immediately (second signal).\n');
        process.exit(130);
      });
      resolveStop(signal);
    };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    if (args.seconds !== undefined) setTimeout(() => resolveStop('time'), args.seconds * 1_000).unref();
  });
  const why = await stopSignal;
  say(
    why === 'time'
      ? 'stopping (time is up): draining, closing windows…'
      : `stopping (${why}): draining, closing windows…`,
  );

  let code = 0;
  try {
    await demo?.stop();
    const drained = await pipeline.drain(60_000);
    if (!drained) say('warning: the pipeline did not catch up within 60 s; stopping anyway.');
    await pipeline.flushWindows();
    await pipeline.flushArchive();
    await view.stop();
    view = undefined;
    if (args.summary !== undefined) {
      const summary = await buildSummary({
        store: pipeline.store,
        archiveDir: pipeline.archiveDir,
        alertsFile: pipeline.alertsFile,
        sinceMs,
        windowMs: args.windowMs,
        allowedLatenessMs: args.allowedLatenessMs,
        windowLandedAt: pipeline.windowLandedAt,
        windowsWritten: pipeline.windowsWritten(),
        ...(demo === undefined
          ? {}
          : {
              produced: demo.produced(),
              malformedSent: demo.malformed(),
              incidents: demo.incidents(),
              eventTimes: demo.eventTimes,
              demoIdOf: demo.demoIdOf,
            }),
      });
      const file = resolve(args.summary);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, `${JSON.stringify(summary, null, 2)}\n`);
      process.stdout.write(printSummary(summary, file));
    }
  } catch (err) {
    process.stderr.write(`tidewatch start: stopping failed: ${(err as Error).stack ?? String(err)}\n`);
    code = 1;
  } finally {
    await view?.stop();
    await pipeline.stop({ drainTimeoutMs: 5_000 });
  }
  process.stdout.write('tidewatch stopped.\n');
  return code;
}

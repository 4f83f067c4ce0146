/**
 * The embedded mode: the whole tidewatch pipeline on one machine, in one process (docs/embedded.md).
 *
 * kinesalite (logs and metrics streams) and dynalite on disk, the local Timestream (DuckDB), Firehose
 * (`<data-dir>/archive/`) and SNS (`<data-dir>/alerts.jsonl`) endpoints, the local dashboard, and two
 * event-source runners that play the Lambda event source mappings: logs → ingest, metrics → detect.
 * The handlers are the Lambda handler modules themselves, loaded with `import()` and configured from an
 * environment exactly like the one infra/ gives the functions — only the endpoints differ.
 *
 * State lives in the data directory, so stopping (even with SIGKILL) and starting again on the same
 * directory resumes: runner checkpoints, stream contents, ingest intents and detect checkpoints, the
 * DuckDB file and the archive all survive.
 */
import { fork } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AwsClients } from '../processors/pipeline/awsClients.ts';
import type { DetectControlResult, DetectHandler } from '../processors/pipeline/detectPipeline.ts';
import type { IngestHandler } from '../processors/pipeline/ingestPipeline.ts';
import { jsonLogger } from '../processors/pipeline/logger.ts';
import { EnvVar, LocalPorts, Names } from '../processors/schema.ts';
import { ensureStateTable } from '../processors/sinks/dynamoDbStateStore.ts';
import { createDynamoDbClient } from '../processors/sinks/sinkClients.ts';
import { type DashboardServer, startDashboardServer } from './dashboardServer.ts';
import { DuckDbStore } from './duckdbStore.ts';
import { startDynalite } from './dynalite.ts';
import { type EventSourceRunner, startEventSourceRunner } from './eventSourceRunner.ts';
import { startFirehoseEndpoint } from './firehoseEndpoint.ts';
import { type KinesaliteOptions, startKinesalite } from './kinesalite.ts';
import { createKinesisClient, LOCAL_CREDENTIALS, LOCAL_REGION } from './kinesisClient.ts';
import type { KinesisStreamEvent, LambdaContext } from './lambdaTypes.ts';
import { type SnsEndpoint, startSnsEndpoint } from './snsEndpoint.ts';
import { observeWindowRows, type WindowRowsWritten } from './start/windowRows.ts';
import { startTimestreamEndpoint } from './timestreamEndpoint.ts';

/** Ports of the embedded services; 0 = any free port (tests). Defaults: `LocalPorts`. */
export type EmbeddedPorts = { -readonly [K in keyof typeof LocalPorts]: number };

/** Options of {@link startEmbedded}. */
export interface EmbeddedOptions {
  /** State directory (created if missing). Default `.tidewatch`. */
  dataDir?: string;
  /** Ports; every one defaults to `LocalPorts`, pass 0 for ephemeral. */
  ports?: Partial<EmbeddedPorts>;
  /** Window size. Default 10,000 ms (`WindowDefaults`). */
  windowMs?: number;
  /**
   * Allowed lateness (watermark = max event time − this). Default 2,000 ms locally: windows close about
   * this long after they end. Events later than that are counted and archived as `late`.
   */
  allowedLatenessMs?: number;
  /** A logs shard silent this long stops holding the watermark back. Default 10,000 ms locally. */
  idleSourceTimeoutMs?: number;
  /** `TW_CONFIG` object (dimensions, rules, field mapping, alerts). Default `{}`. */
  processorConfig?: Record<string, unknown>;
  /** Shards of the logs stream (new streams only). Default 2. */
  logsShards?: number;
  /** Shards of the metrics stream (new streams only). Default 1. */
  metricsShards?: number;
  /** Serve the local dashboard. Default true. */
  dashboard?: boolean;
  /** Records per ingest invocation (Lambda `BatchSize`). Default 500. */
  ingestBatchSize?: number;
  /** Interval of the detect tick (closes windows of idle shards, reports open windows). Default 1,000 ms. */
  tickIntervalMs?: number;
  /** Handler log lines (JSON). Default: appended to `<dataDir>/logs/handlers.log`. */
  handlerLog?: (line: string) => void;
  /** `AWS_LAMBDA_LOG_LEVEL` of the handlers. Default `info`. */
  logLevel?: string;
  /** Print each alert's subject as it is published. Default false. */
  echoAlerts?: boolean | ((line: string) => void);
  /** Warnings of the runners (read errors, discarded records). Default stderr. */
  warn?: (message: string, detail?: Record<string, unknown>) => void;
  /**
   * Run kinesalite, dynalite and the Firehose endpoint in this process instead of one child process
   * each (default false). In-process, every call a handler makes waits on the pipeline's own work.
   */
  servicesInProcess?: boolean;
}

/** SQL reads of the embedded store (`"tidewatch"."windows"`, `"tidewatch"."pipeline"`). */
export interface StoreReader {
  query(sql: string): Promise<Record<string, unknown>[]>;
}

/** Counters the terminal view and the summary read. */
export interface EmbeddedStats {
  /** Records handed to ingest / detect so far (redeliveries included). */
  logsRecords: number;
  metricsRecords: number;
  /** Largest lag (age of the oldest unacknowledged record) over the shards of each stream. */
  logsLagMs: number;
  metricsLagMs: number;
  /** From the last detect tick. */
  openWindows: number;
  series: number;
  alertsPublished: number;
  timestreamRecords: number;
}

/** A running embedded pipeline. */
export interface EmbeddedPipeline {
  readonly dataDir: string;
  /** `<dataDir>/archive`: the local Firehose output (`logs/`, `errors/`). */
  readonly archiveDir: string;
  /** `<dataDir>/alerts.jsonl`: every published SNS message. */
  readonly alertsFile: string;
  readonly endpoints: {
    kinesis: string;
    dynamodb: string;
    timestream: string;
    firehose: string;
    sns: string;
    dashboard: string | undefined;
  };
  readonly streams: { logs: string; metrics: string };
  /** The handlers' environment (what `EnvVar` holds on AWS, plus the local endpoints). */
  readonly env: Readonly<Record<string, string>>;
  /** Reads the DuckDB store behind the Timestream endpoint (its owner may be a child process). */
  readonly store: StoreReader;
  /** Epoch ms at which each window row (service, window start) with events first landed in the store. */
  readonly windowLandedAt: ReadonlyMap<string, number>;
  /** Distinct series·window rows written (inserted or updated) since start, zero-filled ones included. */
  windowsWritten(): number;
  /** Delivers the local Firehose buffers to the archive directory now. */
  flushArchive(): Promise<void>;
  stats(): EmbeddedStats;
  /**
   * Processes everything sent so far: drains the logs runner, then the metrics runner, until neither
   * finds anything new. Resolves `false` on timeout.
   */
  drain(timeoutMs?: number): Promise<boolean>;
  /** Closes every open window now (the detect `flush` control event). */
  flushWindows(): Promise<DetectControlResult>;
  /** Drains (bounded), flushes windows, stops runners, flushes the archive and closes everything. */
  stop(options?: { drainTimeoutMs?: number }): Promise<void>;
}

export { windowKey } from './start/windowRows.ts';

const DEFAULT_LATENESS_MS = 2_000;
const DEFAULT_IDLE_MS = 10_000;

function lambdaContextFor(functionName: string): LambdaContext {
  const deadline = Date.now() + 60_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: 'local',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  } as unknown as LambdaContext;
}

/**
 * Starts the embedded pipeline.
 *
 * @example
 * const p = await startEmbedded({ dataDir: '.tidewatch' });
 * console.log(`send logs to ${p.endpoints.kinesis}, stream ${p.streams.logs}`);
 * process.on('SIGINT', () => p.stop());
 */
export async function startEmbedded(options: EmbeddedOptions = {}): Promise<EmbeddedPipeline> {
  const dataDir = resolve(options.dataDir ?? '.tidewatch');
  const ports: EmbeddedPorts = { ...LocalPorts, ...options.ports };
  const archiveDir = join(dataDir, 'archive');
  await mkdir(join(dataDir, 'checkpoints'), { recursive: true });
  await mkdir(join(dataDir, 'failures'), { recursive: true });
  await mkdir(join(dataDir, 'logs'), { recursive: true });

  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    while (closers.length > 0) {
      const c = closers.pop()!;
      await c().catch((err) => (options.warn ?? defaultWarn)('close failed', { error: String(err) }));
    }
  };

  let logStream: WriteStream | undefined;
  let handlerLog = options.handlerLog;
  if (handlerLog === undefined) {
    const stream = createWriteStream(join(dataDir, 'logs', 'handlers.log'), { flags: 'a' });
    logStream = stream;
    handlerLog = (line) => stream.write(line);
    closers.push(() => new Promise<void>((done) => stream.end(() => done())));
  }

  try {
    const kinesisOptions: KinesaliteOptions = {
      port: ports.kinesis,
      path: join(dataDir, 'kinesis'),
      streams: [
        { name: Names.logsStream, shardCount: options.logsShards ?? 2 },
        { name: Names.metricsStream, shardCount: options.metricsShards ?? 1 },
      ],
    };
    const inProcess = options.servicesInProcess === true;
    const kinesis = inProcess
      ? await startKinesalite(kinesisOptions)
      : await startChildService('kinesis', kinesisOptions);
    closers.push(() => kinesis.close());
    const dynamoOptions = { port: ports.dynamodb, path: join(dataDir, 'dynamodb') };
    const dynamo = inProcess
      ? await startDynalite(dynamoOptions)
      : await startChildService('dynamodb', dynamoOptions);
    closers.push(() => dynamo.close());
    const ddb = createDynamoDbClient({ endpoint: dynamo.url, maxAttempts: 3 });
    await ensureStateTable(ddb, Names.stateTable);
    ddb.destroy();

    const windowLandedAt = new Map<string, number>();
    const windowRows = new Set<string>();
    const onWindows = (w: WindowRowsWritten) => {
      for (const [key, t] of w.landed) if (!windowLandedAt.has(key)) windowLandedAt.set(key, t);
      for (const r of w.rows) windowRows.add(r);
    };
    const dbPath = join(dataDir, 'tidewatch.duckdb');
    let store: StoreReader;
    let timestreamUrl: string;
    let timestreamRecords: () => number;
    if (inProcess) {
      const duck = await DuckDbStore.open({ path: dbPath });
      closers.push(() => duck.close());
      observeWindowRows(duck, onWindows);
      const endpoint = await startTimestreamEndpoint({ port: ports.timestream, store: duck });
      closers.push(() => endpoint.close());
      store = duck;
      timestreamUrl = endpoint.url;
      timestreamRecords = () => endpoint.stats.recordsIngested;
    } else {
      // DuckDB lets one process open the file: the child owns it; this process reads through it.
      let rowsSeen = 0;
      const child = await startChildService('timestream', { port: ports.timestream, dbPath }, (m) => {
        const w = (m as { windows?: WindowRowsWritten }).windows;
        if (w !== undefined) {
          rowsSeen += w.rows.length;
          onWindows(w);
        }
      });
      closers.push(() => child.close());
      store = child;
      timestreamUrl = child.url;
      timestreamRecords = () => rowsSeen;
    }
    // Zero buffering: a record Firehose acknowledged is on disk before the handler's next step, so a
    // SIGKILL right after an acknowledgement loses no archived line (real Firehose is durable on ack).
    const firehoseOptions = {
      port: ports.firehose,
      dataDir: archiveDir,
      streams: {
        [Names.archiveDeliveryStream]: { prefix: 'logs/', bufferIntervalS: 0 },
        [Names.archiveErrorDeliveryStream]: { prefix: 'errors/', bufferIntervalS: 0 },
      },
    };
    const firehose = inProcess
      ? await startFirehoseEndpoint(firehoseOptions)
      : await startChildService('firehose', firehoseOptions);
    closers.push(() => firehose.close());
    const sns: SnsEndpoint = await startSnsEndpoint({
      port: ports.sns,
      dataDir,
      ...(options.echoAlerts === undefined ? {} : { echo: options.echoAlerts }),
    });
    closers.push(() => sns.close());
    let dashboard: DashboardServer | undefined;
    if (options.dashboard !== false) {
      dashboard = await startDashboardServer({ store, port: ports.dashboard });
      closers.push(() => dashboard!.close());
    }

    const env: Record<string, string> = {
      [EnvVar.logsStream]: Names.logsStream,
      [EnvVar.metricsStream]: Names.metricsStream,
      [EnvVar.archiveDeliveryStream]: Names.archiveDeliveryStream,
      [EnvVar.archiveErrorDeliveryStream]: Names.archiveErrorDeliveryStream,
      [EnvVar.alertTopicArn]: sns.topicArn(),
      [EnvVar.stateTable]: Names.stateTable,
      [EnvVar.timestreamDatabase]: Names.timestreamDatabase,
      [EnvVar.windowsTable]: Names.windowsTable,
      [EnvVar.pipelineTable]: Names.pipelineTable,
      [EnvVar.windowMs]: String(options.windowMs ?? 10_000),
      [EnvVar.allowedLatenessMs]: String(options.allowedLatenessMs ?? DEFAULT_LATENESS_MS),
      [EnvVar.idleSourceTimeoutMs]: String(options.idleSourceTimeoutMs ?? DEFAULT_IDLE_MS),
      [EnvVar.config]: JSON.stringify(options.processorConfig ?? {}),
      [EnvVar.dashboardUrlTemplate]: dashboard === undefined ? '' : `${dashboard.url}?service={service}`,
      AWS_ENDPOINT_URL_KINESIS: kinesis.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
      AWS_ENDPOINT_URL_FIREHOSE: firehose.url,
      AWS_ENDPOINT_URL_SNS: sns.url,
      [EnvVar.timestreamEndpoint]: timestreamUrl,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_LAMBDA_LOG_LEVEL: options.logLevel ?? 'info',
    };

    // The Lambda handler modules themselves, configured from `env` as Lambda would from process.env.
    const ingestModule = await import('../processors/handlers/ingest.ts');
    const detectModule = await import('../processors/handlers/detect.ts');
    const writeLog = handlerLog;
    const ingestBuilt = ingestModule.createIngestDeps(env, {
      logger: jsonLogger({ level: env.AWS_LAMBDA_LOG_LEVEL, stage: 'ingest', write: writeLog }),
    });
    const detectBuilt = detectModule.createDetectDeps(env, {
      logger: jsonLogger({ level: env.AWS_LAMBDA_LOG_LEVEL, stage: 'detect', write: writeLog }),
    });
    const clients: AwsClients[] = [ingestBuilt.clients, detectBuilt.clients];
    closers.push(async () => {
      for (const c of clients) c.destroy();
    });
    const ingest: IngestHandler = ingestModule.createIngestHandler(ingestBuilt.deps);
    const detect: DetectHandler = detectModule.createDetectHandler(detectBuilt.deps);

    const runnerClient = createKinesisClient(kinesis.url);
    closers.push(async () => runnerClient.destroy());
    const counts = { logs: 0, metrics: 0 };
    const warn = options.warn ?? defaultWarn;
    const logsRunner: EventSourceRunner = await startEventSourceRunner({
      client: runnerClient,
      streamName: Names.logsStream,
      functionName: Names.ingestFunction,
      handler: (event: KinesisStreamEvent) => ingest(event, lambdaContextFor(Names.ingestFunction)),
      batchSize: options.ingestBatchSize ?? 500,
      maximumBatchingWindowMs: 200,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 50,
      onFailureFile: join(dataDir, 'failures', 'logs.jsonl'),
      checkpointFile: join(dataDir, 'checkpoints', 'logs.json'),
      pollIntervalMs: 100,
      shardDiscoveryIntervalMs: 5_000,
      onBatch: (r) => {
        counts.logs += r.records;
      },
      logger: { warn },
    });
    const metricsRunner: EventSourceRunner = await startEventSourceRunner({
      client: runnerClient,
      streamName: Names.metricsStream,
      functionName: Names.detectFunction,
      handler: (event: KinesisStreamEvent) => detect(event, lambdaContextFor(Names.detectFunction)),
      batchSize: 1_000,
      maximumBatchingWindowMs: 100,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 50,
      onFailureFile: join(dataDir, 'failures', 'metrics.jsonl'),
      checkpointFile: join(dataDir, 'checkpoints', 'metrics.json'),
      pollIntervalMs: 100,
      shardDiscoveryIntervalMs: 5_000,
      onBatch: (r) => {
        counts.metrics += r.records;
      },
      logger: { warn },
    });
    let runnersStopped = false;
    const stopRunners = async () => {
      if (runnersStopped) return;
      runnersStopped = true;
      await logsRunner.stop();
      await metricsRunner.stop();
    };
    closers.push(stopRunners);

    let lastTick: DetectControlResult | undefined;
    let ticking: Promise<unknown> | undefined;
    const tick = () => {
      if (ticking !== undefined) return;
      ticking = detect({ tidewatch: 'tick' })
        .then((r) => {
          lastTick = r;
        })
        .catch((err) => warn('detect tick failed', { error: String(err) }))
        .finally(() => {
          ticking = undefined;
        });
    };
    const ticker = setInterval(tick, options.tickIntervalMs ?? 1_000);
    ticker.unref();
    const stopTicker = async () => {
      clearInterval(ticker);
      await ticking;
    };
    closers.push(stopTicker);

    const maxLag = (runner: EventSourceRunner) => {
      let lag = 0;
      for (const s of Object.values(runner.stats().shards)) if (s.lagMs > lag) lag = s.lagMs;
      return lag;
    };

    const drain = async (timeoutMs = 60_000): Promise<boolean> => {
      const deadline = Date.now() + timeoutMs;
      const within = <T>(p: Promise<T>) =>
        Promise.race([
          p.then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, deadline - Date.now())).unref()),
        ]);
      for (;;) {
        const before = counts.logs + counts.metrics;
        if (!(await within(logsRunner.drain()))) return false;
        if (!(await within(metricsRunner.drain()))) return false;
        if (counts.logs + counts.metrics === before) return true;
        if (Date.now() > deadline) return false;
      }
    };

    const flushWindows = async () => {
      await ticking;
      return detect({ tidewatch: 'flush' });
    };

    let stopping: Promise<void> | undefined;
    const stop = (stopOptions: { drainTimeoutMs?: number } = {}) => {
      stopping ??= (async () => {
        await stopTicker();
        await drain(stopOptions.drainTimeoutMs ?? 30_000);
        await flushWindows().catch((err) => warn('flushing windows failed', { error: String(err) }));
        await stopRunners();
        await firehose.flush();
        await closeAll();
      })();
      return stopping;
    };

    return {
      dataDir,
      archiveDir,
      alertsFile: sns.alertsFile,
      endpoints: {
        kinesis: kinesis.url,
        dynamodb: dynamo.url,
        timestream: timestreamUrl,
        firehose: firehose.url,
        sns: sns.url,
        dashboard: dashboard?.url,
      },
      streams: { logs: Names.logsStream, metrics: Names.metricsStream },
      env,
      store,
      windowLandedAt,
      windowsWritten: () => windowRows.size,
      flushArchive: async () => {
        await firehose.flush();
      },
      stats: () => ({
        logsRecords: counts.logs,
        metricsRecords: counts.metrics,
        logsLagMs: maxLag(logsRunner),
        metricsLagMs: maxLag(metricsRunner),
        openWindows: lastTick?.openWindows ?? 0,
        series: lastTick?.series ?? 0,
        alertsPublished: sns.stats.published,
        timestreamRecords: timestreamRecords(),
      }),
      drain,
      flushWindows,
      stop,
    };
  } catch (err) {
    await closeAll();
    logStream?.destroy();
    throw err;
  }
}

/** A local service running in a child process. */
interface ChildService {
  url: string;
  /** Firehose: delivers the buffers; others: no-op. */
  flush(): Promise<void>;
  /** Timestream: reads the DuckDB store. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

type ChildServiceName = 'kinesis' | 'dynamodb' | 'firehose' | 'timestream';

/**
 * Starts a local service in a child process (local/start/serviceProcess.ts). A data directory still
 * locked by the child of a process that was just SIGKILLed is retried for a few seconds: that child
 * exits as soon as it notices its parent is gone.
 */
async function startChildService(
  name: ChildServiceName,
  options: unknown,
  onMessage?: (message: unknown) => void,
): Promise<ChildService> {
  const entry = fileURLToPath(new URL('./start/serviceProcess.ts', import.meta.url));
  const deadline = Date.now() + 15_000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await forkService(entry, name, options, onMessage);
    } catch (err) {
      const msg = (err as Error).message;
      if (!/lock/i.test(msg) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(1_000, 100 * 2 ** attempt)));
    }
  }
}

/**
 * tsx's loader as an absolute URL: a bare `--import tsx` resolves from the current directory, so
 * `tidewatch start` run outside the project could not start its children (ERR_MODULE_NOT_FOUND).
 */
const TSX_LOADER_URL = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function forkService(
  entry: string,
  name: ChildServiceName,
  options: unknown,
  onMessage: ((message: unknown) => void) | undefined,
): Promise<ChildService> {
  return new Promise((resolveStart, rejectStart) => {
    const child = fork(entry, [name, JSON.stringify(options)], {
      execArgv: ['--import', TSX_LOADER_URL],
      serialization: 'advanced',
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-4_000);
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const onExit = (code: number | null) =>
      rejectStart(new Error(`${name} exited (code ${code}) before it was ready: ${stderr.trim()}`));
    child.once('exit', onExit);
    child.once('message', (m: { url?: string; error?: string }) => {
      child.off('exit', onExit);
      if (m.url === undefined) {
        rejectStart(new Error(`${name} did not start: ${m.error ?? 'unknown error'}`));
        return;
      }
      const alive = () => child.exitCode === null && child.signalCode === null && child.connected;
      const pending = new Map<
        number,
        { ok: (rows: Record<string, unknown>[]) => void; fail: (e: Error) => void }
      >();
      let nextId = 0;
      child.on('message', (reply: { id?: number; rows?: Record<string, unknown>[]; error?: string }) => {
        if (typeof reply === 'object' && reply !== null && typeof reply.id === 'number') {
          const p = pending.get(reply.id);
          pending.delete(reply.id);
          if (reply.error !== undefined) p?.fail(new Error(`${name}: ${reply.error}`));
          else p?.ok(reply.rows ?? []);
        } else onMessage?.(reply);
      });
      exited.then(() => {
        for (const p of pending.values()) p.fail(new Error(`${name} has stopped`));
        pending.clear();
      });
      resolveStart({
        url: m.url,
        query: (sql) =>
          new Promise((ok, fail) => {
            if (!alive()) return fail(new Error(`${name} has stopped`));
            const id = nextId++;
            pending.set(id, { ok, fail });
            child.send({ id, sql });
          }),
        flush: () =>
          new Promise<void>((done) => {
            if (!alive()) return done();
            const onMessage = (reply: unknown) => {
              if (reply !== 'flushed') return;
              child.off('message', onMessage);
              done();
            };
            child.on('message', onMessage);
            child.send('flush');
            exited.then(() => done());
          }),
        close: async () => {
          if (alive()) {
            child.send('close');
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(timer);
          }
        },
      });
    });
  });
}

function defaultWarn(message: string, detail?: Record<string, unknown>): void {
  process.stderr.write(`tidewatch: ${message}${detail === undefined ? '' : ` ${JSON.stringify(detail)}`}\n`);
}

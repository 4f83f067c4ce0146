/**
 * `tidewatch send --stream NAME [--endpoint URL] [--partition-key K] [FILE|-]`
 *
 * Ships a log file (NDJSON or plain text, one event per line) to a Kinesis stream through the
 * producer SDK, with progress on stderr (a bar on a terminal, a line every few seconds otherwise)
 * and a final count on stdout. Exit codes: 0 everything sent, 1 something failed or Kinesis is
 * unreachable, 2 usage errors (bad options, missing file).
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { LocalPorts, Names } from '../processors/schema.ts';
import type { ShipperError } from '../sdk/errors.ts';
import { createShipperClient } from '../sdk/kinesisClient.ts';
import { createShipper, type ShipperStats } from '../sdk/shipper.ts';

const USAGE = `usage: tidewatch send --stream NAME [--endpoint URL] [--partition-key KEY] [FILE|-]

Ships FILE (or standard input with '-' or no FILE) to the Kinesis stream NAME, one event per line
(NDJSON or plain text), as KPL-aggregated records.

options:
  --stream NAME          Kinesis data stream (local mode creates '${Names.logsStream}')
  --endpoint URL         Kinesis endpoint, e.g. http://127.0.0.1:${LocalPorts.kinesis} for 'tidewatch start';
                         default: AWS (region and credentials from the usual AWS configuration)
  --partition-key KEY    one partition key for every line (default: spread over all shards)
  --region REGION        AWS region (default: AWS_REGION, or us-east-1 for a local endpoint)
  -h, --help             this help`;

/** Progress refresh interval on a terminal, and between plain lines otherwise. */
const TTY_REFRESH_MS = 100;
const LINE_REFRESH_MS = 2_000;

function fail(message: string, code: number): number {
  process.stderr.write(`tidewatch send: ${message}\n`);
  return code;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1_048_576) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

const fmt = new Intl.NumberFormat('en-US');

/** What went wrong reaching the stream, in words a user can act on; undefined if the stream is usable. */
async function checkStream(
  client: KinesisClient,
  stream: string,
  endpoint: string | undefined,
): Promise<string | undefined> {
  const where = endpoint ?? 'AWS';
  try {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    const status = out.StreamDescriptionSummary?.StreamStatus;
    if (status === 'ACTIVE' || status === 'UPDATING') return undefined;
    return `stream '${stream}' at ${where} is ${status ?? 'in an unknown state'}; wait until it is ACTIVE and retry.`;
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    if (e.name === 'ResourceNotFoundException') {
      return (
        `stream '${stream}' does not exist at ${where}. Run 'tidewatch start' (it creates ` +
        `'${Names.logsStream}' on http://127.0.0.1:${LocalPorts.kinesis}) or create it: ` +
        `aws kinesis create-stream --stream-name ${stream} --shard-count 1`
      );
    }
    if (e.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(e.message ?? '')) {
      return `cannot reach Kinesis at ${where} (connection refused). Is 'tidewatch start' running?`;
    }
    if (e.name === 'CredentialsProviderError') {
      return `no AWS credentials found for ${where}: configure AWS credentials, or pass --endpoint http://127.0.0.1:${LocalPorts.kinesis} for local mode.`;
    }
    return `cannot use stream '${stream}' at ${where}: ${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
  }
}

class Progress {
  readonly #tty: boolean;
  readonly #totalBytes: number | undefined;
  readonly #started = Date.now();
  readonly #timer: NodeJS.Timeout;
  lines = 0;
  bytes = 0;

  constructor(
    totalBytes: number | undefined,
    private readonly stats: () => ShipperStats,
  ) {
    this.#tty = process.stderr.isTTY === true;
    this.#totalBytes = totalBytes;
    this.#timer = setInterval(() => this.draw(), this.#tty ? TTY_REFRESH_MS : LINE_REFRESH_MS);
    this.#timer.unref();
  }

  draw(): void {
    const s = this.stats();
    const secs = Math.max(0.001, (Date.now() - this.#started) / 1000);
    const rate = `${fmt.format(Math.round(s.sent / secs))} events/s`;
    const counts = `${fmt.format(this.lines)} read, ${fmt.format(s.sent)} sent${s.failed > 0 ? `, ${fmt.format(s.failed)} failed` : ''}`;
    if (!this.#tty) {
      process.stderr.write(`send: ${counts} (${formatBytes(this.bytes)}, ${rate})\n`);
      return;
    }
    let bar = '';
    if (this.#totalBytes !== undefined && this.#totalBytes > 0) {
      const width = 24;
      const frac = Math.min(1, this.bytes / this.#totalBytes);
      const done = Math.round(frac * width);
      bar = `[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${String(Math.floor(frac * 100)).padStart(3)}% `;
    }
    process.stderr.write(`\r\x1b[2K${bar}${counts} ${rate}`);
  }

  /** `complete`: the whole input was read (line bytes miss `\r` and a missing last newline: show 100 %). */
  stop(complete: boolean): void {
    clearInterval(this.#timer);
    if (complete && this.#totalBytes !== undefined) this.bytes = this.#totalBytes;
    this.draw();
    if (this.#tty) process.stderr.write('\n');
  }
}

/** Runs `tidewatch send` with `argv` (after the subcommand) and resolves to the exit code. */
export async function run(argv: string[]): Promise<number> {
  let values: {
    stream?: string | undefined;
    endpoint?: string | undefined;
    'partition-key'?: string | undefined;
    region?: string | undefined;
    help?: boolean | undefined;
  };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        stream: { type: 'string' },
        endpoint: { type: 'string' },
        'partition-key': { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return fail(`${(err as Error).message}\n\n${USAGE}`, 2);
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const stream = values.stream;
  if (stream === undefined || stream === '') {
    return fail(`--stream is required (e.g. --stream ${Names.logsStream}).\n\n${USAGE}`, 2);
  }
  if (positionals.length > 1) {
    return fail(
      `expected at most one FILE, got ${positionals.length}: ${positionals.join(' ')}\n\n${USAGE}`,
      2,
    );
  }
  const endpoint = values.endpoint;
  if (endpoint !== undefined) {
    let protocol: string;
    try {
      protocol = new URL(endpoint).protocol;
    } catch {
      return fail(`--endpoint '${endpoint}' is not a URL (e.g. http://127.0.0.1:${LocalPorts.kinesis}).`, 2);
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      return fail(
        `--endpoint '${endpoint}' must be an http:// or https:// URL (e.g. http://127.0.0.1:${LocalPorts.kinesis}).`,
        2,
      );
    }
  }
  const partitionKey = values['partition-key'];
  if (partitionKey !== undefined && (partitionKey.length === 0 || [...partitionKey].length > 256)) {
    return fail('--partition-key must be 1 to 256 characters.', 2);
  }

  const file = positionals[0];
  let input: Readable;
  let totalBytes: number | undefined;
  let inputName: string;
  if (file === undefined || file === '-') {
    if (file === undefined && process.stdin.isTTY === true) {
      return fail(
        `no FILE given and standard input is a terminal: pass a file, or pipe lines in.\n\n${USAGE}`,
        2,
      );
    }
    input = process.stdin;
    inputName = 'standard input';
  } else {
    try {
      const st = statSync(file);
      if (!st.isFile()) return fail(`'${file}' is not a regular file: pass an NDJSON or text log file.`, 2);
      totalBytes = st.size;
    } catch (err) {
      const code = (err as { code?: string }).code;
      return fail(
        code === 'ENOENT'
          ? `file '${file}' does not exist: pass an NDJSON or text log file, or '-' for standard input.`
          : `cannot read '${file}': ${(err as Error).message}`,
        2,
      );
    }
    input = createReadStream(file);
    inputName = file;
  }

  // The CLI is the whole process: the SDK's "Node 20 support ends 2027" warning is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = createShipperClient({ endpoint, region: values.region });
  try {
    const problem = await checkStream(client, stream, endpoint);
    if (problem !== undefined) return fail(problem, 1);

    const firstErrors = new Map<string, ShipperError>();
    const shipper = createShipper({
      streamName: stream,
      client,
      ...(partitionKey === undefined ? {} : { partitionKey }),
      onError: (e) => {
        if (!firstErrors.has(e.reason)) firstErrors.set(e.reason, e);
      },
    });
    const progress = new Progress(totalBytes, shipper.stats);
    const started = Date.now();
    let readError: Error | undefined;
    input.on('error', (err) => {
      readError = err;
    });
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of lines) {
        progress.bytes += Buffer.byteLength(line, 'utf8') + 1;
        if (line.length === 0) continue;
        progress.lines++;
        shipper.send(line);
        // Backpressure: a file larger than the buffer is read as fast as Kinesis takes it.
        await shipper.ready();
      }
    } catch (err) {
      readError = err as Error;
    }
    await shipper.close();
    progress.stop(readError === undefined);

    const s = shipper.stats();
    const secs = (Date.now() - started) / 1000;
    for (const e of firstErrors.values()) process.stderr.write(`tidewatch send: ${e.message}\n`);
    if (readError !== undefined) {
      process.stderr.write(`tidewatch send: reading ${inputName} failed: ${readError.message}\n`);
    }
    process.stdout.write(
      `sent ${fmt.format(s.sent)} of ${fmt.format(s.accepted)} events from ${inputName} to '${stream}' ` +
        `in ${secs.toFixed(1)} s (${fmt.format(s.kinesisRecords)} Kinesis records)` +
        `${s.failed > 0 ? `; ${fmt.format(s.failed)} failed` : ''}${s.dropped > 0 ? `; ${fmt.format(s.dropped)} dropped` : ''}\n`,
    );
    return s.failed > 0 || s.dropped > 0 || readError !== undefined ? 1 : 0;
  } finally {
    client.destroy();
  }
}

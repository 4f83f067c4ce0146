/**
 * Child process of the SIGKILL test: runs the embedded pipeline on the data directory given as argv[2]
 * (ephemeral ports), prints `{"kinesis": url}` on stdout once ready, and on the stdin line `stop`
 * drains, closes every window, stops and prints `{"stopped": true}`.
 * Run: `node --import tsx test/integration/embeddedChild.ts <dataDir>`.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startEmbedded } from '../../local/embedded.ts';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: embeddedChild.ts <dataDir>');
mkdirSync(join(dataDir, 'logs'), { recursive: true });
const logFile = join(dataDir, 'logs', 'handlers.log');
const pipeline = await startEmbedded({
  dataDir,
  ports: { kinesis: 0, dynamodb: 0, timestream: 0, firehose: 0, sns: 0, dashboard: 0 },
  windowMs: 1_000,
  allowedLatenessMs: 60_000,
  dashboard: false,
  logLevel: 'info',
  // Synchronous: a SIGKILL must not eat the lines the test waits for (and reads when it fails).
  handlerLog: (line) => appendFileSync(logFile, line),
  warn: (message, detail) =>
    appendFileSync(logFile, `${JSON.stringify({ level: 'warn', msg: message, ...detail })}\n`),
  // Small batches: ingest takes many invocations, so a kill lands in the middle of the work.
  ingestBatchSize: 25,
});
process.stdout.write(`${JSON.stringify({ kinesis: pipeline.endpoints.kinesis })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  if (line.trim() !== 'stop') return;
  const drained = await pipeline.drain(90_000);
  await pipeline.flushWindows();
  await pipeline.stop();
  process.stdout.write(`${JSON.stringify({ stopped: true, drained })}\n`);
  process.exit(0);
});

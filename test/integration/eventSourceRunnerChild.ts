/**
 * Child process for the SIGKILL test (eventSourceRunnerCrash.test.ts): kinesalite on disk plus an
 * event-source runner with a checkpoint file, as the embedded mode runs them. The handler appends
 * every delivered record to a log (synchronously, before returning) and, after `hangAfter`
 * batches, never returns — so the test can SIGKILL it with a batch in flight.
 *
 * Usage: node --import tsx eventSourceRunnerChild.ts <dataDir> <stream> <checkpointFile> <logFile> <hangAfter>
 * Prints one JSON line `{"url": ...}` on stdout once ready.
 */
import { appendFileSync } from 'node:fs';
import { startEventSourceRunner } from '../../local/eventSourceRunner.ts';
import { startKinesalite } from '../../local/kinesalite.ts';
import { createKinesisClient } from '../../local/kinesisClient.ts';

const [dataDir, streamName, checkpointFile, logFile, hangAfterText] = process.argv.slice(2);
if (
  dataDir === undefined ||
  streamName === undefined ||
  checkpointFile === undefined ||
  logFile === undefined
) {
  process.stderr.write(
    'usage: eventSourceRunnerChild.ts <dataDir> <stream> <checkpointFile> <logFile> <hangAfter>\n',
  );
  process.exit(2);
}
const hangAfter = Number(hangAfterText ?? '8');

const kinesis = await startKinesalite({
  port: 0,
  path: dataDir,
  streams: [{ name: streamName, shardCount: 2 }],
});
let batches = 0;
let started = false;
await startEventSourceRunner({
  client: createKinesisClient(kinesis.url),
  streamName,
  checkpointFile,
  batchSize: 5,
  pollIntervalMs: 20,
  handler: async (event) => {
    // Hold the first batch until the parent has put every record, so batches are full and ordered.
    while (!started) await new Promise((r) => setTimeout(r, 10));
    const lines = event.Records.map((r) => `${r.eventID}\n`).join('');
    appendFileSync(logFile, lines);
    batches++;
    if (batches > hangAfter) {
      appendFileSync(logFile, 'hung\n');
      await new Promise(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 10));
  },
});
process.stdin.on('data', () => {
  started = true;
});
process.stdout.write(`${JSON.stringify({ url: kinesis.url })}\n`);

/**
 * The pino transport as users run it: a separate Node process configures
 * `pino({ transport: { target, options: { streamName, endpoint } } })`, logs, and exits; the lines
 * must be in the stream afterwards. pino runs the transport in a worker thread, loaded by path:
 *
 * - `sdk/pinoWorker.mjs`, the TypeScript sources through tsx's CommonJS hook (Node 20 applies no
 *   `--import` hooks in workers), for running the transport from the TypeScript sources;
 * - an esbuild bundle of sdk/pino.ts — the built-JavaScript path (the package export, dist/sdk/pino.mjs, is
 *   tested as installed in sdk.package.test.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStream, type LocalKinesis, readStream, startLocalKinesis } from './sdkHelpers.ts';

const root = resolve(import.meta.dirname, '../..');

function childScript(
  target: string,
  endpoint: string,
  stream: string,
  lines: number,
  exit: 'natural' | 'process.exit',
): string {
  return `
import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(join(root, 'package.json'))});
const pino = require('pino');
const logger = pino({
  base: { service: 'pino-child' },
  transport: { target: ${JSON.stringify(target)}, options: { streamName: ${JSON.stringify(stream)}, endpoint: ${JSON.stringify(endpoint)} } },
});
for (let i = 0; i < ${lines}; i++) logger.info({ i, route: '/x' }, 'line');
${exit === 'process.exit' ? 'process.exit(0);' : ''}
`;
}

function runNode(script: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [script], { cwd: root, timeout: 60_000 }, (err, _stdout, stderr) => {
      done({ code: err === null ? 0 : ((err as { code?: number }).code ?? null), stderr });
    });
  });
}

describe('tidewatch/sdk/pino transport (worker thread, separate process)', () => {
  let kinesis: LocalKinesis;
  let dir: string;

  beforeAll(async () => {
    kinesis = await startLocalKinesis();
    dir = mkdtempSync(join(tmpdir(), 'tidewatch-sdk-pino-'));
  });

  afterAll(async () => {
    await kinesis?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function shipThrough(
    target: string,
    stream: string,
    lines: number,
    exit: 'natural' | 'process.exit',
  ) {
    await createStream(kinesis.client, stream, 2);
    const script = join(dir, `${stream}.mjs`);
    writeFileSync(script, childScript(target, kinesis.url, stream, lines, exit));
    const run = await runNode(script);
    const back = await readStream(kinesis.client, stream);
    const seen = new Set<number>();
    for (const r of back.records) {
      const line = JSON.parse(r.data) as { i: number; service: string; msg: string; level: number };
      expect(line).toMatchObject({ service: 'pino-child', msg: 'line', level: 30 });
      seen.add(line.i);
    }
    return { run, seen };
  }

  it('ships every line from the TypeScript sources (sdk/pinoWorker.mjs) when the process exits naturally', async () => {
    // Prepare / Act
    const { run, seen } = await shipThrough(join(root, 'sdk/pinoWorker.mjs'), 'pino-tsx', 2_000, 'natural');

    // Assess
    expect(run.stderr).not.toMatch(/Error|TidewatchShipperWarning/);
    expect(run.code).toBe(0);
    expect(seen.size).toBe(2_000);
  });

  it('ships every line from an esbuild bundle even when the process calls process.exit()', async () => {
    // Prepare
    const bundle = join(dir, 'tidewatch-pino.cjs');
    await build({
      entryPoints: [join(root, 'sdk/pino.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile: bundle,
      logLevel: 'error',
    });

    // Act
    const { run, seen } = await shipThrough(bundle, 'pino-bundle', 2_000, 'process.exit');

    // Assess
    expect(run.stderr).not.toMatch(/Error|TidewatchShipperWarning/);
    expect(run.code).toBe(0);
    expect(seen.size).toBe(2_000);
  });
});

/**
 * `tidewatch/sdk` as a service installs it: a project with `node_modules/tidewatch` (a symlink to this
 * checkout) runs plain Node — no TypeScript loader — imports `createShipper` from `tidewatch/sdk`,
 * and logs through pino with `target: 'tidewatch/sdk/pino'`. Both resolve through package.json
 * `exports` to the JavaScript `npm run build` writes (`dist/sdk/`), rebuilt here when older than sdk/.
 * Every line must be in the stream afterwards.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStream, type LocalKinesis, readStream, startLocalKinesis } from './sdkHelpers.ts';

const root = resolve(import.meta.dirname, '../..');
const LINES = 500;

async function newestSourceMs(dir: string): Promise<number> {
  let newest = 0;
  for (const f of await readdir(dir)) newest = Math.max(newest, (await stat(join(dir, f))).mtimeMs);
  return newest;
}

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0; // missing: build it
  }
}

function consumerScript(endpoint: string, sdkStream: string, pinoStream: string): string {
  return `
import { createRequire } from 'node:module';
import { createShipper } from 'tidewatch/sdk';
const shipper = createShipper({ streamName: ${JSON.stringify(sdkStream)}, endpoint: ${JSON.stringify(endpoint)} });
for (let i = 0; i < ${LINES}; i++) shipper.send({ i, service: 'consumer', msg: 'sdk' });
await shipper.close();
const s = shipper.stats();
if (s.sent !== ${LINES} || s.failed !== 0) throw new Error('stats ' + JSON.stringify(s));
// pino is the project's own dependency; here it comes from the checkout's node_modules.
const pino = createRequire(${JSON.stringify(join(root, 'package.json'))})('pino');
const logger = pino({
  base: { service: 'consumer' },
  transport: { target: 'tidewatch/sdk/pino', options: { streamName: ${JSON.stringify(pinoStream)}, endpoint: ${JSON.stringify(endpoint)} } },
});
for (let i = 0; i < ${LINES}; i++) logger.info({ i }, 'pino');
`;
}

describe('tidewatch/sdk as an installed package (plain Node, built JavaScript)', () => {
  let kinesis: LocalKinesis;
  let dir: string;

  beforeAll(async () => {
    if (mtimeMs(join(root, 'dist', 'sdk', 'index.mjs')) < (await newestSourceMs(join(root, 'sdk')))) {
      await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', join(root, 'scripts', 'build.ts'), 'sdk'],
        {
          cwd: root,
        },
      );
    }
    kinesis = await startLocalKinesis();
    dir = mkdtempSync(join(tmpdir(), 'tidewatch-consumer-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'tidewatch'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{ "name": "consumer", "type": "module" }\n');
  });

  afterAll(async () => {
    await kinesis?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('imports createShipper and the pino transport and ships every line', async () => {
    // Prepare
    await createStream(kinesis.client, 'consumer-sdk', 1);
    await createStream(kinesis.client, 'consumer-pino', 1);
    const script = join(dir, 'app.js');
    writeFileSync(script, consumerScript(kinesis.url, 'consumer-sdk', 'consumer-pino'));

    // Act: no --import tsx, no loader of any kind.
    const { stderr } = await promisify(execFile)(process.execPath, [script], {
      cwd: dir,
      timeout: 60_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const sdk = await readStream(kinesis.client, 'consumer-sdk');
    const viaPino = await readStream(kinesis.client, 'consumer-pino');

    // Assess
    expect(stderr).not.toMatch(/Error|TidewatchShipperWarning/);
    const ids = (records: { data: string }[], msg: string) =>
      new Set(
        records
          .map((r) => JSON.parse(r.data) as { i: number; msg: string })
          .filter((l) => l.msg === msg)
          .map((l) => l.i),
      );
    expect(ids(sdk.records, 'sdk').size).toBe(LINES);
    expect(ids(viaPino.records, 'pino').size).toBe(LINES);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../cli/send.ts';
import { createStream, type LocalKinesis, readStream, startLocalKinesis } from './sdkHelpers.ts';

/** Runs `tidewatch send` in-process, capturing what it writes. */
async function send(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await run(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('tidewatch send', () => {
  let kinesis: LocalKinesis;
  let dir: string;

  beforeAll(async () => {
    kinesis = await startLocalKinesis();
    dir = mkdtempSync(join(tmpdir(), 'tidewatch-send-'));
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  afterAll(async () => {
    await kinesis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ships every non-empty line of an NDJSON / plain-text file and prints the final count', async () => {
    // Prepare
    await createStream(kinesis.client, 'send-ok', 2);
    const lines: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      lines.push(i % 3 === 0 ? `plain text line ${i}` : JSON.stringify({ i, service: 'api', msg: 'hello' }));
    }
    const file = join(dir, 'app.log');
    writeFileSync(file, `${lines.join('\r\n')}\n\n`);

    // Act
    const result = await send([
      '--stream',
      'send-ok',
      '--endpoint',
      kinesis.url,
      '--partition-key',
      'api',
      file,
    ]);
    const back = await readStream(kinesis.client, 'send-ok');

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^sent 3,000 of 3,000 events from .*app\.log to 'send-ok'/);
    expect(result.stderr).toMatch(/send: 3,000 read, 3,000 sent/); // the non-TTY progress line at the end
    expect(back.records.map((r) => r.data).sort()).toEqual([...lines].sort());
    expect(new Set(back.records.map((r) => r.partitionKey))).toEqual(new Set(['api']));
  });

  it('says how to get the stream when it does not exist (exit 1)', async () => {
    // Prepare
    const file = join(dir, 'one.log');
    writeFileSync(file, 'x\n');

    // Act
    const result = await send(['--stream', 'nope', '--endpoint', kinesis.url, file]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("stream 'nope' does not exist");
    expect(result.stderr).toContain('tidewatch start');
    expect(result.stderr).toContain('aws kinesis create-stream --stream-name nope');
  });

  it('says when nothing listens at the endpoint (exit 1)', async () => {
    // Prepare
    const file = join(dir, 'two.log');
    writeFileSync(file, 'x\n');
    const port = await closedPort();

    // Act
    const result = await send(['--stream', 'send-ok', '--endpoint', `http://127.0.0.1:${port}`, file]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('connection refused');
    expect(result.stderr).toContain("'tidewatch start'");
  });

  it('rejects usage errors with exit 2: missing --stream, missing file, bad endpoint, unknown option', async () => {
    // Prepare
    const missing = join(dir, 'missing.log');

    // Act
    const noStream = await send([missing]);
    const noFile = await send(['--stream', 's', '--endpoint', kinesis.url, missing]);
    const badEndpoint = await send(['--stream', 's', '--endpoint', 'not a url', missing]);
    const ftpEndpoint = await send(['--stream', 's', '--endpoint', 'ftp://127.0.0.1:4567', missing]);
    const unknown = await send(['--stream', 's', '--bogus']);

    // Assess
    expect(noStream.code).toBe(2);
    expect(noStream.stderr).toContain('--stream is required');
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain(`file '${missing}' does not exist`);
    expect(badEndpoint.code).toBe(2);
    expect(badEndpoint.stderr).toContain('is not a URL');
    expect(ftpEndpoint.code).toBe(2);
    expect(ftpEndpoint.stderr).toContain('must be an http:// or https:// URL');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('usage: tidewatch send');
  });
});

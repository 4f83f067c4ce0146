/**
 * `tidewatch` command dispatcher. Each subcommand lives in `cli/<name>.ts` and exports
 * `run(argv: string[]): Promise<number>` (the exit code); it is imported only when called so that
 * `tidewatch detect` does not pay for loading DuckDB or the AWS SDK.
 */

interface Command {
  summary: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<number> }>;
}

const commands: Record<string, Command> = {
  start: {
    summary: 'run the whole pipeline on this machine (--demo adds a synthetic fleet)',
    load: () => import('./start.ts'),
  },
  send: {
    summary: 'ship an NDJSON or plain-text log file to a Kinesis stream',
    load: () => import('./send.ts'),
  },
  replay: {
    summary: 'run a log file through the processors and print windows and alerts',
    load: () => import('./replay.ts'),
  },
  detect: {
    summary: 'score a timestamp,value CSV with the default detector',
    load: () => import('./detect.ts'),
  },
  backtest: {
    summary: 'score the default detector against labeled anomaly windows',
    load: () => import('./backtest.ts'),
  },
  export: {
    summary: 'export stored windows or archived events as an Arrow IPC file',
    load: () => import('./export.ts'),
  },
  cost: { summary: 'estimate the monthly AWS cost for a daily log volume', load: () => import('./cost.ts') },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: tidewatch <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'tidewatch <command> --help' for a command's options.`;
}

/** Runs the CLI with `argv` (without node and script) and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`tidewatch: unknown command '${name}'.\n\n${usage()}\n`);
    return 2;
  }
  const module = await command.load();
  return module.run(rest);
}

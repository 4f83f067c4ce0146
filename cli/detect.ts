/**
 * `tidewatch detect --input FILE.csv --output OUT.csv [--detector NAME]`
 *
 * Reads a `timestamp,value` CSV (as Grafana, CloudWatch or a spreadsheet export it), feeds the values one
 * at a time to a fresh detector with the default configuration, and writes `timestamp,value,anomaly_score`
 * with exactly one output row per input row, in input order. Repeated or backwards timestamps are kept in
 * file order with a warning on stderr; bad input is an error naming the line.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  createDetector,
  DETECTOR_NAMES,
  isDetectorName,
} from '../processors/transforms/detect/createDetector.ts';
import { parseSeriesCsv } from './csv.ts';

const USAGE = `usage: tidewatch detect --input FILE.csv --output OUT.csv [--detector NAME]

Scores every row of a timestamp,value CSV with a fresh detector and writes timestamp,value,anomaly_score.
  --input FILE      CSV with a header naming "timestamp" and "value" columns
                    (timestamps YYYY-MM-DD HH:MM:SS in UTC, or ISO 8601)
  --output FILE     where to write the scored CSV ("-" for stdout)
  --detector NAME   ${DETECTOR_NAMES.join(', ')} (default: default)`;

/** Most warnings printed before they are summarised (a bad export can have thousands). */
const MAX_WARNINGS = 20;

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** CLI entry: see the module comment. Exit codes: 0 ok, 1 input/output error, 2 usage error. */
export async function run(argv: string[]): Promise<number> {
  let values: { input?: string; output?: string; detector?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        input: { type: 'string', short: 'i' },
        output: { type: 'string', short: 'o' },
        detector: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (cause) {
    process.stderr.write(`tidewatch detect: ${(cause as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.input === undefined || values.output === undefined) {
    process.stderr.write(`tidewatch detect: --input and --output are required.\n\n${USAGE}\n`);
    return 2;
  }
  const kind = values.detector ?? 'default';
  if (!isDetectorName(kind)) {
    process.stderr.write(
      `tidewatch detect: unknown detector '${kind}'; use one of ${DETECTOR_NAMES.join(', ')}.\n`,
    );
    return 2;
  }
  let text: string;
  try {
    text = await readFile(values.input, 'utf8');
  } catch (cause) {
    process.stderr.write(
      `tidewatch detect: cannot read --input ${values.input}: ${(cause as Error).message}\n`,
    );
    return 1;
  }
  const parsed = parseSeriesCsv(text);
  if (parsed.kind === 'error') {
    process.stderr.write(`tidewatch detect: ${values.input}:${parsed.line}: ${parsed.message}\n`);
    return 1;
  }
  const warnings = parsed.warnings;
  for (const w of warnings.slice(0, MAX_WARNINGS)) process.stderr.write(`warning: ${values.input}: ${w}\n`);
  if (warnings.length > MAX_WARNINGS) {
    process.stderr.write(
      `warning: ${values.input}: ${warnings.length - MAX_WARNINGS} more out-of-order rows\n`,
    );
  }

  const rows = parsed.rows;
  const scores = new Float64Array(rows.length);
  const detector = createDetector(kind);
  // Detector time is reported as wall and CPU time: on a shared machine the wall clock includes waiting.
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    scores[i] = detector.update(row.timestampMs, row.value).score;
  }
  const detectorNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  const detectorCpuNs = (cpu.user + cpu.system) * 1000;

  const lines = ['timestamp,value,anomaly_score'];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    lines.push(
      `${csvField(row.timestampText)},${csvField(row.valueText.trim())},${Number(scores[i]!.toFixed(6))}`,
    );
  }
  const body = `${lines.join('\n')}\n`;
  try {
    if (values.output === '-') process.stdout.write(body);
    else await writeFile(values.output, body);
  } catch (cause) {
    process.stderr.write(
      `tidewatch detect: cannot write --output ${values.output}: ${(cause as Error).message}\n`,
    );
    return 1;
  }
  const perPointNs = rows.length > 0 ? detectorCpuNs / rows.length : 0;
  process.stderr.write(
    `scored ${rows.length} rows with the ${kind} detector: ${(detectorNs / 1e6).toFixed(1)} ms detector time ` +
      `(${(detectorCpuNs / 1e6).toFixed(1)} ms CPU, ${perPointNs.toFixed(0)} ns/row)\n`,
  );
  return 0;
}

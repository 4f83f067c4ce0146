/**
 * The run summary `tidewatch start --summary FILE` writes on stop (issue: "the handlers and the
 * embedded default", item 4). Every count comes from what actually landed, not from in-process
 * counters: the DuckDB store (pipeline-health and windows rows), the archive directory (`logs/` lines,
 * `errors/` envelopes by code) and the SNS endpoint's `alerts.jsonl`. Only `produced` and the incident
 * schedule come from the demo fleet.
 */
import { readFile, stat } from 'node:fs/promises';
import { ArchivePrefix, Names, RejectCode } from '../processors/schema.ts';
import type { AlertMessage } from '../processors/sinks/alertEvent.ts';
import { listArchiveFiles, readArchiveFile } from './firehoseEndpoint.ts';

/** The summary document (times ISO 8601, latencies in ms). */
export interface RunSummary {
  events: {
    /** Well-formed events the demo produced (acknowledged by Kinesis); null without `--demo`. */
    produced: number | null;
    /** Events accepted from any producer (pipeline table, stage ingest). */
    ingested: number;
    /** Lines in the archive's `logs/` prefix. */
    archived: number;
    /** Distinct demo events (by id) found in the archive; null without `--demo`. */
    archivedProduced: number | null;
    /** Events later than the allowed lateness (archived under `errors/` with code `late`). */
    late: number;
    /** Rejected inputs by code (`errors/` envelopes), `late` excluded. */
    rejected: Record<string, number>;
    /** Malformed records the demo wrote, by the code each must be rejected with; null without `--demo`. */
    malformedSent: Record<string, number> | null;
  };
  windows: { written: number };
  incidents: SummaryIncident[];
  alerts: SummaryAlert[];
  latencyMs: {
    eventToMetric: { p50: number | null; p99: number | null };
    eventToAlert: { p50: number | null; p99: number | null };
  };
}

export interface SummaryIncident {
  service: string;
  kind: string;
  start: string;
  end: string;
  /** When the first alert matching it was published, or null (missed). */
  detectedAt: string | null;
}

export interface SummaryAlert {
  service: string;
  metric: string;
  windowStart: string;
  score: number;
  /** When SNS accepted it. */
  at: string;
  /** `<kind>:<service>:<start>` of the incident it matches, or null (a false alarm). */
  incident: string | null;
}

/** An injected incident (the demo fleet's `DemoIncident`). */
export interface IncidentInput {
  service: string;
  kind: string;
  startMs: number;
  endMs: number;
  metrics?: readonly string[];
}

/** Something that runs SQL against the embedded store. */
export interface SummaryStore {
  query(sql: string): Promise<Record<string, unknown>[]>;
}

/** Inputs of {@link buildSummary}. */
export interface SummaryInput {
  store: SummaryStore;
  archiveDir: string;
  alertsFile: string;
  /** Run start (epoch ms): rows, files and alerts from before it (an earlier run) are ignored. */
  sinceMs: number;
  windowMs: number;
  allowedLatenessMs: number;
  /** When each window (service, start) first landed: `EmbeddedPipeline.windowLandedAt`. */
  windowLandedAt: ReadonlyMap<string, number>;
  /** Distinct series·windows written in this run (zero-filled included). */
  windowsWritten: number;
  produced?: number;
  /** Malformed records the demo wrote, by expected reject code. */
  malformedSent?: Record<string, number>;
  incidents?: readonly IncidentInput[];
  /** Event times of produced events by `windowKey(service, windowStart)`, for eventToMetric. */
  eventTimes?: ReadonlyMap<string, readonly number[]>;
  /** Extracts a demo event id from an archived line (demo runs). */
  demoIdOf?: (line: string) => string | undefined;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The `q` quantile (nearest rank) of `values`, or null when empty.
 *
 * @example
 * quantile([1, 2, 3, 4], 0.5); // 2
 */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return Math.round(sorted[rank]!);
}

async function filesSince(dir: string, prefix: string, sinceMs: number): Promise<string[]> {
  const out: string[] = [];
  for (const f of await listArchiveFiles(dir, prefix)) {
    // Keys carry the UTC hour; mtime is when the local endpoint delivered the file.
    if ((await stat(f)).mtimeMs >= sinceMs - 1_000) out.push(f);
  }
  return out;
}

/** Incident name used in `SummaryAlert.incident`. */
export function incidentName(i: IncidentInput): string {
  return `${i.kind}:${i.service}:${iso(i.startMs)}`;
}

/**
 * Builds the summary from the store, the archive and the alerts file.
 *
 * @example
 * const summary = await buildSummary({ store, archiveDir, alertsFile, sinceMs, windowMs: 1000,
 *   allowedLatenessMs: 2000, windowLandedAt, windowsWritten: 120 });
 */
export async function buildSummary(input: SummaryInput): Promise<RunSummary> {
  const since = input.sinceMs;
  const [ingestRow] = await input.store.query(
    `SELECT coalesce(sum(events), 0) AS events FROM "${Names.timestreamDatabase}"."${Names.pipelineTable}" WHERE stage = 'ingest' AND time >= epoch_ms(${Math.floor(since)})`,
  );
  const ingested = Number(ingestRow?.events ?? 0);

  let archived = 0;
  const demoIds = input.demoIdOf === undefined ? undefined : new Set<string>();
  for (const f of await filesSince(input.archiveDir, ArchivePrefix.logs, since)) {
    const text = (await readArchiveFile(f)).toString('utf8');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      archived++;
      if (demoIds !== undefined) {
        const id = input.demoIdOf!(line);
        if (id !== undefined) demoIds.add(id);
      }
    }
  }
  let late = 0;
  const rejected: Record<string, number> = {};
  const seen = new Set<string>();
  for (const f of await filesSince(input.archiveDir, ArchivePrefix.errors, since)) {
    const text = (await readArchiveFile(f)).toString('utf8');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let env: { code?: string; source?: string; data?: string };
      try {
        env = JSON.parse(line) as typeof env;
      } catch {
        continue;
      }
      // A retried archive call can deliver an envelope twice: count each input once.
      const key = `${env.code}\u0000${env.source}\u0000${env.data}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (env.code === RejectCode.late) late++;
      else if (typeof env.code === 'string') rejected[env.code] = (rejected[env.code] ?? 0) + 1;
    }
  }

  const incidents = [...(input.incidents ?? [])].sort((a, b) => a.startMs - b.startMs);
  const alerts: SummaryAlert[] = [];
  const toAlert: number[] = [];
  const detected = new Map<IncidentInput, number>();
  let alertLines: string[] = [];
  try {
    alertLines = (await readFile(input.alertsFile, 'utf8')).split('\n');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // An alert belongs to an incident of its service whose span (plus the time a window needs to close
  // and a few windows for a sustained detector) contains the alert's window.
  const graceMs = input.allowedLatenessMs + 5 * input.windowMs;
  for (const line of alertLines) {
    if (line === '') continue;
    let stored: { timeMs: number; message: string };
    let msg: AlertMessage;
    try {
      stored = JSON.parse(line) as typeof stored;
      msg = JSON.parse(stored.message) as AlertMessage;
    } catch {
      continue;
    }
    if (stored.timeMs < since || msg.kind !== 'alert') continue;
    const start = msg.window.startMs;
    let match: IncidentInput | undefined;
    for (const i of incidents) {
      if (i.service !== msg.service || start < i.startMs || start >= i.endMs + graceMs) continue;
      if (match === undefined || (i.metrics?.includes(msg.metric) && !match.metrics?.includes(msg.metric))) {
        match = i;
      }
    }
    if (match !== undefined && !detected.has(match)) detected.set(match, stored.timeMs);
    alerts.push({
      service: msg.service,
      metric: msg.metric,
      windowStart: iso(start),
      score: msg.score,
      at: iso(stored.timeMs),
      incident: match === undefined ? null : incidentName(match),
    });
    toAlert.push(stored.timeMs - start);
  }

  const toMetric: number[] = [];
  if (input.eventTimes !== undefined) {
    for (const [key, times] of input.eventTimes) {
      const landed = input.windowLandedAt.get(key);
      if (landed === undefined) continue;
      for (const t of times) toMetric.push(landed - t);
    }
  }

  return {
    events: {
      produced: input.produced ?? null,
      ingested,
      archived,
      archivedProduced: demoIds === undefined ? null : demoIds.size,
      late,
      rejected,
      malformedSent: input.malformedSent ?? null,
    },
    windows: { written: input.windowsWritten },
    incidents: incidents.map((i) => ({
      service: i.service,
      kind: i.kind,
      start: iso(i.startMs),
      end: iso(i.endMs),
      detectedAt: detected.has(i) ? iso(detected.get(i)!) : null,
    })),
    alerts,
    latencyMs: {
      eventToMetric: { p50: quantile(toMetric, 0.5), p99: quantile(toMetric, 0.99) },
      eventToAlert: { p50: quantile(toAlert, 0.5), p99: quantile(toAlert, 0.99) },
    },
  };
}

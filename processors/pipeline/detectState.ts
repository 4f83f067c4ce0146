/**
 * Everything the detect stage remembers about one metrics shard, and its checkpoint format:
 * the window merger (stage two), one detector and one alert-decision state per series·metric, the
 * scores of recently closed windows (so a correction keeps its window's score), the SNS dedupe state,
 * and the last metrics-stream sequence number folded in.
 *
 * The shard's checkpoint is one head item, written with one conditional put (`StateBlobStore`), that
 * names a snapshot (a whole state) and the batch logs written since (see "Checkpoint head and batch
 * logs" below). Merger, detectors and alert states always move together, so a redelivered batch
 * re-scores from the same point and writes identical records (Timestream accepts them idempotently).
 *
 * The blob is binary (format 2) and built incrementally, because re-encoding every series after every
 * invocation was most of the detect stage's cost (docs/performance.md):
 * - each series is one length-prefixed record, once for its merge state and once for its scoring
 *   state; the bytes of a record are cached and reused until the merger or the scorer touches that
 *   series again, so a checkpoint re-encodes only what the invocation changed and copies the rest;
 * - a detector is stored as its last `saveState()` snapshot (deflated) plus a journal of the
 *   (window start, value) points fed to it since; restore replays the journal. The `Detector`
 *   contract (detector.ts) makes that exact: `update` is deterministic and `restoreDetector(saveState())`
 *   continues with identical scores. A snapshot is taken every 8–15 points per series (staggered by
 *   series key, so series do not all snapshot in the same window), which bounds both the journal and
 *   the replay work of a cold start.
 *
 * Format 1 (gzip JSON with base64 detectors) is still read; the next save writes format 2.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { AlertDedupeSnapshot } from '../sinks/alertDeduper.ts';
import { type AlertState, newAlertState } from '../transforms/detect/alertRules.ts';
import { createDetector, restoreDetector } from '../transforms/detect/createDetector.ts';
import {
  type Detector,
  DetectorKind,
  type DetectorKindName,
  type DetectorOutput,
} from '../transforms/detect/detector.ts';
import { readString, WindowMerger, writeString, writtenBytes } from '../transforms/window/mergePartials.ts';
import {
  type ByteReader,
  ByteWriter,
  readBytes,
  readF64,
  readU8,
  readVarint,
} from '../transforms/window/sketch.ts';
import type { WindowConfig } from '../transforms/window/windowConfig.ts';
import { CheckpointError } from './errors.ts';

/** State kind of detect checkpoint heads in the state table (one per metrics shard). */
export const DetectStateKind = 'detect';
/** State kind of detect snapshots (a whole shard state, format 2), referenced by a head. */
export const DetectSnapshotKind = 'detect-snapshot';
/** State kind of detect batch logs (the partials of one invocation), referenced by a head. */
export const DetectLogKind = 'detect-log';

/** Where the stored state of a shard lives: a snapshot plus the logs of invocations since. */
export interface StoredCheckpoint {
  /** Key of the snapshot blob (`DetectSnapshotKind`); `undefined` = the head itself is the state. */
  snapshotKey: string | undefined;
  /** Keys of the log blobs (`DetectLogKind`) written since the snapshot, oldest first. */
  readonly logKeys: string[];
  /** Payload bytes in those logs (bounds replay work on restore). */
  logBytes: number;
}

/** A detector's stored form: its last snapshot and the points fed to it since. */
export interface DetectorJournal {
  readonly kind: DetectorKindName;
  /** Deflated `saveState()` bytes; `undefined` = replay from a fresh detector of `kind`. */
  snapshot: Uint8Array | undefined;
  /** Flat `[windowStartMs, value, …]` fed to the detector after the snapshot. */
  readonly points: number[];
}

/** Scoring state of one series. */
export interface SeriesScoring {
  readonly key: string;
  /** Dimensions of the series' records (`service`, configured dimensions, `window_ms`). */
  readonly dimensions: Record<string, string>;
  /** Start of the last window fed to the detectors (−∞ when none). */
  lastScoredStartMs: number;
  /** Start of the last window that had events (−∞ when none): bounds zero-filling of a silent series. */
  lastDataStartMs: number;
  readonly detectors: Map<string, Detector>;
  /** Stored form of each detector (same keys as `detectors`). */
  readonly journals: Map<string, DetectorJournal>;
  readonly alerts: Map<string, AlertState>;
  /** Window start → score, in scoring (= time) order, pruned to the merger's retention. */
  readonly scores: Map<number, WindowScore>;
  /** Journal points per detector that trigger a new snapshot (8–15, from the series key). */
  readonly snapshotEveryPoints: number;
}

/** Score measures of one closed window, kept for corrections. */
export interface WindowScore {
  score: number;
  expectedLow: number;
  expectedHigh: number;
  alerting: number;
}

/**
 * Scoring records of the last checkpoint (views into it), reused while their series stay untouched.
 * (The merger caches its own records the same way.)
 */
interface RecordCache {
  readonly scoring: Map<string, Uint8Array>;
}

/** In-memory state of one shard. */
export interface DetectShardState {
  /** Version of the stored checkpoint this state was loaded from or saved as (0 = none yet). */
  version: number;
  lastSeq: string | null;
  merger: WindowMerger;
  series: Map<string, SeriesScoring>;
  /** Keys of series whose scoring state changed since the last encode. */
  readonly touched: Set<string>;
  /** Horizon of the last pruning of `scores` (not stored: pruning again after a restore is a no-op). */
  scoresPrunedBelowMs: number;
  dedupe: AlertDedupeSnapshot | undefined;
  readonly cache: RecordCache;
  /** How the checkpoint this state was loaded from or saved as is stored. */
  readonly stored: StoredCheckpoint;
}

/**
 * A fresh shard state.
 *
 * @example
 * const state = newDetectShardState(config.window);
 */
export function newDetectShardState(config: WindowConfig): DetectShardState {
  return {
    version: 0,
    lastSeq: null,
    merger: new WindowMerger(config),
    series: new Map(),
    touched: new Set(),
    scoresPrunedBelowMs: Number.NEGATIVE_INFINITY,
    dedupe: undefined,
    cache: { scoring: new Map() },
    stored: { snapshotKey: undefined, logKeys: [], logBytes: 0 },
  };
}

/** Snapshot period in journal points: 8–15, a hash of the key so series spread over windows. */
function snapshotPeriodOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return SNAPSHOT_MIN_POINTS + ((h >>> 0) % SNAPSHOT_MIN_POINTS);
}

const SNAPSHOT_MIN_POINTS = 8;

/**
 * The scoring state of a series, created on first use.
 *
 * @example
 * const s = seriesScoring(state, 'checkout', { service: 'checkout', window_ms: '10000' });
 */
export function seriesScoring(
  state: DetectShardState,
  key: string,
  dimensions: Record<string, string>,
): SeriesScoring {
  let s = state.series.get(key);
  if (s === undefined) {
    s = {
      key,
      dimensions,
      lastScoredStartMs: Number.NEGATIVE_INFINITY,
      lastDataStartMs: Number.NEGATIVE_INFINITY,
      detectors: new Map(),
      journals: new Map(),
      alerts: new Map(),
      scores: new Map(),
      snapshotEveryPoints: snapshotPeriodOf(key),
    };
    state.series.set(key, s);
    state.touched.add(key);
  }
  return s;
}

/**
 * Feeds one value to the detector of a series·metric (created on first use) and journals it, so the
 * checkpoint can store the point instead of re-serializing the detector. Every detector update must go
 * through here.
 *
 * @example
 * const { score } = updateDetector(series, 'error_rate', 'default', windowStartMs, 0.02);
 */
export function updateDetector(
  s: SeriesScoring,
  metric: string,
  kind: DetectorKindName,
  startMs: number,
  value: number,
): Readonly<DetectorOutput> {
  let d = s.detectors.get(metric);
  let j = s.journals.get(metric);
  if (d === undefined || j === undefined) {
    d = createDetector(kind);
    j = { kind, snapshot: undefined, points: [] };
    s.detectors.set(metric, d);
    s.journals.set(metric, j);
  }
  const out = d.update(startMs, value);
  j.points.push(startMs, value);
  if (j.points.length >= 2 * s.snapshotEveryPoints) {
    // Level 1: a snapshot is mostly float arrays; more effort buys little.
    j.snapshot = deflateRawSync(d.saveState(), { level: 1 });
    j.points.length = 0;
  }
  return out;
}

/**
 * The alert-decision state of one series·metric, created on first use.
 *
 * @example
 * decideAlert(alertStateOf(series, 'error_rate'), rule, input);
 */
export function alertStateOf(s: SeriesScoring, metric: string): AlertState {
  let a = s.alerts.get(metric);
  if (a === undefined) {
    a = newAlertState();
    s.alerts.set(metric, a);
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// Format 2 (binary).
//
//   "TWD" 2 | varint len, header | varint n, n × (varint len, merger series record)
//           | varint m, m × (varint len, scoring series record)
//   header  = u8 hasLastSeq, [str lastSeq], str dedupe JSON ("" = none), varint len, merger globals

const MAGIC = [0x54, 0x57, 0x44] as const;
const FORMAT = 2;
const KIND_NAMES = Object.keys(DetectorKind) as DetectorKindName[];
const VALUE_NUMBER = 0;
const VALUE_TRUE = 1;
const VALUE_FALSE = 2;
const VALUE_STRING = 3;

function reader(bytes: Uint8Array): ByteReader {
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
}

/**
 * Field names, metric names and the like: a handful of constant strings written for every series,
 * kept encoded (length prefix included) so each is one copy.
 */
const encodedNames = new Map<string, Uint8Array>();
const nameWriter = new ByteWriter(64);

function writeName(w: ByteWriter, name: string): void {
  let b = encodedNames.get(name);
  if (b === undefined) {
    nameWriter.length = 0;
    writeString(nameWriter, name);
    b = nameWriter.finish();
    // Bounded: names come from code and configuration, but stay safe if a caller varies them.
    if (encodedNames.size < 4096) encodedNames.set(name, b);
  }
  w.bytes(b);
}

/** Alert states are plain objects owned by alertRules.ts: stored field by field, whatever the fields. */
function writePlainObject(w: ByteWriter, o: Record<string, unknown>): void {
  let n = 0;
  for (const _ in o) n++;
  w.varint(n);
  for (const k in o) {
    const v = o[k];
    writeName(w, k);
    if (typeof v === 'number') {
      w.u8(VALUE_NUMBER);
      w.f64(v);
    } else if (typeof v === 'boolean') w.u8(v ? VALUE_TRUE : VALUE_FALSE);
    else if (typeof v === 'string') {
      w.u8(VALUE_STRING);
      writeString(w, v);
    } else throw new CheckpointError(`detect state: field ${k} of type ${typeof v} cannot be stored`);
  }
}

function readPlainObject(r: ByteReader): Record<string, number | boolean | string> {
  const o: Record<string, number | boolean | string> = {};
  const n = readVarint(r);
  for (let i = 0; i < n; i++) {
    const k = readString(r);
    const tag = readU8(r);
    if (tag === VALUE_NUMBER) o[k] = readF64(r);
    else if (tag === VALUE_TRUE) o[k] = true;
    else if (tag === VALUE_FALSE) o[k] = false;
    else if (tag === VALUE_STRING) o[k] = readString(r);
    else throw new CheckpointError(`detect state: unknown value tag ${tag}`);
  }
  return o;
}

/**
 * Reused for every re-encoded record, and for the whole checkpoint: allocating a writer (and a copy)
 * per record was most of the encode time. Encoding is synchronous, so one of each serves all shards.
 */
const recordScratch = new ByteWriter(16 * 1024);
const blobWriter = new ByteWriter(1024 * 1024);

/** The scoring record of `s`, in `recordScratch` (valid until its next use). */
function encodeScoring(s: SeriesScoring): Uint8Array {
  const w = recordScratch;
  w.length = 0;
  writeString(w, s.key);
  writePlainObject(w, s.dimensions);
  w.f64(s.lastScoredStartMs);
  w.f64(s.lastDataStartMs);
  w.varint(s.journals.size);
  for (const [metric, j] of s.journals) {
    writeName(w, metric);
    w.u8(DetectorKind[j.kind]);
    if (j.snapshot === undefined) w.varint(0);
    else {
      w.varint(j.snapshot.length);
      w.bytes(j.snapshot);
    }
    w.varint(j.points.length);
    for (let i = 0; i < j.points.length; i++) w.f64(j.points[i]!);
  }
  w.varint(s.alerts.size);
  for (const [metric, a] of s.alerts) {
    writeName(w, metric);
    writePlainObject(w, a as unknown as Record<string, unknown>);
  }
  w.varint(s.scores.size);
  for (const [startMs, sc] of s.scores) {
    w.f64(startMs);
    w.f64(sc.score);
    w.f64(sc.expectedLow);
    w.f64(sc.expectedHigh);
    w.f64(sc.alerting);
  }
  return writtenBytes(w);
}

function decodeScoring(state: DetectShardState, bytes: Uint8Array): SeriesScoring {
  const r = reader(bytes);
  const key = readString(r);
  const dimensions: Record<string, string> = {};
  for (const [k, v] of Object.entries(readPlainObject(r))) {
    if (typeof v !== 'string') throw new CheckpointError(`detect state: dimension ${k} is not a string`);
    dimensions[k] = v;
  }
  if (state.series.has(key)) throw new CheckpointError(`detect state: series ${key} appears twice`);
  const s = seriesScoring(state, key, dimensions);
  s.lastScoredStartMs = readF64(r);
  s.lastDataStartMs = readF64(r);
  const nDet = readVarint(r);
  for (let i = 0; i < nDet; i++) {
    const metric = readString(r);
    const kindByte = readU8(r);
    const kind = KIND_NAMES.find((k) => DetectorKind[k] === kindByte);
    if (kind === undefined) throw new CheckpointError(`detect state: unknown detector kind ${kindByte}`);
    const snapLen = readVarint(r);
    const snapshot = snapLen === 0 ? undefined : readBytes(r, snapLen);
    const nPoints = readVarint(r);
    const points: number[] = new Array(nPoints);
    for (let k = 0; k < nPoints; k++) points[k] = readF64(r);
    const d = snapshot === undefined ? createDetector(kind) : restoreDetector(inflateRawSync(snapshot));
    if (d.kind !== kind) throw new CheckpointError(`detect state: ${metric} snapshot is not a ${kind}`);
    for (let k = 0; k + 1 < nPoints; k += 2) d.update(points[k]!, points[k + 1]!);
    s.detectors.set(metric, d);
    s.journals.set(metric, { kind, snapshot, points });
  }
  const nAlerts = readVarint(r);
  for (let i = 0; i < nAlerts; i++) {
    const metric = readString(r);
    s.alerts.set(metric, { ...newAlertState(), ...readPlainObject(r) } as AlertState);
  }
  const nScores = readVarint(r);
  for (let i = 0; i < nScores; i++) {
    const startMs = readF64(r);
    s.scores.set(startMs, {
      score: readF64(r),
      expectedLow: readF64(r),
      expectedHigh: readF64(r),
      alerting: readF64(r),
    });
  }
  if (r.offset !== bytes.length) throw new CheckpointError(`detect state: trailing bytes in series ${key}`);
  return s;
}

/**
 * Serializes a shard state (binary format 2; the blob store stores it as given). Incremental: the
 * records of series untouched since the previous call are copied from that call's output (which the
 * state keeps views of), the rest re-encoded.
 *
 * @example
 * await blobs.save(ref, state.version + 1, encodeDetectState(state), { compress: false });
 */
export function encodeDetectState(state: DetectShardState): Uint8Array {
  const w = blobWriter;
  w.length = 0;
  for (const b of MAGIC) w.u8(b);
  w.u8(FORMAT);
  const hw = recordScratch;
  hw.length = 0;
  hw.u8(state.lastSeq === null ? 0 : 1);
  if (state.lastSeq !== null) writeString(hw, state.lastSeq);
  writeString(hw, state.dedupe === undefined ? '' : JSON.stringify(state.dedupe));
  const globals = state.merger.encodeGlobals();
  hw.varint(globals.length);
  hw.bytes(globals);
  const header = writtenBytes(hw);
  w.varint(header.length);
  w.bytes(header);

  const merger = state.merger.writeSeriesRecords(w);
  const { scoring } = state.cache;
  const starts: number[] = [];
  w.varint(state.series.size);
  for (const s of state.series.values()) {
    let b = state.touched.has(s.key) ? undefined : scoring.get(s.key);
    if (b === undefined) b = encodeScoring(s);
    w.varint(b.length);
    starts.push(w.length, b.length);
    w.bytes(b);
  }

  // One allocation for the whole checkpoint; the caches become views of it (so the previous
  // checkpoint's buffer is garbage once nothing else holds it).
  const out = w.finish();
  state.merger.adoptSeriesRecords(out, merger);
  let i = 0;
  for (const s of state.series.values()) {
    const at = starts[i++]!;
    scoring.set(s.key, out.subarray(at, at + starts[i++]!));
  }
  state.touched.clear();
  return out;
}

/**
 * Forgets the cached records, so the next {@link encodeDetectState} re-encodes every series (what a
 * checkpoint costs when an invocation touched all of them).
 *
 * @example
 * invalidateEncodedRecords(state);
 */
export function invalidateEncodedRecords(state: DetectShardState): void {
  state.merger.invalidateSeriesRecords();
  state.cache.scoring.clear();
}

function isFormat2(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === MAGIC[0] && bytes[1] === MAGIC[1] && bytes[2] === MAGIC[2];
}

/**
 * Restores a shard state written by {@link encodeDetectState} (format 2) or by the format-1 encoder.
 * @throws CheckpointError when the bytes are not a detect checkpoint.
 * @example
 * const state = decodeDetectState(blob.data, blob.version, config.window);
 */
export function decodeDetectState(
  bytes: Uint8Array,
  version: number,
  config: WindowConfig,
): DetectShardState {
  if (!isFormat2(bytes)) return decodeFormat1(bytes, version, config);
  if (bytes[3] !== FORMAT) throw new CheckpointError(`detect state has unknown format ${bytes[3]}`);
  try {
    const r = reader(bytes);
    r.offset = 4;
    const header = reader(readBytes(r, readVarint(r)));
    const lastSeq = readU8(header) === 1 ? readString(header) : null;
    const dedupeJson = readString(header);
    const globals = readBytes(header, readVarint(header));
    const mergerRecords: Uint8Array[] = new Array(readVarint(r));
    for (let i = 0; i < mergerRecords.length; i++) mergerRecords[i] = readBytes(r, readVarint(r));
    const scoringRecords: Uint8Array[] = new Array(readVarint(r));
    for (let i = 0; i < scoringRecords.length; i++) scoringRecords[i] = readBytes(r, readVarint(r));
    if (r.offset !== bytes.length) throw new CheckpointError('trailing bytes');
    const merger = WindowMerger.fromBinary(config, globals, mergerRecords);
    if (merger.kind === 'invalid') throw new CheckpointError(merger.problems.join('; '));
    const state = newDetectShardState(config);
    state.version = version;
    state.lastSeq = lastSeq;
    state.merger = merger.value;
    state.dedupe = dedupeJson === '' ? undefined : (JSON.parse(dedupeJson) as AlertDedupeSnapshot);
    // The loaded bytes are what encoding the restored series would produce: reuse them (the merger
    // keeps views of its records itself).
    for (const b of scoringRecords) state.cache.scoring.set(decodeScoring(state, b).key, b);
    state.touched.clear();
    return state;
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(`detect state: ${(err as Error).message}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------------
// Format 1 (JSON), read only.

interface SeriesJson {
  key: string;
  dims: Record<string, string>;
  lastScored: number | null;
  lastData: number | null;
  detectors: [metric: string, state: string][];
  alerts: [metric: string, state: Omit<AlertState, 'lastAlertMs'> & { lastAlertMs: number | null }][];
}

interface DetectStateJson {
  v: 1;
  lastSeq: string | null;
  merger: unknown;
  series: SeriesJson[];
  scores: [key: string, score: number, low: number, high: number, alerting: number][];
  dedupe: AlertDedupeSnapshot | null;
}

function orNegInf(v: number | null | undefined): number {
  return typeof v === 'number' ? v : Number.NEGATIVE_INFINITY;
}

function decodeFormat1(bytes: Uint8Array, version: number, config: WindowConfig): DetectShardState {
  let json: DetectStateJson;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8')) as DetectStateJson;
  } catch (err) {
    throw new CheckpointError('detect state is neither binary nor JSON', { cause: err });
  }
  if (json?.v !== 1 || !Array.isArray(json.series) || !Array.isArray(json.scores)) {
    throw new CheckpointError('detect state does not have {v:1, merger, series, scores}');
  }
  const merger = WindowMerger.fromState(config, json.merger);
  if (merger.kind === 'invalid') throw new CheckpointError(`detect state: ${merger.problems.join('; ')}`);
  const state = newDetectShardState(config);
  state.version = version;
  state.lastSeq = typeof json.lastSeq === 'string' ? json.lastSeq : null;
  state.merger = merger.value;
  state.dedupe = json.dedupe ?? undefined;
  try {
    for (const sj of json.series) {
      const s = seriesScoring(state, sj.key, sj.dims);
      s.lastScoredStartMs = orNegInf(sj.lastScored);
      s.lastDataStartMs = orNegInf(sj.lastData);
      for (const [m, b64] of sj.detectors) {
        const raw = Buffer.from(b64, 'base64');
        const d = restoreDetector(raw);
        s.detectors.set(m, d);
        s.journals.set(m, { kind: d.kind, snapshot: deflateRawSync(raw, { level: 1 }), points: [] });
      }
      for (const [m, a] of sj.alerts) {
        s.alerts.set(m, { ...newAlertState(), ...a, lastAlertMs: orNegInf(a.lastAlertMs) });
      }
    }
  } catch (err) {
    throw new CheckpointError(`detect state: ${(err as Error).message}`, { cause: err });
  }
  for (const [k, score, low, high, alerting] of json.scores) {
    const cut = k.lastIndexOf('\u0000');
    const s = state.series.get(k.slice(0, cut));
    if (s !== undefined) {
      s.scores.set(Number(k.slice(cut + 1)), { score, expectedLow: low, expectedHigh: high, alerting });
    }
  }
  return state;
}

// ---------------------------------------------------------------------------------------------
// Checkpoint head and batch logs.
//
// An invocation that only merged partials (nothing closed, corrected, evicted, scored or alerted)
// changes nothing but open windows, and replaying its input reproduces that exactly (merge, close
// and scoring are deterministic given the state, the partials and `nowMs`). Such an invocation
// stores its input payloads as a log blob instead of re-encoding the shard; the head (conditional
// on its version, as before) lists the snapshot and the logs since. With many invocations per
// window — 20 for 100,000 series — only the one that closes the window writes a snapshot.
//
//   head = "TWD" 3 | str snapshotKey | varint n, n × str logKey
//   log  = "TWL" 1 | f64 nowMs | str lastSeq | varint n, n × (varint len, payload)

const HEAD_FORMAT = 3;
const LOG_MAGIC = [0x54, 0x57, 0x4c, 1] as const;

/** A decoded checkpoint head. */
export interface CheckpointHead {
  snapshotKey: string;
  logKeys: string[];
}

/** The input of one logged invocation. */
export interface BatchLog {
  nowMs: number;
  lastSeq: string;
  /** Metrics-stream record payloads that decoded to partials, in order. */
  payloads: Uint8Array[];
}

/**
 * Whether `bytes` is a checkpoint head (format 3) rather than a whole state (formats 1 and 2, which
 * heads written before logs existed hold).
 *
 * @example
 * if (isCheckpointHead(blob.data)) { const head = decodeCheckpointHead(blob.data); }
 */
export function isCheckpointHead(bytes: Uint8Array): boolean {
  return isFormat2(bytes) && bytes[3] === HEAD_FORMAT;
}

/**
 * Encodes a checkpoint head.
 *
 * @example
 * await blobs.save(headRef, version, encodeCheckpointHead({ snapshotKey, logKeys }), { compress: false });
 */
export function encodeCheckpointHead(head: CheckpointHead): Uint8Array {
  const w = new ByteWriter(64 + 64 * head.logKeys.length);
  for (const b of MAGIC) w.u8(b);
  w.u8(HEAD_FORMAT);
  writeString(w, head.snapshotKey);
  w.varint(head.logKeys.length);
  for (const k of head.logKeys) writeString(w, k);
  return w.finish();
}

/**
 * Decodes {@link encodeCheckpointHead} output.
 * @throws CheckpointError when the bytes are not a head.
 * @example
 * const { snapshotKey, logKeys } = decodeCheckpointHead(blob.data);
 */
export function decodeCheckpointHead(bytes: Uint8Array): CheckpointHead {
  if (!isCheckpointHead(bytes)) throw new CheckpointError('detect checkpoint head: bad magic');
  try {
    const r = reader(bytes);
    r.offset = 4;
    const snapshotKey = readString(r);
    const logKeys: string[] = new Array(readVarint(r));
    for (let i = 0; i < logKeys.length; i++) logKeys[i] = readString(r);
    if (r.offset !== bytes.length) throw new CheckpointError('trailing bytes');
    return { snapshotKey, logKeys };
  } catch (err) {
    throw new CheckpointError(`detect checkpoint head: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Encodes the input of one invocation.
 *
 * @example
 * const bytes = encodeBatchLog({ nowMs, lastSeq, payloads });
 */
export function encodeBatchLog(log: BatchLog): Uint8Array {
  let size = 64 + log.lastSeq.length;
  for (const p of log.payloads) size += 10 + p.length;
  const w = new ByteWriter(size);
  for (const b of LOG_MAGIC) w.u8(b);
  w.f64(log.nowMs);
  writeString(w, log.lastSeq);
  w.varint(log.payloads.length);
  for (const p of log.payloads) {
    w.varint(p.length);
    w.bytes(p);
  }
  return w.finish();
}

/**
 * Decodes {@link encodeBatchLog} output (payloads are views of `bytes`).
 * @throws CheckpointError when the bytes are not a batch log.
 * @example
 * const { nowMs, payloads } = decodeBatchLog(blob.data);
 */
export function decodeBatchLog(bytes: Uint8Array): BatchLog {
  for (let i = 0; i < LOG_MAGIC.length; i++) {
    if (bytes[i] !== LOG_MAGIC[i]) throw new CheckpointError('detect batch log: bad magic');
  }
  try {
    const r = reader(bytes);
    r.offset = LOG_MAGIC.length;
    const nowMs = readF64(r);
    const lastSeq = readString(r);
    const payloads: Uint8Array[] = new Array(readVarint(r));
    for (let i = 0; i < payloads.length; i++) payloads[i] = readBytes(r, readVarint(r));
    if (r.offset !== bytes.length) throw new CheckpointError('trailing bytes');
    return { nowMs, lastSeq, payloads };
  } catch (err) {
    throw new CheckpointError(`detect batch log: ${(err as Error).message}`, { cause: err });
  }
}

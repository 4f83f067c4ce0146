/**
 * Event-time windows and two-stage aggregation (docs/windows.md). Stage one (`aggregateBatch`,
 * ingest) → `chunkPartials` / `decodePartials` (metrics stream) → stage two (`WindowMerger`, detect).
 */
export {
  type AggregateContext,
  type AggregateResult,
  aggregateBatch,
  type LateEvent,
  type RejectedEvent,
  type RuleAggregate,
  StageOneState,
  type StageOneStateJson,
  type WindowPartial,
} from './aggregateBatch.ts';
export { assignWindows, windowStartMs } from './assignWindows.ts';
export { MergerStateError, PartialCodecError, WindowConfigError, WindowError } from './errors.ts';
export {
  type AddStats,
  type ClosedWindow,
  type CloseResult,
  type MergeResult,
  WindowMerger,
  type WindowMergerState,
} from './mergePartials.ts';
export {
  chunkPartials,
  decodePartials,
  encodePartials,
  MAX_KINESIS_RECORD_BYTES,
  type PartialChunk,
} from './partialCodec.ts';
export {
  exactQuantile,
  type ReferenceWindow,
  referenceAggregate,
  referenceKey,
} from './referenceAggregate.ts';
export { compareSequenceNumbers, isSequenceNumber } from './sequenceNumber.ts';
export {
  CardinalityGuard,
  partitionKeyForSeries,
  type SeriesDimensions,
  seriesDimensionRecord,
  seriesKey,
  statusClass,
} from './seriesKey.ts';
export { QuantileSketch } from './sketch.ts';
export {
  type ConfigOutcome,
  defaultWindowConfig,
  type LogMetricRule,
  parseWindowConfig,
  type RuleCondition,
  RuleKind,
  SeriesDimension,
  type WindowConfig,
  WindowConfigDefaults,
} from './windowConfig.ts';

import { DefaultDetector } from './defaultDetector.ts';
import type { Detector, DetectorKindName } from './detector.ts';
import { DetectorKind } from './detector.ts';
import { DetectError } from './errors.ts';
import { EwmaZScoreDetector } from './ewmaZScore.ts';
import { STATE_MAGIC } from './stateCodec.ts';
import { WindowedGaussianDetector } from './windowedGaussian.ts';

/** Detector names accepted by {@link createDetector} and the CLI's `--detector`. */
export const DETECTOR_NAMES = Object.keys(DetectorKind) as DetectorKindName[];

/**
 * Type guard for a detector name.
 *
 * @example
 * isDetectorName('ewma'); // true
 */
export function isDetectorName(name: string): name is DetectorKindName {
  return Object.hasOwn(DetectorKind, name);
}

/**
 * A fresh detector of the given kind with its default (and only) configuration.
 *
 * @example
 * const d = createDetector('default');
 * d.update(Date.parse('2024-01-01T00:00:00Z'), 12.5);
 */
export function createDetector(kind: DetectorKindName = 'default'): Detector {
  switch (kind) {
    case 'default':
      return new DefaultDetector();
    case 'gaussian':
      return new WindowedGaussianDetector();
    case 'ewma':
      return new EwmaZScoreDetector();
  }
}

/**
 * Rebuilds a detector from a checkpoint written by `saveState()`; the kind is read from the state.
 * Throws {@link DetectError} for bytes that are not a detector checkpoint.
 *
 * @example
 * const restored = restoreDetector(detector.saveState());
 */
export function restoreDetector(bytes: Uint8Array): Detector {
  if (bytes.length < 4 || bytes[0] !== STATE_MAGIC) {
    throw new DetectError('detector state is not a tidewatch checkpoint (bad magic byte)');
  }
  switch (bytes[1]) {
    case DetectorKind.default:
      return DefaultDetector.restore(bytes);
    case DetectorKind.gaussian:
      return WindowedGaussianDetector.restore(bytes);
    case DetectorKind.ewma:
      return EwmaZScoreDetector.restore(bytes);
    default:
      throw new DetectError(
        `detector state has unknown kind ${bytes[1]}; discard the checkpoint and start fresh`,
      );
  }
}

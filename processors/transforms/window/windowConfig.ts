/**
 * Window configuration: sizes, lateness, idleness, series dimensions with their cardinality guard,
 * sketch accuracy and log-to-metric rules. `parseWindowConfig` validates untrusted JSON (the
 * `window` section of `TW_CONFIG`) and says exactly what is wrong and how to fix it.
 */
import { Dimension, Measure, WindowDefaults } from '../../schema.ts';
import { WindowConfigError } from './errors.ts';

/** Dimensions a series may be split by, besides `service` (always present). */
export const SeriesDimension = {
  route: Dimension.route,
  statusClass: Dimension.statusClass,
} as const;
export type SeriesDimensionName = (typeof SeriesDimension)[keyof typeof SeriesDimension];

/** A condition on one field of a `LogEvent`. All given tests must hold. */
export interface RuleCondition {
  /**
   * `service`, `level`, `message`, `status`, `durationMs`, `route`, `traceId`, or
   * `attributes.<key>[.<key>…]` for anything else the line carried.
   */
  readonly field: string;
  /** Strict equality with the field value (a number matches a number, a string a string). */
  readonly equals?: string | number | boolean;
  /** Regular expression (JavaScript syntax) the field, as a string, must match. */
  readonly matches?: string;
  /** Flags of `matches`, e.g. `i`. */
  readonly flags?: string;
  /** Numeric lower bound (inclusive); the field must be a finite number. */
  readonly gte?: number;
  /** Numeric upper bound (exclusive); the field must be a finite number. */
  readonly lt?: number;
  /** `true`: the field must be present (not undefined/null); `false`: absent. */
  readonly exists?: boolean;
}

/** Kinds of log-to-metric rule. */
export const RuleKind = {
  /** Count events matching `where`. Measure: `<name>`. */
  count: 'count',
  /** Sum the numeric `field` of matching events. Measure: `<name>`. */
  sum: 'sum',
  /** Quantile sketch of the numeric `field`. Measures `<name>_count`, `_p50`, `_p90`, `_p99`. */
  sketch: 'sketch',
} as const;
export type RuleKindName = (typeof RuleKind)[keyof typeof RuleKind];

/** A user-defined log-to-metric rule (configuration, not code). */
export interface LogMetricRule {
  /** Measure name: snake_case, 1–48 characters, not a built-in measure. */
  readonly name: string;
  readonly kind: RuleKindName;
  /** The numeric field for `sum` and `sketch` (same syntax as `RuleCondition.field`). */
  readonly field?: string;
  /** Conditions that must all hold; none = every event. */
  readonly where?: readonly RuleCondition[];
}

/**
 * Everything windows and merging need. Obtain one from `parseWindowConfig` (validated, defaults
 * filled) or `defaultWindowConfig()`.
 *
 * @example
 * const outcome = parseWindowConfig({ windowMs: 60_000, dimensions: ['route'] });
 * if (outcome.kind === 'ok') console.log(outcome.value.allowedLatenessMs); // 30000
 */
export interface WindowConfig {
  /** Window size, 1 s – 15 min. Default 10 s. */
  readonly windowMs: number;
  /**
   * Hopping windows: a window starts every `slideMs` (must divide `windowMs`). Absent or equal to
   * `windowMs`: tumbling windows.
   */
  readonly slideMs?: number;
  /** Watermark per source = max event time − allowedLatenessMs. Default 30 s. */
  readonly allowedLatenessMs: number;
  /** A source silent this long (processing time) stops holding the merged watermark. Default 30 s. */
  readonly idleSourceTimeoutMs: number;
  /** Events further in the future than this (vs the clock) are rejected (`invalid_timestamp`). */
  readonly maxFutureMs: number;
  /** Closed windows are kept this long past their end (watermark time) to absorb corrections. */
  readonly closedRetentionMs: number;
  /** Extra series dimensions, besides `service`. Default none. */
  readonly dimensions: readonly SeriesDimensionName[];
  /** Cardinality guard: distinct values per dimension per service before folding into `other`. */
  readonly maxDistinctPerDimension: number;
  /** Relative accuracy of every quantile sketch (DDSketch α). Default 0.01 (1 %). */
  readonly relativeAccuracy: number;
  readonly rules: readonly LogMetricRule[];
}

/** Defaults for what `schema.ts` `WindowDefaults` does not spell. */
export const WindowConfigDefaults = {
  ...WindowDefaults,
  /** Timestream rejects records more than 15 min in the future (Timestream WriteRecords limits). */
  maxFutureMs: 15 * 60_000,
  maxDistinctPerDimension: 100,
  relativeAccuracy: 0.01,
  maxRules: 32,
  /** 24 h: a bigger lateness holds every window open (and in memory) that long. */
  maxAllowedLatenessMs: 24 * 3_600_000,
} as const;

/** The value a dimension takes when the cardinality guard folds it, or the event lacks it. */
export const OtherValue = 'other';
export const NoneValue = 'none';

/** Result of validating configuration or state: no exceptions for bad input. */
export type ConfigOutcome<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'invalid'; readonly problems: readonly string[] };

/**
 * The configuration with every default.
 *
 * @example
 * const config = defaultWindowConfig({ windowMs: 60_000 });
 */
export function defaultWindowConfig(overrides: Partial<WindowConfig> = {}): WindowConfig {
  const outcome = parseWindowConfig(overrides);
  if (outcome.kind === 'invalid') {
    throw new WindowConfigError(`invalid window config: ${outcome.problems.join('; ')}`, outcome.problems);
  }
  return outcome.value;
}

const KNOWN_KEYS = [
  'windowMs',
  'slideMs',
  'allowedLatenessMs',
  'idleSourceTimeoutMs',
  'maxFutureMs',
  'closedRetentionMs',
  'dimensions',
  'maxDistinctPerDimension',
  'relativeAccuracy',
  'rules',
] as const;
const RULE_KEYS = ['name', 'kind', 'field', 'where'] as const;
const CONDITION_KEYS = ['field', 'equals', 'matches', 'flags', 'gte', 'lt', 'exists'] as const;
const BUILTIN_MEASURES: ReadonlySet<string> = new Set(Object.values(Measure).map((m) => m.name));
const FIELD_RE = /^(service|level|message|status|durationMs|route|traceId|attributes(\.[^.]+)+)$/;
const RULE_NAME_RE = /^[a-z][a-z0-9_]{0,47}$/;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function unknownKeys(obj: Record<string, unknown>, known: readonly string[], where: string, out: string[]) {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) out.push(`${where}${k}: unknown setting; expected one of ${known.join(', ')}`);
  }
}

function intIn(
  obj: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  dflt: number,
  problems: string[],
): number {
  const v = obj[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    problems.push(`${key}: must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
    return dflt;
  }
  return v;
}

function parseCondition(c: unknown, where: string, problems: string[]): RuleCondition | undefined {
  if (!isRecord(c)) {
    problems.push(`${where}: must be an object like {"field":"status","gte":500}`);
    return undefined;
  }
  unknownKeys(c, CONDITION_KEYS, `${where}.`, problems);
  const field = c.field;
  if (typeof field !== 'string' || !FIELD_RE.test(field)) {
    problems.push(
      `${where}.field: must be service, level, message, status, durationMs, route, traceId or attributes.<key> (got ${JSON.stringify(field)})`,
    );
    return undefined;
  }
  const out: { -readonly [K in keyof RuleCondition]: RuleCondition[K] } = { field };
  if (c.equals !== undefined) {
    if (typeof c.equals !== 'string' && typeof c.equals !== 'number' && typeof c.equals !== 'boolean') {
      problems.push(`${where}.equals: must be a string, number or boolean`);
    } else out.equals = c.equals;
  }
  if (c.flags !== undefined && (typeof c.flags !== 'string' || !/^[imsu]*$/.test(c.flags))) {
    problems.push(`${where}.flags: only i, m, s, u are allowed (got ${JSON.stringify(c.flags)})`);
  } else if (typeof c.flags === 'string') out.flags = c.flags;
  if (c.matches !== undefined) {
    if (typeof c.matches !== 'string' || c.matches.length === 0 || c.matches.length > 512) {
      problems.push(`${where}.matches: must be a regular expression of 1–512 characters`);
    } else {
      try {
        new RegExp(c.matches, out.flags);
        out.matches = c.matches;
      } catch (err) {
        problems.push(`${where}.matches: not a valid regular expression: ${(err as Error).message}`);
      }
    }
  }
  for (const k of ['gte', 'lt'] as const) {
    const v = c[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`${where}.${k}: must be a finite number`);
    else out[k] = v;
  }
  if (c.exists !== undefined) {
    if (typeof c.exists !== 'boolean') problems.push(`${where}.exists: must be true or false`);
    else out.exists = c.exists;
  }
  if (
    out.equals === undefined &&
    out.matches === undefined &&
    out.gte === undefined &&
    out.lt === undefined &&
    out.exists === undefined
  ) {
    problems.push(`${where}: give at least one test: equals, matches, gte, lt or exists`);
  }
  return out;
}

function parseRules(v: unknown, problems: string[]): LogMetricRule[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    problems.push('rules: must be an array of {name, kind, field?, where?}');
    return [];
  }
  if (v.length > WindowConfigDefaults.maxRules) {
    problems.push(`rules: at most ${WindowConfigDefaults.maxRules} rules (got ${v.length})`);
  }
  const rules: LogMetricRule[] = [];
  const names = new Set<string>();
  v.forEach((r, i) => {
    const where = `rules[${i}]`;
    if (!isRecord(r)) {
      problems.push(
        `${where}: must be an object like {"name":"payment_failures","kind":"count","where":[…]}`,
      );
      return;
    }
    unknownKeys(r, RULE_KEYS, `${where}.`, problems);
    const { name, kind, field } = r;
    let ok = true;
    if (typeof name !== 'string' || !RULE_NAME_RE.test(name)) {
      problems.push(`${where}.name: must be snake_case, 1–48 characters, starting with a letter`);
      ok = false;
    } else if (BUILTIN_MEASURES.has(name)) {
      problems.push(`${where}.name: '${name}' is a built-in measure; choose another name`);
      ok = false;
    } else if (names.has(name)) {
      problems.push(`${where}.name: '${name}' is used by an earlier rule`);
      ok = false;
    }
    if (kind !== 'count' && kind !== 'sum' && kind !== 'sketch') {
      problems.push(`${where}.kind: must be count, sum or sketch (got ${JSON.stringify(kind)})`);
      ok = false;
    }
    if (kind === 'sum' || kind === 'sketch') {
      if (typeof field !== 'string' || !FIELD_RE.test(field)) {
        problems.push(
          `${where}.field: ${String(kind)} needs a numeric field such as durationMs or attributes.size`,
        );
        ok = false;
      }
    } else if (field !== undefined) {
      problems.push(`${where}.field: only sum and sketch rules take a field`);
      ok = false;
    }
    const conds: RuleCondition[] = [];
    if (r.where !== undefined) {
      const list = Array.isArray(r.where) ? r.where : [r.where];
      list.forEach((c, j) => {
        const parsed = parseCondition(c, `${where}.where[${j}]`, problems);
        if (parsed === undefined) ok = false;
        else conds.push(parsed);
      });
    }
    if (!ok) return;
    names.add(name as string);
    const rule: { -readonly [K in keyof LogMetricRule]: LogMetricRule[K] } = {
      name: name as string,
      kind: kind as RuleKindName,
    };
    if (typeof field === 'string') rule.field = field;
    if (conds.length > 0) rule.where = conds;
    rules.push(rule);
  });
  return rules;
}

/**
 * Validates untrusted window configuration (a JSON string or an already parsed object) and fills
 * defaults. Never throws; every problem is listed with the setting, what was wrong and what is
 * accepted.
 *
 * @example
 * const outcome = parseWindowConfig('{"windowMs":60000,"slideMs":10000,"dimensions":["route"],' +
 *   '"rules":[{"name":"payment_failures","kind":"count","where":[{"field":"message","matches":"declined"}]}]}');
 * if (outcome.kind === 'invalid') console.error(outcome.problems.join('\n'));
 */
export function parseWindowConfig(json: unknown): ConfigOutcome<WindowConfig> {
  let input: unknown = json;
  if (typeof json === 'string') {
    try {
      input = JSON.parse(json);
    } catch (err) {
      return { kind: 'invalid', problems: [`not valid JSON: ${(err as Error).message}`] };
    }
  }
  if (input === undefined || input === null) input = {};
  if (!isRecord(input)) {
    return { kind: 'invalid', problems: ['window config must be a JSON object like {"windowMs":10000}'] };
  }
  const problems: string[] = [];
  unknownKeys(input, KNOWN_KEYS, '', problems);
  const d = WindowConfigDefaults;
  const windowMs = intIn(input, 'windowMs', d.minWindowMs, d.maxWindowMs, d.windowMs, problems);
  let slideMs: number | undefined;
  if (input.slideMs !== undefined) {
    const s = intIn(input, 'slideMs', 1, d.maxWindowMs, windowMs, problems);
    if (s > windowMs || windowMs % s !== 0) {
      problems.push(`slideMs: must divide windowMs (${windowMs}) exactly and not exceed it (got ${s})`);
    } else if (windowMs / s > 60) {
      problems.push(
        `slideMs: at most 60 overlapping windows per event (windowMs / slideMs = ${windowMs / s})`,
      );
    } else if (s !== windowMs) slideMs = s;
  }
  const allowedLatenessMs = intIn(
    input,
    'allowedLatenessMs',
    0,
    d.maxAllowedLatenessMs,
    d.allowedLatenessMs,
    problems,
  );
  const idleSourceTimeoutMs = intIn(
    input,
    'idleSourceTimeoutMs',
    1_000,
    d.maxAllowedLatenessMs,
    d.idleSourceTimeoutMs,
    problems,
  );
  const maxFutureMs = intIn(input, 'maxFutureMs', 0, d.maxAllowedLatenessMs, d.maxFutureMs, problems);
  const closedRetentionMs = intIn(
    input,
    'closedRetentionMs',
    0,
    d.maxAllowedLatenessMs,
    allowedLatenessMs,
    problems,
  );
  const maxDistinctPerDimension = intIn(
    input,
    'maxDistinctPerDimension',
    1,
    10_000,
    d.maxDistinctPerDimension,
    problems,
  );
  let relativeAccuracy: number = d.relativeAccuracy;
  if (input.relativeAccuracy !== undefined) {
    const a = input.relativeAccuracy;
    // Stored as parts per million in the sketch encoding, so both stages build the same mapping.
    if (typeof a !== 'number' || !(a >= 0.005 && a <= 0.1) || Math.round(a * 1e6) / 1e6 !== a) {
      problems.push(
        `relativeAccuracy: must be from 0.005 to 0.1 in steps of 1e-6 (got ${JSON.stringify(a)})`,
      );
    } else relativeAccuracy = a;
  }
  const dimensions: SeriesDimensionName[] = [];
  if (input.dimensions !== undefined) {
    const allowed = Object.values(SeriesDimension) as string[];
    if (!Array.isArray(input.dimensions)) {
      problems.push(`dimensions: must be an array drawn from ${allowed.join(', ')}`);
    } else {
      for (const dim of input.dimensions) {
        if (typeof dim !== 'string' || !allowed.includes(dim)) {
          problems.push(`dimensions: ${JSON.stringify(dim)} is not one of ${allowed.join(', ')}`);
        } else if (dimensions.includes(dim as SeriesDimensionName)) {
          problems.push(`dimensions: '${dim}' is listed twice`);
        } else dimensions.push(dim as SeriesDimensionName);
      }
      // Canonical order, so the same set always yields the same series keys.
      dimensions.sort((a, b) => allowed.indexOf(a) - allowed.indexOf(b));
    }
  }
  const rules = parseRules(input.rules, problems);
  if (problems.length > 0) return { kind: 'invalid', problems };
  const config: { -readonly [K in keyof WindowConfig]: WindowConfig[K] } = {
    windowMs,
    allowedLatenessMs,
    idleSourceTimeoutMs,
    maxFutureMs,
    closedRetentionMs,
    dimensions,
    maxDistinctPerDimension,
    relativeAccuracy,
    rules,
  };
  if (slideMs !== undefined) config.slideMs = slideMs;
  return { kind: 'ok', value: config };
}

/**
 * Log-to-metric rules, compiled once per configuration: field accessors and regular expressions
 * are built up front so the per-event path only calls them.
 */
import type { LogEvent } from '../../schema.ts';
import type { LogMetricRule, RuleCondition, RuleKindName, WindowConfig } from './windowConfig.ts';

type Accessor = (e: LogEvent) => unknown;

interface CompiledCondition {
  readonly get: Accessor;
  readonly equals: unknown;
  readonly hasEquals: boolean;
  readonly re: RegExp | undefined;
  readonly gte: number;
  readonly lt: number;
  readonly exists: boolean | undefined;
}

/** A rule ready to evaluate. */
export interface CompiledRule {
  readonly name: string;
  readonly kind: RuleKindName;
  readonly value: Accessor | undefined;
  readonly conditions: readonly CompiledCondition[];
}

/**
 * Returns the accessor for a rule field path (`status`, `attributes.http.bytes`, …).
 *
 * @example
 * fieldAccessor('attributes.http.bytes')(event); // event.attributes?.http?.bytes
 */
export function fieldAccessor(path: string): Accessor {
  switch (path) {
    case 'service':
      return (e) => e.service;
    case 'level':
      return (e) => e.level;
    case 'message':
      return (e) => e.message;
    case 'status':
      return (e) => e.status;
    case 'durationMs':
      return (e) => e.durationMs;
    case 'route':
      return (e) => e.route;
    case 'traceId':
      return (e) => e.traceId;
  }
  const keys = path.split('.').slice(1);
  return (e) => {
    let v: unknown = e.attributes;
    for (const k of keys) {
      if (typeof v !== 'object' || v === null) return undefined;
      v = (v as Record<string, unknown>)[k];
    }
    return v;
  };
}

function compileCondition(c: RuleCondition): CompiledCondition {
  return {
    get: fieldAccessor(c.field),
    equals: c.equals,
    hasEquals: c.equals !== undefined,
    re: c.matches === undefined ? undefined : new RegExp(c.matches, c.flags),
    gte: c.gte ?? Number.NEGATIVE_INFINITY,
    lt: c.lt ?? Number.POSITIVE_INFINITY,
    exists: c.exists,
  };
}

const cache = new WeakMap<readonly LogMetricRule[], readonly CompiledRule[]>();

/**
 * Compiles (and caches per rules array) the configuration's rules.
 *
 * @example
 * const [rule] = compileRules(config);
 * if (rule && ruleMatches(rule, event)) count++;
 */
export function compileRules(config: Pick<WindowConfig, 'rules'>): readonly CompiledRule[] {
  const hit = cache.get(config.rules);
  if (hit !== undefined) return hit;
  const compiled = config.rules.map((r) => ({
    name: r.name,
    kind: r.kind,
    value: r.field === undefined ? undefined : fieldAccessor(r.field),
    conditions: (r.where ?? []).map(compileCondition),
  }));
  cache.set(config.rules, compiled);
  return compiled;
}

/**
 * Whether every condition of `rule` holds for `e`.
 *
 * @example
 * compileRules(config).filter((r) => ruleMatches(r, event));
 */
export function ruleMatches(rule: CompiledRule, e: LogEvent): boolean {
  const conds = rule.conditions;
  for (let i = 0; i < conds.length; i++) {
    const c = conds[i]!;
    const v = c.get(e);
    if (c.exists !== undefined && (v !== undefined && v !== null) !== c.exists) return false;
    if (c.hasEquals && v !== c.equals) return false;
    if (c.re !== undefined) {
      if (v === undefined || v === null) return false;
      c.re.lastIndex = 0;
      if (!c.re.test(typeof v === 'string' ? v : String(v))) return false;
    }
    if (c.gte !== Number.NEGATIVE_INFINITY || c.lt !== Number.POSITIVE_INFINITY) {
      if (typeof v !== 'number' || !(v >= c.gte && v < c.lt)) return false;
    }
  }
  return true;
}

/**
 * The rule's numeric field of `e`, or NaN when absent or not a finite number.
 *
 * @example
 * const v = ruleValue(rule, event); // NaN → not counted
 */
export function ruleValue(rule: CompiledRule, e: LogEvent): number {
  const v = rule.value === undefined ? undefined : rule.value(e);
  return typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN;
}

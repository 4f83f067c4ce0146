/**
 * A minimal YAML writer for provisioning files (plain data only: objects, arrays, strings, numbers,
 * booleans, null). Strings are written as JSON strings — valid YAML double-quoted scalars — or, when
 * multi-line, as literal blocks so SQL stays readable. No YAML dependency needed for output this
 * simple; `JSON.parse`-able values round-trip.
 */

import { DashboardsError } from './errors.ts';

const PLAIN_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function key(k: string): string {
  return PLAIN_KEY_RE.test(k) ? k : JSON.stringify(k);
}

function canBeLiteralBlock(s: string): boolean {
  // Literal blocks cannot express a leading space on the first line (without an indentation
  // indicator), trailing spaces, tabs or control characters faithfully; fall back to JSON quoting.
  return (
    s.includes('\n') &&
    !s.startsWith(' ') &&
    !s.endsWith('\n') &&
    !/[ \t]\n|[ \t]$/.test(s) &&
    !/[\u0000-\u0008\u000b-\u001f\u007f\t]/.test(s)
  );
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new DashboardsError(`cannot write non-finite number ${v} to YAML`);
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  throw new DashboardsError(`cannot write ${typeof v} to YAML`);
}

function isEmptyCollection(v: unknown): boolean {
  return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

/** `[]`, `{}`, a scalar or a literal-block header: what goes after `key: ` or `- ` on the same line. */
function inline(v: unknown): string | undefined {
  if (typeof v === 'string' && canBeLiteralBlock(v)) return '|-';
  if (v === null || v === undefined || typeof v !== 'object') return scalar(v);
  if (isEmptyCollection(v)) return Array.isArray(v) ? '[]' : '{}';
  return undefined;
}

function literalLines(s: string, indent: string): string[] {
  return s.split('\n').map((line) => (line === '' ? '' : `${indent}${line}`));
}

/** Lines of a non-empty collection written as a block at `indent`. */
function block(v: object, indent: string): string[] {
  const out: string[] = [];
  const child = `${indent}  `;
  if (Array.isArray(v)) {
    for (const item of v) {
      const head = inline(item);
      if (head !== undefined) {
        out.push(`${indent}- ${head}`);
        if (head === '|-') out.push(...literalLines(item as string, child));
      } else {
        // The item's block starts at `child`; its first line takes the dash instead.
        const lines = block(item as object, child);
        lines[0] = `${indent}- ${(lines[0] as string).slice(child.length)}`;
        out.push(...lines);
      }
    }
    return out;
  }
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    const head = inline(x);
    if (head !== undefined) {
      out.push(`${indent}${key(k)}: ${head}`);
      if (head === '|-') out.push(...literalLines(x as string, child));
    } else {
      out.push(`${indent}${key(k)}:`);
      out.push(...block(x as object, child));
    }
  }
  return out;
}

/**
 * Serializes plain data as block-style YAML.
 *
 * @example
 * toYaml({ apiVersion: 1, datasources: [{ name: 'Timestream', type: 'grafana-timestream-datasource' }] });
 * // apiVersion: 1
 * // datasources:
 * //   - name: "Timestream"
 * //     type: "grafana-timestream-datasource"
 */
export function toYaml(value: unknown): string {
  const head = inline(value);
  if (head === undefined) return `${block(value as object, '').join('\n')}\n`;
  return head === '|-' ? `|-\n${literalLines(value as string, '  ').join('\n')}\n` : `${head}\n`;
}

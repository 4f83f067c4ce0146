/**
 * Alert events and how they read: the structured JSON message, the plain-text subject and the
 * dashboard link. Alert *decisions* come from the detection transform; this module only formats.
 *
 * SNS Publish constraints (API_Publish): the subject "must be ASCII text that begins with a letter,
 * number, or punctuation mark; must not include line breaks or control characters; and must be less
 * than 100 characters long"; messages are UTF-8 and at most 256 KB.
 */

/**
 * One alert or recovery for one series and window.
 *
 * @example
 * const e: AlertEvent = { kind: 'alert', service: 'checkout', metric: 'error_rate',
 *   windowStartMs: 1_700_000_000_000, windowEndMs: 1_700_000_010_000, value: 0.21,
 *   expectedLow: 0, expectedHigh: 0.05, score: 7.2, threshold: 5 };
 */
export interface AlertEvent {
  kind: 'alert' | 'recovery';
  service: string;
  /** A `Metric` name from schema.ts (`error_rate`, `event_rate`, `latency_p99`) or a rule's metric. */
  metric: string;
  windowStartMs: number;
  windowEndMs: number;
  /** Observed value in the window. */
  value: number;
  expectedLow: number;
  expectedHigh: number;
  /** Anomaly score of the window and the threshold it is compared with. */
  score: number;
  threshold: number;
  /** Further series dimensions (route, status_class, …). */
  dimensions?: Record<string, string>;
}

/** The JSON document published as the SNS message body (`version` bumps on breaking changes). */
export interface AlertMessage {
  version: 1;
  kind: 'alert' | 'recovery';
  service: string;
  metric: string;
  dimensions: Record<string, string>;
  window: { startMs: number; endMs: number; start: string; end: string };
  observed: number;
  expected: { low: number; high: number };
  score: number;
  threshold: number;
  dashboardUrl?: string;
  /** One human sentence, for email and chat subscribers that show the raw message. */
  summary: string;
}

/** SNS subject length limit: "less than 100 characters". */
export const MAX_SNS_SUBJECT_CHARS = 99;

/** Context shown around the window in dashboard links: 1 h before it, 10 min after it. */
const LINK_BEFORE_MS = 3_600_000;
const LINK_AFTER_MS = 600_000;

/** Up to 4 significant digits, no exponent for ordinary magnitudes. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  return String(Number(v.toPrecision(4)));
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

/** The dedupe identity of an event's series: service, metric and dimensions in name order. */
export function alertSeriesKey(e: AlertEvent): string {
  let key = `${e.service}\u0000${e.metric}`;
  if (e.dimensions !== undefined) {
    for (const name of Object.keys(e.dimensions).sort()) key += `\u0000${name}=${e.dimensions[name]}`;
  }
  return key;
}

/**
 * Fills a dashboard link template. Placeholders: `{service}`, `{metric}`, `{kind}`,
 * `{windowStartMs}`, `{windowEndMs}`, `{fromMs}` (1 h before the window), `{toMs}` (10 min after), and
 * `{dim.<name>}` for a dimension; values are URL-encoded. Unknown placeholders stay as written.
 *
 * @example
 * renderDashboardUrl('https://grafana.example.com/d/tw?var-service={service}&from={fromMs}&to={toMs}', event);
 */
export function renderDashboardUrl(template: string, e: AlertEvent): string {
  return template.replace(/\{([A-Za-z0-9_.]+)\}/g, (whole, name: string) => {
    let v: string | number | undefined;
    if (name === 'service') v = e.service;
    else if (name === 'metric') v = e.metric;
    else if (name === 'kind') v = e.kind;
    else if (name === 'windowStartMs') v = e.windowStartMs;
    else if (name === 'windowEndMs') v = e.windowEndMs;
    else if (name === 'fromMs') v = e.windowStartMs - LINK_BEFORE_MS;
    else if (name === 'toMs') v = e.windowEndMs + LINK_AFTER_MS;
    else if (name.startsWith('dim.')) v = e.dimensions?.[name.slice(4)];
    return v === undefined ? whole : encodeURIComponent(String(v));
  });
}

/**
 * The SNS subject: plain ASCII, no control characters, at most 99 characters.
 *
 * @example
 * alertSubject(e); // '[ALERT] checkout error_rate=0.21 outside [0, 0.05] (score 7.2 >= 5)'
 */
export function alertSubject(e: AlertEvent): string {
  const range = `[${formatNumber(e.expectedLow)}, ${formatNumber(e.expectedHigh)}]`;
  const raw =
    e.kind === 'alert'
      ? `[ALERT] ${e.service} ${e.metric}=${formatNumber(e.value)} outside ${range} (score ${formatNumber(e.score)} >= ${formatNumber(e.threshold)})`
      : `[RECOVERED] ${e.service} ${e.metric}=${formatNumber(e.value)} back within ${range}`;
  // Non-ASCII and control characters are not allowed in a subject: replace them.
  const ascii = raw.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= MAX_SNS_SUBJECT_CHARS ? ascii : `${ascii.slice(0, MAX_SNS_SUBJECT_CHARS - 3)}...`;
}

/**
 * The structured message of an event.
 *
 * @example
 * JSON.stringify(alertMessage(e, 'https://grafana.example.com/d/tw?var-service={service}'));
 */
export function alertMessage(e: AlertEvent, dashboardUrlTemplate?: string): AlertMessage {
  const range = `${formatNumber(e.expectedLow)}..${formatNumber(e.expectedHigh)}`;
  const when = `${iso(e.windowStartMs)} to ${iso(e.windowEndMs)}`;
  const summary =
    e.kind === 'alert'
      ? `${e.service} ${e.metric} is ${formatNumber(e.value)}, outside the expected ${range} (score ${formatNumber(e.score)}, threshold ${formatNumber(e.threshold)}) in the window ${when}.`
      : `${e.service} ${e.metric} is back to normal: ${formatNumber(e.value)} within the expected ${range} in the window ${when}.`;
  const msg: AlertMessage = {
    version: 1,
    kind: e.kind,
    service: e.service,
    metric: e.metric,
    dimensions: e.dimensions ?? {},
    window: {
      startMs: e.windowStartMs,
      endMs: e.windowEndMs,
      start: iso(e.windowStartMs),
      end: iso(e.windowEndMs),
    },
    observed: e.value,
    expected: { low: e.expectedLow, high: e.expectedHigh },
    score: e.score,
    threshold: e.threshold,
    summary,
  };
  if (dashboardUrlTemplate !== undefined && dashboardUrlTemplate !== '') {
    msg.dashboardUrl = renderDashboardUrl(dashboardUrlTemplate, e);
  }
  return msg;
}

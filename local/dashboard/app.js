// tidewatch local dashboard: renders the panels of the Grafana service dashboard for every service,
// from /api/data, as inline SVG. No dependencies and no network beyond this origin (see the CSP).

const SVG_NS = 'http://www.w3.org/2000/svg';
const RANGES = [
  { label: '5m', ms: 5 * 60_000 },
  { label: '15m', ms: 15 * 60_000 },
  { label: '1h', ms: 3_600_000 },
  { label: '3h', ms: 3 * 3_600_000 },
];
/** Grafana's named colours, so the generated JSON's overrides look the same here. */
const NAMED_COLORS = {
  green: '#73bf69',
  red: '#f2495c',
  orange: '#ff9830',
  yellow: '#fade2a',
  blue: '#5794f2',
  purple: '#b877d9',
  'dark-red': '#e02f44',
  'dark-purple': '#8f3bb8',
  'semi-dark-red': '#e02f44',
};
const PALETTE = ['#73bf69', '#fade2a', '#8ab8ff', '#ff780a', '#f2495c', '#5794f2', '#b877d9', '#70dbed'];
const ALERT_COLOR = '#f2495c';
const TIME_COLUMN = 'time';

const state = {
  meta: undefined,
  rangeMs: 15 * 60_000,
  timer: undefined,
  data: undefined,
  inFlight: false,
  focused: false,
};

function color(name, i) {
  if (name === undefined) return PALETTE[i % PALETTE.length];
  return NAMED_COLORS[name] ?? name;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    // Through the CSSOM: the page's CSP forbids inline style attributes.
    else if (k === 'style') Object.assign(e.style, v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== undefined && c !== null) e.append(c);
  return e;
}

function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

// ---------------------------------------------------------------------------------------------
// Number formatting by Grafana unit id.

function trimNumber(v, digits) {
  return Number(v.toFixed(digits)).toString();
}

function scaled(v, units, base, digits) {
  let i = 0;
  let x = v;
  while (Math.abs(x) >= base && i < units.length - 1) {
    x /= base;
    i++;
  }
  return `${trimNumber(x, digits)}${units[i]}`;
}

function autoDigits(v) {
  const a = Math.abs(v);
  if (a === 0) return 0;
  if (a >= 100) return 0;
  if (a >= 10) return 1;
  if (a >= 1) return 2;
  return 3;
}

export function formatValue(v, unit, decimals) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const d = decimals ?? autoDigits(v);
  switch (unit) {
    case 'percentunit': {
      const p = v * 100;
      return `${trimNumber(p, decimals ?? (Math.abs(p) < 10 ? 2 : 1))}%`;
    }
    case 'percent':
      return `${trimNumber(v, decimals ?? 1)}%`;
    case 'ms':
      if (Math.abs(v) >= 1000) return `${trimNumber(v / 1000, 2)} s`;
      return `${trimNumber(v, decimals ?? (Math.abs(v) < 10 ? 1 : 0))} ms`;
    case 'cps':
      return `${scaled(v, ['', 'K', 'M', 'G'], 1000, d)}/s`;
    case 'reqps':
      return `${scaled(v, ['', 'K', 'M', 'G'], 1000, d)} req/s`;
    case 'Bps':
      return `${scaled(v, [' B', ' KB', ' MB', ' GB'], 1024, 1)}/s`;
    case 'short':
      return scaled(v, ['', 'K', 'M', 'B'], 1000, d);
    default:
      return trimNumber(v, d);
  }
}

/** Decimals that write a multiple of `step` exactly (0.25 → 2, 0.0025 → 4, 20 → 0). */
function stepDigits(step) {
  for (let d = 0; d < 8; d++) {
    const x = step * 10 ** d;
    if (Math.abs(x - Math.round(x)) < 1e-6 * Math.max(1, x)) return d;
  }
  return 8;
}

function formatAxis(v, unit, step) {
  if (unit === 'percentunit') return `${trimNumber(v * 100, stepDigits(step * 100))}%`;
  if (unit === 'ms')
    return Math.abs(v) >= 1000 ? `${trimNumber(v / 1000, 1)}s` : `${trimNumber(v, stepDigits(step))}ms`;
  if (unit === 'Bps') return scaled(v, ['B', 'K', 'M', 'G'], 1024, 0);
  if (Math.abs(v) >= 1000) return scaled(v, ['', 'K', 'M', 'B'], 1000, 1);
  return trimNumber(v, stepDigits(step));
}

function hhmm(ms, seconds = false) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return seconds
    ? `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
    : `${p(d.getHours())}:${p(d.getMinutes())}`;
}

// ---------------------------------------------------------------------------------------------
// Query results → series (wide: one per numeric column; long: one per string-label combination).

export function toSeries(result) {
  if (result === undefined || result.columns === undefined) return [];
  const { columns, rows } = result;
  const ti = columns.indexOf(TIME_COLUMN);
  if (ti < 0) return [];
  const labelCols = [];
  const valueCols = [];
  columns.forEach((_c, i) => {
    if (i === ti) return;
    const sample = rows.find((r) => r[i] !== null && r[i] !== undefined);
    if (sample !== undefined && typeof sample[i] === 'string') labelCols.push(i);
    else valueCols.push(i);
  });
  const series = new Map();
  for (const row of rows) {
    const t = row[ti];
    if (typeof t !== 'number') continue;
    const labels = labelCols.map((i) => row[i]).join(' ');
    for (const i of valueCols) {
      const key = labels === '' ? columns[i] : `${columns[i]} ${labels}`;
      let s = series.get(key);
      if (s === undefined) {
        s = { key, field: columns[i], labels, points: [] };
        series.set(key, s);
      }
      const v = row[i];
      s.points.push([t, typeof v === 'number' ? v : null]);
    }
  }
  return [...series.values()];
}

function lastNotNull(points) {
  for (let i = points.length - 1; i >= 0; i--) if (points[i][1] !== null) return points[i][1];
  return null;
}

function reduce(points, reducer) {
  const values = points.map((p) => p[1]).filter((v) => v !== null);
  if (values.length === 0) return null;
  if (reducer === 'max') return Math.max(...values);
  if (reducer === 'sum') return values.reduce((a, b) => a + b, 0);
  return lastNotNull(points);
}

// ---------------------------------------------------------------------------------------------
// Scales and ticks.

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
  return step * mag;
}

function niceDomain(min, max, fixedMin, fixedMax) {
  let lo = fixedMin ?? min;
  let hi = fixedMax ?? max;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    lo = fixedMin ?? 0;
    hi = fixedMax ?? 1;
  }
  if (hi <= lo) hi = lo + (Math.abs(lo) > 0 ? Math.abs(lo) : 1);
  const step = niceStep(hi - lo, 4);
  if (fixedMax === undefined) hi = Math.ceil(hi / step) * step;
  if (fixedMin === undefined) lo = Math.floor(lo / step) * step;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return { lo, hi, ticks, step };
}

const TIME_STEPS = [30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000];

function timeTicks(from, to, count) {
  const step = TIME_STEPS.find((s) => (to - from) / s <= count) ?? TIME_STEPS[TIME_STEPS.length - 1];
  const ticks = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return ticks;
}

/** Consecutive alert windows merged into regions [start, end). */
function alertRegions(annotations, windowMs) {
  const times = annotations.map((a) => a.timeMs).sort((a, b) => a - b);
  const regions = [];
  for (const t of times) {
    const last = regions[regions.length - 1];
    if (last !== undefined && t <= last.end + windowMs) last.end = t + windowMs;
    else regions.push({ start: t, end: t + windowMs, count: 0 });
    regions[regions.length - 1].count++;
  }
  return regions;
}

// ---------------------------------------------------------------------------------------------
// One time-series chart.

const H = 190;
const M = { top: 10, bottom: 22, left: 56, right: 14 };

function seriesStyle(panel, s) {
  return panel.series[s.field] ?? panel.series[s.key] ?? {};
}

function drawChart(card, panel, result, ctx, W) {
  const series = toSeries(result);
  const right = series.filter((s) => seriesStyle(panel, s).axisPlacement === 'right');
  const left = series.filter((s) => seriesStyle(panel, s).axisPlacement !== 'right');
  const margin = { ...M, right: right.length > 0 ? 44 : M.right };
  const plotW = W - margin.left - margin.right;
  const plotH = H - margin.top - margin.bottom;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': panel.title });
  const x = (t) => margin.left + ((t - ctx.fromMs) / (ctx.toMs - ctx.fromMs)) * plotW;

  const values = (list) => list.flatMap((s) => s.points.map((p) => p[1]).filter((v) => v !== null));
  const leftValues = values(left);
  let leftMax = leftValues.length > 0 ? Math.max(...leftValues) : Number.NaN;
  const leftMin = leftValues.length > 0 ? Math.min(...leftValues) : Number.NaN;
  // A threshold close to the data is worth showing; one far above it would flatten the series.
  if (panel.threshold !== undefined && leftMax >= panel.threshold.value * 0.5) {
    leftMax = Math.max(leftMax, panel.threshold.value * 1.1);
  }
  if (panel.softMax !== undefined)
    leftMax = Number.isNaN(leftMax) ? panel.softMax : Math.max(leftMax, panel.softMax);
  const leftDomain = niceDomain(leftMin, leftMax, panel.min, panel.max);
  const rightStyle = right.length > 0 ? seriesStyle(panel, right[0]) : {};
  const rightValues = values(right);
  const rightDomain = niceDomain(
    rightValues.length > 0 ? Math.min(...rightValues) : Number.NaN,
    rightValues.length > 0 ? Math.max(...rightValues) : Number.NaN,
    rightStyle.min,
    rightStyle.max,
  );
  const yOf = (d) => (v) => margin.top + plotH - ((v - d.lo) / (d.hi - d.lo || 1)) * plotH;
  const yl = yOf(leftDomain);
  const yr = yOf(rightDomain);

  // Grid and axes.
  const axis = svg('g', { class: 'axis' });
  for (const v of leftDomain.ticks) {
    const y = yl(v);
    axis.append(svg('line', { x1: margin.left, x2: W - margin.right, y1: y, y2: y }));
    const label = svg('text', { x: margin.left - 6, y: y + 4, 'text-anchor': 'end' });
    label.textContent = formatAxis(v, panel.unit, leftDomain.step);
    axis.append(label);
  }
  if (right.length > 0) {
    for (const v of rightDomain.ticks) {
      const label = svg('text', { x: W - margin.right + 6, y: yr(v) + 4, 'text-anchor': 'start' });
      label.textContent = formatAxis(v, rightStyle.unit ?? panel.unit, rightDomain.step);
      axis.append(label);
    }
  }
  for (const t of timeTicks(ctx.fromMs, ctx.toMs, 6)) {
    const label = svg('text', { x: x(t), y: H - 6, 'text-anchor': 'middle' });
    label.textContent = hhmm(t);
    axis.append(label);
  }
  root.append(axis);

  // Alert regions under the data.
  for (const r of alertRegions(ctx.annotations, ctx.windowMs)) {
    const x0 = Math.max(margin.left, x(r.start));
    const x1 = Math.min(W - margin.right, Math.max(x(r.end), x0 + 2));
    if (x1 <= margin.left || x0 >= W - margin.right) continue;
    root.append(
      svg('rect', {
        x: x0,
        y: margin.top,
        width: x1 - x0,
        height: plotH,
        fill: ALERT_COLOR,
        'fill-opacity': 0.14,
        class: 'alert-region',
      }),
    );
    root.append(
      svg('line', {
        x1: x0,
        x2: x0,
        y1: margin.top,
        y2: margin.top + plotH,
        stroke: ALERT_COLOR,
        'stroke-width': 1.5,
        class: 'alert-marker',
      }),
    );
    root.append(svg('path', { d: `M${x0 - 5},${margin.top + plotH + 1} l5,-7 l5,7 z`, fill: ALERT_COLOR }));
    if (x1 - x0 > 34) {
      const label = svg('text', { x: x0 + 4, y: margin.top + 11, class: 'alert-label' });
      label.textContent = 'alert';
      root.append(label);
    }
  }

  const gapMs = Math.max(ctx.intervalMs, panel.minIntervalMs) * 2.5;
  const byField = new Map(series.map((s) => [s.field, s]));

  // Bands (fillBelowTo) first, so lines draw on top.
  series.forEach((s) => {
    const st = seriesStyle(panel, s);
    const other = st.fillBelowTo === undefined ? undefined : byField.get(st.fillBelowTo);
    if (other === undefined) return;
    const y = st.axisPlacement === 'right' ? yr : yl;
    const lower = new Map(other.points.map((p) => [p[0], p[1]]));
    const pts = s.points.filter(
      (p) => p[1] !== null && lower.get(p[0]) !== null && lower.get(p[0]) !== undefined,
    );
    // Split at gaps so the band does not bridge missing windows.
    let run = [];
    const flush = () => {
      if (run.length < 2) {
        run = [];
        return;
      }
      const top = run.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`);
      const bottom = run.reverse().map((p) => `${x(p[0]).toFixed(1)},${y(lower.get(p[0])).toFixed(1)}`);
      root.append(
        svg('polygon', {
          points: [...top, ...bottom].join(' '),
          fill: color(st.color, 0),
          'fill-opacity': (st.fillOpacity ?? 20) / 100,
          class: 'band',
        }),
      );
      run = [];
    };
    for (const p of pts) {
      const prev = run[run.length - 1];
      if (prev !== undefined && p[0] - prev[0] > gapMs) flush();
      run.push(p);
    }
    flush();
  });

  // Thresholds: the panel's on the left axis, a series' own on its axis.
  const thresholdLine = (value, c, y) => {
    const yy = y(value);
    if (yy < margin.top || yy > margin.top + plotH) return;
    root.append(
      svg('line', {
        x1: margin.left,
        x2: W - margin.right,
        y1: yy,
        y2: yy,
        stroke: color(c, 0),
        'stroke-dasharray': '6 5',
        'stroke-width': 1.2,
        'stroke-opacity': 0.8,
        class: 'threshold',
      }),
    );
  };
  if (panel.threshold !== undefined) thresholdLine(panel.threshold.value, panel.threshold.color, yl);

  // Lines.
  series.forEach((s, i) => {
    const st = seriesStyle(panel, s);
    if (st.threshold !== undefined)
      thresholdLine(st.threshold.value, st.threshold.color, st.axisPlacement === 'right' ? yr : yl);
    const width = st.lineWidth ?? 2;
    if (width === 0) return;
    const y = st.axisPlacement === 'right' ? yr : yl;
    let d = '';
    let prevT;
    let runLength = 0;
    const singles = [];
    for (const [t, v] of s.points) {
      if (v === null) {
        if (runLength === 1) singles.push(prevT);
        prevT = undefined;
        runLength = 0;
        continue;
      }
      const move = prevT === undefined || t - prevT > gapMs;
      if (move && runLength === 1) singles.push(prevT);
      d += `${move ? 'M' : 'L'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      runLength = move ? 1 : runLength + 1;
      prevT = t;
    }
    if (runLength === 1) singles.push(prevT);
    const c = color(st.color, i);
    if (d !== '') {
      root.append(
        svg('path', {
          d,
          fill: 'none',
          stroke: c,
          'stroke-width': width,
          'stroke-linejoin': 'round',
          class: 'series',
        }),
      );
    }
    const lookup = new Map(s.points);
    for (const t of singles)
      root.append(svg('circle', { cx: x(t), cy: y(lookup.get(t)), r: 2.5, fill: c, class: 'point' }));
  });

  if (series.length === 0 || series.every((s) => s.points.every((p) => p[1] === null))) {
    const msg = svg('text', {
      x: margin.left + plotW / 2,
      y: margin.top + plotH / 2,
      'text-anchor': 'middle',
      class: 'nodata',
    });
    msg.textContent = result?.error !== undefined ? 'query failed — see the server log' : 'no data in range';
    root.append(msg);
  }

  // Hover: crosshair and tooltip.
  const cross = svg('line', {
    y1: margin.top,
    y2: margin.top + plotH,
    stroke: '#8e9297',
    'stroke-width': 1,
    visibility: 'hidden',
  });
  root.append(cross);
  const overlay = svg('rect', {
    x: margin.left,
    y: margin.top,
    width: plotW,
    height: plotH,
    fill: 'transparent',
  });
  root.append(overlay);
  const tip = el('div', { class: 'tooltip', hidden: '' });
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  overlay.addEventListener('mousemove', (ev) => {
    if (times.length === 0) return;
    const box = root.getBoundingClientRect();
    const px = ((ev.clientX - box.left) / box.width) * W;
    const t = ctx.fromMs + ((px - margin.left) / plotW) * (ctx.toMs - ctx.fromMs);
    let best = times[0];
    for (const c of times) if (Math.abs(c - t) < Math.abs(best - t)) best = c;
    cross.setAttribute('x1', x(best));
    cross.setAttribute('x2', x(best));
    cross.setAttribute('visibility', 'visible');
    tip.replaceChildren(el('div', { class: 't', text: hhmm(best, true) }));
    series.forEach((s, i) => {
      const st = seriesStyle(panel, s);
      if (st.hideInLegend) return;
      const p = s.points.find((q) => q[0] === best);
      const name = (st.displayName ?? s.field) + (s.labels ? ` ${s.labels}` : '');
      tip.append(
        el(
          'div',
          { class: 'row' },
          el('span', { style: { color: color(st.color, i) }, text: name }),
          el('b', {
            text: formatValue(p?.[1] ?? null, st.unit ?? panel.unit, st.decimals ?? panel.decimals),
          }),
        ),
      );
    });
    tip.hidden = false;
    const cardBox = card.getBoundingClientRect();
    const left = ev.clientX - cardBox.left + 14;
    tip.style.left = `${Math.min(left, cardBox.width - 180)}px`;
    tip.style.top = `${ev.clientY - cardBox.top + 10}px`;
  });
  overlay.addEventListener('mouseleave', () => {
    cross.setAttribute('visibility', 'hidden');
    tip.hidden = true;
  });

  // Legend with last and max values.
  const legend = el('div', { class: 'legend' });
  series.forEach((s, i) => {
    const st = seriesStyle(panel, s);
    if (st.hideInLegend) return;
    const name = (st.displayName ?? s.field) + (s.labels ? ` ${s.labels}` : '');
    const unit = st.unit ?? panel.unit;
    const decimals = st.decimals ?? panel.decimals;
    const band = st.fillBelowTo !== undefined && byField.has(st.fillBelowTo);
    const last = band
      ? `${formatValue(lastNotNull(byField.get(st.fillBelowTo).points), unit, decimals)} – ${formatValue(lastNotNull(s.points), unit, decimals)}`
      : formatValue(lastNotNull(s.points), unit, decimals);
    legend.append(
      el(
        'span',
        { class: 'item' },
        el('span', { class: band ? 'swatch band' : 'swatch', style: { background: color(st.color, i) } }),
        name,
        el('b', { text: last }),
      ),
    );
  });
  return { root, legend, tip };
}

// ---------------------------------------------------------------------------------------------
// Page.

function statValue(panel, result) {
  const series = toSeries(result);
  let pick = series[0];
  if (panel.fields !== undefined) {
    const m = /^\/(.*)\/$/.exec(panel.fields);
    const re = new RegExp(m === null ? `^${panel.fields}$` : m[1]);
    pick = series.find((s) => re.test(s.field));
  }
  return pick === undefined ? null : reduce(pick.points, panel.reducer);
}

function serviceStatus(svc, data) {
  if (svc.annotations.length === 0) return { kind: 'ok', text: 'ok' };
  const last = Math.max(...svc.annotations.map((a) => a.timeMs));
  // The latest alerting window is one of the last few: the service is alerting now.
  if (data.toMs - last <= 3 * Math.max(data.intervalMs, 10_000))
    return { kind: 'alerting', text: 'alerting', last };
  return { kind: 'alerted', text: `last alert ${hhmm(last)}`, last };
}

function renderFleet(data, statuses) {
  const fleet = document.getElementById('fleet');
  const panels = state.meta.panels;
  const rateStat = panels.find((p) => p.kind === 'stat' && p.unit === 'cps');
  const errStat = panels.find((p) => p.kind === 'stat' && p.unit === 'percentunit');
  fleet.replaceChildren(
    ...data.services.map((svc) => {
      const st = statuses.get(svc.name);
      const rate = rateStat ? statValue(rateStat, svc.panels[rateStat.id]) : null;
      const err = errStat ? statValue(errStat, svc.panels[errStat.id]) : null;
      return el(
        'a',
        { class: `chip ${st.kind}`, href: `#svc-${encodeURIComponent(svc.name)}` },
        el('span', { class: 'svc', text: svc.name }),
        el('span', { class: 'kv', text: rateStat ? formatValue(rate, rateStat.unit) : '' }),
        el('span', { class: 'kv', text: errStat ? `err ${formatValue(err, errStat.unit, 2)}` : '' }),
      );
    }),
  );
}

/** Plot widths in CSS pixels for full-width and half-width panels (see style.css paddings). */
function chartWidths() {
  const main = document.getElementById('services');
  const inner = Math.max(320, main.clientWidth - 2 * 15);
  const full = inner - 2 * 11;
  const twoColumns = window.matchMedia('(min-width: 901px)').matches;
  return { full: Math.round(full), half: Math.round(twoColumns ? (inner - 12) / 2 - 2 * 11 : full) };
}

function renderService(svc, data, status, widths) {
  const section = el('section', {
    class: `service ${status.kind}`,
    id: `svc-${encodeURIComponent(svc.name)}`,
    'data-service': svc.name,
  });
  const stats = el('div', { class: 'stats' });
  for (const p of state.meta.panels.filter((q) => q.kind === 'stat')) {
    const v = statValue(p, svc.panels[p.id]);
    const bad = p.threshold !== undefined && v !== null && v >= p.threshold.value;
    stats.append(
      el(
        'div',
        { class: 'stat', title: p.description, 'data-panel': String(p.id) },
        el('div', { class: 'label', text: p.title }),
        el('div', { class: bad ? 'value bad' : 'value', text: formatValue(v, p.unit, p.decimals) }),
      ),
    );
  }
  section.append(
    el(
      'div',
      { class: 'service-head' },
      el('h2', { text: svc.name }),
      el('span', { class: `pill ${status.kind}`, text: status.text }),
      stats,
    ),
  );
  const charts = el('div', { class: 'charts' });
  const ctx = {
    fromMs: data.fromMs,
    toMs: data.toMs,
    intervalMs: data.intervalMs,
    windowMs: 10_000,
    annotations: svc.annotations,
  };
  for (const p of state.meta.panels.filter((q) => q.kind === 'timeseries')) {
    ctx.windowMs = p.minIntervalMs;
    const wide = p.gridPos.w >= 24;
    const card = el('div', { class: wide ? 'chart wide' : 'chart', 'data-panel': String(p.id) });
    // One SVG unit per CSS pixel, so text keeps its size whatever the panel width.
    const { root, legend, tip } = drawChart(card, p, svc.panels[p.id], ctx, wide ? widths.full : widths.half);
    const head = el(
      'h3',
      { title: p.description, text: p.title },
      el('span', { class: 'hint', text: p.description.split('. ')[0] }),
    );
    card.append(head, root, legend, tip);
    charts.append(card);
  }
  section.append(charts);
  return section;
}

function render() {
  const data = state.data;
  const main = document.getElementById('services');
  if (data === undefined) return;
  const statuses = new Map(data.services.map((s) => [s.name, serviceStatus(s, data)]));
  const rank = { alerting: 0, alerted: 1, ok: 2 };
  const ordered = [...data.services].sort(
    (a, b) =>
      rank[statuses.get(a.name).kind] - rank[statuses.get(b.name).kind] || a.name.localeCompare(b.name),
  );
  data.services = ordered;
  renderFleet(data, statuses);
  if (ordered.length === 0) {
    main.replaceChildren(
      el('p', { class: 'empty', id: 'empty', text: data.error ?? 'Waiting for the first closed windows…' }),
    );
    return;
  }
  const widths = chartWidths();
  main.replaceChildren(...ordered.map((svc) => renderService(svc, data, statuses.get(svc.name), widths)));
  focusLinkedService();
}

/** `?service=<name>` (the link in SNS alerts): bring that service into view once, highlighted. */
function focusLinkedService() {
  const wanted = new URLSearchParams(window.location.search).get('service');
  if (wanted === null || state.focused) return;
  const section = [...document.querySelectorAll('section.service')].find((e) => e.dataset.service === wanted);
  if (section === undefined) return;
  state.focused = true;
  section.classList.add('focused');
  section.scrollIntoView({ block: 'start' });
}

function setStatus(ok, text) {
  const s = document.getElementById('status');
  s.classList.toggle('down', !ok);
  s.replaceChildren(el('span', { class: 'dot' }), text);
}

async function refresh() {
  // Nobody is looking: do not make DuckDB compete with the pipeline for the CPU.
  if (state.inFlight || (document.hidden && state.data !== undefined)) return;
  state.inFlight = true;
  try {
    const res = await fetch(`/api/data?rangeMs=${state.rangeMs}`, { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    state.data = await res.json();
    render();
    const n = state.data.services.length;
    setStatus(
      true,
      `live · ${n} service${n === 1 ? '' : 's'} · updated ${hhmm(Date.now(), true)} · ${state.data.queryMs} ms`,
    );
    document.body.dataset.loaded = 'true';
  } catch (err) {
    setStatus(false, `disconnected (${err.message}) — retrying`);
  } finally {
    state.inFlight = false;
  }
}

function renderRanges() {
  const nav = document.getElementById('ranges');
  nav.replaceChildren(
    ...RANGES.map((r) => {
      const b = el('button', {
        type: 'button',
        'aria-pressed': String(r.ms === state.rangeMs),
        text: r.label,
      });
      b.addEventListener('click', () => {
        state.rangeMs = r.ms;
        renderRanges();
        refresh();
      });
      return b;
    }),
  );
}

async function start() {
  try {
    const res = await fetch('/api/dashboard', { cache: 'no-store' });
    state.meta = await res.json();
  } catch (err) {
    setStatus(false, `cannot load the dashboard (${err.message})`);
    setTimeout(start, 3000);
    return;
  }
  state.rangeMs = state.meta.rangeMs;
  renderRanges();
  await refresh();
  state.timer = setInterval(refresh, state.meta.refreshMs);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refresh();
  });
  let resize;
  window.addEventListener('resize', () => {
    clearTimeout(resize);
    resize = setTimeout(render, 150);
  });
}

start();

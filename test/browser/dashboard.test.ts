import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServicePanel } from '../../dashboards/serviceDashboard.ts';
import { type DashboardServer, startDashboardServer } from '../../local/dashboardServer.ts';
import { type SeededStore, seedStore } from '../integration/dashboardSeed.ts';
import { launchChromium } from './launchChromium.ts';

// Loads the local dashboard in Debian's chromium (playwright-core drives it; no browser download),
// over a store seeded through its real write path, and checks that panels render data. The
// screenshot lands in test/browser/screenshots/ (gitignored) for people to look at.

const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');

let seeded: SeededStore;
let server: DashboardServer;
let browser: Browser;

beforeAll(async () => {
  seeded = await seedStore();
  server = await startDashboardServer({
    port: 0,
    store: seeded.store,
    now: () => seeded.nowMs,
    refreshMs: 3_000,
  });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await seeded?.close();
});

describe('local dashboard in a browser', () => {
  it('renders every service with charts, numbers, bands and alert marks, using no other origin', async () => {
    // Prepare
    const page = await browser.newPage({ viewport: { width: 1440, height: 1600 }, timezoneId: 'UTC' });
    const errors: string[] = [];
    const foreign: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(server.url)) foreign.push(r.url());
    });

    // Act
    await page.goto(server.url);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 60_000 });

    // Assess: one section per service, the incident's service first (it alerted).
    const sections = await page.$$eval('section.service', (els) =>
      els.map((e) => e.getAttribute('data-service')),
    );
    expect([...sections].sort()).toEqual([...seeded.services].sort());
    expect(sections[0]).toBe(seeded.incident.service);

    // Every chart draws at least one line, and its legend shows numbers.
    const charts = await page.$$eval('section.service .chart', (els) =>
      els.map((e) => ({
        panel: e.getAttribute('data-panel'),
        lines: e.querySelectorAll('path.series').length,
        points: (e.querySelector('path.series')?.getAttribute('d') ?? '').split('L').length,
        legend: e.querySelector('.legend')?.textContent ?? '',
        bands: e.querySelectorAll('polygon.band').length,
        alerts: e.querySelectorAll('rect.alert-region').length,
        thresholds: e.querySelectorAll('line.threshold').length,
      })),
    );
    expect(charts.length).toBe(seeded.services.length * 5);
    for (const c of charts) {
      expect(c.lines, `panel ${c.panel}`).toBeGreaterThan(0);
      expect(c.points, `panel ${c.panel}`).toBeGreaterThan(20);
      expect(c.legend, `panel ${c.panel}`).toMatch(/\d/);
    }
    // The anomaly panel has its expected band and the score threshold.
    const anomaly = charts.filter((c) => c.panel === String(ServicePanel.anomaly));
    for (const c of anomaly) {
      expect(c.bands).toBeGreaterThan(0);
      expect(c.thresholds).toBeGreaterThan(0);
    }
    // Alerts are marked on the incident's charts, and only there.
    const incidentCharts = await page.$$eval(
      `section.service[data-service="${seeded.incident.service}"] rect.alert-region`,
      (els) => els.length,
    );
    expect(incidentCharts).toBeGreaterThanOrEqual(5);
    expect(charts.reduce((a, c) => a + c.alerts, 0)).toBe(incidentCharts);

    // Stat values are numbers with units.
    const stats = await page.$$eval('section.service .stat .value', (els) =>
      els.map((e) => e.textContent ?? ''),
    );
    expect(stats.length).toBe(seeded.services.length * 4);
    for (const s of stats) expect(s).toMatch(/^\d[\d.,]*\s?(%|ms|s|\/s|K\/s)?$/);
    const pill = await page.textContent(`section.service[data-service="${seeded.incident.service}"] .pill`);
    expect(pill?.toLowerCase()).toMatch(/alert/);

    // Hovering a chart shows a tooltip with values.
    const first = page.locator('section.service .chart svg').first();
    const box = await first.boundingBox();
    if (box === null) throw new Error('chart has no bounding box');
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.4);
    await expect.poll(() => page.locator('.tooltip:not([hidden])').count()).toBeGreaterThan(0);
    await page.mouse.move(0, 0);

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png'), fullPage: true });
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-top.png') });
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  }, 180_000);

  it('switches the time range and keeps refreshing', async () => {
    // Prepare
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(server.url);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 60_000 });
    const before = await page.textContent('#status');

    // Act
    const reply = page.waitForResponse((r) => r.url().includes('rangeMs=300000'));
    await page.click('#ranges button:text("5m")');
    await reply;

    // Assess
    expect(await page.getAttribute('#ranges button:text("5m")', 'aria-pressed')).toBe('true');
    await expect.poll(() => page.textContent('#status'), { timeout: 30_000 }).toMatch(/live · 4 services/);
    expect(before).toMatch(/live/);
    await page.close();
  }, 180_000);

  it('brings the service of an alert link (?service=) into view', async () => {
    // Prepare
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const target = seeded.services[seeded.services.length - 1] as string;

    // Act
    await page.goto(`${server.url}?service=${encodeURIComponent(target)}`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 60_000 });

    // Assess
    const focused = await page.$$eval('section.service.focused', (els) =>
      els.map((e) => e.getAttribute('data-service')),
    );
    expect(focused).toEqual([target]);
    const top = await page.$eval('section.service.focused', (e) => e.getBoundingClientRect().top);
    expect(top).toBeLessThan(200);
    await page.close();
  }, 180_000);
});

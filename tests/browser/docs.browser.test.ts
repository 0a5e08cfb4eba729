/**
 * The /docs page in a real browser: headless Chromium (Debian's `chromium` package, driven by
 * playwright-core; nothing is downloaded) opens the page served by the real entry point, under
 * the security headers' Content-Security-Policy, and must render the operations list, run one
 * request with "Execute" (which needs connect-src), and report no CSP violation. The screenshot
 * is saved as artifacts/docs.png for a person to look at.
 *
 * Run with `npm run test:browser`; `.ci/run` installs Chromium first when it is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/paths.js';
import { startServer, type ServerProcess } from '../server-process.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// As root in a sandbox with no network: no sandbox, no GPU, and no background calls to Google's
// hosts, which this machine's closed network refuses many at a time.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = join(PROJECT_ROOT, 'artifacts', 'docs.png');

let dir: string;
let server: ServerProcess;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];
const pageErrors: string[] = [];
const failedRequests: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium (.ci/run does this)`);
  dir = mkdtempSync(join(tmpdir(), 'kb-browser-'));
  // Load shedding off: right after the first-start build it would refuse the page's own requests.
  server = await startServer({ env: { DATABASE_PATH: join(dir, 'kb.sqlite'), MAX_EVENT_LOOP_DELAY_MS: '0' } });
  // A persistent context on a new empty folder is Playwright's way to pass --user-data-dir.
  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 1600 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  // The page's own record of CSP violations, installed before any of its scripts run. Page code is
  // passed as text: this project compiles for Node, without the DOM's types.
  await page.addInitScript({
    content: "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' blocked ' + e.blockedURI));",
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('requestfailed', (req) => failedRequests.push(`${req.url()} ${req.failure()?.errorText ?? ''}`));
});

afterAll(async () => {
  await context?.close();
  await server?.stop(5_000);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('/docs in headless Chromium', () => {
  it('renders the operations list with /v1/conditions', async () => {
    const res = await page.goto(`${server.base}/docs`, { waitUntil: 'load' });
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toMatch(/script-src 'self'/);

    await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
    const paths = await page.locator('.opblock-summary-path').allInnerTexts();
    const normalized = paths.map((p) => p.replace(/\u200b/g, '').trim());
    expect(normalized).toContain('/v1/conditions');
    expect(normalized).toContain('/v1/conditions/{id}');
    expect(await page.locator('.info .title').innerText()).toMatch(/Condition Knowledge API/);
  });

  it('runs a request from the page ("Execute" on GET /v1/conditions)', async () => {
    const op = page.locator('.opblock-get').filter({ has: page.locator('.opblock-summary-path', { hasText: /^\/v1\/conditions$/ }) });
    await op.locator('.opblock-summary').first().click();
    // tryItOutEnabled is on, so "Execute" is there without pressing "Try it out".
    await op.locator('button.execute').click();
    const status = op.locator('.live-responses-table tr.response .response-col_status').first();
    await status.waitFor({ timeout: 15_000 });
    expect((await status.innerText()).trim()).toBe('200');
  });

  it('reports no CSP violation, page error or failed request, and saves a screenshot', async () => {
    mkdirSync(join(PROJECT_ROOT, 'artifacts'), { recursive: true });
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: SCREENSHOT });
    expect(existsSync(SCREENSHOT)).toBe(true);

    const violations = await page.evaluate<string[]>('window.__csp');
    expect(violations).toEqual([]);
    expect(consoleErrors.filter((m) => /Content Security Policy|Refused to/i.test(m))).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(failedRequests).toEqual([]);
  });
});

/**
 * `npm run bench:load`: the real server under sustained mixed load, to show it stays correct and
 * does not leak. Builds a database in a temp folder, starts src/server.ts as a child (loopback,
 * a port chosen here, rate limit out of the way, production log level with output discarded),
 * then runs autocannon for 30 s at 100 connections over a mixed workload: condition documents and
 * their 304 revalidations, sections, statistics with filters, search with rotating queries, facts
 * as Markdown, sources, code lookup, and two deliberate errors (an unknown id → 404, an FTS
 * operator → 400). The server's RSS is sampled every second.
 *
 * Prints requests, errors, statuses per workload entry, latency p50/p99 and RSS at 10 s and 30 s;
 * exits 1 when any connection error occurs, any response differs from its entry's expected status,
 * or RSS grows by 10% or more between the 10th and the 30th second. Not part of `npm test`.
 *
 * RSS is measured twice. Sampled each second it follows V8's garbage-collection sawtooth (about
 * 100 MiB up and down under this load), so two single samples say more about where in the cycle
 * they fell than about a leak. So around 10 s and around the end the server is also asked, through
 * a probe preloaded only here (SIGWINCH → `gc()`, `--expose-gc`), to run full collections and
 * report its RSS and JS heap: memory still held then is retained, and the growth limit applies to
 * that (the JS heap after a full GC is the exact leak signal; RSS adds what malloc keeps).
 *
 * Options: --duration S (30), --connections N (100), --log-level L (info, as in production).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { buildFromContent } from '../src/content/build.js';
import { CONTENT_DIR, PROJECT_ROOT } from '../src/paths.js';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '30' }, connections: { type: 'string', default: '100' }, 'log-level': { type: 'string', default: 'info' } },
});
const DURATION_S = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const RSS_GROWTH_LIMIT = 0.1;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.once('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.once('error', reject);
    req.end();
  });
}

/** Resident set size in bytes from /proc, or 0 once the process is gone. */
function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'kb-load-'));
const databasePath = join(dir, 'kb.sqlite');
buildFromContent(CONTENT_DIR, databasePath);
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
/**
 * Preloaded into the server for this benchmark only: a full GC and a memory report on SIGWINCH,
 * a signal nothing else in the server listens to (close-with-grace takes SIGUSR2 as a shutdown).
 */
const GC_PROBE =
  "data:text/javascript,process.on('SIGWINCH', () => { globalThis.gc(); const { heapUsed } = process.memoryUsage(); " +
  // V8 returns freed pages to the OS shortly after a collection, not during it: RSS 0.5 s later.
  "setTimeout(() => process.stderr.write('gc ' + JSON.stringify({ heapUsed, rss: process.memoryUsage().rss }) + '\\n'), 500); });";
const server = spawn(process.execPath, ['--expose-gc', '--import', GC_PROBE, '--import', import.meta.resolve('tsx'), join(PROJECT_ROOT, 'src/server.ts')], {
  cwd: PROJECT_ROOT,
  env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), DATABASE_PATH: databasePath, RATE_LIMIT_MAX: '100000000', LOG_LEVEL: values['log-level'] },
  // Logged as in production (pino at info, one line per request), written to /dev/null.
  stdio: ['ignore', 'ignore', 'pipe'],
});
let serverErr = '';
interface GcReport {
  /** JS heap in use right after the full collection. */
  heapUsed: number;
  /** Resident set size one second after it. */
  rss: number;
}
let onGcReport: ((report: GcReport) => void) | undefined;
let partial = '';
server.stderr?.on('data', (c: Buffer) => {
  serverErr = (serverErr + c.toString()).slice(-4000);
  // Whole lines only: a report split across two reads must not be lost.
  const lines = (partial + c.toString()).split('\n');
  partial = lines.pop() ?? '';
  for (const line of lines) {
    const m = /^gc (\{.*\})$/.exec(line);
    if (m?.[1]) onGcReport?.(JSON.parse(m[1]) as GcReport);
  }
});

/** Memory of the server right after a full collection, while the load goes on. */
function collectedMemory(): Promise<GcReport> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no GC report from the server within 10 s:\n${serverErr}`)), 10_000);
    onGcReport = (usage) => {
      clearTimeout(timer);
      onGcReport = undefined;
      resolve(usage);
    };
    server.kill('SIGWINCH');
  });
}
const serverExit = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
const pid = server.pid ?? 0;

try {
  for (let i = 0; ; i++) {
    if (i > 600) throw new Error(`server did not become ready within 30 s:\n${serverErr}`);
    if (server.exitCode !== null) throw new Error(`server exited with ${server.exitCode}:\n${serverErr}`);
    const ready = await get(`${base}/ready`).catch(() => null);
    if (ready?.status === 200) break;
    await sleep(50);
  }
  const etag = String((await get(`${base}/v1/conditions/calciphylaxis`)).headers.etag ?? '');
  if (!etag) throw new Error('no ETag on the condition document');

  // Each connection cycles through these in order; the deliberate errors are one entry in eight.
  const queries = ['pain', 'dialysis', 'sodium thiosulfate', 'skin ulcer', 'warfarin', 'calcium', 'biopsy', 'mortality', 'wound infection', 'parathyroidectomy', 'kidney', 'vitamin K'];
  let nextQuery = 0;
  const entries: { name: string; expect: number; request: autocannon.Request }[] = [
    { name: 'document', expect: 200, request: { path: '/v1/conditions/calciphylaxis' } },
    { name: 'document 304', expect: 304, request: { path: '/v1/conditions/calciphylaxis', headers: { 'if-none-match': etag } } },
    { name: 'section', expect: 200, request: { path: '/v1/conditions/calciphylaxis/treatments' } },
    { name: 'statistics filtered', expect: 200, request: { path: '/v1/statistics?measure=mortality&minConfidence=medium&yearFrom=2010' } },
    {
      name: 'search (rotating)',
      expect: 200,
      request: { path: '/v1/search?q=pain', setupRequest: (req) => ({ ...req, path: `/v1/search?q=${encodeURIComponent(queries[nextQuery++ % queries.length] ?? 'pain')}` }) },
    },
    { name: 'facts markdown', expect: 200, request: { path: '/v1/facts?condition=calciphylaxis&section=symptoms&limit=20&format=markdown' } },
    { name: 'sources', expect: 200, request: { path: '/v1/sources?limit=20' } },
    { name: 'code lookup', expect: 200, request: { path: '/v1/codes/icd10cm/E83.59' } },
    { name: 'statistics page', expect: 200, request: { path: '/v1/statistics?limit=50' } },
    { name: 'deliberate 404', expect: 404, request: { path: '/v1/conditions/no-such-condition' } },
    { name: 'document markdown', expect: 200, request: { path: '/v1/conditions/calciphylaxis?format=markdown' } },
    { name: 'source', expect: 200, request: { path: '/v1/sources/nigwekar-2018' } },
    { name: 'statistics section', expect: 200, request: { path: '/v1/conditions/calciphylaxis/statistics' } },
    { name: 'treatments', expect: 200, request: { path: '/v1/treatments?condition=calciphylaxis' } },
    { name: 'deliberate 400', expect: 400, request: { path: '/v1/search?q=NEAR(pain' } },
    { name: 'meta', expect: 200, request: { path: '/v1/meta' } },
  ];
  const tally = new Map<string, Map<number, number>>();
  for (const entry of entries) {
    entry.request.onResponse = (status) => {
      const byStatus = tally.get(entry.name) ?? new Map<number, number>();
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      tally.set(entry.name, byStatus);
    };
  }

  const rss: number[] = [];
  const started = performance.now();
  const sampler = setInterval(() => rss.push(rssOf(pid)), 1000);
  // Three probes ending at each point (7.5 to 10 s, and the last seconds): a full GC leaves
  // RSS anywhere within about ±10% depending on what V8 and malloc hand back to the OS at that
  // moment, so each point keeps its lowest reading, the memory that could not be given back.
  const probesAt = (endMs: number) => [endMs - 2500, endMs - 1250, endMs];
  const probeTimes = [...probesAt(10_000), ...probesAt(DURATION_S * 1000 - 1500)];
  const reports: Promise<GcReport>[] = [];
  for (const [i, ms] of probeTimes.entries()) reports.push(sleep(ms).then(() => (i === 0 ? collectedMemory() : (reports[i - 1] ?? Promise.resolve()).then(collectedMemory))));
  const lowest = (list: Promise<GcReport>[]) =>
    Promise.all(list).then((rs) => rs.reduce((a, b) => ({ heapUsed: Math.min(a.heapUsed, b.heapUsed), rss: Math.min(a.rss, b.rss) })));
  const collected = [lowest(reports.slice(0, 3)), lowest(reports.slice(3))];
  // Awaited after the run; a failure before then must wait for it rather than crash the process.
  for (const c of collected) c.catch(() => undefined);
  const errorCodes = new Map<string, number>();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url: base, connections: CONNECTIONS, duration: DURATION_S, requests: entries.map((e) => e.request), timeout: 10 },
      (err: unknown, res: autocannon.Result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)),
    );
    instance.on('reqError', (err: NodeJS.ErrnoException) => errorCodes.set(err.code ?? err.message, (errorCodes.get(err.code ?? err.message) ?? 0) + 1));
  });
  clearInterval(sampler);
  const elapsed = (performance.now() - started) / 1000;
  const [early, late] = await Promise.all(collected);
  if (!early || !late) throw new Error('missing GC reports');

  let unexpected = 0;
  let deliberate = 0;
  let answered = 0;
  console.log(`\nload: ${CONNECTIONS} connections, ${elapsed.toFixed(1)} s, ${entries.length} workload entries\n`);
  console.log('entry                      expected  statuses');
  for (const entry of entries) {
    const byStatus = tally.get(entry.name) ?? new Map<number, number>();
    for (const [status, n] of byStatus) {
      answered += n;
      if (status !== entry.expect) unexpected += n;
      else if (status >= 400) deliberate += n;
    }
    const statuses = [...byStatus].map(([s, n]) => `${s}×${n}`).join(' ');
    console.log(`${entry.name.padEnd(26)} ${String(entry.expect).padEnd(9)} ${statuses}`);
  }
  const at = (second: number) => rss[Math.min(second, rss.length) - 1] ?? 0;
  const rss10 = at(10);
  const rss30 = at(DURATION_S);
  const sampledGrowth = rss10 ? (rss30 - rss10) / rss10 : 0;
  const growth = (late.rss - early.rss) / early.rss;
  const heapGrowth = (late.heapUsed - early.heapUsed) / early.heapUsed;
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  const errors = result.errors + result.timeouts;
  console.log(`
requests        ${result.requests.total} (${Math.round(result.requests.average)} req/s average), ${answered} answered
errors          ${errors} (timeouts ${result.timeouts})${errorCodes.size ? ` ${JSON.stringify(Object.fromEntries(errorCodes))}` : ''}
deliberate 4xx  ${deliberate} (404 unknown id, 400 FTS operator)
unexpected      ${unexpected} (any status other than the entry's expected one)
latency         p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms (2xx only)
RSS sampled     ${mib(rss10)} at 10 s, ${mib(rss30)} at ${DURATION_S} s (${pct(sampledGrowth)}), peak ${mib(Math.max(...rss))}; per second (MiB):
                ${rss.map((b) => Math.round(b / 1024 / 1024)).join(' ')}
after full GC   RSS ${mib(early.rss)} at 10 s, ${mib(late.rss)} at ${DURATION_S} s: ${pct(growth)} (limit +${RSS_GROWTH_LIMIT * 100}%); JS heap ${mib(early.heapUsed)} → ${mib(late.heapUsed)} (${pct(heapGrowth)})
                (lowest of three full-GC probes in the 2.5 s up to each point)`);

  const failures = [
    errors > 0 ? `${errors} connection errors` : '',
    unexpected > 0 ? `${unexpected} unexpected statuses` : '',
    growth >= RSS_GROWTH_LIMIT ? `RSS after a full GC grew ${pct(growth)}` : '',
    heapGrowth >= RSS_GROWTH_LIMIT ? `the JS heap after a full GC grew ${pct(heapGrowth)}` : '',
  ].filter(Boolean);
  server.kill('SIGTERM');
  const code = await Promise.race([serverExit, sleep(15_000).then(() => 'timeout' as const)]);
  if (code !== 0) failures.push(`server exit after SIGTERM: ${String(code)}`);
  console.log(failures.length ? `\nFAIL: ${failures.join('; ')}` : '\nPASS: 0 errors, 0 unexpected statuses, retained RSS growth under 10%');
  process.exitCode = failures.length ? 1 : 0;
} finally {
  if (server.exitCode === null) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

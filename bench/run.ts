/**
 * `npm run bench`: the real server against the raw node:http ceiling, on this machine.
 *
 *   npm run bench                          the scenario table (3 rounds, 50 connections, ~3.5 min)
 *   npm run bench -- --conditions 1000     growth: build time, database size, document and search p99 at N
 *   npm run bench -- --growth              growth at N = 1, 100, 1000
 *   npm run bench -- --profile search      one scenario against a server run with --cpu-prof; top functions
 *   options: --duration S (per run, default 5), --rounds R (3), --connections C (50), --no-compiled
 *
 * Every server is a child process: the real one exactly as `npm start` runs it
 * (`node --import tsx src/server.ts`) with LOG_LEVEL=warn and a rate limit high enough not to
 * reject the load, and a raw node:http server (bench/ceiling.ts) serving the exact bytes of the
 * calciphylaxis document. Each scenario run is paired with a ceiling run just before it, and its
 * ratio is taken against that ceiling: this machine's speed swings within seconds, so only paired
 * runs compare. Results go to bench/results/latest.json.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { buildFromContent } from '../src/content/build.js';
import { loadContent } from '../src/content/load.js';
import { CONTENT_DIR, PROJECT_ROOT } from '../src/paths.js';
import { writeSyntheticCorpus } from './corpus.js';
import { hotFunctions, timeByModule } from './profile.js';
import { BENCH_NICENESS, cpuMsOf, httpGet, raisePriority, rssOf, sampleRss, spawnServer, type Child } from './proc.js';
import { markdownTable, median, percentile, round, textTable, type Cell } from './table.js';

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2);
function option(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const flag = (name: string) => argv.includes(`--${name}`);
const DURATION = Number(option('duration') ?? 5);
const ROUNDS = Number(option('rounds') ?? 3);
const CONNECTIONS = Number(option('connections') ?? 50);
const WARMUP = 1.5;
const DOC_PATH = '/v1/conditions/calciphylaxis';
const RESULTS = join(PROJECT_ROOT, 'bench', 'results', 'latest.json');

/** Real-corpus queries in the documented query language: words, phrases, prefixes, operators. */
export const SEARCH_QUERIES = [
  'thiosulfate',
  '"skin biopsy"',
  'thio*',
  'dialysis mortality',
  '(sepsis OR gangrene) NOT wound',
  'calciphylaxis',
  'pain',
  'skin ulcer',
  'warfarin',
  'kidney failure',
  'sodium thiosulfate',
  'wound care',
];
/** The issue's targets: ratio to the raw ceiling measured in the same round. */
const TARGETS: Record<string, number> = { document: 0.9, notModified: 0.9, uncached: 0.3, search: 0.15 };
const searchRequests = SEARCH_QUERIES.map((q) => ({ method: 'GET' as const, path: `/v1/search?q=${encodeURIComponent(q)}` }));

// ---------------------------------------------------------------- servers

const TSX_ARGS = ['--import', 'tsx', 'src/server.ts'];

function serverEnv(databasePath: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HOST: '127.0.0.1',
    DATABASE_PATH: databasePath,
    BUILD_ON_START: 'false',
    // One request log line per request is a cost of its own; the benchmark measures serving.
    LOG_LEVEL: 'warn',
    // The limiter stays on (its hooks run on every request); the limit is out of the load's reach.
    RATE_LIMIT_MAX: '1000000000',
    ...extra,
  };
}

function startServer(name: string, databasePath: string, extra: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<Child> {
  return spawnServer({ name, args: [...nodeArgs, ...TSX_ARGS], env: serverEnv(databasePath, extra), cwd: PROJECT_ROOT, readyPath: DOC_PATH });
}

// ---------------------------------------------------------------- load

interface Target {
  child: Child;
  path: string;
  headers?: Record<string, string>;
  requests?: { method: 'GET'; path: string }[];
  expect: number;
}

interface RunResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  unexpected: number;
  errors: number;
  serverCpuUsPerReq: number;
  serverCpuPct: number;
  benchCpuPct: number;
  rssMB: number;
}

/** What one target accumulates over the slices of a run. */
class Meter {
  latencies: number[] = [];
  unexpected = 0;
  errors = 0;
  seconds = 0;
  cpuMs = 0;
  benchUs = 0;
  peakRss = 0;
  constructor(readonly target: Target) {}

  result(): RunResult {
    const sorted = Float64Array.from(this.latencies).sort();
    const n = this.latencies.length;
    return {
      rps: n / this.seconds,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      requests: n,
      unexpected: this.unexpected,
      errors: this.errors,
      serverCpuUsPerReq: n > 0 ? (this.cpuMs * 1000) / n : NaN,
      serverCpuPct: this.cpuMs / 10 / this.seconds,
      benchCpuPct: this.benchUs / 10_000 / this.seconds,
      rssMB: this.peakRss / 2 ** 20,
    };
  }
}

/**
 * One autocannon run against the meter's target, added to the meter: `seconds` long, or exactly
 * `amount` requests. Measured runs use amounts: a run cut at a time drops the requests still in
 * flight, which are the slowest, and would cap every latency at the length of the run.
 */
async function slice(m: Meter, run: { seconds: number } | { amount: number }): Promise<void> {
  const t = m.target;
  const cpu0 = cpuMsOf(t.child.pid);
  const bench0 = process.cpuUsage();
  const peakRss = sampleRss(t.child.pid);
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url: t.child.base + t.path, connections: CONNECTIONS, headers: t.headers, requests: t.requests, ...('amount' in run ? { amount: run.amount } : { duration: run.seconds }) },
      (err: unknown, res: autocannon.Result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      m.latencies.push(ms);
      if (status !== t.expect) m.unexpected++;
    });
  });
  m.peakRss = Math.max(m.peakRss, peakRss());
  m.cpuMs += cpuMsOf(t.child.pid) - cpu0;
  const bench = process.cpuUsage(bench0);
  m.benchUs += bench.user + bench.system;
  m.seconds += (performance.now() - started) / 1000;
  m.errors += result.errors + result.timeouts;
}

async function load(t: Target, seconds: number): Promise<RunResult> {
  const m = new Meter(t);
  await slice(m, { seconds });
  return m.result();
}

/**
 * A scenario and the ceiling (or any two targets), interleaved in slices of about a second
 * (A B B A A B …) for about `seconds` each, so that both see the same machine: its speed swings
 * within seconds, and it is shared. Each slice is a number of requests sized from the target's
 * last measured rate, and every one of them is answered before the slice ends.
 */
async function paired(ceiling: Target, target: Target, seconds: number): Promise<{ ceiling: RunResult; scenario: RunResult }> {
  const c = new Meter(ceiling);
  const s = new Meter(target);
  const rate = new Map<Meter, number>();
  for (const m of [c, s]) rate.set(m, (await load(m.target, 0.5)).rps);
  for (let i = 0; i < seconds; i++) {
    const order = i % 2 === 0 ? [c, s] : [s, c];
    for (const m of order) {
      const before = { n: m.latencies.length, seconds: m.seconds };
      await slice(m, { amount: Math.max(CONNECTIONS * 2, Math.round(rate.get(m) ?? 0)) });
      rate.set(m, (m.latencies.length - before.n) / (m.seconds - before.seconds));
    }
  }
  return { ceiling: c.result(), scenario: s.result() };
}

// ---------------------------------------------------------------- helpers

function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    // Other work on the machine (this one is shared): 1-minute load average when the results were written.
    loadAverage1m: round(loadavg()[0] ?? 0, 2),
    niceness: raised ? BENCH_NICENESS : 0,
  };
}

function readResults(): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function writeResults(section: string, value: unknown): void {
  const all = readResults();
  all[section] = value;
  mkdirSync(join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(all, null, 2)}\n`);
}

const ms = (x: number) => round(x, 2);
const log = (...parts: unknown[]) => console.error(...parts);

interface ColdStart {
  label: string;
  ms: number[];
  median: number;
  idleRssMB: number;
  loadRssMB: number;
}

/**
 * Cold start: spawn → first 200 on the document, three times, on an already built database; then
 * the memory of a fourth start, idle and under 3 s of document load.
 */
async function coldStart(label: string, spawn: () => Promise<Child>): Promise<ColdStart> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const child = await spawn();
    times.push(child.startMs);
    await child.stop();
  }
  const child = await spawn();
  try {
    await new Promise((r) => setTimeout(r, 500));
    const idleRssMB = round(rssOf(child.pid) / 2 ** 20, 1);
    const loaded = await load({ child, path: DOC_PATH, expect: 200 }, 3);
    log(`  cold start (${label}): ${times.map((t) => Math.round(t)).join(', ')} ms; RSS ${idleRssMB} MB idle, ${loaded.rssMB.toFixed(1)} MB under load`);
    return { label, ms: times.map((t) => Math.round(t)), median: Math.round(median(times)), idleRssMB, loadRssMB: round(loaded.rssMB, 1) };
  } finally {
    await child.stop();
  }
}

/** The compiled server (`npm run build` output) in a temp folder, to time a production start. */
function compileServer(dir: string): string {
  const root = join(dir, 'prod');
  mkdirSync(root, { recursive: true });
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(PROJECT_ROOT, 'tsconfig.build.json'), '--outDir', join(root, 'dist')], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
  });
  // PROJECT_ROOT is the folder holding package.json above the module: give it one, with links to the rest.
  cpSync(join(PROJECT_ROOT, 'package.json'), join(root, 'package.json'));
  for (const name of ['node_modules', 'migrations', 'db']) symlinkSync(join(PROJECT_ROOT, name), join(root, name));
  return join(root, 'dist', 'src', 'server.js');
}

// ---------------------------------------------------------------- the scenario table

interface Scenario {
  key: string;
  label: string;
  target: Target;
}

async function mainBenchmark(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-bench-'));
  const children: Child[] = [];
  try {
    log(`bench: ${ROUNDS} rounds × ${DURATION} s per run, ${CONNECTIONS} connections; machine: ${JSON.stringify(machine())}`);
    const db = join(dir, 'kb.sqlite');
    const built = buildFromContent(CONTENT_DIR, db);
    log(`  built ${built.conditions} condition(s) into ${db}`);

    const cold = [await coldStart('npm start (tsx)', () => startServer('cold', db))];
    if (!flag('no-compiled')) {
      const serverJs = compileServer(dir);
      cold.push(await coldStart('compiled (npm run start:prod)', () => spawnServer({ name: 'cold-prod', args: [serverJs], env: serverEnv(db), cwd: join(dir, 'prod'), readyPath: DOC_PATH })));
    }

    const server = await startServer('server', db);
    const uncached = await startServer('server (RENDER_CACHE=off)', db, { RENDER_CACHE: 'off' });
    children.push(server, uncached);

    const doc = await httpGet(server.base + DOC_PATH);
    const etag = String(doc.headers.etag ?? '');
    const contentType = String(doc.headers['content-type'] ?? 'application/json; charset=utf-8');
    if (doc.status !== 200 || !etag) throw new Error(`document: ${doc.status}, etag ${etag}`);
    const bodyFile = join(dir, 'document.json');
    writeFileSync(bodyFile, doc.body);
    const ceiling = await spawnServer({
      name: 'ceiling',
      args: ['--import', 'tsx', 'bench/ceiling.ts'],
      env: { PATH: process.env.PATH, CEILING_BODY: bodyFile, CEILING_TYPE: contentType, CEILING_ETAG: etag },
      cwd: PROJECT_ROOT,
      readyPath: '/',
    });
    children.push(ceiling);
    const fromCeiling = await httpGet(ceiling.base + '/');
    if (!fromCeiling.body.equals(doc.body)) throw new Error('the ceiling does not serve the document bytes');

    const uncachedDoc = await httpGet(uncached.base + DOC_PATH);
    if (!uncachedDoc.body.equals(doc.body) || uncachedDoc.headers.etag !== etag) throw new Error('the uncached server serves different bytes');

    // /v1/facts as Markdown when the route offers it; JSON otherwise (noted in the results).
    const factsMd = await httpGet(server.base + '/v1/facts', { accept: 'text/markdown' });
    const factsMarkdown = factsMd.status === 200 && String(factsMd.headers['content-type']).startsWith('text/markdown');
    const factsHeaders: Record<string, string> = factsMarkdown ? { accept: 'text/markdown' } : {};
    const statsPath = '/v1/statistics?condition=calciphylaxis&measure=usage';
    for (const r of searchRequests) {
      const res = await httpGet(server.base + r.path);
      if (res.status !== 200) throw new Error(`${r.path} → ${res.status}: ${res.body.toString().slice(0, 300)}`);
    }
    const stats = await httpGet(server.base + statsPath);
    if (stats.status !== 200) throw new Error(`${statsPath} → ${stats.status}`);

    const sizes = {
      document: doc.body.length,
      statistics: stats.body.length,
      facts: factsMarkdown ? factsMd.body.length : (await httpGet(server.base + '/v1/facts')).body.length,
    };
    log(`  document ${sizes.document} B (${contentType}, ETag ${etag}); statistics ${sizes.statistics} B; facts ${sizes.facts} B ${factsMarkdown ? 'markdown' : 'JSON'}`);

    const ceilingTarget: Target = { child: ceiling, path: '/', expect: 200 };
    const scenarios: Scenario[] = [
      { key: 'document', label: 'condition document (cached)', target: { child: server, path: DOC_PATH, expect: 200 } },
      { key: 'notModified', label: 'conditional GET → 304', target: { child: server, path: DOC_PATH, headers: { 'if-none-match': etag }, expect: 304 } },
      { key: 'uncached', label: 'condition document, cache off', target: { child: uncached, path: DOC_PATH, expect: 200 } },
      { key: 'statistics', label: 'statistics ?condition&measure', target: { child: server, path: statsPath, expect: 200 } },
      { key: 'search', label: `search (${SEARCH_QUERIES.length} queries, rotating)`, target: { child: server, path: '/', requests: searchRequests, expect: 200 } },
      { key: 'facts', label: `facts as ${factsMarkdown ? 'Markdown' : 'JSON (no Markdown yet)'}`, target: { child: server, path: '/v1/facts', headers: factsHeaders, expect: 200 } },
    ];
    const only = option('only')?.split(',');
    const selected = only ? scenarios.filter((s) => only.includes(s.key)) : scenarios;

    log('  warming up');
    await load(ceilingTarget, WARMUP);
    for (const s of selected) await load(s.target, WARMUP);

    const runs = new Map<string, RunResult[]>();
    const ratios = new Map<string, number[]>();
    // Server CPU per request of the ceiling ÷ the scenario's: the throughput ratio a saturated
    // server would reach, free of the load generator's share of the two cores.
    const cpuRatios = new Map<string, number[]>();
    const ceilingRuns: RunResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const s of selected) {
        const { ceiling: c, scenario: r } = await paired(ceilingTarget, s.target, DURATION);
        ceilingRuns.push(c);
        runs.set(s.key, [...(runs.get(s.key) ?? []), r]);
        ratios.set(s.key, [...(ratios.get(s.key) ?? []), r.rps / c.rps]);
        cpuRatios.set(s.key, [...(cpuRatios.get(s.key) ?? []), c.serverCpuUsPerReq / r.serverCpuUsPerReq]);
        log(
          `  round ${round} ${s.key.padEnd(11)} ${Math.round(r.rps)} req/s (ceiling ${Math.round(c.rps)}) ratio ${(r.rps / c.rps).toFixed(2)} ` +
            `p99 ${r.p99.toFixed(2)} ms; server ${r.serverCpuUsPerReq.toFixed(1)} µs/req at ${Math.round(r.serverCpuPct)}% CPU; load generator ${Math.round(r.benchCpuPct)}%` +
            (r.unexpected || r.errors ? `; ${r.unexpected} unexpected statuses, ${r.errors} errors` : ''),
        );
      }
    }

    const summarize = (list: RunResult[]) => ({
      rps: Math.round(median(list.map((r) => r.rps))),
      p50: ms(median(list.map((r) => r.p50))),
      p99: ms(median(list.map((r) => r.p99))),
      rssMB: round(Math.max(...list.map((r) => r.rssMB)), 1),
      serverCpuUsPerReq: round(median(list.map((r) => r.serverCpuUsPerReq)), 1),
      serverCpuPct: Math.round(median(list.map((r) => r.serverCpuPct))),
      loadGeneratorCpuPct: Math.round(median(list.map((r) => r.benchCpuPct))),
      unexpectedStatuses: list.reduce((n, r) => n + r.unexpected, 0),
      errors: list.reduce((n, r) => n + r.errors, 0),
      rounds: list.map((r) => ({ rps: Math.round(r.rps), p50: ms(r.p50), p99: ms(r.p99), serverCpuUsPerReq: round(r.serverCpuUsPerReq, 1) })),
    });

    const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'RSS MB', 'server µs/req', 'ratio', 'CPU ratio', 'target'];
    const ceilingSummary = summarize(ceilingRuns);
    const rows: Cell[][] = [
      ['raw node:http ceiling (same bytes)', ceilingSummary.rps, ceilingSummary.p50, ceilingSummary.p99, ceilingSummary.rssMB, ceilingSummary.serverCpuUsPerReq, 1, 1, null],
    ];
    const scenarioResults: Record<string, unknown> = {};
    for (const s of selected) {
      const sum = summarize(runs.get(s.key) ?? []);
      const ratio = round(median(ratios.get(s.key) ?? []), 2);
      const cpuRatio = round(median(cpuRatios.get(s.key) ?? []), 2);
      const target = TARGETS[s.key];
      const verdict = target ? `≥ ${target.toFixed(2)} ${ratio >= target ? 'met' : 'missed'}` : null;
      rows.push([s.label, sum.rps, sum.p50, sum.p99, sum.rssMB, sum.serverCpuUsPerReq, ratio, cpuRatio, verdict]);
      scenarioResults[s.key] = {
        label: s.label,
        ratio,
        ratios: (ratios.get(s.key) ?? []).map((x) => round(x, 3)),
        cpuRatio,
        target: target ?? null,
        met: target === undefined ? null : ratio >= target,
        ...sum,
      };
    }
    const coldHeader = ['start (spawn → first 200 on the document)', 'median ms', 'runs ms', 'RSS idle MB', 'RSS under load MB'];
    const coldRows: Cell[][] = cold.map((c) => [c.label, c.median, c.ms.join(', '), c.idleRssMB, c.loadRssMB]);

    console.log(`\n${textTable(header, rows)}\n`);
    console.log(textTable(coldHeader, coldRows));
    console.log(`\nmachine: ${machine().cpu}, ${machine().cores} cores, Node ${process.version}, load average ${machine().loadAverage1m}; ${CONNECTIONS} connections, ${ROUNDS} rounds × ${DURATION} s`);

    writeResults('scenarios', {
      date: new Date().toISOString(),
      machine: machine(),
      settings: { connections: CONNECTIONS, rounds: ROUNDS, durationSeconds: DURATION, logLevel: 'warn', rateLimitMax: 1e9, pairedCeiling: true },
      sizes,
      factsRepresentation: factsMarkdown ? 'text/markdown' : 'application/json (text/markdown not offered)',
      searchQueries: SEARCH_QUERIES,
      ceiling: ceilingSummary,
      results: scenarioResults,
      coldStart: cold,
      markdown: `${markdownTable(header, rows)}\n\n${markdownTable(coldHeader, coldRows)}`,
    });
    log(`  wrote ${RESULTS}`);
  } finally {
    for (const c of children) await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- growth

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  serverCpuUsPerReq: number;
}

interface GrowthPoint {
  conditions: number;
  buildSeconds: number;
  databaseMB: number;
  rows: { statements: number; statistics: number; sources: number };
  coldStartMs: number;
  /** Documents of up to 100 conditions, rotating (all cached after the warm-up). */
  document: Measured & { ids: number };
  uncachedDocument: Measured;
  search: Measured;
  /** The same scenarios on the N = 1 corpus, interleaved with these runs (the paired baseline). */
  baseline: { document: Measured; uncachedDocument: Measured; search: Measured };
  /** p99 at N ÷ p99 of the paired N = 1 baseline. */
  p99Growth: { document: number; uncachedDocument: number; search: number };
  rssMB: number;
}

type CorpusContent = ReturnType<typeof loadContent>[number]['content'];

interface Corpus {
  n: number;
  dir: string;
  db: string;
  buildSeconds: number;
  built: { statements: number; statistics: number; sources: number };
}

function buildCorpus(n: number, real: CorpusContent): Corpus {
  const dir = mkdtempSync(join(tmpdir(), `kb-growth-${n}-`));
  const content = join(dir, 'content');
  cpSync(CONTENT_DIR, content, { recursive: true });
  writeSyntheticCorpus(content, real, n);
  const files = readdirSync(content).length;
  const db = join(dir, 'kb.sqlite');
  const t0 = performance.now();
  const built = buildFromContent(content, db);
  const buildSeconds = (performance.now() - t0) / 1000;
  log(`  N=${n}: ${files} files, built in ${buildSeconds.toFixed(1)} s, ${(statSync(db).size / 2 ** 20).toFixed(1)} MB`);
  return { n, dir, db, buildSeconds, built };
}

interface CorpusServers {
  cached: Child;
  uncached: Child;
  targets: { document: Target; uncached: Target; search: Target };
  docIds: number;
}

async function corpusServers(c: Corpus): Promise<CorpusServers> {
  const cached = await startServer(`server N=${c.n}`, c.db);
  const uncached = await startServer(`server N=${c.n} (cache off)`, c.db, { RENDER_CACHE: 'off' });
  const ids = ['calciphylaxis', ...Array.from({ length: Math.min(c.n, 100) - 1 }, (_, i) => `synthetic-${String(i + 2).padStart(4, '0')}`)];
  const docRequests = ids.map((id) => ({ method: 'GET' as const, path: `/v1/conditions/${id}` }));
  for (const r of [...docRequests.slice(0, 3), ...searchRequests.slice(0, 3)]) {
    const res = await httpGet(cached.base + r.path);
    if (res.status !== 200) throw new Error(`${r.path} → ${res.status}`);
  }
  const targets = {
    document: { child: cached, path: '/', requests: docRequests, expect: 200 },
    uncached: { child: uncached, path: DOC_PATH, expect: 200 },
    search: { child: cached, path: '/', requests: searchRequests, expect: 200 },
  } satisfies Record<string, Target>;
  for (const t of Object.values(targets)) await load(t, WARMUP);
  return { cached, uncached, targets, docIds: ids.length };
}

/**
 * Each N is measured interleaved with the N = 1 corpus served by its own pair of servers, so the
 * p99 growth is a ratio of paired runs: this shared machine's load changes from minute to minute.
 */
async function growthPoint(c: Corpus, base: CorpusServers): Promise<GrowthPoint> {
  const servers = await corpusServers(c);
  try {
    const keys = ['document', 'uncached', 'search'] as const;
    const runs = { document: [] as RunResult[], uncached: [] as RunResult[], search: [] as RunResult[] };
    const baseRuns = { document: [] as RunResult[], uncached: [] as RunResult[], search: [] as RunResult[] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const key of keys) {
        const { ceiling: b, scenario: r } = await paired(base.targets[key], servers.targets[key], DURATION);
        runs[key].push(r);
        baseRuns[key].push(b);
        log(`    round ${round} ${key.padEnd(9)} ${Math.round(r.rps)} req/s p99 ${r.p99.toFixed(2)} ms (N=1 paired: ${Math.round(b.rps)} req/s p99 ${b.p99.toFixed(2)} ms)${r.unexpected ? ` (${r.unexpected} unexpected statuses)` : ''}`);
      }
    }
    const sum = (list: RunResult[]): Measured => ({
      rps: Math.round(median(list.map((r) => r.rps))),
      p50: ms(median(list.map((r) => r.p50))),
      p99: ms(median(list.map((r) => r.p99))),
      serverCpuUsPerReq: round(median(list.map((r) => r.serverCpuUsPerReq)), 1),
    });
    const growth = (key: (typeof keys)[number]) => round(median(runs[key].map((r, i) => r.p99 / (baseRuns[key][i]?.p99 ?? NaN))), 2);
    return {
      conditions: c.n,
      buildSeconds: round(c.buildSeconds, 1),
      databaseMB: round(statSync(c.db).size / 2 ** 20, 1),
      rows: c.built,
      coldStartMs: Math.round(servers.cached.startMs),
      document: { ...sum(runs.document), ids: servers.docIds },
      uncachedDocument: sum(runs.uncached),
      search: sum(runs.search),
      baseline: { document: sum(baseRuns.document), uncachedDocument: sum(baseRuns.uncached), search: sum(baseRuns.search) },
      p99Growth: { document: growth('document'), uncachedDocument: growth('uncached'), search: growth('search') },
      rssMB: round(Math.max(...Object.values(runs).flat().map((r) => r.rssMB)), 1),
    };
  } finally {
    await servers.cached.stop();
    await servers.uncached.stop();
  }
}

async function growth(sizes: number[], replaceAll: boolean): Promise<void> {
  const [real] = loadContent(CONTENT_DIR).filter((c) => c.content.id === 'calciphylaxis');
  if (!real) throw new Error('the growth corpus is modelled on calciphylaxis, which is missing from db/content');
  log(`growth: N = ${sizes.join(', ')}; ${ROUNDS} rounds × ${DURATION} s per run, ${CONNECTIONS} connections, each paired with N = 1`);
  const baseCorpus = buildCorpus(1, real.content);
  const base = await corpusServers(baseCorpus);
  const points: GrowthPoint[] = [];
  try {
    for (const n of sizes) {
      const c = n === 1 ? baseCorpus : buildCorpus(n, real.content);
      try {
        points.push(await growthPoint(c, base));
      } finally {
        if (c !== baseCorpus) rmSync(c.dir, { recursive: true, force: true });
      }
    }
  } finally {
    await base.cached.stop();
    await base.uncached.stop();
    rmSync(baseCorpus.dir, { recursive: true, force: true });
  }
  const header = [
    'conditions', 'build s', 'DB MB', 'cold start ms', 'document p99 ms', 'doc p99 ÷ N=1', 'uncached doc p99 ms', 'uncached µs/req',
    'search req/s', 'search p99 ms', 'search p99 ÷ N=1', 'search µs/req', 'RSS MB',
  ];
  const row = (p: GrowthPoint): Cell[] => [
    p.conditions,
    p.buildSeconds,
    p.databaseMB,
    p.coldStartMs,
    p.document.p99,
    p.p99Growth.document,
    p.uncachedDocument.p99,
    p.uncachedDocument.serverCpuUsPerReq,
    p.search.rps,
    p.search.p99,
    p.p99Growth.search,
    p.search.serverCpuUsPerReq,
    p.rssMB,
  ];
  console.log(`\n${textTable(header, points.map(row))}\n`);
  // `--growth` replaces every point; `--conditions N` adds or replaces its own sizes.
  const previous = replaceAll ? [] : ((readResults().growth as { points?: GrowthPoint[] } | undefined)?.points ?? []);
  const merged = [...previous.filter((p) => !sizes.includes(p.conditions) && p.p99Growth !== undefined), ...points].sort((a, b) => a.conditions - b.conditions);
  writeResults('growth', {
    date: new Date().toISOString(),
    machine: machine(),
    settings: { connections: CONNECTIONS, rounds: ROUNDS, durationSeconds: DURATION, pairedWithN1: true },
    model: 'calciphylaxis + N−1 synthetic conditions (bench/corpus.ts): 25 symptoms, 20 risk factors, 10 treatments, 15 statistics, 15 sources each',
    searchQueries: SEARCH_QUERIES,
    points: merged,
    markdown: markdownTable(header, merged.map(row)),
  });
  log(`  wrote ${RESULTS}`);
}

// ---------------------------------------------------------------- profile

async function profile(key: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-profile-'));
  const profiles = join(dir, 'profiles');
  const n = Number(option('conditions') ?? 1);
  try {
    let db = join(dir, 'kb.sqlite');
    if (n > 1) {
      const content = join(dir, 'content');
      cpSync(CONTENT_DIR, content, { recursive: true });
      const [real] = loadContent(CONTENT_DIR);
      if (real) writeSyntheticCorpus(content, real.content, n);
      buildFromContent(content, db);
    } else {
      buildFromContent(CONTENT_DIR, db);
    }
    if (!existsSync(db)) db = join(dir, 'kb.sqlite');
    const extra = key === 'uncached' ? { RENDER_CACHE: 'off' } : {};
    const server = await startServer('profiled server', db, extra, ['--cpu-prof', `--cpu-prof-dir=${profiles}`]);
    const doc = await httpGet(server.base + DOC_PATH);
    const targets: Record<string, Target> = {
      document: { child: server, path: DOC_PATH, expect: 200 },
      uncached: { child: server, path: DOC_PATH, expect: 200 },
      notModified: { child: server, path: DOC_PATH, headers: { 'if-none-match': String(doc.headers.etag) }, expect: 304 },
      statistics: { child: server, path: '/v1/statistics?condition=calciphylaxis&measure=usage', expect: 200 },
      search: { child: server, path: '/', requests: searchRequests, expect: 200 },
      facts: { child: server, path: '/v1/facts', headers: { accept: 'text/markdown' }, expect: 200 },
    };
    const target = targets[key];
    if (!target) throw new Error(`--profile takes one of: ${Object.keys(targets).join(', ')}`);
    await load(target, WARMUP);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const r = await load(target, DURATION);
    const window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
    log(`  ${key}: ${Math.round(r.rps)} req/s, p99 ${r.p99.toFixed(2)} ms, server ${r.serverCpuUsPerReq.toFixed(1)} µs/req`);
    await server.stop();
    const file = readdirSync(profiles).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no profile was written');
    const kept = join(PROJECT_ROOT, 'bench', 'results', `profile-${key}.cpuprofile.tmp`);
    cpSync(join(profiles, file), kept);
    const hot = hotFunctions(kept, 30, window);
    console.log(`\nself time by module (${hot.totalMs} ms sampled under load, ${r.requests} requests):`);
    console.log(textTable(['module', '%'], timeByModule(kept, window).map((m) => [m.module, m.pct])));
    console.log('\nhottest functions (self time):');
    console.log(textTable(['function', 'where', 'self ms', '%'], hot.functions.map((f) => [f.name, f.where, f.selfMs, f.selfPct])));
    console.log(`\nprofile kept at ${kept} (open it in Chrome DevTools → Performance)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main

const raised = raisePriority();
log(raised ? `bench: processes run at niceness ${BENCH_NICENESS}` : 'bench: could not raise priority (not root); other work on this machine will show in the numbers');

const profileKey = option('profile');
const conditionsOption = option('conditions');
if (profileKey) {
  await profile(profileKey);
} else if (flag('growth') || conditionsOption) {
  const sizes = flag('growth') ? [1, 100, 1000] : (conditionsOption ?? '1').split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 9999)) throw new Error('--conditions takes whole numbers from 1 to 9999 (comma-separated)');
  await growth(sizes, flag('growth'));
} else {
  await mainBenchmark();
}

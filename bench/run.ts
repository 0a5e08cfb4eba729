/**
 * `npm run bench`: the real server's CPU per request against raw node:http sending the same bytes,
 * at 1 and 1,000 conditions, with wrk as the load generator.
 *
 *   npm run bench                             both corpora, every scenario, fresh-clone start (~6 min)
 *   npm run bench -- --conditions 1000        one corpus size (comma-separate for several)
 *   npm run bench -- --only search,document   some scenarios (keys from bench/scenarios.ts, and `write`)
 *   npm run bench -- --profile search         one scenario on a server run with --cpu-prof: top functions
 *   options: --duration S (per wrk run, 2), --rounds R (3), --connections C (50), --no-fresh-clone,
 *            --reuse DIR (keep built databases in DIR and reuse them: serving changes only, build not timed)
 *
 * How it measures (README, Performance):
 * - The service runs as `npm start` runs it, with bench/probe.mjs preloaded: the probe counts the
 *   responses the process finished and reports `process.cpuUsage()` over IPC. Server CPU per
 *   request = Δcpu ÷ Δresponses around each wrk run.
 * - Every scenario's responses are recorded from the service (status, headers, body) and replayed
 *   by bench/raw.ts, a bare node:http server with the same probe: the same bytes, header block
 *   included. Each round runs both, alternating which goes first; ratio = raw µs ÷ service µs in
 *   that round; the median of the rounds is reported. The machine is shared and its speed swings
 *   within seconds, so only the ratios of paired runs compare.
 * - wrk: one thread, 50 connections, `--duration` seconds per run, after a short warm-up.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/connection.js';
import { CONTENT_DIR, PROJECT_ROOT } from '../src/paths.js';
import { createApiKeysRepository } from '../src/repositories/apiKeys.js';
import { writeBenchContent } from './corpus.js';
import { hotFunctions, timeByModule } from './profile.js';
import { BENCH_NICENESS, httpGet, httpRequest, raisePriority, sampleRss, spawnServer, type Child, type ProbeSample } from './proc.js';
import { recordKey, writeRecording, type Recorded } from './raw.js';
import { DOC_PATH, WRITE_FACT, WRITE_VALUES, scenarios, type Scenario } from './scenarios.js';
import { markdownTable, median, percentile, round, textTable, type Cell } from './table.js';
import { WRK_INSTALL, runWrk, wrkAvailable, type BenchRequest, type WrkResult } from './wrk.js';

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2);
function option(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const flag = (name: string) => argv.includes(`--${name}`);
const DURATION = Math.max(1, Math.round(Number(option('duration') ?? 2)));
const ROUNDS = Number(option('rounds') ?? 3);
const CONNECTIONS = Number(option('connections') ?? 50);
// wrk takes whole seconds.
const WARMUP = 1;
const SIZES = (option('conditions') ?? '1,1000').split(',').map(Number);
const ONLY = option('only')?.split(',');
const RESULTS = join(PROJECT_ROOT, 'bench', 'results', 'latest.json');
/** The issue's targets beyond the per-scenario ratios (bench/scenarios.ts). */
const TARGETS = { p99DocumentMs: 10, buildSeconds: 10, databaseMB: 80, rssMB: 150, coldStartMs: 500, freshCloneStartMs: 1500 };

const log = (...parts: unknown[]) => console.error(...parts);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load1 = () => round(loadavg()[0] ?? 0, 2);

// ---------------------------------------------------------------- servers

/** `npm start`'s command as node arguments (tsx → `--import tsx`), so the probe can be preloaded. */
export function startArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const words = (pkg.scripts.start ?? '').trim().split(/\s+/);
  if (words[0] === 'tsx') return ['--import', 'tsx', ...words.slice(1)];
  if (words[0] === 'node') return words.slice(1);
  throw new Error(`npm start runs "${pkg.scripts.start}"; bench/run.ts knows tsx and node`);
}

const PROBE = ['--import', './bench/probe.mjs'];

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
    RATE_LIMIT_EXPORT_MAX: '1000000000',
    // Load shedding answers 503 when the event loop lags, which a saturating benchmark makes it do;
    // a cheap 503 would pass for a fast answer. Off, as in the tests.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...extra,
  };
}

function startService(name: string, databasePath: string, extra: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<Child> {
  return spawnServer({ name, args: [...nodeArgs, ...PROBE, ...startArgs()], env: serverEnv(databasePath, extra), cwd: PROJECT_ROOT, readyPath: DOC_PATH, probe: true });
}

function startRaw(name: string, recording: string, server: 'node' | 'fastify' = 'node'): Promise<Child> {
  return spawnServer({
    name,
    args: [...PROBE, '--import', 'tsx', 'bench/raw.ts'],
    env: { PATH: process.env.PATH, RAW_RECORDING: recording, RAW_SERVER: server },
    cwd: PROJECT_ROOT,
    readyPath: DOC_PATH,
    probe: true,
  });
}

// ---------------------------------------------------------------- measuring

interface Run {
  cpuUsPerReq: number;
  /** server CPU per megabyte sent (throughput scenarios: a run may end mid-response) */
  cpuUsPerMB: number;
  responses: number;
  rps: number;
  p50: number;
  p99: number;
  mbPerS: number;
  errors: number;
  badStatus: number;
  wrkCpuPct: number;
  serverCpuPct: number;
  peakRssMB: number;
}

/** The probe's count stops moving once the requests in flight when wrk stopped are answered. */
async function settled(child: Child): Promise<ProbeSample> {
  let last = await child.sample();
  for (let i = 0; i < 20; i++) {
    await sleep(20);
    const next = await child.sample();
    if (next.responses === last.responses) return next;
    last = next;
  }
  return last;
}

async function measure(child: Child, requests: BenchRequest[], seconds: number, connections: number, dir: string): Promise<Run> {
  const before = await settled(child);
  const peak = sampleRss(child.pid, 100);
  const w: WrkResult = await runWrk(child.base, requests, { seconds, connections, dir });
  const peakRss = peak();
  const after = await settled(child);
  const responses = after.responses - before.responses;
  const cpu = after.cpuUs - before.cpuUs;
  return {
    cpuUsPerReq: responses > 0 ? cpu / responses : NaN,
    cpuUsPerMB: w.bytes > 0 ? cpu / (w.bytes / 1e6) : NaN,
    responses,
    rps: w.requests / w.seconds,
    p50: w.latencyMs.p50,
    p99: w.latencyMs.p99,
    mbPerS: w.bytes / w.seconds / 1e6,
    errors: w.errors,
    badStatus: w.badStatus,
    wrkCpuPct: w.wrkCpuPct,
    serverCpuPct: cpu / 1e4 / w.seconds,
    peakRssMB: peakRss / 2 ** 20,
  };
}

interface Paired {
  service: Run[];
  raw: Run[];
  /** the bare Fastify app's runs, when the scenario has one */
  floor: Run[];
  ratios: number[];
  loadAverages: number[];
}

/**
 * Rounds of service and raw runs (and the Fastify floor's, when given), rotating which goes first;
 * `perMB` compares CPU per megabyte sent.
 */
async function paired(service: Child, raw: Child, requests: BenchRequest[], connections: number, dir: string, perMB = false, seconds = DURATION, floor?: Child): Promise<Paired> {
  const servers = floor ? [service, raw, floor] : [service, raw];
  for (const server of servers) await runWrk(server.base, requests, { seconds: WARMUP, connections, dir });
  const out: Paired = { service: [], raw: [], floor: [], ratios: [], loadAverages: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const runs = new Map<Child, Run>();
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(r + i) % servers.length];
      if (server) runs.set(server, await measure(server, requests, seconds, connections, dir));
    }
    const s = runs.get(service);
    const w = runs.get(raw);
    if (!s || !w) throw new Error('a paired round lost a run');
    out.service.push(s);
    out.raw.push(w);
    const f = floor ? runs.get(floor) : undefined;
    if (f) out.floor.push(f);
    out.ratios.push(perMB ? w.cpuUsPerMB / s.cpuUsPerMB : w.cpuUsPerReq / s.cpuUsPerReq);
    out.loadAverages.push(load1());
  }
  return out;
}

// ---------------------------------------------------------------- one corpus

interface ScenarioResult {
  label: string;
  serviceCpuUs: number;
  rawCpuUs: number;
  ratio: number;
  ratios: number[];
  target: number | null;
  met: boolean | null;
  rps: number;
  rawRps: number;
  p50: number;
  p99: number;
  /** raw node:http's p99 in the same rounds: what the machine and the load generator allow */
  rawP99: number;
  mbPerS: number;
  rawMbPerS: number;
  /** throughput scenarios: server CPU µs per MB sent, service and raw */
  cpuUsPerMB: number;
  rawCpuUsPerMB: number;
  /** peak RSS of the serving process during this scenario's runs */
  peakRssMB: number;
  /** bare Fastify replaying the same bytes (scenarios with `floor`): its CPU per request and raw ÷ it */
  floor: { cpuUs: number; ratio: number } | null;
  bodyBytes: number;
  errors: number;
  badStatus: number;
  wrkCpuPct: number;
  serverCpuPct: number;
  loadAverages: number[];
  rounds: { serviceCpuUs: number; rawCpuUs: number; rps: number; rawRps: number; p99: number }[];
}

interface WriteResult {
  writes: number;
  /** server CPU per cycle: PATCH + GET of the re-rendered document */
  serviceCpuUsPerCycle: number;
  rawCpuUsPerCycle: number;
  ratio: number;
  patchP50: number;
  patchP99: number;
  rereadP50: number;
  rereadP99: number;
  /** documents that did not show the write just made (must be 0) */
  staleReads: number;
  loadAverages: number[];
}

interface SpaceItem {
  name: string;
  table: string;
  MB: number;
}

interface CorpusResult {
  conditions: number;
  buildSeconds: number;
  databaseMB: number;
  space: { byTable: { table: string; MB: number; pct: number }[]; objects: SpaceItem[] } | null;
  coldStartMs: number[];
  coldStartMedianMs: number;
  rssUnderLoadMB: number;
  /** fresh server, read scenarios only (readLoadRss) */
  readLoadRssMB: number | null;
  idleRssMB: number;
  scenarios: Record<string, ScenarioResult>;
  write: WriteResult | null;
  loadAverage: { start: number; end: number };
}

/** Where the database's bytes go: dbstat per table and index (FTS5 shadow tables under their index). */
function spaceOf(db: string): CorpusResult['space'] {
  const sqlite = openDatabase(db, { readonly: true });
  try {
    const objects = sqlite
      .prepare<[], { name: string; tbl: string | null; bytes: number }>(
        `SELECT d.name AS name, m.tbl_name AS tbl, SUM(d.pgsize) AS bytes FROM dbstat d LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY d.name ORDER BY bytes DESC`,
      )
      .all();
    const fts = sqlite.prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'`).all().map((r) => r.name);
    const tableOf = (o: { name: string; tbl: string | null }) => fts.find((f) => o.name.startsWith(`${f}_`)) ?? o.tbl ?? o.name;
    const byTable = new Map<string, number>();
    for (const o of objects) byTable.set(tableOf(o), (byTable.get(tableOf(o)) ?? 0) + o.bytes);
    const total = [...byTable.values()].reduce((a, b) => a + b, 0);
    return {
      byTable: [...byTable].sort((a, b) => b[1] - a[1]).map(([table, bytes]) => ({ table, MB: round(bytes / 2 ** 20, 2), pct: round((bytes / total) * 100, 1) })),
      objects: objects.slice(0, 25).map((o) => ({ name: o.name, table: tableOf(o), MB: round(o.bytes / 2 ** 20, 2) })),
    };
  } catch (e) {
    log(`  dbstat unavailable: ${String(e)}`);
    return null;
  } finally {
    sqlite.close();
  }
}

/** `kb build` as a user runs it (`npm run kb -- build`), timed from spawn to exit. */
function kbBuild(contentDir: string, db: string): number {
  const t0 = performance.now();
  execFileSync(process.execPath, ['src/kb.mjs', 'build', '--content', contentDir, '--db', db], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return (performance.now() - t0) / 1000;
}

const headerPairs = (raw: string[]): [string, string][] => {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] ?? '', raw[i + 1] ?? '']);
  return out;
};

async function record(child: Child, r: BenchRequest, expect: number): Promise<Recorded> {
  const res = await httpRequest(child.base + r.path, { method: r.method, headers: r.headers, body: r.body });
  if (res.status !== expect) throw new Error(`${r.method} ${r.path} → ${res.status} (expected ${expect}): ${res.body.toString().slice(0, 300)}`);
  return { method: r.method, url: r.path, ifNoneMatch: r.headers?.['if-none-match'] ?? null, status: res.status, headers: headerPairs(res.rawHeaders), body: res.body };
}

/**
 * The write scenario, sequential on one keep-alive connection for `seconds`: PATCH a statement
 * with the ETag of the last write, then GET the condition document, which must show it (a new
 * ETag). Against the raw server the same two requests are replayed.
 */
async function writeLoop(child: Child, key: string, seconds: number, isRaw: boolean): Promise<{ cpuUs: number; cycles: number; patch: number[]; reread: number[]; stale: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const factUrl = `/v1/facts/${WRITE_FACT}`;
  const fact = await httpRequest(child.base + factUrl, { agent });
  let etag = String(fact.headers.etag ?? '');
  let value = (JSON.parse(fact.body.toString()) as { confidence?: string }).confidence;
  let docEtag = String((await httpRequest(child.base + DOC_PATH, { agent })).headers.etag ?? '');
  const patch: number[] = [];
  const reread: number[] = [];
  let stale = 0;
  let cycles = 0;
  const before = await settled(child);
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    value = WRITE_VALUES[(WRITE_VALUES.indexOf(value as (typeof WRITE_VALUES)[number]) + 1) % WRITE_VALUES.length];
    const t0 = performance.now();
    const res = await httpRequest(child.base + factUrl, {
      agent,
      method: 'PATCH',
      headers: { authorization: `Bearer ${key}`, 'if-match': etag, 'content-type': 'application/json' },
      body: JSON.stringify({ confidence: value }),
    });
    const t1 = performance.now();
    if (res.status !== 200) throw new Error(`write: PATCH ${factUrl} → ${res.status}: ${res.body.toString().slice(0, 300)}`);
    etag = String(res.headers.etag ?? '');
    const doc = await httpRequest(child.base + DOC_PATH, { agent, headers: { 'if-none-match': docEtag } });
    const t2 = performance.now();
    if (!isRaw && (doc.status !== 200 || doc.headers.etag === docEtag)) stale++;
    docEtag = String(doc.headers.etag ?? '');
    patch.push(t1 - t0);
    reread.push(t2 - t1);
    cycles++;
  }
  const after = await settled(child);
  agent.destroy();
  return { cpuUs: after.cpuUs - before.cpuUs, cycles, patch, reread, stale };
}

async function writeScenario(service: Child, key: string, dir: string): Promise<WriteResult> {
  // One write recorded for the raw server: the PATCH's response and the document after it.
  const factUrl = `/v1/facts/${WRITE_FACT}`;
  const fact = await httpGet(service.base + factUrl);
  const current = (JSON.parse(fact.body.toString()) as { confidence?: string }).confidence;
  const next = WRITE_VALUES.find((v) => v !== current) ?? 'high';
  const patchReq: BenchRequest = {
    method: 'PATCH',
    path: factUrl,
    headers: { authorization: `Bearer ${key}`, 'if-match': String(fact.headers.etag ?? ''), 'content-type': 'application/json' },
    body: JSON.stringify({ confidence: next }),
  };
  const recorded = [await record(service, patchReq, 200), await record(service, { method: 'GET', path: DOC_PATH }, 200), await record(service, { method: 'GET', path: factUrl }, 200)];
  const file = join(dir, 'write.rec');
  writeRecording(file, recorded);
  const raw = await startRaw('raw (write)', file);
  try {
    const s: Awaited<ReturnType<typeof writeLoop>>[] = [];
    const w: Awaited<ReturnType<typeof writeLoop>>[] = [];
    const loads: number[] = [];
    await writeLoop(service, key, WARMUP, false);
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        s.push(await writeLoop(service, key, DURATION, false));
        w.push(await writeLoop(raw, key, DURATION, true));
      } else {
        w.push(await writeLoop(raw, key, DURATION, true));
        s.push(await writeLoop(service, key, DURATION, false));
      }
      loads.push(load1());
    }
    const perCycle = (x: { cpuUs: number; cycles: number }) => x.cpuUs / x.cycles;
    const sorted = (xs: number[]) => Float64Array.from(xs).sort();
    const patch = sorted(s.flatMap((x) => x.patch));
    const reread = sorted(s.flatMap((x) => x.reread));
    return {
      writes: s.reduce((n, x) => n + x.cycles, 0),
      serviceCpuUsPerCycle: round(median(s.map(perCycle)), 0),
      rawCpuUsPerCycle: round(median(w.map(perCycle)), 1),
      ratio: round(median(s.map((x, i) => perCycle(w[i] ?? x) / perCycle(x))), 3),
      patchP50: round(percentile(patch, 50), 2),
      patchP99: round(percentile(patch, 99), 2),
      rereadP50: round(percentile(reread, 50), 2),
      rereadP99: round(percentile(reread, 99), 2),
      staleReads: s.reduce((n, x) => n + x.stale, 0),
      loadAverages: loads,
    };
  } finally {
    await raw.stop();
  }
}

/**
 * Peak RSS of a fresh server under the read scenarios that clients send all day (documents, 304s,
 * sections, lists, search, context), 3 s each at the run's connections: the memory target's case.
 * The other runs share one server that has also streamed exports and served the uncached case,
 * whose peak is reported beside it.
 */
async function readLoadRss(db: string, dir: string): Promise<number> {
  const child = await startService('rss', db);
  try {
    const etag = String((await httpGet(child.base + DOC_PATH)).headers.etag ?? '');
    const peak = sampleRss(child.pid, 100);
    for (const s of scenarios(etag, null).filter((x) => !x.uncached)) await runWrk(child.base, s.requests, { seconds: 3, connections: CONNECTIONS, dir });
    return round(peak() / 2 ** 20, 1);
  } finally {
    await child.stop();
  }
}

/** Spawn → first 200 on the document, three times, on the built database. */
async function coldStarts(db: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const child = await spawnServer({ name: 'cold start', args: startArgs(), env: serverEnv(db), cwd: PROJECT_ROOT, readyPath: DOC_PATH });
    times.push(Math.round(child.startMs));
    await child.stop();
  }
  return times;
}

async function exportPathOf(service: Child): Promise<string | null> {
  const res = await httpGet(`${service.base}/v1/export`, {}, 60_000);
  if (res.status === 404) return null;
  if (res.status !== 200) throw new Error(`GET /v1/export → ${res.status}`);
  return '/v1/export';
}

async function benchCorpus(n: number, root: string): Promise<CorpusResult> {
  const dir = join(root, `n${n}`);
  mkdirSync(dir, { recursive: true });
  const loadStart = load1();
  const contentDir = join(dir, 'content');
  writeBenchContent(CONTENT_DIR, contentDir, n);
  const db = join(dir, 'kb.sqlite');
  // --reuse DIR: a database built by an earlier run of the same tree (for iterating on serving
  // code; the build is then not timed). Copied, so the write scenario leaves it as it was.
  const reuse = option('reuse');
  const cached = reuse ? join(reuse, `n${n}.sqlite`) : undefined;
  let buildSeconds = NaN;
  if (cached && existsSync(cached)) cpSync(cached, db);
  else {
    buildSeconds = kbBuild(contentDir, db);
    if (cached) {
      mkdirSync(reuse ?? '', { recursive: true });
      cpSync(db, cached);
    }
  }
  const databaseMB = statSync(db).size / 2 ** 20;
  log(`N=${n}: kb build ${buildSeconds.toFixed(1)} s, database ${databaseMB.toFixed(1)} MB (load average ${loadStart})`);
  const space = spaceOf(db);
  if (space) log(`  where the bytes go: ${space.byTable.slice(0, 6).map((t) => `${t.table} ${t.MB} MB`).join(', ')}`);
  // The cold-start target is at the largest corpus; the others skip it (it is the slowest step).
  const largest = (!ONLY || ONLY.includes('start')) && n === Math.max(...SIZES);
  const coldStartMs = largest ? await coldStarts(db) : [];
  const readLoadRssMB = largest ? await readLoadRss(db, dir) : null;
  if (readLoadRssMB !== null) log(`  RSS of a fresh server under the read scenarios: ${readLoadRssMB} MB`);
  if (coldStartMs.length) log(`  cold start (npm start's command, database built): ${coldStartMs.join(', ')} ms`);

  // The write scenario's key, made as `kb keys create` makes one.
  const sqlite = openDatabase(db);
  const key = createApiKeysRepository(sqlite).create('bench writer', ['content:write']).key;
  sqlite.close();

  const service = await startService(`service N=${n}`, db);
  const uncached = await startService(`service N=${n} (render cache off)`, db, { RENDER_CACHE: 'off' });
  const children: Child[] = [service, uncached];
  try {
    await sleep(300);
    const idleRssMB = round((await service.sample()).rss / 2 ** 20, 1);
    const doc = await httpGet(service.base + DOC_PATH);
    const etag = String(doc.headers.etag ?? '');
    const list = scenarios(etag, await exportPathOf(service)).filter((s) => !ONLY || ONLY.includes(s.key));

    // Record every response the raw server will replay, checking each status on the way.
    // The document first: the raw server's readiness is polled on it.
    const recorded: Recorded[] = [await record(service, { method: 'GET', path: DOC_PATH }, 200)];
    const bodyBytes = new Map<string, number>();
    for (const s of list) {
      let bytes = 0;
      for (const r of s.requests) {
        const rec = await record(s.uncached ? uncached : service, r, s.expect);
        bytes += rec.body.length;
        if (!recorded.some((x) => recordKey(x.method, x.url, x.ifNoneMatch) === recordKey(rec.method, rec.url, rec.ifNoneMatch))) recorded.push(rec);
      }
      bodyBytes.set(s.key, Math.round(bytes / s.requests.length));
    }
    const recording = join(dir, 'reads.rec');
    writeRecording(recording, recorded);
    const raw = await startRaw(`raw N=${n}`, recording);
    children.push(raw);
    const floor = list.some((s) => s.floor) ? await startRaw(`bare Fastify N=${n}`, recording, 'fastify') : undefined;
    if (floor) children.push(floor);
    for (const replayer of floor ? [raw, floor] : [raw])
      for (const r of recorded) {
        const replay = await httpRequest(replayer.base + r.url, { headers: r.ifNoneMatch ? { 'if-none-match': r.ifNoneMatch } : {} });
        if (replay.status !== r.status || !replay.body.equals(r.status === 304 ? Buffer.alloc(0) : r.body)) throw new Error(`${replayer.name} replays ${r.url} differently`);
      }

    const results: Record<string, ScenarioResult> = {};
    let rssUnderLoad = 0;
    for (const s of list) {
      const p = await paired(s.uncached ? uncached : service, raw, s.requests, s.connections ?? CONNECTIONS, dir, s.throughput, s.seconds, s.floor ? floor : undefined);
      const med = (f: (r: Run) => number, runs: Run[]) => median(runs.map(f));
      const ratio = median(p.ratios);
      const serviceRuns = p.service;
      if (!s.uncached) rssUnderLoad = Math.max(rssUnderLoad, ...serviceRuns.map((r) => r.peakRssMB));
      results[s.key] = {
        label: s.label,
        serviceCpuUs: round(med((r) => r.cpuUsPerReq, serviceRuns), 1),
        rawCpuUs: round(med((r) => r.cpuUsPerReq, p.raw), 1),
        ratio: round(ratio, 3),
        ratios: p.ratios.map((x) => round(x, 3)),
        target: s.target ?? null,
        met: s.target === undefined ? null : ratio >= s.target,
        rps: Math.round(med((r) => r.rps, serviceRuns)),
        rawRps: Math.round(med((r) => r.rps, p.raw)),
        p50: round(med((r) => r.p50, serviceRuns), 2),
        p99: round(med((r) => r.p99, serviceRuns), 2),
        rawP99: round(med((r) => r.p99, p.raw), 2),
        mbPerS: round(med((r) => r.mbPerS, serviceRuns), 1),
        rawMbPerS: round(med((r) => r.mbPerS, p.raw), 1),
        cpuUsPerMB: round(med((r) => r.cpuUsPerMB, serviceRuns), 0),
        rawCpuUsPerMB: round(med((r) => r.cpuUsPerMB, p.raw), 0),
        peakRssMB: round(Math.max(...serviceRuns.map((r) => r.peakRssMB)), 1),
        floor: p.floor.length
          ? { cpuUs: round(med((r) => r.cpuUsPerReq, p.floor), 1), ratio: round(median(p.floor.map((f, i) => (p.raw[i]?.cpuUsPerReq ?? NaN) / f.cpuUsPerReq)), 3) }
          : null,
        bodyBytes: bodyBytes.get(s.key) ?? 0,
        errors: serviceRuns.reduce((a, r) => a + r.errors, 0),
        badStatus: serviceRuns.reduce((a, r) => a + r.badStatus, 0),
        wrkCpuPct: Math.round(med((r) => r.wrkCpuPct, [...serviceRuns, ...p.raw])),
        serverCpuPct: Math.round(med((r) => r.serverCpuPct, serviceRuns)),
        loadAverages: p.loadAverages,
        rounds: serviceRuns.map((r, i) => ({
          serviceCpuUs: round(r.cpuUsPerReq, 1),
          rawCpuUs: round(p.raw[i]?.cpuUsPerReq ?? NaN, 1),
          rps: Math.round(r.rps),
          rawRps: Math.round(p.raw[i]?.rps ?? NaN),
          p99: round(r.p99, 2),
        })),
      };
      const x = results[s.key];
      if (x)
        log(
          `  ${s.key.padEnd(12)} ${x.serviceCpuUs} µs/req vs raw ${x.rawCpuUs} (ratio ${x.ratio}, rounds ${x.ratios.join(' ')}); ${x.rps} req/s p99 ${x.p99} ms (raw ${x.rawP99})` +
            (s.throughput ? `; ${x.mbPerS} MB/s (raw ${x.rawMbPerS}), ${x.cpuUsPerMB} µs CPU per MB (raw ${x.rawCpuUsPerMB})` : '') +
            (x.floor ? `; bare Fastify ${x.floor.cpuUs} µs/req (ratio ${x.floor.ratio})` : '') +
            `; RSS ${x.peakRssMB} MB` +
            `; wrk ${x.wrkCpuPct}% CPU; load ${p.loadAverages.join('/')}` +
            (x.errors || x.badStatus ? `; ${x.errors} errors, ${x.badStatus} bad statuses` : ''),
        );
    }
    let write: WriteResult | null = null;
    if (!ONLY || ONLY.includes('write')) {
      write = await writeScenario(service, key, dir);
      log(
        `  write        ${write.serviceCpuUsPerCycle} µs per PATCH + re-read (raw ${write.rawCpuUsPerCycle}); PATCH p50 ${write.patchP50} p99 ${write.patchP99} ms, ` +
          `re-read p50 ${write.rereadP50} ms; ${write.writes} writes, ${write.staleReads} stale reads`,
      );
    }
    return {
      conditions: n,
      buildSeconds: round(buildSeconds, 2),
      databaseMB: round(databaseMB, 1),
      space,
      coldStartMs,
      coldStartMedianMs: Math.round(median(coldStartMs)),
      rssUnderLoadMB: round(rssUnderLoad, 1),
      readLoadRssMB,
      idleRssMB,
      scenarios: results,
      write,
      loadAverage: { start: loadStart, end: load1() },
    };
  } finally {
    for (const c of children) await c.stop();
  }
}

// ---------------------------------------------------------------- fresh clone

interface FreshClone {
  npmInstallSeconds: number;
  /** `npm start` → first 200 on the document, building the database on the way */
  firstStartMs: number;
  /** `npm start` again, the database now built */
  secondStartMs: number;
  loadAverage: number;
}

/**
 * A clone of the committed HEAD (no node_modules, no database, no dist), node_modules hard-linked
 * from this checkout as `npm ci` would lay it out, then `npm install` (its lifecycle scripts
 * included) and `npm start` as a user runs them.
 */
async function freshClone(root: string): Promise<FreshClone> {
  const clone = join(root, 'clone');
  execFileSync('git', ['clone', '--quiet', '--no-local', PROJECT_ROOT, clone], { stdio: 'inherit' });
  execFileSync('cp', ['-al', join(PROJECT_ROOT, 'node_modules'), join(clone, 'node_modules')]);
  const t0 = performance.now();
  const install = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: clone, encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`npm install in the clone failed:\n${install.stderr}`);
  const npmInstallSeconds = (performance.now() - t0) / 1000;
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  const start = async () => {
    const child = await spawnServer({ name: 'fresh clone npm start', command: 'npm', args: ['start'], env, cwd: clone, readyPath: DOC_PATH, timeoutMs: 60_000 });
    await child.stop();
    return Math.round(child.startMs);
  };
  const firstStartMs = await start();
  const secondStartMs = await start();
  return { npmInstallSeconds: round(npmInstallSeconds, 1), firstStartMs, secondStartMs, loadAverage: load1() };
}

// ---------------------------------------------------------------- report

const verdict = (met: boolean | null | undefined) => (met === null || met === undefined ? '' : met ? ' ✓' : ' ✗');

function report(corpora: CorpusResult[], clone: FreshClone | null): string {
  const one = corpora.find((c) => c.conditions === 1);
  const keys = [...new Set(corpora.flatMap((c) => Object.keys(c.scenarios)))];
  const header = ['scenario', 'bytes', ...corpora.flatMap((c) => [`N=${c.conditions} µs/req (raw)`, `N=${c.conditions} ratio`]), 'ratio target', ...(corpora.length > 1 ? ['µs N=1000 ÷ N=1 (target)'] : [])];
  const rows: Cell[][] = keys.map((k) => {
    const first = corpora.map((c) => c.scenarios[k]).find((x) => x);
    const growthTarget = scenarioTargets.get(k)?.growthTarget;
    const big = corpora.find((c) => c.conditions === 1000)?.scenarios[k];
    const small = one?.scenarios[k];
    const growth = big && small ? big.serviceCpuUs / small.serviceCpuUs : NaN;
    return [
      first?.label ?? k,
      first?.bodyBytes ?? null,
      ...corpora.flatMap((c): Cell[] => {
        const x = c.scenarios[k];
        if (!x) return [null, null];
        const extra = k === 'export' ? ` µs/MB (raw); ${x.mbPerS} MB/s (raw ${x.rawMbPerS})` : '';
        const cpu = k === 'export' ? `${x.cpuUsPerMB} (${x.rawCpuUsPerMB})` : `${x.serviceCpuUs} (${x.rawCpuUs})`;
        const bad = x.errors || x.badStatus ? ` ⚠ ${x.errors} errors, ${x.badStatus} non-2xx/3xx` : '';
        return [`${cpu}${extra}${bad}`, `${x.ratio.toFixed(2)}${verdict(x.met)}`];
      }),
      first?.target ? `≥ ${first.target.toFixed(2)}` : '—',
      ...(corpora.length > 1 ? [Number.isFinite(growth) ? `${growth.toFixed(2)}${growthTarget ? ` (≤ ${growthTarget})${verdict(growth <= growthTarget)}` : ''}` : '—'] : []),
    ];
  });
  const lines = [markdownTable(header, rows), ''];
  const floors: Cell[][] = corpora.flatMap((c) =>
    Object.values(c.scenarios).flatMap((x): Cell[][] => (x.floor ? [[`${x.label}, N=${c.conditions}`, `${x.floor.cpuUs} (${x.rawCpuUs})`, x.floor.ratio.toFixed(2), x.ratio.toFixed(2)]] : [])),
  );
  if (floors.length) {
    lines.push('Fastify\'s own floor: a bare Fastify app (no plugin, hook or logger; one catch-all route) replaying the same bytes in the same rounds:', '');
    lines.push(markdownTable(['scenario', 'bare Fastify µs/req (raw)', 'bare Fastify ratio', 'service ratio'], floors), '');
  }
  const other: Cell[][] = [];
  for (const c of corpora) {
    const doc = c.scenarios.document;
    if (doc)
      other.push([
        `cached document p99 at ${CONNECTIONS} connections, N=${c.conditions}`,
        `${doc.p99} ms (raw node:http on the same bytes: ${doc.rawP99} ms)`,
        `< ${TARGETS.p99DocumentMs} ms${verdict(doc.p99 < TARGETS.p99DocumentMs)}`,
      ]);
    if (c.write)
      other.push([
        `write (PATCH + re-read of the document), N=${c.conditions}`,
        `${c.write.serviceCpuUsPerCycle} µs CPU; PATCH p50 ${c.write.patchP50} / p99 ${c.write.patchP99} ms; re-read p50 ${c.write.rereadP50} ms; ${c.write.staleReads} stale of ${c.write.writes}`,
        'stale = 0' + verdict(c.write.staleReads === 0),
      ]);
  }
  const big = corpora.find((c) => c.conditions === 1000) ?? corpora[corpora.length - 1];
  if (big) {
    const at = `N=${big.conditions}`;
    other.push([`kb build, ${at}`, `${big.buildSeconds} s`, `≤ ${TARGETS.buildSeconds} s${verdict(big.buildSeconds <= TARGETS.buildSeconds)}`]);
    other.push([`database size, ${at}`, `${big.databaseMB} MB`, `≤ ${TARGETS.databaseMB} MB${verdict(big.databaseMB <= TARGETS.databaseMB)}`]);
    const peak = Object.entries(big.scenarios).filter(([, s]) => !s.label.includes('cache off')).sort((a, b) => b[1].peakRssMB - a[1].peakRssMB)[0];
    if (big.readLoadRssMB !== null)
      other.push([`RSS under read load (fresh server: documents, 304, sections, lists, search, context), ${at}`, `${big.readLoadRssMB} MB`, `≤ ${TARGETS.rssMB} MB${verdict(big.readLoadRssMB <= TARGETS.rssMB)}`]);
    other.push([
      `RSS peak of the server that ran every scenario, ${at}`,
      `${big.rssUnderLoadMB} MB (highest during ${peak?.[0] ?? '?'}; idle after start ${big.idleRssMB} MB)`,
      `≤ ${TARGETS.rssMB} MB${verdict(big.rssUnderLoadMB <= TARGETS.rssMB)}`,
    ]);
    if (big.coldStartMs.length)
      other.push([`cold start to first 200, database built, ${at}`, `${big.coldStartMedianMs} ms (${big.coldStartMs.join(', ')})`, `≤ ${TARGETS.coldStartMs} ms${verdict(big.coldStartMedianMs <= TARGETS.coldStartMs)}`]);
  }
  if (clone) {
    other.push([
      'fresh clone: `npm start` → first 200 (builds the database)',
      `${clone.firstStartMs} ms (again, built: ${clone.secondStartMs} ms; npm install ${clone.npmInstallSeconds} s)`,
      `≤ ${TARGETS.freshCloneStartMs} ms${verdict(clone.firstStartMs <= TARGETS.freshCloneStartMs)}`,
    ]);
  }
  lines.push(markdownTable(['figure', 'measured', 'target'], other));
  if (big?.space) {
    lines.push('', `Where the bytes go at N=${big.conditions} (dbstat):`, '');
    lines.push(markdownTable(['table (with its indexes)', 'MB', '%'], big.space.byTable.slice(0, 12).map((t) => [t.table, t.MB, t.pct])));
  }
  // The write run records its own load too: a run of `--only write` has no other scenario.
  const loads = corpora.flatMap((c) => [...Object.values(c.scenarios).flatMap((s) => s.loadAverages), ...(c.write?.loadAverages ?? []), c.loadAverage.start, c.loadAverage.end]);
  lines.push('', `Load average (1 min) during the runs: ${Math.min(...loads)}–${Math.max(...loads)} (median ${median(loads)}) on ${cpus().length} cores.`);
  return lines.join('\n');
}

const scenarioTargets = new Map(scenarios('"x"', '/v1/export').map((s): [string, Scenario] => [s.key, s]));

function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage1m: load1(),
    niceness: raised ? BENCH_NICENESS : 0,
  };
}

// ---------------------------------------------------------------- profile

async function profile(key: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-profile-'));
  const profiles = join(dir, 'profiles');
  const n = Number(option('conditions') ?? 1);
  try {
    const contentDir = join(dir, 'content');
    writeBenchContent(CONTENT_DIR, contentDir, n);
    const db = join(dir, 'kb.sqlite');
    kbBuild(contentDir, db);
    const list = scenarios('"x"', null);
    const s = list.find((x) => x.key === key);
    if (!s) throw new Error(`--profile takes one of: ${list.map((x) => x.key).join(', ')}`);
    const server = await startService('profiled server', db, s.uncached ? { RENDER_CACHE: 'off' } : {}, ['--cpu-prof', `--cpu-prof-dir=${profiles}`]);
    const etag = String((await httpGet(server.base + DOC_PATH)).headers.etag ?? '');
    const requests = scenarios(etag, null).find((x) => x.key === key)?.requests ?? [];
    await runWrk(server.base, requests, { seconds: WARMUP, connections: CONNECTIONS, dir });
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const r = await measure(server, requests, Math.max(DURATION, 5), CONNECTIONS, dir);
    const window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
    log(`  ${key} at N=${n}: ${Math.round(r.rps)} req/s, p99 ${r.p99.toFixed(2)} ms, server ${r.cpuUsPerReq.toFixed(1)} µs/req`);
    await server.stop();
    const file = readdirSync(profiles).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no profile was written');
    const kept = join(PROJECT_ROOT, 'bench', 'results', `profile-${key}-n${n}.cpuprofile.tmp`);
    cpSync(join(profiles, file), kept);
    const hot = hotFunctions(kept, 30, window);
    console.log(`\nself time by module (${hot.totalMs} ms sampled under load, ${r.responses} requests):`);
    console.log(textTable(['module', '%'], timeByModule(kept, window).map((m) => [m.module, m.pct])));
    console.log('\nhottest functions (self time):');
    console.log(textTable(['function', 'where', 'self ms', '%'], hot.functions.map((f) => [f.name, f.where, f.selfMs, f.selfPct])));
    console.log(`\nprofile kept at ${kept} (open it in Chrome DevTools → Performance)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main

if (!wrkAvailable()) {
  console.error(`bench: ${WRK_INSTALL}`);
  process.exit(1);
}
const raised = raisePriority();
log(raised ? `bench: processes run at niceness ${BENCH_NICENESS}` : 'bench: could not raise priority (not root); other work on this machine will show in the numbers');

const profileKey = option('profile');
if (profileKey) {
  await profile(profileKey);
} else {
  if (SIZES.some((n) => !Number.isInteger(n) || n < 1 || n > 9999)) throw new Error('--conditions takes whole numbers from 1 to 9999 (comma-separated)');
  const root = mkdtempSync(join(tmpdir(), 'kb-bench-'));
  try {
    log(`bench: wrk -t1 -c${CONNECTIONS}, ${ROUNDS} rounds × ${DURATION} s per server per scenario; N = ${SIZES.join(', ')}; machine ${JSON.stringify(machine())}`);
    const started = performance.now();
    const corpora: CorpusResult[] = [];
    for (const n of SIZES) corpora.push(await benchCorpus(n, root));
    const clone = flag('no-fresh-clone') ? null : await freshClone(root);
    if (clone) log(`fresh clone: npm install ${clone.npmInstallSeconds} s; npm start → first 200 in ${clone.firstStartMs} ms (database built on the way), ${clone.secondStartMs} ms again`);
    const markdown = report(corpora, clone);
    console.log(`\n${markdown}\n`);
    mkdirSync(join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
    const previous = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>) : {};
    const partial = Boolean(ONLY) || option('conditions') !== undefined;
    writeFileSync(
      RESULTS,
      `${JSON.stringify(
        {
          ...(partial ? previous : {}),
          [partial ? `partial-${SIZES.join('-')}${ONLY ? `-${ONLY.join('-')}` : ''}` : 'run']: {
            date: new Date().toISOString(),
            seconds: Math.round((performance.now() - started) / 1000),
            machine: machine(),
            settings: { generator: 'wrk -t1', connections: CONNECTIONS, rounds: ROUNDS, durationSeconds: DURATION, warmupSeconds: WARMUP, logLevel: 'warn', rateLimitMax: 1e9 },
            targets: TARGETS,
            corpora,
            freshClone: clone,
            markdown,
          },
        },
        null,
        2,
      )}\n`,
    );
    log(`wrote ${RESULTS} (${Math.round((performance.now() - started) / 1000)} s)`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

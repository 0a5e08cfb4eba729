/**
 * The load generator: `wrk` (C, one thread, epoll; the Debian package), driven by a Lua script
 * written per scenario. It is not the bottleneck on large bodies, where a JavaScript generator
 * saturated first (autocannon: the service and raw node:http both near 1.3k req/s on 64 KB).
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuMsOf, raisePriority } from './proc.js';

export interface BenchRequest {
  method: 'GET' | 'PATCH';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface WrkResult {
  requests: number;
  seconds: number;
  bytes: number;
  /** connect + read + write + timeout errors */
  errors: number;
  /** responses outside 2xx and 3xx */
  badStatus: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** the load generator's own CPU, % of one core */
  wrkCpuPct: number;
}

export const WRK_INSTALL = 'wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or build it from https://github.com/wg/wrk; `npm test` does not need it.';

export function wrkAvailable(): boolean {
  const r = spawnSync('wrk', ['--version'], { stdio: 'ignore' });
  return !r.error;
}

/** A Lua long string that cannot be closed by its own content. */
function luaString(s: string): string {
  let level = '';
  while (s.includes(`]${level}]`)) level += '=';
  return `[${level}[${s}]${level}]`;
}

/**
 * The script: every request pre-formatted once in `init` and cycled through by each connection,
 * and `done` printing the summary as one JSON line (latencies in microseconds).
 */
export function wrkScript(requests: BenchRequest[]): string {
  const formatted = requests.map((r) => {
    const headers = Object.entries(r.headers ?? {})
      .map(([k, v]) => `[ ${luaString(k)} ] = ${luaString(v)}`)
      .join(', ');
    return `wrk.format(${luaString(r.method)}, ${luaString(r.path)}, { ${headers} }, ${r.body === undefined ? 'nil' : luaString(r.body)})`;
  });
  return `local reqs = {}
local n = 0
init = function(args)
${formatted.map((f) => `  table.insert(reqs, ${f})`).join('\n')}
  n = #reqs
end
local i = 0
request = function()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"durationUs":%d,"bytes":%d,"errors":%d,"status":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;
}

interface WrkJson {
  requests: number;
  durationUs: number;
  bytes: number;
  errors: number;
  status: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface WrkOptions {
  seconds: number;
  connections: number;
  /** folder for the script */
  dir: string;
  timeoutSeconds?: number;
}

/** One wrk run (one thread) against `base`, cycling through `requests`. */
export function runWrk(base: string, requests: BenchRequest[], o: WrkOptions): Promise<WrkResult> {
  const script = join(o.dir, `wrk-${process.pid}-${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(script, wrkScript(requests));
  const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, `--timeout`, `${o.timeoutSeconds ?? 10}s`, '-s', script, base];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const proc = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (proc.pid !== undefined) raisePriority(proc.pid);
    let out = '';
    let err = '';
    let cpuMs = 0;
    // wrk's CPU read while it runs (its /proc entry is gone once it exits): the last reading counts.
    const sampler = setInterval(() => {
      try {
        if (proc.pid !== undefined) cpuMs = cpuMsOf(proc.pid);
      } catch {
        // exited between two readings
      }
    }, 100);
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    proc.on('error', (e) => {
      clearInterval(sampler);
      reject(e);
    });
    proc.on('close', (code) => {
      clearInterval(sampler);
      const line = out.split('\n').find((l) => l.startsWith('WRKJSON '));
      if (code !== 0 || !line) {
        reject(new Error(`wrk exited with ${code}: ${err || out}`));
        return;
      }
      const j = JSON.parse(line.slice('WRKJSON '.length)) as WrkJson;
      const elapsed = (performance.now() - started) / 1000;
      resolve({
        requests: j.requests,
        seconds: j.durationUs / 1e6,
        bytes: j.bytes,
        errors: j.errors,
        badStatus: j.status,
        latencyMs: { p50: j.p50 / 1000, p90: j.p90 / 1000, p99: j.p99 / 1000, max: j.max / 1000 },
        wrkCpuPct: (cpuMs / 10) / elapsed,
      });
    });
  });
}

/**
 * Child processes for the benchmark: spawn a server on a port chosen here, wait for its first 200,
 * read its memory and CPU time from /proc, and stop it. Every server (the real one and the raw
 * ceiling) runs as a child of the same shape, so both are measured the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request, type Agent } from 'node:http';
import { createServer } from 'node:net';
import { setPriority } from 'node:os';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** [name, value, name, value, …] as received */
  rawHeaders: string[];
  body: Buffer;
}

/** What bench/probe.mjs answers: responses finished, CPU microseconds and RSS of the server process. */
export interface ProbeSample {
  responses: number;
  cpuUs: number;
  rss: number;
}

/** One request of any method on a keep-alive agent or a fresh connection, bounded by a timeout. */
export function httpRequest(
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string; agent?: Agent | false; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const timeoutMs = o.timeoutMs ?? 10_000;
    const req = request(url, { method: o.method ?? 'GET', headers: o.headers, agent: o.agent ?? false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${o.method ?? 'GET'} ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** One GET on a fresh connection (no agent), bounded by a timeout. */
export function httpGet(url: string, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<HttpResult> {
  return httpRequest(url, { headers, timeoutMs });
}

/** A port that was free a moment ago (the kernel picks it; the child binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Niceness for the benchmark's processes (the load generator and every server alike). The machine
 * is shared: raising all of them equally lets other work disturb the measurement less without
 * favouring either side of a comparison. Needs root (or CAP_SYS_NICE); otherwise nothing changes.
 */
export const BENCH_NICENESS = -10;

/** Applies BENCH_NICENESS to a process (0 = this one); false when not allowed. */
export function raisePriority(pid = 0): boolean {
  try {
    setPriority(pid, BENCH_NICENESS);
    return true;
  } catch {
    return false;
  }
}

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  port: number;
  base: string;
  /** Milliseconds from spawn to the first 200 on the readiness URL. */
  startMs: number;
  stderr: () => string;
  /** The probe's reading (bench/probe.mjs); only for children spawned with `probe: true`. */
  sample: () => Promise<ProbeSample>;
  stop: () => Promise<void>;
}

export interface SpawnOptions {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Path polled until it answers 200. */
  readyPath: string;
  port?: number;
  timeoutMs?: number;
  /** Run this command instead of `node` (e.g. `npm`); it is then stopped as a process group. */
  command?: string;
  /** Open an IPC channel for bench/probe.mjs (which `args` must preload). */
  probe?: boolean;
}

/**
 * Spawns `node ...args` with PORT set, then polls `readyPath` every 5 ms until it answers 200
 * (bounded by timeoutMs). The time to that answer is the cold start.
 */
export async function spawnServer(o: SpawnOptions): Promise<Child> {
  const port = o.port ?? (await freePort());
  const started = performance.now();
  const proc = spawn(o.command ?? process.execPath, o.args, {
    cwd: o.cwd,
    env: { ...o.env, PORT: String(port) },
    stdio: o.probe ? ['ignore', 'ignore', 'pipe', 'ipc'] : ['ignore', 'ignore', 'pipe'],
    // A command such as npm starts node as its own child: both are stopped together.
    detached: o.command !== undefined,
  });
  let err = '';
  proc.stderr?.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-4000);
  });
  let exited: number | null | undefined;
  proc.on('exit', (code) => {
    exited = code;
  });
  const pid = proc.pid;
  if (pid === undefined) throw new Error(`${o.name}: spawn failed`);
  raisePriority(pid);
  const base = `http://127.0.0.1:${port}`;
  const deadline = started + (o.timeoutMs ?? 30_000);
  let startMs = -1;
  while (performance.now() < deadline) {
    if (exited !== undefined) throw new Error(`${o.name} exited with ${exited} before answering:\n${err}`);
    try {
      const res = await httpGet(base + o.readyPath, {}, 2000);
      if (res.status === 200) {
        startMs = performance.now() - started;
        break;
      }
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  if (startMs < 0) {
    proc.kill('SIGKILL');
    throw new Error(`${o.name} did not answer 200 on ${o.readyPath} within ${o.timeoutMs ?? 30_000} ms:\n${err}`);
  }
  const stop = async () => {
    if (exited !== undefined) return;
    const gone = new Promise<void>((r) => proc.once('exit', () => r()));
    const kill = (signal: NodeJS.Signals) => {
      try {
        if (o.command !== undefined) process.kill(-pid, signal);
        else proc.kill(signal);
      } catch {
        // already gone
      }
    };
    kill('SIGTERM');
    // Graceful close first (a CPU profile is written on a clean exit); SIGKILL after 15 s.
    const timer = setTimeout(() => kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  };
  const sample = () =>
    new Promise<ProbeSample>((resolve, reject) => {
      if (!o.probe || !proc.connected) {
        reject(new Error(`${o.name}: no probe channel`));
        return;
      }
      proc.once('message', (m) => resolve(m as ProbeSample));
      proc.send('sample');
    });
  return { name: o.name, proc, pid, port, base, startMs, stderr: () => err, sample, stop };
}

/** Resident set size of a process in bytes (VmRSS), or 0 when it is gone. */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Clock ticks per second for /proc/<pid>/stat; 100 on every Linux this runs on (USER_HZ). */
const CLK_TCK = 100;

/** User + system CPU time of a process in milliseconds (from /proc/<pid>/stat, 10 ms resolution). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may itself hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLK_TCK;
}

/** Samples RSS every `everyMs` until stopped; returns the peak. */
export function sampleRss(pid: number, everyMs = 200): () => number {
  let peak = rssOf(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid));
  }, everyMs);
  return () => {
    clearInterval(timer);
    return Math.max(peak, rssOf(pid));
  };
}

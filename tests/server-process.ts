/**
 * Starts the real entry point in a child process on a free loopback port (PORT=0) and finds the
 * address in its own "Server listening at" log line, so tests never race for a port number.
 * Shared by the production, replicas and browser tests; e2e.test.ts predates it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/paths.js';

export interface ServerProcess {
  base: string;
  child: ChildProcess;
  /** Everything the process wrote so far, for failure messages. */
  output: () => string;
  /** Sends SIGTERM and resolves with the exit code (SIGKILL after `graceMs`, resolving null). */
  stop: (graceMs?: number) => Promise<number | null>;
}

export interface StartOptions {
  /** Arguments after `node`; by default the TypeScript entry point through tsx. */
  args?: string[];
  /** A command that runs `node` (e.g. `setpriv --reuid=…`, `unshare --mount …`): prefixed to it. */
  wrap?: string[];
  cwd?: string;
  env: Record<string, string>;
  startTimeoutMs?: number;
}

export const TSX_SERVER_ARGS = ['--import', import.meta.resolve('tsx'), join(PROJECT_ROOT, 'src/server.ts')];

function spawnServer(options: StartOptions): ChildProcess {
  const [command = process.execPath, ...prefix] = options.wrap ? [...options.wrap, process.execPath] : [process.execPath];
  return spawn(command, [...prefix, ...(options.args ?? TSX_SERVER_ARGS)], {
    cwd: options.cwd ?? PROJECT_ROOT,
    // Only what the caller names, plus PATH: the child must not inherit vitest's settings
    // (NODE_OPTIONS, VITEST_*), which would make it differ from a real deployment.
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a server that is expected not to start: resolves with its exit code and what it printed. */
export function failedStart(options: StartOptions): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnServer(options);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    // It started after all: stop it, and let the caller's assertion on the exit code fail.
    if (stdout.includes('Server listening at')) child.kill('SIGKILL');
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), options.startTimeoutMs ?? 30_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    }),
  );
}

export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const child = spawnServer(options);
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${options.startTimeoutMs ?? 30_000} ms:\n${out}`));
    }, options.startTimeoutMs ?? 30_000);
    const onData = () => {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });

  return {
    base,
    child,
    output: () => out,
    stop: async (graceMs = 15_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

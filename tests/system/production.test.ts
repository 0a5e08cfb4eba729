/**
 * The production path, step by step as the Dockerfile takes it, in temporary folders:
 *
 *   build stage    the files the Dockerfile COPYs from the context, `npm ci`, `npm run build`,
 *                  `npm prune --omit=dev`
 *   runtime stage  only what the Dockerfile copies from the build stage (package.json,
 *                  node_modules, dist, migrations, db/content), then `node dist/src/server.js`
 *
 * The file lists are read from the Dockerfile itself, so the image and this test cannot drift
 * apart unnoticed. No Docker engine runs on these machines; this is the nearest real check.
 *
 * One step is substituted: instead of `npm ci` the build folder gets a copy of the project's own
 * node_modules, installed from the same lockfile. A real `npm ci` compiles better-sqlite3 from
 * source (about 2 minutes here: prebuilt binaries cannot be downloaded), which would dominate
 * `npm test` and prove nothing extra about our code. Everything after it is real: tsc, npm's
 * own prune, and `npm ls` to show the pruned tree is a complete production install.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/paths.js';
import { startServer, type ServerProcess } from '../server-process.js';

const run = promisify(execFile);

interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}
interface Stage {
  name: string;
  workdir: string;
  copies: Copy[];
  runs: string[];
  cmd?: string[];
  healthcheck?: string[];
}

/** Just enough of the Dockerfile grammar for this file: FROM/WORKDIR/COPY/RUN/CMD/HEALTHCHECK. */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [instruction = '', ...rest] = line.split(/\s+/);
    const args = line.slice(instruction.length).trim();
    const stage = stages.at(-1);
    switch (instruction.toUpperCase()) {
      case 'FROM':
        stages.push({ name: /\bAS\s+(\S+)/i.exec(args)?.[1] ?? String(stages.length), workdir: '/', copies: [], runs: [] });
        break;
      case 'WORKDIR':
        if (stage) stage.workdir = args;
        break;
      case 'COPY': {
        const flags = rest.filter((a) => a.startsWith('--'));
        const paths = rest.filter((a) => !a.startsWith('--'));
        if (paths.length < 2 || args.startsWith('[')) throw new Error(`COPY form not understood: ${line}`);
        const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
        stage?.copies.push({ ...(from ? { from } : {}), sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' });
        break;
      }
      case 'RUN':
        stage?.runs.push(...args.split('&&').map((s) => s.trim()));
        break;
      case 'CMD':
        if (stage) stage.cmd = JSON.parse(args) as string[];
        break;
      case 'HEALTHCHECK': {
        const json = /\bCMD\s+(\[.*\])\s*$/.exec(args)?.[1];
        if (stage && json) stage.healthcheck = JSON.parse(json) as string[];
        break;
      }
    }
  }
  return stages;
}

/** Bare module specifiers imported anywhere in the compiled output (static and dynamic). */
function importedPackages(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.js')) {
        const text = readFileSync(path, 'utf8');
        // Static imports and re-exports start a line in tsc's output; dynamic ones may be anywhere.
        const statics = text.matchAll(/^(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]/gm);
        const dynamics = text.matchAll(/\b(?:import|require|import\.meta\.resolve)\(\s*['"]([^'"]+)['"]\s*\)/g);
        for (const m of [...statics, ...dynamics]) {
          const spec = m[1] ?? m[2] ?? '';
          if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
          const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);
          if (!found.has(pkg)) found.set(pkg, relative(dir, path));
        }
      }
    }
  };
  walk(dir);
  return found;
}

const npm = (cwd: string, args: string[]) =>
  // --prefer-offline: everything is in npm's cache after an install; the registry only if not.
  run('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund'], { cwd, maxBuffer: 16 * 1024 * 1024 });

const DEV_TOOLS = ['typescript', 'tsx', 'vitest', 'eslint', 'drizzle-kit', 'openapi-typescript', 'playwright-core', '@stoplight/spectral-cli'];

let tmp: string;
let build: Stage;
let runtime: Stage;
let runtimeDir: string;
let server: ServerProcess | undefined;
const timings: Record<string, number> = {};

async function timed<T>(label: string, step: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  try {
    return await step();
  } finally {
    timings[label] = Math.round(performance.now() - t0);
  }
}

beforeAll(async () => {
  const stages = parseDockerfile(readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8'));
  const b = stages.find((s) => s.name === 'build');
  const r = stages.at(-1);
  if (!b || !r || r === b) throw new Error('Dockerfile needs a stage named "build" and a later runtime stage');
  build = b;
  runtime = r;

  tmp = mkdtempSync(join(tmpdir(), 'kb-prod-'));
  const buildDir = join(tmp, 'build');
  runtimeDir = join(tmp, 'runtime');

  // Build stage: exactly the context files the Dockerfile copies, in the same places.
  await timed('copy context', () => {
    for (const c of build.copies) {
      if (c.from) throw new Error(`build stage copies from ${c.from}; this test does not model that`);
      for (const src of c.sources) {
        const target = c.sources.length > 1 || c.dest.endsWith('/') ? join(buildDir, c.dest, src) : join(buildDir, c.dest);
        cpSync(join(PROJECT_ROOT, src), target, { recursive: true });
      }
    }
  });
  expect(build.runs).toContain('npm ci');
  // `npm ci` stand-in (see the header): the same lockfile, already installed and compiled.
  // From the real folder, so a symlinked node_modules is copied, not linked: the prune below
  // must never reach the project's own dependencies.
  await timed('npm ci (copy of node_modules)', () => run('cp', ['-a', realpathSync(join(PROJECT_ROOT, 'node_modules')), join(buildDir, 'node_modules')]));
  if (lstatSync(join(buildDir, 'node_modules')).isSymbolicLink()) throw new Error('node_modules in the build folder is a link');
  for (const step of build.runs.filter((s) => s.startsWith('npm ') && s !== 'npm ci')) {
    await timed(step, () => npm(buildDir, step.split(/\s+/).slice(1)));
  }

  // Runtime stage: only what the Dockerfile takes from the build stage.
  mkdirSync(runtimeDir);
  for (const c of runtime.copies.filter((c) => c.from === 'build')) {
    for (const src of c.sources) {
      const target = join(runtimeDir, c.dest);
      mkdirSync(dirname(target), { recursive: true });
      // Moving is the same as copying here and saves copying node_modules a second time.
      renameSync(join(buildDir, relative(build.workdir, src)), target);
    }
  }
  rmSync(buildDir, { recursive: true, force: true });
}, 120_000);

afterAll(async () => {
  await server?.stop(2_000);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  console.log(`production path timings (ms): ${JSON.stringify(timings)}`);
});

describe('production path (the Dockerfile steps in temp folders)', () => {
  it('the build stage compiles, prunes, and the runtime stage holds only the copied paths', () => {
    expect(build.runs).toEqual(expect.arrayContaining(['npm ci', 'npm run build', 'npm prune --omit=dev']));
    expect(readdirSync(runtimeDir).sort()).toEqual(['db', 'dist', 'migrations', 'node_modules', 'package.json']);
    expect(readdirSync(join(runtimeDir, 'db'))).toEqual(['content']);
    expect(existsSync(join(runtimeDir, 'dist/src/server.js'))).toBe(true);
    expect(existsSync(join(runtimeDir, 'src'))).toBe(false);
  });

  it('holds no development dependency: not one package the lockfile marks dev', () => {
    const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devPresent = Object.entries(lock.packages)
      .filter(([path, meta]) => path && meta.dev === true && existsSync(join(runtimeDir, path)))
      .map(([path]) => path);
    expect(devPresent).toEqual([]);
    for (const tool of DEV_TOOLS) expect(existsSync(join(runtimeDir, 'node_modules', tool)), tool).toBe(false);
    expect(existsSync(join(runtimeDir, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
  });

  it('is a complete production install (npm ls finds nothing missing or extraneous)', async () => {
    const { stdout } = await timed('npm ls --omit=dev', () => npm(runtimeDir, ['ls', '--all', '--omit=dev', '--parseable']));
    expect(stdout).toContain('better-sqlite3');
  });

  it('the compiled code imports only declared production dependencies, never tsx or typescript', () => {
    const pkg = JSON.parse(readFileSync(join(runtimeDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const imported = importedPackages(join(runtimeDir, 'dist'));
    expect(imported.size).toBeGreaterThan(5);
    const undeclared = [...imported].filter(([name]) => !(name in pkg.dependencies)).map(([name, file]) => `${name} (${file})`);
    expect(undeclared).toEqual([]);
    for (const tool of DEV_TOOLS) expect(imported.has(tool), tool).toBe(false);
    const entry = readFileSync(join(runtimeDir, 'dist/src/server.js'), 'utf8');
    expect(entry).not.toMatch(/\btsx\b|\btypescript\b/);
  });

  it('`node dist/src/server.js` builds the database on first start, is ready, passes the HEALTHCHECK, and exits 0 on SIGTERM', async () => {
    expect(runtime.cmd).toEqual(['node', 'dist/src/server.js']);
    const databasePath = join(runtimeDir, 'data', 'kb.sqlite');
    server = await timed('start', () =>
      startServer({
        args: (runtime.cmd ?? []).slice(1),
        cwd: runtimeDir,
        env: { NODE_ENV: 'production', DATABASE_PATH: databasePath },
      }),
    );
    expect(existsSync(databasePath)).toBe(true);

    // Polled as an orchestrator polls a readiness probe: any other answer means "not yet". Right
    // after the synchronous first-start build, load shedding refuses requests for about a second;
    // the interim answers are printed so a wrong one (it was a 500) stays visible.
    const deadline = Date.now() + 10_000;
    const interim: string[] = [];
    let ready = await fetch(`${server.base}/ready`);
    while (ready.status !== 200 && Date.now() < deadline) {
      interim.push(`${ready.status} ${(await ready.text()).slice(0, 120)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      ready = await fetch(`${server.base}/ready`);
    }
    if (interim.length) console.log(`/ready before 200:\n${interim.join('\n')}`);
    const readyBody = await ready.text();
    expect(ready.status, `${readyBody}\n${server.output()}`).toBe(200);
    expect(JSON.parse(readyBody)).toMatchObject({ status: 'ready' });
    expect((await fetch(`${server.base}/v1/conditions/calciphylaxis`)).status).toBe(200);
    // The docs page's assets come from a production dependency (@fastify/swagger-ui).
    expect((await fetch(`${server.base}/docs/static/swagger-ui.css`)).status).toBe(200);

    // The image's HEALTHCHECK command itself, pointed at this server's port.
    const health = runtime.healthcheck ?? [];
    expect(health[0]).toBe('node');
    const port = new URL(server.base).port;
    await expect(run(process.execPath, health.slice(1), { env: { PORT: port } })).resolves.toBeDefined();

    expect(await server.stop()).toBe(0);
    expect(server.output()).toMatch(/SIGTERM received, closing/);
  });

  it('the compiled kb command runs without dev tools', async () => {
    const { stdout } = await run(process.execPath, ['dist/src/cli/kb.js', 'validate'], { cwd: runtimeDir, env: { PATH: process.env.PATH ?? '' } });
    expect(stdout).toMatch(/^ok: \d+ condition file\(s\) valid/);
  });

  it('the compiled kb command builds on two threads (its reading worker compiled beside it)', async () => {
    const db = join(runtimeDir, 'kb-build-check.sqlite');
    const { stdout } = await run(process.execPath, ['dist/src/cli/kb.js', 'build', '--db', db], { cwd: runtimeDir, env: { PATH: process.env.PATH ?? '' } });
    expect(stdout).toMatch(/^built .*kb-build-check\.sqlite: \d+ condition\(s\)/);
    expect(existsSync(db)).toBe(true);
  });
});

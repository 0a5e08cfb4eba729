/**
 * `npm start`: runs the server from one JavaScript file instead of transpiling TypeScript at
 * every start (tsx spent seconds on it, and its loader thread ~36 MB), with V8's compiled code
 * for that file kept beside it.
 *
 * The file, dist/start/server.cjs, is src/server.ts bundled by esbuild with every package it
 * loads (Fastify, its plugins, Ajv, pino, typebox, drizzle-orm, …) except better-sqlite3, whose
 * native addon must be found in node_modules. Loading Fastify and its plugins as ~400 small
 * CommonJS modules was a third of the start-up (compiling each, the ES-module lexer scanning each
 * for its exports, stat and package.json lookups to resolve each require). Packages that read
 * files of their own at run time (@fastify/swagger-ui: its logo and static assets) are bundled
 * with `__dirname` pointed back at their folder in node_modules (`nodeModules` below, which also
 * makes Fastify's unused node:http2 lazy).
 *
 * It is CommonJS so that it can be compiled through `vm.Script`, which takes and produces V8 code
 * caches on Node 20 (the ES-module loader cannot; `module.enableCompileCache` is Node 22). The
 * first start after a build writes dist/start/server.cjs.cache once it has answered its first
 * request, so the functions that start-up and the first request compiled lazily are in it; later
 * starts hand it to V8 and skip parsing and compiling them. The cache names the bundle it was made
 * from (size, mtime, inode: a rebuild renames a new file into place) and the Node version, and
 * carries a checksum of its bytes; any mismatch, a cache V8 rejects (`cachedDataRejected`: other
 * V8 version or flags) or an unreadable file means compiling from source and writing it again.
 * Start-up to the first response at 1,000 conditions: README, Performance ("Start-up, third
 * round").
 *
 * The bundle is made by `npm install` (the `prepare` script, which also writes the code cache:
 * warmCodeCache below) and again here whenever a file it is built from is newer than it (the
 * lockfiles: changed in content), so an edited checkout never runs stale code.
 *
 *   node src/start.mjs             start (rebuilding first when stale)
 *   node src/start.mjs --prepare   only bring the bundle and its code cache up to date (`npm install` runs this)
 *
 * Stack traces point into the bundle; NODE_OPTIONS=--enable-source-maps maps them to src/ (a
 * linked source map is written beside it, not loaded by default: parsing it costs start-up time;
 * with source maps on, the bundle is loaded by require() without the code cache, so Node applies
 * the map).
 */
import { Buffer, isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { clearTimeout, setImmediate, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const BUNDLE = join(ROOT, 'dist', 'start', 'server.cjs');
export const CODE_CACHE = `${BUNDLE}.cache`;
/**
 * Bundled with the server, in the same esbuild run: the `kb` command (src/kb.mjs runs it) and
 * the worker thread its build reads files in (src/content/parallelBuild.ts finds it beside kb).
 * tsx took ~1.5 s to start `kb` from source, a tenth of a build at 1,000 conditions.
 */
const ENTRIES = { server: join('src', 'server.ts'), kb: join('src', 'cli', 'kb.ts'), 'build-worker': join('src', 'content', 'buildWorker.ts') };
/** Where the bundle of an entry of ENTRIES goes. */
const bundleFile = (name) => join(dirname(BUNDLE), `${name}.cjs`);
export const KB_BUNDLE = bundleFile('kb');

/**
 * Left in node_modules: better-sqlite3 finds its native addon relative to its own files.
 * (pino would need its own files only for transports in worker threads, which the server does not
 * configure: it logs to process.stdout.)
 */
const EXTERNAL = ['better-sqlite3'];

/**
 * The lockfiles, compared by content when they are newer than the bundle: `npm install` rewrites
 * node_modules/.package-lock.json in place even when nothing changed, and a checkout whose
 * node_modules is hard-linked from another (`cp -al`, the benchmark's fresh clone) shares that
 * file, so its date alone made every start after another checkout's install rebuild the bundle.
 */
const LOCKFILES = ['package-lock.json', 'node_modules/.package-lock.json'];
const INPUT_HASHES = `${BUNDLE}.inputs.json`;

const hashOf = (path) => {
  try {
    return createHash('sha256').update(readFileSync(join(ROOT, path))).digest('hex');
  } catch {
    return null;
  }
};

/** The newest modification time of what the bundle is made from, lockfiles aside. */
function newestInput() {
  let newest = 0;
  const visit = (path) => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['src', 'db/schema.ts', 'package.json', 'tsconfig.json']) visit(join(ROOT, p));
  return newest;
}

function isFresh() {
  const st = statSync(BUNDLE, { throwIfNoEntry: false });
  if (st === undefined || st.mtimeMs < newestInput()) return false;
  // A bundle made before kb was bundled with it.
  if (Object.keys(ENTRIES).some((name) => !existsSync(bundleFile(name)))) return false;
  const newer = LOCKFILES.filter((p) => (statSync(join(ROOT, p), { throwIfNoEntry: false })?.mtimeMs ?? 0) > st.mtimeMs);
  if (newer.length === 0) return true;
  let recorded;
  try {
    recorded = JSON.parse(readFileSync(INPUT_HASHES, 'utf8'));
  } catch {
    return false;
  }
  return newer.every((p) => recorded?.[p] === hashOf(p));
}

/**
 * Bundled files loaded lazily where their package loads eagerly what this server never uses, as
 * exact replacements (a package whose text differs is bundled as it is). Fastify requires
 * node:http2 at import for an `http2: true` server, which this one never is; loading it was
 * ~11 ms of start-up CPU. The getters keep the two functions Fastify calls on it.
 */
const LAZY = [
  {
    file: /[\\/]node_modules[\\/]fastify[\\/]lib[\\/]server\.js$/,
    from: "const http2 = require('node:http2')",
    to: "const http2 = { get createServer () { return require('node:http2').createServer }, get createSecureServer () { return require('node:http2').createSecureServer } }",
  },
];

/**
 * esbuild plugin over the bundled files under node_modules: the LAZY replacements, and a file that
 * uses `__dirname` or `__filename` gets its own, pointing at where the file is in node_modules
 * (relative to the bundle, so a moved checkout still works), instead of the bundle's.
 * @fastify/swagger-ui reads its logo and serves its static folder this way.
 */
const nodeModules = {
  name: 'node-modules',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, (args) => {
      let contents = readFileSync(args.path, 'utf8');
      let changed = false;
      for (const lazy of LAZY) {
        if (lazy.file.test(args.path) && contents.includes(lazy.from)) {
          contents = contents.replace(lazy.from, lazy.to);
          changed = true;
        }
      }
      if (/\b__(dirname|filename)\b/.test(contents)) {
        const fromBundle = (path) => JSON.stringify(relative(dirname(BUNDLE), path));
        // `var` inside the module's own function scope (esbuild wraps each CommonJS file in one).
        contents =
          `var __dirname = require('node:path').join(__startBundleDir, ${fromBundle(dirname(args.path))});` +
          ` var __filename = require('node:path').join(__startBundleDir, ${fromBundle(args.path)});\n` +
          contents;
        changed = true;
      }
      return changed ? { contents, loader: 'js', resolveDir: dirname(args.path) } : undefined;
    });
  },
};

async function bundle() {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('npm start needs the development dependencies (esbuild); run `npm install`, or run the compiled server: npm run build && npm run start:prod');
  }
  const external = EXTERNAL.flatMap((name) => [name, `${name}/*`]);
  // Built in a folder of its own and renamed into place: a concurrent start never reads half a
  // file, and the source map keeps its name (the bundle refers to it as server.cjs.map).
  const temp = join(dirname(BUNDLE), `.build-${process.pid}`);
  mkdirSync(temp, { recursive: true });
  // Hashed before the build reads anything: a lockfile changed during the build then shows as
  // changed at the next start.
  const lockHashes = JSON.stringify(Object.fromEntries(LOCKFILES.map((p) => [p, hashOf(p)])));
  try {
    await esbuild.build({
      entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, path]) => [name, join(ROOT, path)])),
      outdir: temp,
      outExtension: { '.js': '.cjs' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external,
      plugins: [nodeModules],
      sourcemap: 'linked',
      // No comments or indentation: 4.2 → 2.5 MB for V8 to scan, and no comment's non-ASCII
      // character making the whole source a two-byte string (reading it took ~100 ms). Names are
      // kept (Fastify and avvio name plugins after their functions); licences go to a file beside.
      minifyWhitespace: true,
      legalComments: 'linked',
      logLevel: 'warning',
      // src/paths.ts finds the project root from its own URL; in the bundle that is the bundle's.
      define: { 'import.meta.url': '__startBundleUrl' },
      banner: { js: "var __startBundleDir = __dirname; var __startBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    });
    writeFileSync(join(temp, 'inputs.json'), lockHashes);
    // The server last: its mtime is what says the bundles are fresh.
    for (const name of [...Object.keys(ENTRIES).filter((n) => n !== 'server'), 'server']) {
      const file = bundleFile(name);
      renameSync(join(temp, `${name}.cjs.map`), `${file}.map`);
      if (existsSync(join(temp, `${name}.cjs.LEGAL.txt`))) renameSync(join(temp, `${name}.cjs.LEGAL.txt`), `${file}.LEGAL.txt`);
      if (name === 'server') renameSync(join(temp, 'inputs.json'), INPUT_HASHES);
      renameSync(join(temp, `${name}.cjs`), file);
    }
    // The cache names the bundle it was made from, so a stale one is never used; removing it
    // also keeps dist/start from holding a file that can no longer be used.
    rmSync(CODE_CACHE, { force: true });
    // The ES-module bundle of earlier versions of this script.
    rmSync(join(dirname(BUNDLE), 'server.js'), { force: true });
    rmSync(join(dirname(BUNDLE), 'server.js.map'), { force: true });
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- code cache

/** What a cache must have been made for: this bundle file (`st`, of the bytes read) and this Node. */
function cacheKey(st, source) {
  return JSON.stringify({ size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, chars: source.length, node: process.version, arch: process.arch });
}

/**
 * The cache file: one line of JSON (the key, the payload's length and SHA-256), then V8's bytes.
 * V8 checks its own version, flags and the source's length, but in release builds not a checksum
 * of the payload, so a damaged file is caught here before V8 deserializes it.
 */
function readCodeCache(key) {
  let file;
  try {
    file = readFileSync(CODE_CACHE);
  } catch {
    return undefined;
  }
  const newline = file.indexOf(0x0a);
  if (newline < 0) return undefined;
  let header;
  try {
    header = JSON.parse(file.subarray(0, newline).toString('utf8'));
  } catch {
    return undefined;
  }
  const data = file.subarray(newline + 1);
  if (header?.key !== key || header.length !== data.length) return undefined;
  if (createHash('sha256').update(data).digest('hex') !== header.sha256) return undefined;
  return data;
}

function writeCodeCache(key, data) {
  const header = JSON.stringify({ key, length: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  const temp = `${CODE_CACHE}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, Buffer.concat([Buffer.from(`${header}\n`), data]));
    renameSync(temp, CODE_CACHE);
  } catch {
    // A read-only checkout or a full disk: the server runs as well without it.
    rmSync(temp, { force: true });
  }
}

/**
 * Compiles and runs the bundle as Node's CommonJS loader would (the same wrapper and arguments),
 * with the code cache when there is a valid one, and writes one when there was not.
 */
/** The bundle's source and the key its code cache must carry. */
function readBundle() {
  // One open file for the bytes and their identity: a rebuild renaming a new bundle into place
  // between the two must not pair one file's code with the other's key.
  const fd = openSync(BUNDLE, 'r');
  let bytes, st;
  try {
    st = fstatSync(fd);
    bytes = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  // ASCII (esbuild escapes what is not) decodes as latin1 in a copy, where UTF-8 decoding of the
  // same 2.5 MB took tens of milliseconds; the result is the same string.
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  return { source, key: cacheKey(st, source) };
}

function runBundle() {
  const { source, key } = readBundle();
  const cachedData = readCodeCache(key);
  // The wrapper on the first line, as Node's own: line numbers stay those of the file.
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
  const script = new Script(wrapped, { filename: BUNDLE, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    // After the first response, so the functions start-up and a request compiled lazily are in
    // the cache too (V8 adds every function compiled so far); on the next turn, once the response
    // is handed to the socket, and not later: a process stopped soon after its first request (a
    // health check, the benchmark's cold start) would otherwise never leave one.
    const channel = 'http.server.response.finish';
    const once = () => {
      unsubscribe(channel, once);
      setImmediate(() => writeCodeCache(key, script.createCachedData()));
    };
    subscribe(channel, once);
  }
  const require = createRequire(BUNDLE);
  const module = { exports: {}, id: BUNDLE, filename: BUNDLE, loaded: false };
  script.runInThisContext()(module.exports, require, module, BUNDLE, dirname(BUNDLE));
}

/**
 * The node options `npm start` runs this file with (package.json's script, e.g.
 * --heap-growing-percent): the warm-up must run under the same V8 flags, since V8 refuses a cache
 * made under others.
 */
function startNodeOptions() {
  const words = String(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts?.start ?? '').trim().split(/\s+/);
  return words[0] === 'node' ? words.slice(1).filter((word) => word.startsWith('-')) : [];
}

/**
 * `--prepare` (npm install) also leaves a code cache, so that the first `npm start` of a fresh
 * clone, which builds its database as well, does not compile everything from source: it starts
 * the bundle once, as `npm start` would, on a throwaway database built from the content files
 * (the same first-start build), asks it for one condition document and stops it once it has
 * written the cache. Anything going wrong only costs that first start the compile; it is said on
 * stderr and npm install goes on.
 */
async function warmCodeCache() {
  if (readCodeCache(readBundle().key) !== undefined) return;
  const condition = readdirSync(join(ROOT, 'db', 'content')).find((name) => name.endsWith('.yaml') && !name.startsWith('_'))?.replace(/\.yaml$/, '');
  if (condition === undefined) return;
  // Imported here: every other start would load child_process for nothing.
  const { spawn } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'start-warm-'));
  const child = spawn(process.execPath, [...startNodeOptions(), fileURLToPath(import.meta.url)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', DATABASE_PATH: join(dir, 'kb.sqlite'), LOG_LEVEL: 'info', BUILD_ON_START: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    // The address from its "Server listening at" log line (PORT=0: the kernel picks a free port).
    const base = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const m = /Server listening at (http:\/\/[^"\s]+)/.exec(out);
        if (m) resolve(m[1]);
      });
      exited.then(() => reject(new Error('the server exited before listening')));
    });
    const status = await new Promise((resolve, reject) => {
      get(`${base}/v1/conditions/${condition}`, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      }).on('error', reject);
    });
    if (status !== 200) throw new Error(`GET /v1/conditions/${condition} answered ${status}`);
    for (let i = 0; i < 200 && !existsSync(CODE_CACHE); i++) await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(CODE_CACHE)) throw new Error('no cache written');
  } catch (error) {
    process.stderr.write(`start.mjs: no code cache prepared (${error instanceof Error ? error.message : String(error)}); the first start writes it\n`);
  } finally {
    child.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rebuilds the bundles when a file they are made from changed (src/kb.mjs calls it too). */
export async function ensureBundle() {
  if (!isFresh()) await bundle();
}

const prepareOnly = process.argv.includes('--prepare');
// Run as `node src/start.mjs` or by npm install's `prepare`; imported by src/kb.mjs, it only exports.
const isEntry = prepareOnly || process.argv[1] === fileURLToPath(import.meta.url);
if (!existsSync(join(ROOT, 'src', 'server.ts'))) {
  // `npm ci` in the Dockerfile's build stage runs before the sources are copied in.
  if (isEntry && !prepareOnly) throw new Error('src/server.ts is missing');
} else if (isEntry) {
  await ensureBundle();
  if (prepareOnly && !process.sourceMapsEnabled) await warmCodeCache();
}
if (isEntry && !prepareOnly) {
  // With source maps on, Node maps stack traces only for files its own loader read.
  if (process.sourceMapsEnabled) createRequire(import.meta.url)(BUNDLE);
  else runBundle();
}

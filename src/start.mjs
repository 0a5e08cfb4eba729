/**
 * `npm start`: runs the server from one JavaScript file instead of transpiling TypeScript at
 * every start (tsx spent seconds on it, and its loader thread ~36 MB).
 *
 * The file, dist/start/server.js, is src/server.ts bundled by esbuild with the pure-JavaScript
 * packages that load as hundreds of small modules (typebox, drizzle-orm, yaml, …); Fastify and its
 * plugins, better-sqlite3 and the rest stay in node_modules, loaded as they always are. It is made
 * by `npm install` (the `prepare` script) and again here whenever a file it is built from is newer
 * than it, so an edited checkout never runs stale code. Start-up: 3.5 s → 1.1 s to the first
 * response on this 2-core machine (README, Performance).
 *
 *   node src/start.mjs             start (rebuilding first when stale)
 *   node src/start.mjs --prepare   only bring the bundle up to date (`npm install` runs this)
 *
 * Stack traces point into the bundle; NODE_OPTIONS=--enable-source-maps maps them to src/ (a
 * linked source map is written beside it, not loaded by default: parsing it costs start-up time).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const BUNDLE = join(ROOT, 'dist', 'start', 'server.js');

/** Bundled into the file: pure JavaScript, no native code, no files of their own read at run time. */
const BUNDLED = new Set(['typebox', 'drizzle-orm', 'yaml', 'stopword', 'fastest-levenshtein', 'csv-stringify']);

/** The newest modification time of what the bundle is made from. */
function newestInput() {
  let newest = 0;
  const visit = (path) => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['src', 'db/schema.ts', 'package.json', 'package-lock.json', 'tsconfig.json', 'node_modules/.package-lock.json']) visit(join(ROOT, p));
  return newest;
}

function isFresh() {
  const st = statSync(BUNDLE, { throwIfNoEntry: false });
  return st !== undefined && st.mtimeMs >= newestInput();
}

async function bundle() {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('npm start needs the development dependencies (esbuild); run `npm install`, or run the compiled server: npm run build && npm run start:prod');
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const external = Object.keys(pkg.dependencies ?? {})
    .filter((name) => !BUNDLED.has(name))
    .flatMap((name) => [name, `${name}/*`]);
  // Built in a folder of its own and renamed into place: a concurrent start never reads half a
  // file, and the source map keeps its name (the bundle refers to it as server.js.map).
  const temp = join(dirname(BUNDLE), `.build-${process.pid}`);
  mkdirSync(temp, { recursive: true });
  try {
    await esbuild.build({
      entryPoints: [join(ROOT, 'src', 'server.ts')],
      outfile: join(temp, 'server.js'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external,
      sourcemap: 'linked',
      logLevel: 'warning',
      // The bundled CommonJS packages (yaml) call require(); an ES module has none of its own.
      banner: { js: "import { createRequire as __startCreateRequire } from 'node:module'; const require = __startCreateRequire(import.meta.url);" },
    });
    renameSync(join(temp, 'server.js.map'), `${BUNDLE}.map`);
    renameSync(join(temp, 'server.js'), BUNDLE);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

const prepareOnly = process.argv.includes('--prepare');
if (!existsSync(join(ROOT, 'src', 'server.ts'))) {
  // `npm ci` in the Dockerfile's build stage runs before the sources are copied in.
  if (!prepareOnly) throw new Error('src/server.ts is missing');
} else if (!isFresh()) {
  await bundle();
}
if (!prepareOnly) await import(pathToFileURL(BUNDLE).href);

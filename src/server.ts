/**
 * Entry point: load the config, build the app, listen; shut down gracefully on SIGTERM/SIGINT
 * (in-flight requests finish, new ones get 503, the database closes).
 *
 * A start that fails (bad setting, lost or damaged database, newer database, port taken) prints
 * one line to stderr saying why and exits with code 1: what an operator reads in `docker logs`
 * or the journal, without a stack trace to dig through.
 */
import closeWithGrace from 'close-with-grace';
import { loadConfig, type Config } from './config.js';
import { buildApp } from './app.js';

function cannotStart(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  const code = error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'string' ? ` (${error.code})` : '';
  process.stderr.write(`condition-kb: cannot start: ${message.replace(/\s*\n\s*/g, '; ')}${code}\n`);
  process.exit(1);
}

// One async function rather than top-level await: `npm start` runs this file bundled as CommonJS
// (src/start.mjs, so V8 can cache its compiled code), and CommonJS has no top-level await.
async function main(): Promise<void> {
  let config: Config;
  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    config = loadConfig();
    app = await buildApp(config);
    await app.ready();
  } catch (error) {
    cannotStart(error);
  }

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an error');
    else app.log.info(`${signal} received, closing`);
    await app.close();
  });

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    cannotStart(error);
  }
}

void main();

/**
 * `kb build` on two threads: a worker (buildWorker.ts) reads, checks, hashes and compresses the
 * condition files one by one while this thread writes each one's rows as it arrives, in the one
 * transaction of a build (src/content/build.ts). At 1,000 conditions the reading is ~5 s of CPU
 * and the writing ~9 s; one after the other they were the whole build (README, Performance).
 *
 * The result is the database `buildFromContent` makes of the same files: the same rows in every
 * table in the same order (tests/parallel-build.test.ts). A problem anywhere stops the build (the
 * worker runs the corpus-wide checks too, once it has read every file), which then reads the files
 * again as `loadContent` does, so it reports exactly the problems and messages a one-thread build
 * would, and nothing is built.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { buildDatabase, buildDatabaseStream, type BuildResult, type PreparedCondition } from './build.js';
import type { BuildWorkerInput, BuildWorkerMessage } from './buildWorker.js';
import { fileLabel, listContentFiles, loadContent } from './load.js';
import { loadVocabulary } from '../retrieval/vocabulary.js';

/**
 * The worker's file: beside the `kb` bundle (dist/start/build-worker.cjs, made with it by
 * src/start.mjs); beside this module when compiled by tsc (dist/src/content/buildWorker.js); from
 * source, a loader that registers tsx in the worker first (tsx's `--import` hooks do not reach
 * worker threads on Node 20).
 */
export const BUILD_WORKER = import.meta.url.endsWith('.ts')
  ? new URL('./buildWorker.boot.mjs', import.meta.url)
  : import.meta.url.endsWith('.cjs')
    ? new URL('./build-worker.cjs', import.meta.url)
    : new URL('./buildWorker.js', import.meta.url);

/** How long the worker may go without a message before the build gives up on it (it posts one per file). */
const STALL_MS = 60_000;

class InvalidContent extends Error {}

/** The worker's messages, in order, waiting for each without an event loop. */
function* received(port: MessagePort, posted: Int32Array): Generator<BuildWorkerMessage> {
  for (;;) {
    const seen = Atomics.load(posted, 0);
    const next = receiveMessageOnPort(port);
    if (next !== undefined) {
      yield next.message as BuildWorkerMessage;
      continue;
    }
    if (Atomics.wait(posted, 0, seen, STALL_MS) === 'timed-out') throw new Error(`the build's reading worker sent nothing for ${STALL_MS / 1000} s`);
  }
}

function* conditions(messages: Iterable<BuildWorkerMessage>): Generator<PreparedCondition> {
  for (const m of messages) {
    if (m.kind === 'done') return;
    if (m.kind === 'failed') throw new Error(`the build's reading worker failed: ${m.message}`);
    if (m.kind === 'invalid') throw new InvalidContent(m.file);
    yield m;
  }
}

/** As `buildFromContent`, reading the files in a worker started from `workerFile`. */
export function buildFromContentInParallel(contentDir: string, target: string, workerFile: URL | string = BUILD_WORKER, now = new Date()): BuildResult {
  const channel = new MessageChannel();
  const signal = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  const input: BuildWorkerInput = { contentDir, files: listContentFiles(contentDir).map((path) => [path, fileLabel(path)]), port: channel.port2, signal };
  const worker = new Worker(workerFile, { workerData: input, transferList: [channel.port2] });
  worker.unref();
  try {
    return buildDatabaseStream(conditions(received(channel.port1, new Int32Array(signal))), target, now, () => loadVocabulary(contentDir));
  } catch (err) {
    if (!(err instanceof InvalidContent)) throw err;
    // Every problem, as `yaml` reads the files and with line numbers; should that find none, its corpus is built.
    return buildDatabase(loadContent(contentDir, process.cwd(), false), target, now, loadVocabulary(contentDir));
  } finally {
    channel.port1.close();
    void worker.terminate();
  }
}

/**
 * The reading half of `kb build` (src/content/parallelBuild.ts), in a worker thread: reads and
 * checks each condition file, hashes its content and compresses its build history, and posts
 * each condition as soon as it is ready, so the main thread writes rows while this one reads the
 * next file. After each message it bumps a shared counter: the main thread, which keeps the
 * build synchronous, sleeps on that counter instead of an event loop.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import type { ConditionContent } from './schema.js';

export interface BuildWorkerInput {
  /** The content folder (for the corpus-wide checks: its vocabulary file, cross-references). */
  contentDir: string;
  /** Condition files and the labels their problems would be reported under, in build order. */
  files: [path: string, label: string][];
  port: MessagePort;
  /** Int32 counter of messages posted. */
  signal: SharedArrayBuffer;
}

export type BuildWorkerMessage =
  | { kind: 'condition'; file: string; content: ConditionContent; hash: string; body: Uint8Array }
  /** A file has a problem, or the corpus does: the main thread stops and reports every problem the way loadContent does. */
  | { kind: 'invalid'; file: string }
  /** Every file was read and the corpus-wide checks found nothing. */
  | { kind: 'done' }
  | { kind: 'failed'; message: string };

const { contentDir, files, port, signal } = workerData as BuildWorkerInput;
const posted = new Int32Array(signal);

function post(message: BuildWorkerMessage): void {
  port.postMessage(message);
  Atomics.add(posted, 0, 1);
  Atomics.notify(posted, 0);
}

async function run(): Promise<void> {
  // Loaded here, not at the top: an error loading them is reported, not a silent exit the
  // main thread would only notice by waiting.
  const { checkContentFile, corpusProblems } = await import('./load.js');
  const { builtContentsOf, conditionHash } = await import('../repositories/rows.js');
  const { encodeBuiltContents } = await import('../repositories/builtContents.js');
  const loaded: { file: string; content: ConditionContent }[] = [];
  for (const [path, label] of files) {
    const checked = checkContentFile(path, label);
    if (checked.content === undefined) return post({ kind: 'invalid', file: checked.file });
    const content = checked.content;
    loaded.push({ file: checked.file, content });
    post({ kind: 'condition', file: checked.file, content, hash: conditionHash(content), body: encodeBuiltContents(builtContentsOf(content)) });
  }
  // Here rather than in the main thread, which is still writing the last conditions' rows.
  post(corpusProblems(contentDir, loaded, new Map()).length > 0 ? { kind: 'invalid', file: contentDir } : { kind: 'done' });
}

// Not top-level await: bundled as CommonJS with `kb` (src/start.mjs).
run()
  .catch((err: unknown) => post({ kind: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }))
  .finally(() => port.close());

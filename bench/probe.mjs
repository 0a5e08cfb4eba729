/**
 * Preloaded (`node --import ./bench/probe.mjs …`) into every server the benchmark measures, the
 * real one and the raw node:http one alike, and nowhere else. It counts the responses the process
 * has finished (the `http.server.response.finish` diagnostics channel) and answers the parent's
 * `'sample'` message over IPC with that count, `process.cpuUsage()` (every thread of the process,
 * in microseconds) and RSS (the ProbeSample of bench/proc.ts). CPU per request is the difference
 * of two samples over the difference of their counts: the server's own accounting, unaffected by
 * requests the load generator cut off at the end of a run. Plain JavaScript so that it loads into
 * a compiled server as well as into one run through tsx.
 */
import { subscribe } from 'node:diagnostics_channel';

let responses = 0;
subscribe('http.server.response.finish', () => {
  responses++;
});

if (process.send) {
  const send = process.send.bind(process);
  process.on('message', (message) => {
    if (message !== 'sample') return;
    const cpu = process.cpuUsage();
    send({ responses, cpuUs: cpu.user + cpu.system, rss: process.memoryUsage.rss() });
  });
  // The channel must not keep a server alive once it has closed (graceful shutdown on SIGTERM).
  process.channel?.unref();
}

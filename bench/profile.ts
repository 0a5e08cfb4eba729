/**
 * Reads a V8 .cpuprofile (written by `node --cpu-prof`) and lists the functions with the most
 * self time, so a missed target can be explained by what the server was doing.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * A window of the monotonic clock in microseconds (`process.hrtime.bigint() / 1000n` in any
 * process on this machine: V8 stamps samples with the same CLOCK_MONOTONIC), so only the samples
 * taken under load are counted, not start-up.
 */
export interface Window {
  fromUs: number;
  toUs: number;
}

/** Calls `visit(nodeId, microseconds)` for every sample inside the window. */
function eachSample(profile: CpuProfile, window: Window | undefined, visit: (id: number, us: number) => void): void {
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (window && (t < window.fromUs || t > window.toUs)) return;
    visit(id, dt);
  });
}

export interface HotFunction {
  name: string;
  where: string;
  selfMs: number;
  selfPct: number;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const src = url.search(/\/(src|bench|db)\//);
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

/** Self time per function (name + file:line), highest first. */
export function hotFunctions(path: string, top = 25, window?: Window): { totalMs: number; functions: HotFunction[] } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  eachSample(profile, window, (id, dt) => {
    total += dt;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = (functionName || '(anonymous)').slice(0, 60);
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const entry = self.get(key) ?? { name, where, us: 0 };
    entry.us += dt;
    self.set(key, entry);
  });
  const functions = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((f) => ({ name: f.name, where: f.where, selfMs: Math.round(f.us / 100) / 10, selfPct: Math.round((f.us / total) * 1000) / 10 }));
  return { totalMs: Math.round(total / 1000), functions };
}

/** Self time summed by package or project folder: where the time goes at a glance. */
export function timeByModule(path: string, window?: Window): { module: string; pct: number }[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const sums = new Map<string, number>();
  let total = 0;
  eachSample(profile, window, (id, dt) => {
    total += dt;
    const node = byId.get(id);
    const url = node?.callFrame.url ?? '';
    let module = node?.callFrame.functionName ? `(${node.callFrame.functionName})` : '(native)';
    if (url.includes('node_modules/')) {
      const rest = url.slice(url.lastIndexOf('node_modules/') + 'node_modules/'.length).split('/');
      module = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url);
    } else if (url.startsWith('node:')) module = url;
    else if (url) module = shortUrl(url).split('/').slice(0, 2).join('/');
    sums.set(module, (sums.get(module) ?? 0) + dt);
  });
  return [...sums]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20)
    .map(([module, us]) => ({ module, pct: Math.round((us / total) * 1000) / 10 }));
}

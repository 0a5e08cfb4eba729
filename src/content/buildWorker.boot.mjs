// The build's reading worker when `kb` runs from source (src/content/parallelBuild.ts): tsx's
// hooks, registered by `--import tsx` in the main thread, do not apply in a worker on Node 20.
import { register } from 'tsx/esm/api';

register();
await import('./buildWorker.ts');

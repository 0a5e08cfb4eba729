/**
 * `npm run kb -- <command>`: the `kb` command (src/cli/kb.ts) from its bundle, dist/start/kb.cjs,
 * which src/start.mjs makes with the server's and rebuilds first when a source file is newer.
 * From source (tsx): `npx tsx src/cli/kb.ts <command>`.
 */
import { createRequire } from 'node:module';
import { ensureBundle, KB_BUNDLE } from './start.mjs';

await ensureBundle();
createRequire(import.meta.url)(KB_BUNDLE);

import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two projects, run together by `npm test` (`vitest run`) so that their files share both cores:
 * - unit: in-process tests through `app.inject()` and the repositories (`npm run test:unit`);
 * - system: real child processes (kill -9 during builds and writes, SIGTERM under load, the
 *   production image's steps, two replicas, end to end over TCP) in tests/system/
 *   (`npm run test:system`).
 * The browser test needs Chromium; it runs on its own with `npm run test:browser`.
 */
export default defineConfig({
  test: {
    // Each file builds its own database in a temp folder; files run in parallel on both cores.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/**/*.test.ts'], exclude: [...configDefaults.exclude, 'tests/browser/**', 'tests/system/**'] } },
      { extends: true, test: { name: 'system', include: ['tests/system/**/*.test.ts'] } },
    ],
  },
});

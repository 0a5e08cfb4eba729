import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The browser test needs Chromium; it runs on its own with `npm run test:browser`.
    exclude: [...configDefaults.exclude, 'tests/browser/**'],
    // Each file builds its own database in a temp folder; files run in parallel on both cores.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

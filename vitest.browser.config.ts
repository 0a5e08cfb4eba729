import { defineConfig } from 'vitest/config';

// `npm run test:browser`: tests that drive headless Chromium (Debian's package, /usr/bin/chromium),
// kept out of `npm test` so that a machine without a browser can still run the main suite.
export default defineConfig({
  test: {
    include: ['tests/browser/**/*.browser.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

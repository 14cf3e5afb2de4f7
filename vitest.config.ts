import { defineConfig } from 'vitest/config';

// Two projects: `unit` (npm test: module, CLI and HTTP tests with fixtures made by real git,
// gpg and ssh-keygen) and `conformance` (npm run test:conformance: the suites over
// ../shared/corpus, which skip with a message when it is absent).
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/conformance/**'] } },
      { extends: true, test: { name: 'conformance', include: ['test/conformance/**/*.test.ts'] } },
    ],
  },
});

import { defineConfig } from 'vitest/config';

/**
 * The vitest configuration of every example: its test runs main.mjs --tiny as a user would
 * (against the built packages, see tools/run-example.mjs) and checks what it printed; the JSON
 * report feeds the suite's closing `Tests:` line (tools/test-summary.mjs).
 */
export function exampleVitestConfig(name) {
  return defineConfig({
    test: {
      name,
      include: ['*.test.mjs'],
      testTimeout: 900_000,
      reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
    },
  });
}

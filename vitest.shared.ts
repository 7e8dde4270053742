import { defineConfig } from 'vitest/config';

/**
 * Settings every package's vitest project shares. Tests resolve sibling `@lico/*` packages to
 * their TypeScript sources through the `@lico/source` export condition, so a test never runs
 * against a stale build.
 */
export default defineConfig({
  resolve: { conditions: ['@lico/source'] },
  ssr: { resolve: { conditions: ['@lico/source'] } },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    // The JSON report feeds tools/test-summary.mjs, which prints the whole suite's closing line.
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
    // tfjs-core's gradient registrations are ESM files with extensionless imports: let vite
    // resolve them (see packages/core/src/register-gradients.ts).
    server: { deps: { inline: [/@tensorflow\/tfjs-core\/dist\/(?!tf-core)/] } },
  },
});

import { defineConfig, type Options } from 'tsup';

/** The one build configuration of every package: ESM + CJS + .d.ts, tfjs and siblings external. */
export function licoTsup(overrides: Options = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    treeshake: true,
    external: [/^@tensorflow\//, /^@lico\//],
    ...overrides,
  });
}

import { defineConfig, type Options } from 'tsup';

/** Options of {@link licoTsup} beyond tsup's own. */
export interface LicoTsupOptions extends Options {
  /**
   * Also build `dist/browser/index.js` (ESM, platform browser) for the package's `browser` export
   * condition: its `#node-builtins` import resolves to the browser stand-ins (package.json `imports`).
   */
  readonly browser?: boolean;
}

/** The one build configuration of every package: ESM + CJS + .d.ts, tfjs and siblings external. */
export function licoTsup(overrides: LicoTsupOptions = {}) {
  const { browser, ...options } = overrides;
  const main: Options = {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // The browser build writes dist/browser at the same time: clean only this build's own files.
    clean: browser ? ['*.js', '*.cjs', '*.d.ts', '*.d.cts', '*.map'] : true,
    target: 'es2022',
    treeshake: true,
    external: [/^@tensorflow\//, /^@lico\//],
    ...options,
  };
  if (!browser) return defineConfig(main);
  return defineConfig([
    main,
    {
      ...main,
      format: ['esm'],
      platform: 'browser',
      outDir: 'dist/browser',
      dts: false,
      clean: true,
      shims: false,
    },
  ]);
}

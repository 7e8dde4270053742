/**
 * The Node built-ins `@lico/backends` uses, in one place. The package's `browser` build resolves
 * `#node-builtins` to `node-builtins.browser.ts` instead: there lico's wasm kernels run on the
 * calling thread, and backends are the ones the page imported itself.
 */
export { mkdtempSync, writeFileSync } from 'node:fs';
export { createRequire } from 'node:module';
export { default as os } from 'node:os';
export { default as path } from 'node:path';
export { setFlagsFromString } from 'node:v8';
export { Worker } from 'node:worker_threads';

/** Loads an optional package by a name chosen at run time (Node: a dynamic `import`). */
export const importModule = (specifier: string): Promise<unknown> => import(specifier);

/** Whether this build runs in a browser (false here). */
export const IN_BROWSER = false;

/**
 * The Node built-ins `@lico/backends` uses, in one place. The package's `browser` build resolves
 * `#node-builtins` to `node-builtins.browser.ts` instead: there lico's wasm kernels run on Web
 * Workers (in a cross-origin isolated page), and backends are the ones the page imported itself.
 */
import { Worker } from 'node:worker_threads';

export { mkdtempSync, writeFileSync } from 'node:fs';
export { createRequire } from 'node:module';
export { default as os } from 'node:os';
export { default as path } from 'node:path';
export { setFlagsFromString } from 'node:v8';

/**
 * Starts a worker thread running `source`, which defines `main(data)`; `main` receives `data`.
 * Node: a `worker_threads` worker evaluating the source (unref'ed: it never keeps the process alive).
 */
export function startWorker(source: string, data: unknown, onError: (error: Error) => void): void {
  const worker = new Worker(`${source}\nmain(require('node:worker_threads').workerData);`, { eval: true, workerData: data });
  worker.on('error', onError);
  worker.unref();
}

/** Whether this thread may block in `Atomics.wait` (Node: every thread). */
export const CAN_BLOCK = true;

/** Loads an optional package by a name chosen at run time (Node: a dynamic `import`). */
export const importModule = (specifier: string): Promise<unknown> => import(specifier);

/** Whether this build runs in a browser (false here). */
export const IN_BROWSER = false;

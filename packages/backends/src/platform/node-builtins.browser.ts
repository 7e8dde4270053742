/** Browser stand-ins for `./node-builtins` (see there). */
import { nodeOnly, nodeOnlyFunction, NotFoundError } from '@lico/core';

export const mkdtempSync = nodeOnlyFunction('node:fs', 'mkdtempSync');
export const writeFileSync = nodeOnlyFunction('node:fs', 'writeFileSync');
export const createRequire = nodeOnlyFunction('node:module', 'createRequire');
export const os = nodeOnly<typeof import('node:os')>('node:os');
export const path = nodeOnly<typeof import('node:path')>('node:path');
/** A page cannot set engine flags: relaxed SIMD is on in current browsers or not at all. */
export const setFlagsFromString = (_flags: string): void => {};

/**
 * Starts a Web Worker running `source`, which defines `main(data)`; `main` receives `data` (posted:
 * a WebAssembly.Module and a shared WebAssembly.Memory need a cross-origin isolated page).
 */
export function startWorker(source: string, data: unknown, onError: (error: Error) => void): void {
  const url = URL.createObjectURL(new Blob([`${source}\nself.onmessage = (e) => main(e.data);`], { type: 'text/javascript' }));
  const worker = new Worker(url);
  worker.addEventListener('error', (e) => onError(new Error(e.message)));
  // A Worker's postMessage takes no target origin (the rule is about window.postMessage).
  // oxlint-disable-next-line unicorn/require-post-message-target-origin
  worker.postMessage(data);
}

/** Whether this thread may block in `Atomics.wait`: in a page, workers may, the main thread may not. */
export const CAN_BLOCK = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';

/**
 * A bundled page cannot load a package by a name chosen at run time: the page imports the tfjs
 * backend packages it wants (`import '@tensorflow/tfjs-backend-webgl'`), and `useBackend` finds them.
 */
export const importModule = async (specifier: string): Promise<unknown> => {
  throw new NotFoundError(`${specifier} is not loaded: in a page, import it yourself before useBackend (import '${specifier}';).`);
};

/** Whether this build runs in a browser. */
export const IN_BROWSER = true;

/** Browser stand-ins for `./node-builtins` (see there). */
import { nodeOnly, nodeOnlyFunction, NotFoundError } from '@lico/core';

export const mkdtempSync = nodeOnlyFunction('node:fs', 'mkdtempSync');
export const writeFileSync = nodeOnlyFunction('node:fs', 'writeFileSync');
export const createRequire = nodeOnlyFunction('node:module', 'createRequire');
export const os = nodeOnly<typeof import('node:os')>('node:os');
export const path = nodeOnly<typeof import('node:path')>('node:path');
/** A page cannot set engine flags: relaxed SIMD is on in current browsers or not at all. */
export const setFlagsFromString = (_flags: string): void => {};
export const Worker = nodeOnlyFunction('node:worker_threads', 'Worker') as unknown as typeof import('node:worker_threads').Worker;

/**
 * A bundled page cannot load a package by a name chosen at run time: the page imports the tfjs
 * backend packages it wants (`import '@tensorflow/tfjs-backend-webgl'`), and `useBackend` finds them.
 */
export const importModule = async (specifier: string): Promise<unknown> => {
  throw new NotFoundError(`${specifier} is not loaded: in a page, import it yourself before useBackend (import '${specifier}';).`);
};

/** Whether this build runs in a browser. */
export const IN_BROWSER = true;

/** Browser stand-ins for `./node-builtins` (see there): each throws a NodeOnlyError when used. */
import { nodeOnly, nodeOnlyFunction } from '@lico/core';

export const createHash = nodeOnlyFunction('node:crypto', 'createHash');
export const createReadStream = nodeOnlyFunction('node:fs', 'createReadStream');
export const createRequire = nodeOnlyFunction('node:module', 'createRequire');
export const fs = nodeOnly<typeof import('node:fs').promises>('node:fs', 'promises');
export const path = nodeOnly<typeof import('node:path')>('node:path');

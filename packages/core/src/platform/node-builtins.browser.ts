/** Browser stand-ins for `./node-builtins` (see there): each throws a NodeOnlyError when used. */
import { nodeOnly, nodeOnlyFunction } from './node-only';

export const createHash = nodeOnlyFunction('node:crypto', 'createHash');
export const createReadStream = nodeOnlyFunction('node:fs', 'createReadStream');
export const fs = nodeOnly<typeof import('node:fs').promises>('node:fs', 'promises');
export const os = nodeOnly<typeof import('node:os')>('node:os');
export const path = nodeOnly<typeof import('node:path')>('node:path');

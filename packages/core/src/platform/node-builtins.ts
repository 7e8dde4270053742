/**
 * The Node built-ins `@lico/core` uses, in one place. The package's `browser` build resolves
 * `#node-builtins` to `node-builtins.browser.ts` instead, whose stand-ins throw a
 * {@link NodeOnlyError} when a file helper is called, so the rest of the package runs in a page.
 */
export { createHash } from 'node:crypto';
export { createReadStream, promises as fs } from 'node:fs';
export { default as os } from 'node:os';
export { default as path } from 'node:path';

/**
 * The Node built-ins `@lico/text` uses, in one place. The package's `browser` build resolves
 * `#node-builtins` to `node-builtins.browser.ts` instead (stand-ins that throw a NodeOnlyError):
 * the prompt learner, mapping net and transformer run in a page; file-based loaders do not.
 */
export { createHash } from 'node:crypto';
export { createReadStream, promises as fs } from 'node:fs';
export { createRequire } from 'node:module';
export { default as path } from 'node:path';

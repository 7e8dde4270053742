import { licoTsup } from '../../tsup.shared';

// shims: `import.meta.url` in the CJS build (src/wasm/wasm-threads.ts resolves the wasm files).
// `browser`: dist/browser/index.js for bundlers' browser condition, without Node built-ins.
export default licoTsup({ shims: true, browser: true });

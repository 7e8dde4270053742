import { licoTsup } from '../../tsup.shared';

// shims: `import.meta.url` in the CJS build (src/wasm/wasm-threads.ts resolves the wasm files).
export default licoTsup({ shims: true });

import { licoTsup } from '../../tsup.shared';

// `browser`: dist/browser/index.js for bundlers' browser condition (`#zlib` → stored-block PNGs).
export default licoTsup({ browser: true });

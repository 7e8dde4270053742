import { licoTsup } from '../../tsup.shared';

// `browser`: dist/browser/index.js for bundlers' browser condition, without Node built-ins.
export default licoTsup({ browser: true });

import { licoTsup } from '../../tsup.shared';

// tfjs-core's gradient definitions are bundled (see src/register-gradients.ts); all else stays external.
// `browser`: dist/browser/index.js for bundlers' browser condition, without Node built-ins.
export default licoTsup({
  noExternal: [/^@tensorflow\/tfjs-core\/dist\/gradients\//],
  browser: true,
});

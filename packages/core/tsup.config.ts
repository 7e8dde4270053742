import { licoTsup } from '../../tsup.shared';

// tfjs-core's gradient definitions are bundled (see src/register-gradients.ts); all else stays external.
export default licoTsup({
  noExternal: [/^@tensorflow\/tfjs-core\/dist\/gradients\//],
});

import { licoTsup } from '../../tsup.shared';

export default licoTsup({ entry: ['src/index.ts', 'src/bin.ts'], shims: true });

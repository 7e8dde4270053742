import { licoTsup } from '../../tsup.shared';

export default licoTsup();

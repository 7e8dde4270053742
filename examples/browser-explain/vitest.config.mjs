import { exampleVitestConfig } from '../../tools/vitest-example.mjs';

export default exampleVitestConfig('@lico/example-browser-explain');

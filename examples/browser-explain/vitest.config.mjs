import { mergeConfig } from 'vitest/config';
import { exampleVitestConfig } from '../../tools/vitest-example.mjs';

// One test file at a time: each builds dist/ afresh and drives its own Chromium.
export default mergeConfig(exampleVitestConfig('@lico/example-browser-explain'), { test: { fileParallelism: false } });

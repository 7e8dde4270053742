import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared';

// Relaxed SIMD on (Node 20 has it behind a flag) so that the kernel tests run both builds.

export default mergeConfig(shared, defineProject({ test: { name: '@lico/backends', execArgv: ['--expose-gc', '--experimental-wasm-relaxed-simd'] } }));

import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared';

export default mergeConfig(shared, defineProject({ test: { name: '@lico/backends', execArgv: ['--expose-gc'] } }));

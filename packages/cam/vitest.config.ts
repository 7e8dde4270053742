import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared';

// The reference-parity tests run a ResNet-18 hundreds of times (Score-CAM's masks, Integrated
// Gradients' steps): ~30 s each on a quiet 2-core machine, over 120 s when other test projects
// (nx runs two at once) and other work share the cores. Their limit is 10 minutes.
export default mergeConfig(shared, defineProject({ test: { name: '@lico/cam', testTimeout: 600_000 } }));

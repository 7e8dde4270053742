// Placeholder main job until @lico/cli lands: selects a backend and runs one real computation.
import { useBackend } from '@lico/backends';
import * as tf from '@tensorflow/tfjs-core';

const choice = await useBackend('auto');
const x = tf.randomNormal([8, 32, 32, 16], 0, 1, 'float32', 1);
const w = tf.randomNormal([3, 3, 16, 32], 0, 0.1, 'float32', 2);
const t0 = performance.now();
const y = tf.conv2d(x, w, 1, 'same');
await y.data();
console.log(`backend ${choice.backend}: conv 8x32x32x16 -> 32 in ${(performance.now() - t0).toFixed(1)} ms`);

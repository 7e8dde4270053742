/**
 * Registers the gradient of every tfjs-core kernel. The Node build of `@tensorflow/tfjs-core`
 * ships without them (only the `@tensorflow/tfjs` union bundle includes them), so `tf.grad` would
 * fail with "gradient function not found". The build bundles tfjs-core's own gradient
 * definitions here; they work with any copy of tfjs-core through its global engine and registry.
 */

import '@tensorflow/tfjs-core/dist/register_all_gradients.js';

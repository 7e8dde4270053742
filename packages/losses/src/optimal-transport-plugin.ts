import type * as tf from '@tensorflow/tfjs-core';
import { SPECIFICATION_VERSION, type AlignmentInputs, type AlignmentLoss } from '@lico/core';
import { optimalTransportLoss, type OptimalTransportLossOptions } from './optimal-transport-loss';
import { resolveSinkhornOptions } from './sinkhorn';

/** Options of {@link createOptimalTransportLoss} (no per-sample marginals: they are uniform). */
export type OptimalTransportPluginOptions = Omit<OptimalTransportLossOptions, 'sourceWeights' | 'targetWeights'>;

/**
 * The optimal-transport loss as a v1 {@link AlignmentLoss} named `'optimal-transport'`: `compute`
 * uses `inputs.imagePoints` and `inputs.textPoints`. `config` records every option (defaults
 * filled in). Options are validated here.
 */
export function createOptimalTransportLoss(options: OptimalTransportPluginOptions = {}): AlignmentLoss {
  const resolved = resolveSinkhornOptions(options);
  const differentiablePlan = options.differentiablePlan === true;
  const lossOptions: OptimalTransportLossOptions = { ...resolved, differentiablePlan };
  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: 'optimal-transport',
    config: Object.freeze({ ...resolved, differentiablePlan }),
    compute(inputs: AlignmentInputs): tf.Scalar {
      return optimalTransportLoss(inputs.imagePoints, inputs.textPoints, lossOptions);
    },
  };
}

/** The optimal-transport loss with the spec's defaults (ε 0.1, 100 iterations, tolerance 1e-3, detached plan). */
export const optimalTransport: AlignmentLoss = createOptimalTransportLoss();

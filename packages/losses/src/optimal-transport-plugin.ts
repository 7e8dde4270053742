import * as tf from '@tensorflow/tfjs-core';
import { assertOneOf, ConfigError, SPECIFICATION_VERSION, type AlignmentInputs, type AlignmentLoss } from '@lico/core';
import { optimalTransportLoss, type OptimalTransportLossOptions } from './optimal-transport-loss';
import { resolveSinkhornOptions } from './sinkhorn';

/**
 * What the OT term passes back to the networks:
 * - `'detached-plan'` (default, the spec): the plan is a constant, the gradient flows through the cost;
 * - `'differentiable-plan'`: also back through the Sinkhorn iterations;
 * - `'none'`: the term is computed (and reported) but passes no gradient at all, as the authors'
 *   code, which runs it under `torch.no_grad()`; nothing it reads (the mapping net, the image
 *   points) is recorded for back-propagation, so `h_ψ` gets no gradient from it.
 */
export type OtGradient = 'detached-plan' | 'differentiable-plan' | 'none';

/** Valid values of {@link OtGradient}. */
export const OT_GRADIENTS: readonly OtGradient[] = ['detached-plan', 'differentiable-plan', 'none'];

/** Options of {@link createOptimalTransportLoss} (no per-sample marginals: they are uniform). */
export type OptimalTransportPluginOptions = Omit<OptimalTransportLossOptions, 'sourceWeights' | 'targetWeights'> & {
  /** What the term passes back (default `'detached-plan'`; `differentiablePlan: true` is `'differentiable-plan'`). */
  readonly gradient?: OtGradient;
};

/**
 * Runs `f` with nothing it computes recorded for gradients (`torch.no_grad()`): the value of a
 * custom-gradient op with no inputs, whose forward runs outside the gradient tape.
 */
export function withoutGradient(f: () => tf.Scalar): tf.Scalar {
  return tf.customGrad(() => ({ value: f(), gradFunc: () => [] }))() as tf.Scalar;
}

/**
 * The optimal-transport loss as a v1 {@link AlignmentLoss} named `'optimal-transport'`: `compute`
 * uses `inputs.imagePoints` and `inputs.textPoints`. `config` records every option (defaults
 * filled in). Options are validated here.
 */
export function createOptimalTransportLoss(options: OptimalTransportPluginOptions = {}): AlignmentLoss {
  const { gradient: requested, differentiablePlan: legacy, ...sinkhornOptions } = options;
  const resolved = resolveSinkhornOptions(sinkhornOptions);
  if (requested !== undefined && legacy !== undefined && (requested === 'differentiable-plan') !== legacy) {
    throw new ConfigError(`optimal-transport: gradient '${requested}' contradicts differentiablePlan: ${legacy}; give only gradient.`);
  }
  const gradient = assertOneOf(requested ?? (legacy === true ? 'differentiable-plan' : 'detached-plan'), OT_GRADIENTS, 'optimal-transport gradient');
  const differentiablePlan = gradient === 'differentiable-plan';
  const lossOptions: OptimalTransportLossOptions = { ...resolved, differentiablePlan };
  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: 'optimal-transport',
    config: Object.freeze({ ...resolved, differentiablePlan, gradient }),
    compute(inputs: AlignmentInputs): tf.Scalar {
      if (gradient === 'none') return withoutGradient(() => optimalTransportLoss(inputs.imagePoints, inputs.textPoints, lossOptions));
      return optimalTransportLoss(inputs.imagePoints, inputs.textPoints, lossOptions);
    },
  };
}

/** The optimal-transport loss with the spec's defaults (ε 0.1, 100 iterations, tolerance 1e-3, detached plan). */
export const optimalTransport: AlignmentLoss = createOptimalTransportLoss();

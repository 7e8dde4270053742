import type * as tf from '@tensorflow/tfjs-core';
import { assertOneOf, SPECIFICATION_VERSION, type AlignmentInputs, type AlignmentLoss } from '@lico/core';
import { MANIFOLD_MATCHING_SIGNS, manifoldMatchingLoss, TEMPERATURE_MODES, type ManifoldMatchingSign, type TemperatureMode } from './manifold-matching-loss';

/** Options of {@link createManifoldMatchingLoss}. The temperature comes from `inputs.temperature`. */
export interface ManifoldMatchingPluginOptions {
  /** `'negative'` (default, the paper) or `'positive'` (the authors' code). */
  readonly sign?: ManifoldMatchingSign;
  /** `'divisor'` (default): `d/τ`; `'clip-scale'`: `d·exp(τ)` as CLIP. */
  readonly temperatureMode?: TemperatureMode;
}

/**
 * The manifold-matching loss as a v1 {@link AlignmentLoss} named `'manifold-matching'`: `compute`
 * uses `inputs.imageEmbeddings`, `inputs.textEmbeddings` and `inputs.temperature`. `config`
 * records every option. An unknown sign throws an `UnknownNameError` listing the valid ones.
 */
export function createManifoldMatchingLoss(options: ManifoldMatchingPluginOptions = {}): AlignmentLoss {
  const sign = assertOneOf(options.sign ?? 'negative', MANIFOLD_MATCHING_SIGNS, 'manifold-matching sign');
  const temperatureMode = assertOneOf(options.temperatureMode ?? 'divisor', TEMPERATURE_MODES, 'manifold-matching temperature mode');
  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: 'manifold-matching',
    config: Object.freeze({ sign, temperatureMode }),
    compute(inputs: AlignmentInputs): tf.Scalar {
      return manifoldMatchingLoss(inputs.imageEmbeddings, inputs.textEmbeddings, { temperature: inputs.temperature, sign, temperatureMode });
    },
  };
}

/** The manifold-matching loss with the spec's default (negative sign). */
export const manifoldMatching: AlignmentLoss = createManifoldMatchingLoss();

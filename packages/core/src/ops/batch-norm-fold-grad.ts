import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_FOLD, type BatchNormFoldAttrs } from './kernel-names';

/**
 * The gradient of {@link BATCH_NORM_FOLD} (`scale = γ·r`, `shift = β − μ·scale`, `r = 1/√(σ²+ε)`),
 * each input's computed only when the tape asks for it (an input gradient of a frozen network asks
 * for none): `dγ = (dscale − dshift·μ)·r`, `dβ = dshift`, `dμ = −dshift·scale`,
 * `dσ² = −½·(dscale − dshift·μ)·γ·r³`.
 */
export const batchNormFoldGradConfig: tf.GradConfig = {
  kernelName: BATCH_NORM_FOLD,
  inputsToSave: ['gamma', 'mean', 'variance'],
  outputsToSave: [true, false],
  gradFunc: (dys, saved, attrs) => {
    const [dScale, dShift] = dys as tf.Tensor[];
    const [gamma, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const { epsilon } = attrs as unknown as BatchNormFoldAttrs;
    const r = () => tf.rsqrt(tf.add(variance, epsilon));
    const dz = () => tf.sub(dScale!, tf.mul(dShift!, mean));
    return {
      gamma: () => tf.mul(dz(), r()),
      beta: () => dShift!,
      mean: () => tf.neg(tf.mul(dShift!, scale)),
      variance: () => tf.mul(tf.mul(dz(), gamma), tf.mul(-0.5, tf.pow(r(), 3))),
    };
  },
};

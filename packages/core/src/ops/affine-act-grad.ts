import * as tf from '@tensorflow/tfjs-core';
import { AFFINE_ACT, AFFINE_ACT_GRAD, type AffineActAttrs } from './kernel-names';

/**
 * The gradient of {@link AFFINE_ACT} (`y = act(x·scale + shift)`), with each input's gradient
 * computed only when the tape asks for it (an input gradient of a frozen network asks for `x`
 * alone): `dx = dz·scale` by {@link AFFINE_ACT_GRAD} where the active backend has it (else stock
 * ops), `dscale = Σ dz·x`, `dshift = Σ dz` over every axis but the last, with
 * `dz = y > 0 ? dy : alpha·dy` (for `alpha >= 0`, `y > 0` exactly when `x·scale + shift > 0`).
 */
export const affineActGradConfig: tf.GradConfig = {
  kernelName: AFFINE_ACT,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, scale, y] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
    const { alpha } = attrs as unknown as AffineActAttrs;
    const g = dy as tf.Tensor;
    const dz = () => (alpha === 1 ? g : tf.where(tf.greater(y, 0), g, tf.mul(g, alpha)));
    const axes = Array.from({ length: x.rank - 1 }, (_, a) => a);
    return {
      x: () =>
        tf.getKernel(AFFINE_ACT_GRAD, tf.getBackend())
          ? (tf.engine().runKernel(AFFINE_ACT_GRAD, { dy: g, y, scale }, { alpha } as unknown as tf.NamedAttrMap) as tf.Tensor)
          : tf.mul(dz(), scale),
      scale: () => tf.sum(tf.mul(dz(), x), axes),
      shift: () => tf.sum(dz(), axes),
    };
  },
};

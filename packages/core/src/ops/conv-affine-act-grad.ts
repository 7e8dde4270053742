import * as tf from '@tensorflow/tfjs-core';
import { AFFINE_ACT_GRAD, CONV_AFFINE_ACT, type ConvEpilogueAttrs } from './kernel-names';

/**
 * The gradient of {@link CONV_AFFINE_ACT} (`y = act((conv(x, filter) + bias)·scale + shift +
 * residual)`), each input's gradient computed only when the tape asks for it (an input gradient of
 * a frozen network asks for `x` alone: one pass for `dz·scale`, one `Conv2DBackpropInput`). With
 * `dz = y > 0 ? dy : alpha·dy` (for `alpha >= 0`, `y > 0` exactly when the activation's input is):
 * `dx`, `dfilter` the conv's gradients of `dz·scale`, `dbias = Σ dz·scale`, `dscale = Σ dz·u` with
 * `u = conv(x, filter) + bias` (recomputed, only when asked for), `dshift = Σ dz`, `dresidual = dz`.
 */
export const convAffineActGradConfig: tf.GradConfig = {
  kernelName: CONV_AFFINE_ACT,
  inputsToSave: ['x', 'filter', 'bias', 'scale'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, bias, scale, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D];
    const { strides, pad, alpha } = attrs as unknown as ConvEpilogueAttrs;
    const g = dy as tf.Tensor4D;
    const axes = [0, 1, 2];
    const dz = (): tf.Tensor4D => (alpha === 1 ? g : (tf.where(tf.greater(y, 0), g, tf.mul(g, alpha)) as tf.Tensor4D));
    const dzScaled = (): tf.Tensor4D =>
      tf.getKernel(AFFINE_ACT_GRAD, tf.getBackend())
        ? (tf.engine().runKernel(AFFINE_ACT_GRAD, { dy: g, y, scale }, { alpha } as unknown as tf.NamedAttrMap) as tf.Tensor4D)
        : (tf.mul(dz(), scale) as tf.Tensor4D);
    const conv = { strides, pad, dataFormat: 'NHWC' };
    return {
      x: () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dzScaled(), filter }, { ...conv, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      filter: () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: dzScaled() }, { ...conv, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      bias: () => tf.sum(dzScaled(), axes),
      scale: () => tf.sum(tf.mul(dz(), tf.add(tf.conv2d(x, filter, strides as [number, number], pad), bias)), axes),
      shift: () => tf.sum(dz(), axes),
      residual: () => dz(),
    };
  },
};

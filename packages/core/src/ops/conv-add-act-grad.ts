import * as tf from '@tensorflow/tfjs-core';
import { CONV_ADD_ACT, type ConvEpilogueAttrs } from './kernel-names';

/**
 * The gradient of {@link CONV_ADD_ACT} (`y = act(conv(x, filter) + bias + residual)`), each input's
 * gradient computed only when the tape asks for it. With `dz = y > 0 ? dy : alpha·dy` (`dz = dy`
 * without an activation: no pass): `dx`, `dfilter` the conv's gradients of `dz`, `dbias = Σ dz`,
 * `dresidual = dz` — the kernels and order of `FusedConv2D` followed by `Add`.
 */
export const convAddActGradConfig: tf.GradConfig = {
  kernelName: CONV_ADD_ACT,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, alpha } = attrs as unknown as ConvEpilogueAttrs;
    const g = dy as tf.Tensor4D;
    const dz = (): tf.Tensor4D => (alpha === 1 ? g : (tf.where(tf.greater(y, 0), g, tf.mul(g, alpha)) as tf.Tensor4D));
    const conv = { strides, pad, dataFormat: 'NHWC' };
    return {
      x: () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dz(), filter }, { ...conv, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      filter: () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: dz() }, { ...conv, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      bias: () => tf.sum(dz(), [0, 1, 2]),
      residual: () => dz(),
    };
  },
};

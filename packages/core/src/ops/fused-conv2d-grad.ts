import * as tf from '@tensorflow/tfjs-core';

/**
 * A gradient for the stock `FusedConv2D` kernel run directly (`tf.engine().runKernel`), which
 * tfjs-core has none for: `tf.fused.conv2d` differentiates through `customGrad`, whose backward
 * always computes the input, filter and bias gradients. Here each input's gradient is computed
 * only when the tape asks for it (an input gradient of a frozen network asks for `x` alone:
 * one `Conv2DBackpropInput`, no filter gradient, no bias sum), with the same kernels and order as
 * `tf.fused.conv2d`'s backward. Supports NHWC, dilation 1, activation `'linear'` or `'relu'`, and
 * a bias of shape `[outChannels]` (the tape rejects a gradient of another shape, naming it); other
 * cases throw when the gradient is asked for.
 */
export const fusedConv2DGradConfig: tf.GradConfig = {
  kernelName: tf.FusedConv2D,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as tf.FusedConv2DAttrs;
    const activation = a.activation ?? 'linear';
    const fail = (what: string): never => {
      throw new Error(`FusedConv2D gradient (@lico/core): ${what} is not supported (NHWC, dilation 1, activation 'linear' or 'relu' only)`);
    };
    if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') fail(`dataFormat '${a.dataFormat}'`);
    const dilations = a.dilations ?? 1;
    if ((Array.isArray(dilations) ? dilations : [dilations]).some((d) => d !== 1)) fail(`dilations ${JSON.stringify(dilations)}`);
    if (activation !== 'linear' && activation !== 'relu') fail(`activation '${activation}'`);
    const g = dy as tf.Tensor4D;
    // As tfjs's getFusedDyActivation: relu passes dy where y > 0.
    const dz = (): tf.Tensor4D => (activation === 'relu' ? (tf.mul(g, tf.step(y)) as tf.Tensor4D) : g);
    const conv = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dimRoundingMode: a.dimRoundingMode };
    return {
      x: () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dz(), filter }, { ...conv, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      filter: () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: dz() }, { ...conv, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
      bias: () => tf.sum(dz(), [0, 1, 2]),
    };
  },
};

import * as tf from '@tensorflow/tfjs-core';
import { convPadded, outputFromOps, padOrCrop, type WasmBackendLike } from './kernel-utils';

/**
 * `Conv2DBackpropFilter` for wasm (the stock backend has none): the filter gradient of a conv2d.
 *
 * dW[i,j,c,o] = Σ_{b,p,q} x[b, p·s + i − padTop, q·s + j − padLeft, c] · dy[b,p,q,o] is a forward
 * convolution (XNNPACK) of the transposed input `[Cin,H,W,B]` with the transposed output
 * gradient `[Ho,Wo,B,Cout]` as the filter, dilated by the stride; a plain matMul for 1×1 filters.
 */
export function conv2dBackpropFilterWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${attrs.dataFormat}`);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  return outputFromOps(args.backend as WasmBackendLike, [x, dy], (xt, dyt) => conv2dFilterGrad(xt as tf.Tensor4D, dyt as tf.Tensor4D, info));
}

/** The filter gradient from the conv info (also used by tests). */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inChannels: cin, outChannels: cout, outHeight: ho, outWidth: wo, batchSize: b } = info;
  const { top, left } = info.padInfo;
  const [, h, w] = x.shape;
  // Rows of x that the convolution reads: −padTop … (ho−1)·sh + kh − 1 − padTop (pad or crop to them).
  const bottom = (ho - 1) * sh + kh - top - h;
  const right = (wo - 1) * sw + kw - left - w;
  if (kh === 1 && kw === 1) {
    const xp = padOrCrop(x, top, bottom, left, right);
    // 1×1: pick the sampled pixels, then one matMul over all positions.
    const xs = sh > 1 || sw > 1 ? tf.stridedSlice(xp, [0, 0, 0, 0], xp.shape, [1, sh, sw, 1]) : xp;
    const g = tf.matMul(tf.reshape(xs, [b * ho * wo, cin]), tf.reshape(dy, [b * ho * wo, cout]), true, false);
    return tf.reshape(g, [1, 1, cin, cout]);
  }
  const xt = tf.transpose(x, [3, 1, 2, 0]); // [Cin, H, W, B]
  const f = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, B, Cout]
  const g = convPadded(xt, f, top, bottom, left, right, [sh, sw]); // [Cin, kh, kw, Cout]
  return tf.transpose(g, [1, 2, 0, 3]);
}

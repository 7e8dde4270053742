import * as tf from '@tensorflow/tfjs-core';
import { convPadded, outputFromOps, type WasmBackendLike } from './kernel-utils';

/**
 * `Conv2DBackpropInput` for wasm, replacing the stock kernel (correct but ~10× slower than a
 * forward convolution): the input gradient of a conv2d as one forward convolution (XNNPACK).
 *
 * With stride s, input row y = p·s + i − padTop, so each of the s×s output phases
 * r = (y + padTop) mod s is a stride-1 correlation of dy with the sub-filter W[r + s·m]. All
 * phases run as one stride-1 convolution with a flipped filter bank `[K,K,Cout,s·s·Cin]`
 * (K = ⌈k/s⌉, zero-padded); the phases are then interleaved by reshape/transpose and cropped.
 * With s = 1 this is the classic flipped-filter convolution.
 */
export function conv2dBackpropInputWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropInput on wasm supports NHWC only, got ${attrs.dataFormat}`);
  const inputShape = attrs.inputShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  return outputFromOps(args.backend as WasmBackendLike, [dy, filter], (dyt, wt) => conv2dInputGrad(dyt as tf.Tensor4D, wt as tf.Tensor4D, info));
}

/** The input gradient from the conv info (also used by tests). */
export function conv2dInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inChannels: cin, outChannels: cout, outHeight: ho, outWidth: wo, batchSize: b, inHeight: h, inWidth: wi } = info;
  const { top, left } = info.padInfo;
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && top === 0 && left === 0 && ho === h && wo === wi) {
    return tf.reshape(tf.matMul(tf.reshape(dy, [b * ho * wo, cout]), tf.reshape(w, [cin, cout]), false, true), [b, h, wi, cin]);
  }
  const khp = Math.ceil(kh / sh);
  const kwp = Math.ceil(kw / sw);
  // Filter bank: bank[m', n', o, (ry, rx, c)] = W[ry + sh·(khp−1−m'), rx + sw·(kwp−1−n'), c, o].
  let wp: tf.Tensor = w;
  if (khp * sh !== kh || kwp * sw !== kw) wp = tf.pad(w, [[0, khp * sh - kh], [0, kwp * sw - kw], [0, 0], [0, 0]]);
  wp = tf.reshape(wp, [khp, sh, kwp, sw, cin, cout]);
  if (khp > 1 || kwp > 1) wp = tf.reverse(wp, [0, 2]);
  const bank = tf.reshape(tf.transpose(wp, [0, 2, 5, 1, 3, 4]), [khp, kwp, cout, sh * sw * cin]) as tf.Tensor4D;
  // Phase rows Y = 0 … yn−1 cover u = y + padTop ∈ [padTop, padTop + h).
  const yn = Math.ceil((h + top) / sh);
  const xn = Math.ceil((wi + left) / sw);
  const z = convPadded(dy, bank, khp - 1, yn - ho, kwp - 1, xn - wo); // [B, yn, xn, sh·sw·Cin]
  let full: tf.Tensor4D;
  if (sh === 1 && sw === 1) full = z;
  else full = tf.reshape(tf.transpose(tf.reshape(z, [b * yn, xn, sh, sw * cin]), [0, 2, 1, 3]), [b, yn * sh, xn * sw, cin]);
  if (top === 0 && left === 0 && yn * sh === h && xn * sw === wi) return full;
  return tf.slice(full, [0, top, left, 0], [b, h, wi, cin]);
}

import * as tf from '@tensorflow/tfjs-core';
import { convGeometry, convGradRunnerFor } from './conv-grad-kernels';
import { jsPass } from './js-pass';
import { convPadded, outputFromOps, type WasmBackendLike } from './kernel-utils';
import { winogradFilterCacheFor } from './winograd-filter-cache';

/**
 * `Conv2DBackpropInput` for wasm, replacing the stock kernel (correct but ~10× slower than a
 * forward convolution, single-threaded): the input gradient of a conv2d,
 * dx[b,y,x,c] = Σ_{i,j,o} dy[b,p,q,o] · W[i,j,c,o] over p·s + i − padTop = y, q·s + j − padLeft = x.
 *
 * Computed by lico's WebAssembly SIMD kernel (`csrc/conv-grad.c`) in place on the wasm backend's
 * memory, split over the backend's threads; where that module cannot run, by
 * {@link conv2dInputGrad} (XNNPACK).
 */
export function conv2dBackpropInputWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropInput on wasm supports NHWC only, got ${attrs.dataFormat}`);
  const inputShape = attrs.inputShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const expected = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (dy.shape.length !== 4 || dy.shape.some((d, k) => d !== expected[k])) {
    throw new Error(`Conv2DBackpropInput: dy has shape [${dy.shape}], expected [${expected}] for input [${inputShape}] and filter [${filter.shape}]`);
  }
  const simd = dy.dtype === 'float32' && filter.dtype === 'float32' ? convGradRunnerFor(args.backend) : undefined;
  if (simd) {
    const { heap, runner } = simd;
    const g = convGeometry(info);
    const out = heap.makeOutput(inputShape.slice(), 'float32');
    const prepared = winogradFilterCacheFor(heap).prepared(runner, filter, g, 'input');
    heap.withScratch(runner.inputGradScratch(g), (scratch) => runner.inputGrad(heap.offset(dy), heap.offset(filter), heap.offset(out), scratch, g, prepared));
    return out;
  }
  return outputFromOps(args.backend as WasmBackendLike, [dy, filter], (dyt, wt) => conv2dInputGrad(dyt as tf.Tensor4D, wt as tf.Tensor4D, info));
}

/**
 * `(tap, output position)` pairs of one spatial axis: for each input row y, the taps i and output
 * rows p with `p·s + i − pad = y`.
 */
function axisTaps(n: number, k: number, s: number, pad: number, outN: number): number[][] {
  const out: number[][] = [];
  for (let y = 0; y < n; y++) {
    const pairs: number[] = [];
    for (let i = 0; i < k; i++) {
      const t = y + pad - i;
      if (t >= 0 && t % s === 0 && t / s < outN) pairs.push(i, t / s);
    }
    out.push(pairs);
  }
  return out;
}

/**
 * col2im in one JavaScript pass: `dx[b,y,x,c] = Σ z[b,p,q,i,j,c]` over the taps with
 * `p·sh + i − top = y`, `q·sw + j − left = x` (z is `[B·Ho·Wo, kh·kw·Cin]`).
 */
function col2im(z: tf.Tensor, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inChannels: cin, outHeight: ho, outWidth: wo, batchSize: b, inHeight: h, inWidth: w } = info;
  const rows = axisTaps(h, kh, sh, info.padInfo.top, ho);
  const cols = axisTaps(w, kw, sw, info.padInfo.left, wo);
  const tapSize = kw * cin;
  const rowSize = kh * tapSize;
  return jsPass([b, h, w, cin], [z], (out, [zv]) => {
    let o = 0;
    for (let n = 0; n < b; n++) {
      for (let y = 0; y < h; y++) {
        const ry = rows[y]!;
        for (let x = 0; x < w; x++, o += cin) {
          const rx = cols[x]!;
          let first = true;
          for (let a = 0; a < ry.length; a += 2) {
            for (let c = 0; c < rx.length; c += 2) {
              const src = ((n * ho + ry[a + 1]!) * wo + rx[c + 1]!) * rowSize + ry[a]! * tapSize + rx[c]! * cin;
              if (first) for (let k = 0; k < cin; k++) out[o + k] = zv![src + k]!;
              else for (let k = 0; k < cin; k++) out[o + k] += zv![src + k]!;
              first = false;
            }
          }
          if (first) out.fill(0, o, o + cin);
        }
      }
    }
  }) as tf.Tensor4D;
}

/**
 * `out[i, j, o, c] = w[kh−1−i, kw−1−j, c, o]`: the spatially flipped, in/out-swapped filter in one
 * JavaScript pass (wasm's Reverse takes 8 ms for a 3×3×128×128 filter).
 */
function flipFilter(w: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, cin, cout] = w.shape;
  return jsPass([kh, kw, cout, cin], [w], (out, [v]) => {
    let k = 0;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const base = ((kh - 1 - i) * kw + (kw - 1 - j)) * cin * cout;
        for (let o = 0; o < cout; o++) for (let c = 0; c < cin; c++) out[k++] = v![base + c * cout + o]!;
      }
    }
  }) as tf.Tensor4D;
}

/**
 * The input gradient from the conv info by XNNPACK: the fallback where the SIMD kernel cannot run
 * (also used by tests). Stride 1: one forward convolution of dy with the spatially flipped,
 * in/out-swapped filter (1×1: one matMul). Stride > 1: one plain matMul `dy·Wᵀ` gives every output
 * pixel's contribution to its kh×kw input window, and one JavaScript pass adds them up (col2im).
 */
export function conv2dInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inChannels: cin, outChannels: cout, outHeight: ho, outWidth: wo, batchSize: b, inHeight: h, inWidth: wi } = info;
  const { top, left } = info.padInfo;
  if (sh > 1 || sw > 1) {
    // Strided: every output pixel's contribution is one row of dy·Wᵀ; scatter-add them (col2im).
    const wt = tf.transpose(tf.reshape(w, [kh * kw * cin, cout]));
    return col2im(tf.matMul(tf.reshape(dy, [b * ho * wo, cout]), wt), info);
  }
  if (kh === 1 && kw === 1 && top === 0 && left === 0 && ho === h && wo === wi) {
    return tf.reshape(tf.matMul(tf.reshape(dy, [b * ho * wo, cout]), tf.transpose(tf.reshape(w, [cin, cout]))), [b, h, wi, cin]);
  }
  // Stride 1: a forward convolution with the flipped, in/out-swapped filter.
  const flipped = flipFilter(w);
  return convPadded(dy, flipped, kh - 1 - top, h + top - ho, kw - 1 - left, wi + left - wo);
}

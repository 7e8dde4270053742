import * as tf from '@tensorflow/tfjs-core';
import { convGeometry, convGradRunnerFor } from './conv-grad-kernels';
import { heapViewsAvailable, withHeapView } from './heap-view';
import { jsPass } from './js-pass';
import { outputFromOps, type WasmBackendLike } from './kernel-utils';

/**
 * `Conv2DBackpropFilter` for wasm (the stock backend has none): the filter gradient of a conv2d,
 * dW[i,j,c,o] = Σ_{b,p,q} x[b, p·s + i − padTop, q·s + j − padLeft, c] · dy[b,p,q,o].
 *
 * Computed by lico's WebAssembly SIMD kernel (`csrc/conv-filter-grad.c`) in place on the wasm
 * backend's memory, split over the backend's threads (see `convGradRunner`); where that
 * module cannot run, by XNNPACK matMuls ({@link conv2dFilterGrad}).
 */
export function conv2dBackpropFilterWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${attrs.dataFormat}`);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const expected = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (dy.shape.length !== 4 || dy.shape.some((d, k) => d !== expected[k])) {
    throw new Error(`Conv2DBackpropFilter: dy has shape [${dy.shape}], expected [${expected}] for x [${x.shape}] and filter [${filterShape}]`);
  }
  const simd = x.dtype === 'float32' && dy.dtype === 'float32' ? simdFilterGrad(args.backend, x, dy, info) : undefined;
  if (simd) return simd;
  return outputFromOps(args.backend as WasmBackendLike, [x, dy], (xt, dyt) => conv2dFilterGrad(xt as tf.Tensor4D, dyt as tf.Tensor4D, info));
}

/** The SIMD kernel's result, or `undefined` where it cannot run on this backend's memory. */
function simdFilterGrad(backend: unknown, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | undefined {
  const simd = convGradRunnerFor(backend);
  if (!simd) return undefined;
  const { heap, runner } = simd;
  const out = heap.makeOutput([info.filterHeight, info.filterWidth, info.inChannels, info.outChannels], 'float32');
  const g = convGeometry(info);
  heap.withScratch(runner.filterGradScratch(g), (scratch) => runner.filterGrad(heap.offset(x), heap.offset(dy), heap.offset(out), scratch, g));
  return out;
}

/**
 * The padded, phase-split, transposed input as one flat tensor of `py·px·c·plane + tail` elements:
 * `out[((ry·px + rx)·c + ch)·plane + (n·hq + u)·wq + v] = x[n, u·sh + ry − top, v·sw + rx − left, ch]`
 * (0 outside x) for ry < py, rx < px, u < hq, v < wq; the `tail` elements after it are 0.
 * One grid line at a time, four channels per sweep (reads stay in cache, writes are sequential).
 */
function phaseSplitTransposed(x: tf.Tensor4D, sh: number, sw: number, py: number, px: number, hq: number, wq: number, top: number, left: number, tail: number): tf.Tensor {
  const [b, h, w, c] = x.shape;
  const plane = b * hq * wq;
  const total = py * px * c * plane;
  return jsPass([total + tail], [x], (out, [xv]) => {
    const step = sw * c;
    for (let ry = 0; ry < py; ry++) {
      for (let rx = 0; rx < px; rx++) {
        const phase = (ry * px + rx) * c * plane;
        // Grid cells v whose input column v·sw + rx − left lies in [0, w).
        const v0 = Math.min(wq, Math.max(0, Math.ceil((left - rx) / sw)));
        const v1 = Math.max(v0, Math.min(wq, Math.ceil((w + left - rx) / sw)));
        for (let n = 0; n < b; n++) {
          for (let u = 0; u < hq; u++) {
            const line = phase + (n * hq + u) * wq;
            const yy = u * sh + ry - top;
            if (yy < 0 || yy >= h) {
              for (let ch = 0; ch < c; ch++) out.fill(0, line + ch * plane, line + ch * plane + wq);
              continue;
            }
            const first = ((n * h + yy) * w + v0 * sw + rx - left) * c;
            let ch = 0;
            for (; ch + 4 <= c; ch += 4) {
              const o0 = line + ch * plane;
              const o1 = o0 + plane;
              const o2 = o1 + plane;
              const o3 = o2 + plane;
              for (let v = 0; v < v0; v++) {
                out[o0 + v] = 0;
                out[o1 + v] = 0;
                out[o2 + v] = 0;
                out[o3 + v] = 0;
              }
              for (let v = v0, k = first + ch; v < v1; v++, k += step) {
                out[o0 + v] = xv![k]!;
                out[o1 + v] = xv![k + 1]!;
                out[o2 + v] = xv![k + 2]!;
                out[o3 + v] = xv![k + 3]!;
              }
              for (let v = v1; v < wq; v++) {
                out[o0 + v] = 0;
                out[o1 + v] = 0;
                out[o2 + v] = 0;
                out[o3 + v] = 0;
              }
            }
            for (; ch < c; ch++) {
              const o = line + ch * plane;
              for (let v = 0; v < v0; v++) out[o + v] = 0;
              for (let v = v0, k = first + ch; v < v1; v++, k += step) out[o + v] = xv![k]!;
              for (let v = v1; v < wq; v++) out[o + v] = 0;
            }
          }
        }
      }
    }
    out.fill(0, total);
  });
}

/**
 * `a · d` where `a` is the `[rows, cols]` window of the flat tensor `flat` starting at `offset`: on
 * wasm a view of its memory handed straight to the matMul kernel (no copy); elsewhere a slice.
 */
function windowMatMul(flat: tf.Tensor, offset: number, rows: number, cols: number, d: tf.Tensor): tf.Tensor {
  if (!heapViewsAvailable()) return tf.matMul(tf.reshape(tf.slice(flat, offset, rows * cols), [rows, cols]), d);
  const backend = tf.backend();
  const kernel = tf.getKernel('BatchMatMul', 'wasm');
  if (!kernel) throw new Error('wasm backend has no BatchMatMul kernel');
  const out = withHeapView(backend, flat, offset, [rows, cols], (a) => kernel.kernelFunc({ inputs: { a, b: d }, backend: backend as never, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo);
  return tf.engine().makeTensorFromTensorInfo(out);
}

/**
 * `dy` `[B, ho, wo, C]` zero-padded at the bottom and right to `[B·hq·wq, C]`: one JavaScript pass
 * of row copies (2× faster than the wasm `PadV2`).
 */
function padToGrid(dy: tf.Tensor4D, hq: number, wq: number): tf.Tensor {
  const [b, ho, wo, c] = dy.shape;
  return jsPass([b * hq * wq, c], [dy], (out, [g]) => {
    const run = wo * c;
    const line = wq * c;
    let dst = 0;
    for (let n = 0; n < b; n++) {
      for (let u = 0; u < hq; u++, dst += line) {
        if (u < ho) {
          const src = (n * ho + u) * run;
          out.set(g!.subarray(src, src + run), dst);
          out.fill(0, dst + run, dst + line);
        } else out.fill(0, dst, dst + line);
      }
    }
  });
}

/**
 * Cells per line of the phase grid along one axis (input size n, kernel k, stride s, leading pad
 * `pad`, output size `out`). Shifts reach `m = ⌊(k−1)/s⌋` cells past the output, so `out + m`
 * always works; a line may be up to `e ≤ m` cells shorter when the overflow, which wraps into the
 * first `e` cells of the next line, lands on cells that are zero padding (their input index is < 0)
 * and stands for cells that are zero too (input index ≥ n), in every phase. Same-padded stride-1
 * 3×3 convolutions share one zero column (and row) between neighbours: 33 instead of 34 at 32.
 */
function gridSize(n: number, k: number, s: number, pad: number, out: number): number {
  const m = Math.floor((k - 1) / s);
  const phases = Math.min(s, k);
  for (let e = m; e > 0; e--) {
    let ok = true;
    for (let r = 0; r < phases && ok; r++) ok = (e - 1) * s + r - pad < 0 && (out + m - e) * s + r - pad >= n;
    if (ok) return out + m - e;
  }
  return out + m;
}

/**
 * The filter gradient from the conv info by XNNPACK matMuls: the fallback where the SIMD kernel
 * cannot run (also used by tests). One JavaScript pass writes the zero-padded input, split into its
 * s×s stride phases and transposed to `[phase, Cin, positions]`; the output gradient, zero-padded to
 * the phase grid, is `[positions, Cout]`. On that grid every filter tap (i, j) is a fixed shift of
 * the positions, so each tap is one plain 2-D matMul of a shifted `[Cin, positions]` window of the
 * first (a view of the wasm memory, no copy) with the second (packed once by XNNPACK for all taps).
 */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inChannels: cin, outChannels: cout, outHeight: ho, outWidth: wo, batchSize: b } = info;
  const { top, left } = info.padInfo;
  // Phase grid: tap (i, j) reads phase (i mod s, j mod s) shifted by (⌊i/s⌋, ⌊j/s⌋) on a hq×wq grid per image.
  const my = Math.floor((kh - 1) / sh);
  const mx = Math.floor((kw - 1) / sw);
  const hq = gridSize(info.inHeight, kh, sh, top, ho);
  const wq = gridSize(info.inWidth, kw, sw, left, wo);
  const py = Math.min(sh, kh);
  const px = Math.min(sw, kw);
  const plane = b * hq * wq;
  const maxShift = my * wq + mx;
  const xt = phaseSplitTransposed(x, sh, sw, py, px, hq, wq, top, left, maxShift);
  // dy on the grid, zero beyond ho×wo. A shifted window row that runs past a line, an image or its
  // channel's positions (into the next channel or the zero tail) reads zero padding, which stands
  // for the zeros beyond the input (see gridSize).
  const d = hq > ho || wq > wo ? padToGrid(dy, hq, wq) : tf.reshape(dy, [plane, cout]);
  const taps: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const offset = ((i % sh) * px + (j % sw)) * cin * plane + Math.floor(i / sh) * wq + Math.floor(j / sw);
      taps.push(windowMatMul(xt, offset, cin, plane, d));
    }
  }
  return tf.reshape(taps.length === 1 ? taps[0]! : tf.stack(taps), [kh, kw, cin, cout]);
}

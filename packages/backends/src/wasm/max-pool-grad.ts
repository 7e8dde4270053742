import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackendLike } from './kernel-utils';

/**
 * `MaxPoolGrad` for wasm, replacing the stock kernel, which is silently wrong whenever batch or
 * channels exceed 1. Each output gradient goes to the first maximum of its window (scan order,
 * padding excluded), exactly as on the cpu backend; one pass in JavaScript over the wasm heap.
 */
export function maxPoolGradWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: ch, outHeight, outWidth, strideHeight, strideWidth, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const out = backend.makeOutput(input.shape.slice(), 'float32');
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  const x = backend.typedArrayFromHeap(input);
  const g = backend.typedArrayFromHeap(dy);
  const best = new Int32Array(ch);
  const bestValue = new Float64Array(ch);
  for (let b = 0; b < batchSize; b++) {
    const xBase = b * inHeight * inWidth * ch;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - top;
      const yMin = Math.max(0, y0);
      const yMax = Math.min(inHeight, y0 + fh);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - left;
        const xMin = Math.max(0, x0);
        const xMax = Math.min(inWidth, x0 + fw);
        best.fill(-1);
        bestValue.fill(Number.NEGATIVE_INFINITY);
        for (let yy = yMin; yy < yMax; yy++) {
          for (let xx = xMin; xx < xMax; xx++) {
            const p = xBase + (yy * inWidth + xx) * ch;
            for (let c = 0; c < ch; c++) {
              const v = x[p + c]!;
              if (v > bestValue[c]!) {
                bestValue[c] = v;
                best[c] = p + c;
              }
            }
          }
        }
        const gBase = ((b * outHeight + oy) * outWidth + ox) * ch;
        for (let c = 0; c < ch; c++) {
          const at = best[c]!;
          if (at >= 0) dx[at] += g[gBase + c]!;
        }
      }
    }
  }
  return out;
}

import * as tf from '@tensorflow/tfjs-core';

type CpuLike = { readSync(id: tf.DataId): Float32Array; makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo };

/**
 * The definition of @lico/core's fused conv epilogue kernels (`LicoConvAffineAct`, `LicoConvAddAct`)
 * in float64 for the cpu backend: `y = act((conv(x, filter) + bias)·scale + shift + residual)`,
 * NHWC, a number `strides` and symmetric zero padding `pad` on every side; `scale`, `shift`,
 * `residual` each optional.
 */
function convEpilogueCpu({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const b = backend as CpuLike;
  const { x, filter, bias, scale, shift, residual } = inputs as Record<string, tf.TensorInfo | undefined>;
  const { strides, pad, alpha } = attrs as unknown as { strides: number; pad: number; alpha: number };
  const [s, p] = [strides as number, pad as number];
  const [n, h, w, c] = x!.shape as [number, number, number, number];
  const [kh, kw, , co] = filter!.shape as [number, number, number, number];
  const [xs, fs, bs] = [b.readSync(x!.dataId), b.readSync(filter!.dataId), b.readSync(bias!.dataId)];
  const [ss, hs, rs] = [scale && b.readSync(scale.dataId), shift && b.readSync(shift.dataId), residual && b.readSync(residual.dataId)];
  const ho = Math.floor((h + 2 * p - kh) / s) + 1;
  const wo = Math.floor((w + 2 * p - kw) / s) + 1;
  const y = new Float32Array(n * ho * wo * co);
  for (let i = 0; i < n; i++)
    for (let r = 0; r < ho; r++)
      for (let q = 0; q < wo; q++)
        for (let o = 0; o < co; o++) {
          let u = bs[o]!;
          for (let a = 0; a < kh; a++)
            for (let e = 0; e < kw; e++) {
              const [yy, xx] = [r * s + a - p, q * s + e - p];
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              for (let k = 0; k < c; k++) u += xs[((i * h + yy) * w + xx) * c + k]! * fs[((a * kw + e) * c + k) * co + o]!;
            }
          const at = ((i * ho + r) * wo + q) * co + o;
          const z = (ss ? u * ss[o]! + hs![o]! : u) + (rs ? rs[at]! : 0);
          y[at] = z > 0 ? z : alpha * z;
        }
  return b.makeTensorInfo([n, ho, wo, co], 'float32', y);
}

/**
 * Test helper: registers {@link convEpilogueCpu} as the cpu kernel of each name (the fused conv
 * epilogue kernels of @lico/core, whose names this package does not import); returns a function that
 * unregisters them.
 */
export function registerConvEpilogueReference(kernelNames: readonly string[]): () => void {
  for (const kernelName of kernelNames) tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc: convEpilogueCpu as unknown as tf.KernelFunc });
  return () => kernelNames.forEach((k) => tf.unregisterKernel(k, 'cpu'));
}

import * as tf from '@tensorflow/tfjs-core';
import { AFFINE_ACT, BATCH_NORM_ACT, BATCH_NORM_ACT_GRAD, ConfigError, ShapeError } from '@lico/core';

/** Batch statistics a training-mode batch norm computed, handed to {@link batchNormTraining}'s `onStats`. */
export interface BatchStats {
  /** Per-channel batch mean `[C]`. */
  readonly mean: tf.Tensor1D;
  /** Per-channel biased batch variance `[C]` (divided by the element count `m`). */
  readonly variance: tf.Tensor1D;
  /** Number of elements per channel `m = N*H*W`. */
  readonly count: number;
}

/**
 * `x·scale + shift` per channel (last axis) as a 1×1 depthwise convolution with bias: one pass,
 * 4–5× faster on wasm than a broadcast multiply and add (XNNPACK, threaded), same values.
 */
function channelAffine(x: tf.Tensor, scale: tf.Tensor, shift?: tf.Tensor): tf.Tensor4D {
  const c = x.shape[3]!;
  return tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: tf.reshape(scale, [1, 1, c, 1]) as tf.Tensor4D, strides: 1, pad: 'valid', ...(shift ? { bias: shift } : {}) });
}

/**
 * Training-mode batch normalisation over the batch and spatial axes of an NHWC tensor, with a
 * hand-written backward pass (the stock autodiff of `moments` + `batchNorm` spends a full-size
 * `Tile`; this one needs four full-size passes, two of them per-channel affine maps run as 1×1
 * depthwise convolutions). `y = (x - μ) · γ / sqrt(σ² + ε) + β`.
 *
 * `onStats` is called once, during the forward pass, with the batch statistics (for moving-average
 * updates); the tensors passed to it are disposed afterwards, so copy what you keep.
 */
export function batchNormTraining(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  onStats?: (stats: BatchStats) => void,
): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const count = n * h * w;
  const op = tf.customGrad(((xIn: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const mean = tf.mean(xIn, [0, 1, 2]) as tf.Tensor1D;
    const centered = tf.sub(xIn, mean);
    const variance = tf.mean(tf.square(centered), [0, 1, 2]) as tf.Tensor1D;
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const scale = tf.mul(g, invStd);
    const value = channelAffine(centered, scale, b);
    if (onStats) onStats({ mean, variance, count });
    save([centered, invStd, scale]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [c, inv, sc] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dBeta = tf.sum(dy, [0, 1, 2]);
        // Σ dy·x̂ = invStd · Σ dy·(x-μ)
        const dyc = tf.sum(tf.mul(dy, c), [0, 1, 2]);
        const dGamma = tf.mul(dyc, inv);
        // dx = γ·invStd · (dy - Σdy/m - (x-μ)·invStd²·Σ(dy·(x-μ))/m)
        const k = tf.div(tf.mul(dyc, tf.square(inv)), count);
        const dx = channelAffine(tf.add(dy, channelAffine(c, tf.neg(k), tf.neg(tf.div(dBeta, count)))), sc);
        return [dx, dGamma, dBeta];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, gamma, beta) as tf.Tensor4D;
}

/** Whether a gradient tape is recording now (inside `tf.grad`, `tf.variableGrads`, …). */
function recordingGradients(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

/**
 * `x·scale + shift` per channel with a hand-written backward pass: `dx = dy·scale` as one 1×1
 * depthwise pass, `dscale = Σ dy·x`, `dshift = Σ dy` (the stock gradient of `tf.batchNorm` tiles
 * its parameters to the input's full shape first, which on wasm cost more than all the
 * convolutions of an input gradient).
 */
function channelAffineWithGrad(x: tf.Tensor4D, scale: tf.Tensor1D, shift: tf.Tensor1D): tf.Tensor4D {
  const op = tf.customGrad(((xIn: tf.Tensor, sc: tf.Tensor, sh: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xIn, sc]);
    return {
      value: channelAffine(xIn, sc, sh),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, scs] = saved as [tf.Tensor, tf.Tensor];
        return [channelAffine(dy, scs), tf.sum(tf.mul(dy, xs), [0, 1, 2]), tf.sum(dy, [0, 1, 2])];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, scale, shift) as tf.Tensor4D;
}

/**
 * Inference-mode batch norm with its running statistics folded into a per-channel affine map,
 * `act(x·scale + shift)` with `scale = γ/√(σ²+ε)` and `shift = β − μ·scale`, then LeakyReLU with
 * `slope` (0: ReLU; `undefined`: none). Where the backend registered `LicoAffineAct` (@lico/core's
 * kernel name; `@lico/backends` does for wasm) map and activation are that one kernel, whose
 * gradient computes only what the tape asks for (an input gradient: one pass, `dx = dz·scale`).
 * Elsewhere, outside a gradient tape the map is one 1×1 depthwise pass (with the ReLU fused in);
 * under a tape it has a hand-written backward of four full-size passes (`dx`, and the sums for
 * `scale` and `shift`, computed even when only `dx` is asked for) and no full-size `Tile`. Both
 * give the same values within float32 rounding (tested). Bad `slope`: `ConfigError`; shapes that
 * do not fit: `ShapeError`. `preActivation`, when given, sees (and may replace) the output before
 * the activation (then the kernel is not used).
 */
export function batchNormActInference(
  x: tf.Tensor4D,
  scale: tf.Tensor1D,
  shift: tf.Tensor1D,
  slope: number | undefined,
  preActivation?: (y: tf.Tensor4D) => tf.Tensor4D,
): tf.Tensor4D {
  if (slope !== undefined && !(Number.isFinite(slope) && slope >= 0)) throw new ConfigError(`batchNormActInference: slope must be a finite number >= 0 (or undefined), got ${slope}`);
  const c = x.shape[3];
  if (x.rank !== 4 || scale.rank !== 1 || shift.rank !== 1 || scale.shape[0] !== c || shift.shape[0] !== c) throw new ShapeError(`batchNormActInference: x has ${c} channels (shape [${x.shape.join(',')}]) but scale is [${scale.shape.join(',')}] and shift [${shift.shape.join(',')}]`);
  if (!preActivation && x.dtype === 'float32' && affineActAvailable()) {
    return tf.engine().runKernel(AFFINE_ACT, { x, scale, shift }, { alpha: slope ?? 1 } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    const fuse = !preActivation && !recordingGradients();
    if (fuse && (slope === undefined || slope === 0)) {
      return tf.fused.depthwiseConv2d({ x, filter: tf.reshape(scale, [1, 1, c, 1]) as tf.Tensor4D, strides: 1, pad: 'valid', bias: shift, activation: slope === 0 ? 'relu' : 'linear' });
    }
    // A fused LeakyReLU runs outside XNNPACK on wasm, 2–3× slower than the map and a LeakyReLU apart.
    const affine = fuse ? channelAffine(x, scale, shift) : channelAffineWithGrad(x, scale, shift);
    const y = preActivation ? preActivation(affine) : affine;
    if (slope === undefined) return y;
    return slope === 0 ? tf.relu(y) : tf.leakyRelu(y, slope);
  });
}

/** Whether the active backend has the inference batch norm + activation kernel `LicoAffineAct` (lico's wasm kernels register it). */
export function affineActAvailable(): boolean {
  return tf.getKernel(AFFINE_ACT, tf.getBackend()) !== undefined;
}

/** Whether the active backend has the fused batch norm + activation kernel (lico's wasm kernels register it). */
export function fusedBatchNormAvailable(): boolean {
  return tf.getKernel(BATCH_NORM_ACT, tf.getBackend()) !== undefined && tf.getKernel(BATCH_NORM_ACT_GRAD, tf.getBackend()) !== undefined;
}

/**
 * Training-mode batch norm followed by LeakyReLU with `slope` (0: ReLU; `undefined`: no
 * activation), `act((x − μ)·γ/sqrt(σ² + ε) + β)`. Where the backend registered the fused kernels
 * (`LicoBatchNormAct`, `LicoBatchNormActGrad` of `@lico/core`: `@lico/backends` does for wasm) it
 * runs them, two passes each way; elsewhere {@link batchNormTraining} then `tf.leakyRelu` /
 * `tf.relu`. Both give the same values within float32 rounding (tested). `onStats` as for
 * {@link batchNormTraining}.
 */
export function batchNormActTraining(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  slope: number | undefined,
  onStats?: (stats: BatchStats) => void,
): tf.Tensor4D {
  if (slope !== undefined && !(Number.isFinite(slope) && slope >= 0)) throw new Error(`batchNormActTraining: slope must be a finite number >= 0 (or undefined), got ${slope}`);
  if (x.dtype !== 'float32' || !fusedBatchNormAvailable()) {
    const y = batchNormTraining(x, gamma, beta, epsilon, onStats);
    if (slope === undefined) return y;
    return tf.tidy(() => (slope === 0 ? tf.relu(y) : tf.leakyRelu(y, slope)));
  }
  const [n, h, w] = x.shape;
  const attrs = { epsilon, alpha: slope ?? 1 } as unknown as tf.NamedAttrMap;
  const op = tf.customGrad(((xIn: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [value, mean, variance] = tf.engine().runKernel(BATCH_NORM_ACT, { x: xIn, gamma: g, beta: b }, attrs) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    if (onStats) onStats({ mean, variance, count: n * h * w });
    save([xIn, value, g, mean, variance]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ys, gs, ms, vs] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.engine().runKernel(BATCH_NORM_ACT_GRAD, { dy, x: xs, y: ys, gamma: gs, mean: ms, variance: vs }, attrs) as tf.Tensor[];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, gamma, beta) as tf.Tensor4D;
}

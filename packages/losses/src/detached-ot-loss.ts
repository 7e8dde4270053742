import * as tf from '@tensorflow/tfjs-core';
import { assertFinite, NonFiniteError } from '@lico/core';
import { NORM_EPSILON } from './l2-normalize';
import { type OtForwardState, type OtKernels, resolveOtKernels, wasmBackward, wasmForward } from './ot-wasm';
import { prepareMarginals, type ResolvedSinkhornOptions, type SinkhornOptions } from './sinkhorn';
import { sinkhornKernel } from './sinkhorn-kernel';
import { checkPlanMarginals, planMarginalError } from './marginals';

/** What {@link detachedOptimalTransportLoss} returns. */
export interface DetachedOtResult {
  readonly loss: tf.Scalar;
  readonly plan: Float32Array;
  readonly iterations: number;
}

interface Forward {
  readonly state: OtForwardState;
  readonly plan: Float32Array;
  readonly iterations: number;
  readonly total: number;
  /** The inputs as read for the wasm kernels (kept for the backward pass). */
  readonly xData?: Float32Array;
  readonly yData?: Float32Array;
}

const FLOOR = NORM_EPSILON * NORM_EPSILON;

function throwNonFinite(x: tf.Tensor, y: tf.Tensor): never {
  assertFinite(x, 'imagePoints');
  assertFinite(y, 'textPoints');
  throw new NonFiniteError('imagePoints/textPoints are finite but their cost is not: a squared norm overflows float32 (values above ~1.8e19); scale the inputs down.');
}

/**
 * The optimal-transport loss with a constant plan, as one custom-gradient op. Forward: the
 * squared norms and `x·yᵀ`, the normalised cost `C = x̂² + ŷ² − 2 (x·y) r s`
 * (`r = 1/max(‖x‖, 1e-12)`, clamped at 0), the Sinkhorn plan (float64) and `(1/N) Σ P·C`.
 * Backward, with `G = P/N` (0 where the clamp is active): `∂/∂(x·y) = −2 G r s` and
 * `∂/∂‖x‖² = Σ_b G (x·y) s r³` (or `r²` for a point under the norm floor), exactly the gradient
 * autodiff gives for `Σ P·squaredEuclideanCost(l2Normalize(x), l2Normalize(y)) / N` with `P` held
 * fixed.
 *
 * Two implementations (`resolved.implementation`): the WebAssembly SIMD kernels of
 * `csrc/ot-kernels.c`, which do all of it on one copy of the inputs, and a TypeScript path that
 * uses the backend's matMul for the `D`-sized products and float64 loops for the rest.
 */
export function detachedOptimalTransportLoss(
  imagePoints: tf.Tensor3D,
  textPoints: tf.Tensor3D,
  resolved: ResolvedSinkhornOptions,
  weights: Pick<SinkhornOptions, 'sourceWeights' | 'targetWeights'>,
  checkMarginals = true,
): DetachedOtResult {
  const [n, p, d] = imagePoints.shape;
  const q = textPoints.shape[1];
  const { logMu, logNu } = prepareMarginals(weights, n, p, q);
  const sink = { logMu, logNu, epsilon: resolved.epsilon, maxIterations: resolved.maxIterations, tolerance: resolved.tolerance };
  const kernels = resolveOtKernels(resolved.implementation);
  let planOut: Float32Array | undefined;
  let iterationsOut = 0;

  const forwardWasm = (k: OtKernels, x: tf.Tensor3D, y: tf.Tensor3D): Forward => {
    const xData = x.dataSync() as Float32Array;
    const yData = y.dataSync() as Float32Array;
    const out = wasmForward(k, xData, yData, n, p, q, d, FLOOR, sink);
    if (out.nonFinite > 0) throwNonFinite(x, y);
    return { state: out, plan: out.plan, iterations: out.iterations, total: out.total, xData, yData };
  };

  const forwardJs = (x: tf.Tensor3D, y: tf.Tensor3D): Forward => {
    // Plain products only: tfjs-wasm's matMul with transposeA/transposeB is 10–30× slower than
    // one on explicitly transposed operands (the transposed operands here are small).
    const [crossT, xxT, yyT] = tf.tidy(() => [tf.matMul(x, tf.transpose(y, [0, 2, 1])), tf.sum(tf.square(x), 2), tf.sum(tf.square(y), 2)]);
    const cross = crossT!.dataSync() as Float32Array;
    const xx = xxT!.dataSync() as Float32Array;
    const yy = yyT!.dataSync() as Float32Array;
    tf.dispose([crossT!, xxT!, yyT!]);
    const r = new Float64Array(n * p);
    const s = new Float64Array(n * q);
    for (let i = 0; i < r.length; i++) r[i] = 1 / Math.sqrt(Math.max(xx[i]!, FLOOR));
    for (let i = 0; i < s.length; i++) s[i] = 1 / Math.sqrt(Math.max(yy[i]!, FLOOR));
    const size = n * p * q;
    const cost = new Float32Array(size);
    for (let k = 0; k < n; k++) {
      for (let a = 0; a < p; a++) {
        const ra = r[k * p + a]!;
        const xa = xx[k * p + a]! * ra * ra;
        const o = (k * p + a) * q;
        for (let b = 0; b < q; b++) {
          const sb = s[k * q + b]!;
          const c = Math.fround(xa + yy[k * q + b]! * sb * sb - 2 * cross[o + b]! * ra * sb);
          cost[o + b] = c > 0 ? c : Number.isNaN(c) ? c : 0;
        }
      }
    }
    for (let i = 0; i < size; i++) if (!Number.isFinite(cost[i]!)) throwNonFinite(x, y);
    const solved = sinkhornKernel({ cost, n, p, q, ...sink });
    let total = 0;
    for (let i = 0; i < size; i++) total += solved.plan[i]! * cost[i]!;
    return { state: { xx, yy, r, s, cross, cost }, plan: solved.plan, iterations: solved.iterations, total };
  };

  const backwardJs = (xs: tf.Tensor3D, ys: tf.Tensor3D, state: OtForwardState, plan: Float32Array, scale: number): tf.Tensor[] => {
    const { xx, yy, r, s, cross, cost } = state;
    const size = n * p * q;
    const dCross = new Float32Array(size);
    const dCrossT = new Float32Array(size); // [n,q,p], for a plain (untransposed) matMul
    const dxx = new Float32Array(n * p);
    const dyy = new Float32Array(n * q);
    for (let k = 0; k < n; k++) {
      for (let a = 0; a < p; a++) {
        const ra = r[k * p + a]!;
        const xUnder = xx[k * p + a]! <= FLOOR;
        const o = (k * p + a) * q;
        let accX = 0;
        for (let b = 0; b < q; b++) {
          if (!(cost[o + b]! > 0)) continue; // the clamp at 0 passes no gradient
          const g = plan[o + b]! * scale;
          const sb = s[k * q + b]!;
          const yUnder = yy[k * q + b]! <= FLOOR;
          const cr = cross[o + b]!;
          dCross[o + b] = -2 * g * ra * sb;
          dCrossT[(k * q + b) * p + a] = dCross[o + b]!;
          accX += xUnder ? g * ra * ra : g * cr * sb * ra * ra * ra;
          dyy[k * q + b] = dyy[k * q + b]! + (yUnder ? g * sb * sb : g * cr * ra * sb * sb * sb);
        }
        dxx[k * p + a] = accX;
      }
    }
    return tf.tidy(() => {
      const gc = tf.tensor3d(dCross, [n, p, q]);
      const gx = tf.add(tf.matMul(gc, ys), tf.mul(xs, tf.tensor3d(dxx.map((v) => 2 * v), [n, p, 1])));
      const gy = tf.add(tf.matMul(tf.tensor3d(dCrossT, [n, q, p]), xs), tf.mul(ys, tf.tensor3d(dyy.map((v) => 2 * v), [n, q, 1])));
      return [gx, gy];
    });
  };

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, y, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    const fwd = kernels ? forwardWasm(kernels, x, y) : forwardJs(x, y);
    planOut = fwd.plan;
    iterationsOut = fwd.iterations;
    if (checkMarginals) checkPlanMarginals(planMarginalError(fwd.plan, n, p, q, logMu, logNu), fwd.iterations, resolved.epsilon, [4]);
    save([x, y]);
    return {
      value: tf.scalar(fwd.total / n),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ys] = saved as [tf.Tensor3D, tf.Tensor3D];
        const scale = (dy.dataSync()[0]! as number) / n;
        if (kernels && fwd.xData && fwd.yData) {
          const [gx, gy] = wasmBackward(kernels, fwd.xData, fwd.yData, n, p, q, d, FLOOR, fwd.state, fwd.plan, scale);
          return [tf.tensor3d(gx, xs.shape), tf.tensor3d(gy, ys.shape)];
        }
        return backwardJs(xs, ys, fwd.state, fwd.plan, scale);
      },
    };
  });
  const loss = op(imagePoints, textPoints) as tf.Scalar;
  return { loss, plan: planOut!, iterations: iterationsOut };
}

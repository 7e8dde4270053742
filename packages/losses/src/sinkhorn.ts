import * as tf from '@tensorflow/tfjs-core';
import { assertPositive, assertPositiveInteger, assertRank, ConfigError, formatShape, NonFiniteError, ShapeError } from '@lico/core';
import { checkOtImplementation, type OtImplementation, resolveOtKernels, wasmSinkhorn } from './ot-wasm';
import { sinkhornKernel } from './sinkhorn-kernel';
import { planMarginalError } from './marginals';

/** Options of {@link sinkhorn} (also accepted by the optimal-transport loss). */
export interface SinkhornOptions {
  /** Entropic regularisation ε (default 0.1). */
  readonly epsilon?: number;
  /** Most iterations (default 100). */
  readonly maxIterations?: number;
  /**
   * Stop once the batch-mean L1 change of the source potential `u`, checked after every
   * iteration, is below this (default 1e-3; 0 runs all `maxIterations`).
   */
  readonly tolerance?: number;
  /** Source marginals `[N,P]`, positive (default uniform `1/P`). Each row must carry the same mass as the target row. */
  readonly sourceWeights?: tf.Tensor2D;
  /** Target marginals `[N,Q]`, positive (default uniform `1/Q`). */
  readonly targetWeights?: tf.Tensor2D;
  /**
   * Record the iterations as tfjs ops so the plan is differentiable with respect to the cost
   * (default false: the plan is computed off the tape, much faster, and carries no gradient).
   */
  readonly differentiable?: boolean;
  /**
   * Which code runs the off-tape iterations (and, in the optimal-transport loss, the cost and its
   * backward pass): `'auto'` (default: WebAssembly SIMD kernels where they compile, else
   * TypeScript), `'wasm-simd'` or `'js'`. Same results to float32 rounding. See {@link OtImplementation}.
   */
  readonly implementation?: OtImplementation;
}

/** Result of {@link sinkhorn}. */
export interface SinkhornResult {
  /** Transport plan `exp((−C + u + v)/ε)`, `[N,P,Q]`. */
  readonly plan: tf.Tensor3D;
  /** Iterations run (at least 1, at most `maxIterations`). */
  readonly iterations: number;
  /** Batch-mean L1 change of `u` at the last iteration. */
  readonly change: number;
  /** Largest relative error of the plan's row and column sums against the marginals. */
  readonly marginalError: number;
  /** `change` fell below the tolerance (or all iterations ran with tolerance 0) and the marginals are within 1 %. */
  readonly converged: boolean;
}

/** Defaults of {@link SinkhornOptions} (the spec's values). */
export const SINKHORN_DEFAULTS = { epsilon: 0.1, maxIterations: 100, tolerance: 1e-3 } as const;

/** Resolved, validated numeric Sinkhorn options. */
export interface ResolvedSinkhornOptions {
  readonly epsilon: number;
  readonly maxIterations: number;
  readonly tolerance: number;
  readonly implementation: OtImplementation;
}

/** Fills in defaults and validates the numeric options (throws {@link ConfigError}). */
export function resolveSinkhornOptions(options: SinkhornOptions = {}): ResolvedSinkhornOptions {
  const epsilon = options.epsilon ?? SINKHORN_DEFAULTS.epsilon;
  const maxIterations = options.maxIterations ?? SINKHORN_DEFAULTS.maxIterations;
  const tolerance = options.tolerance ?? SINKHORN_DEFAULTS.tolerance;
  assertPositive(epsilon, 'sinkhorn option epsilon');
  assertPositiveInteger(maxIterations, 'sinkhorn option maxIterations');
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new ConfigError(`sinkhorn option tolerance must be a finite number >= 0, got ${tolerance}.`);
  }
  const implementation = checkOtImplementation(options.implementation);
  return { epsilon, maxIterations, tolerance, implementation };
}

function logWeights(w: tf.Tensor2D | undefined, n: number, k: number, what: string): Float64Array {
  const out = new Float64Array(n * k);
  if (w === undefined) {
    out.fill(-Math.log(k));
    return out;
  }
  assertRank(w, 2, what);
  if (w.shape[0] !== n || w.shape[1] !== k) {
    throw new ShapeError(`${what} must have shape ${formatShape([n, k])} to match the cost, got ${formatShape(w.shape)}.`);
  }
  const data = w.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) throw new NonFiniteError(`${what} holds a non-finite value (${v}) at flat index ${i} of shape ${formatShape(w.shape)}.`);
    if (!(v > 0)) throw new ConfigError(`${what} must be positive, got ${v} at flat index ${i}.`);
    out[i] = Math.log(v);
  }
  return out;
}

function checkMass(logMu: Float64Array, logNu: Float64Array, n: number, p: number, q: number): void {
  for (let s = 0; s < n; s++) {
    let a = 0;
    let b = 0;
    for (let i = 0; i < p; i++) a += Math.exp(logMu[s * p + i]!);
    for (let j = 0; j < q; j++) b += Math.exp(logNu[s * q + j]!);
    if (Math.abs(a - b) > 1e-4 * Math.max(a, b)) {
      throw new ConfigError(`sourceWeights and targetWeights must carry the same mass per sample: sample ${s} has ${a} and ${b}.`);
    }
  }
}

/**
 * Validates the optional marginals against `[N,P]`/`[N,Q]` and returns their logs (uniform when
 * absent). Throws on wrong shapes, non-finite or non-positive weights, or unequal mass.
 */
export function prepareMarginals(
  options: Pick<SinkhornOptions, 'sourceWeights' | 'targetWeights'>,
  n: number,
  p: number,
  q: number,
): { logMu: Float64Array; logNu: Float64Array } {
  const logMu = logWeights(options.sourceWeights, n, p, 'sourceWeights');
  const logNu = logWeights(options.targetWeights, n, q, 'targetWeights');
  if (options.sourceWeights !== undefined || options.targetWeights !== undefined) checkMass(logMu, logNu, n, p, q);
  return { logMu, logNu };
}

/**
 * Batched entropic optimal transport by log-domain Sinkhorn (the spec's updates, `u`, `v` start at
 * 0): `cost` `[N,P,Q]` → plan `[N,P,Q]` with row sums ≈ source weights and column sums = target
 * weights. By default the plan carries no gradient (it is computed off the tape in float64, on
 * any backend); `differentiable: true` runs the same iterations as tfjs ops so gradients flow
 * through them. Non-finite costs throw a {@link NonFiniteError} naming `cost`. The result says how
 * far the plan's marginals are from the requested ones (`marginalError`) and whether it
 * `converged`; check them when the costs may be far from the scale of ε.
 */
export function sinkhorn(cost: tf.Tensor3D, options: SinkhornOptions = {}): SinkhornResult {
  assertRank(cost, 3, 'cost');
  const { epsilon, maxIterations, tolerance, implementation } = resolveSinkhornOptions(options);
  const [n, p, q] = cost.shape;
  if (n === 0 || p === 0 || q === 0) throw new ShapeError(`cost must be non-empty, got shape ${formatShape(cost.shape)}.`);
  const { logMu, logNu } = prepareMarginals(options, n, p, q);
  const data = cost.dataSync();
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new NonFiniteError(`cost holds a non-finite value (${data[i]}) at flat index ${i} of shape ${formatShape(cost.shape)}.`);
    }
  }
  let solved: { plan: tf.Tensor3D; planData: ArrayLike<number>; iterations: number; change: number };
  if (options.differentiable === true) {
    const r = sinkhornOnTape(cost, logMu, logNu, epsilon, maxIterations, tolerance);
    solved = { ...r, planData: r.plan.dataSync() };
  } else {
    const input = { cost: data, n, p, q, logMu, logNu, epsilon, maxIterations, tolerance };
    const kernels = resolveOtKernels(implementation);
    const out = kernels ? wasmSinkhorn(kernels, input) : sinkhornKernel(input);
    solved = { plan: tf.tensor3d(out.plan, [n, p, q], 'float32'), planData: out.plan, iterations: out.iterations, change: out.lastChange };
  }
  // The stopping rule watches u only; the marginals say whether the plan is right (callers act on it:
  // the optimal-transport loss refuses a plan that is off by more than MARGINAL_FAILURE).
  const marginalError = planMarginalError(solved.planData, n, p, q, logMu, logNu);
  const converged = (tolerance === 0 || solved.change < tolerance) && marginalError <= 0.01;
  return { plan: solved.plan, iterations: solved.iterations, change: solved.change, marginalError, converged };
}

function sinkhornOnTape(
  cost: tf.Tensor3D,
  logMuData: Float64Array,
  logNuData: Float64Array,
  epsilon: number,
  maxIterations: number,
  tolerance: number,
): { plan: tf.Tensor3D; iterations: number; change: number } {
  const [n, p, q] = cost.shape;
  let iterations = 0;
  let change = Infinity;
  const plan = tf.tidy(() => {
    const logMu = tf.tensor3d(Float32Array.from(logMuData), [n, p, 1]);
    const logNu = tf.tensor3d(Float32Array.from(logNuData), [n, 1, q]);
    const negCost = tf.neg(cost);
    const kernel = (u: tf.Tensor, v: tf.Tensor): tf.Tensor => tf.div(tf.add(tf.add(negCost, u), v), epsilon);
    let u: tf.Tensor = tf.zeros([n, p, 1]);
    let v: tf.Tensor = tf.zeros([n, 1, q]);
    while (iterations < maxIterations) {
      iterations++;
      const previous = u;
      u = tf.add(tf.mul(tf.sub(logMu, tf.logSumExp(kernel(u, v), 2, true)), epsilon), u);
      v = tf.add(tf.mul(tf.sub(logNu, tf.logSumExp(kernel(u, v), 1, true)), epsilon), v);
      const err = tf.mean(tf.sum(tf.abs(tf.sub(u, previous)), [1, 2]));
      change = err.dataSync()[0]!;
      err.dispose();
      if (change < tolerance) break;
    }
    return tf.exp(kernel(u, v)) as tf.Tensor3D;
  });
  return { plan, iterations, change };
}

import * as tf from '@tensorflow/tfjs-core';
import { assertFinite, ConfigError, formatShape, ShapeError, UnknownNameError, type ImageClassifier } from '@lico/core';
import { checkImages, checkPositiveInteger, resolveTargets } from '../common';
import {
  checkAttributionSign,
  checkFiniteNumber,
  checkInputAttributionOptions,
  finishAttributionMap,
  inputGradients,
  reduceChannels,
  rowScores,
  scatterToImages,
  type AttributionSign,
  type InputAttributionOptions,
} from './input-attribution';

/**
 * The quadrature of the path integral (Captum's `method`, renamed kebab-case):
 * `'gauss-legendre'` (Captum's default `gausslegendre`: `n` Gauss–Legendre nodes mapped to [0,1],
 * exact for a gradient polynomial of degree ≤ 2n−1 along the path), `'riemann-right'`,
 * `'riemann-left'`, `'riemann-middle'` (weights `1/n` at `k/n`, `(k−1)/n`, `(k−½)/n`) and
 * `'riemann-trapezoid'` **as Captum computes it**: points `linspace(0,1,n)` with weights `1/n`,
 * the end ones halved, so they sum to `1 − 1/n` (not a true trapezoid; its completeness error
 * is O(1/n) even for a linear model).
 */
export type IntegrationMethod = 'gauss-legendre' | 'riemann-right' | 'riemann-left' | 'riemann-middle' | 'riemann-trapezoid';

const METHODS: readonly IntegrationMethod[] = ['gauss-legendre', 'riemann-right', 'riemann-left', 'riemann-middle', 'riemann-trapezoid'];

/** Per-image completeness of Integrated Gradients (Captum's convergence delta). */
export interface CompletenessReport {
  /** `Σ attributions` per image (over pixels and channels). */
  readonly attributionSums: number[];
  /** `f(x) − f(baseline)` per image, `f` the target score. */
  readonly scoreDifferences: number[];
  /** `Σ attributions − (f(x) − f(baseline))` per image (Captum's `return_convergence_delta`). */
  readonly errors: number[];
}

/** Options of {@link integratedGradients} and {@link integratedGradientsAttributions}. */
export interface IntegratedGradientsOptions extends InputAttributionOptions {
  /**
   * The baseline `x'`: a number (every value, default 0 — in normalised space, the dataset mean) or a
   * tensor of shape `[H,W,C]`, `[1,H,W,C]` or `[N,H,W,C]`.
   */
  readonly baseline?: number | tf.Tensor;
  /** Integration points (default 50, Captum's `n_steps`). */
  readonly steps?: number;
  /** Quadrature (default `'gauss-legendre'`, Captum's default). */
  readonly method?: IntegrationMethod;
  /** Interpolated images per forward/backward pass (default 64): `ceil(N·steps/batchSize)` passes in all. */
  readonly batchSize?: number;
  /**
   * What the map keeps after summing the attribution over channels: `'absolute'` (default, Captum's
   * `visualize_image_attr` default), `'positive'` or `'all'`.
   */
  readonly sign?: AttributionSign;
  /** Called with the completeness check of each call (costs one extra forward of `x` and the baseline). */
  readonly onCompleteness?: (report: CompletenessReport) => void;
}

/** The result of {@link integratedGradientsAttributions}. */
export interface IntegratedGradientsResult {
  /** Attributions `[N,H,W,C]`, `(x − x') ⊙ Σ_k w_k ∂f/∂x(x' + α_k (x − x'))` (the caller disposes). */
  readonly attributions: tf.Tensor4D;
  /** The completeness check. */
  readonly completeness: CompletenessReport;
}

/**
 * Gauss–Legendre nodes and weights on [0,1] (`0.5·(1+t)`, `0.5·w` of numpy's `leggauss(n)`, ascending),
 * by Newton's method on the Legendre polynomial in float64.
 */
export function gaussLegendre(n: number): { alphas: number[]; weights: number[] } {
  checkPositiveInteger(n, 'Gauss–Legendre points');
  // P_n(t) and P_n'(t) by the three-term recurrence.
  const legendre = (t: number): [number, number] => {
    let p0 = 1;
    let p1 = t;
    for (let k = 2; k <= n; k++) [p0, p1] = [p1, ((2 * k - 1) * t * p1 - (k - 1) * p0) / k];
    return [p1, (n * (t * p1 - p0)) / (t * t - 1)];
  };
  const alphas = new Array<number>(n);
  const weights = new Array<number>(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let t = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5)); // the (i+1)-th largest root, approximately
    for (let iter = 0; iter < 100; iter++) {
      const [p, dp] = legendre(t);
      const dt = p / dp;
      t -= dt;
      if (Math.abs(dt) < 1e-15) break;
    }
    const dp = legendre(t)[1];
    const w = 1 / ((1 - t * t) * dp * dp); // half of the [−1,1] weight 2/((1−t²)P'²)
    alphas[n - 1 - i] = 0.5 * (1 + t);
    alphas[i] = 0.5 * (1 - t);
    weights[n - 1 - i] = w;
    weights[i] = w;
  }
  return { alphas, weights };
}

/** The points `α_k` and weights `w_k` of a quadrature on [0,1] (Captum's `approximation_parameters`). */
export function integrationPoints(method: IntegrationMethod, steps: number): { alphas: number[]; weights: number[] } {
  if (!METHODS.includes(method)) throw new UnknownNameError('integration method', method, METHODS);
  checkPositiveInteger(steps, 'steps');
  if (method === 'gauss-legendre') return gaussLegendre(steps);
  if (steps < 2) throw new ConfigError(`steps must be at least 2 for '${method}' (as Captum's Riemann rules), got ${steps}.`);
  const n = steps;
  const weights = new Array<number>(n).fill(1 / n);
  const linspace = (a: number, b: number) => Array.from({ length: n }, (_, k) => a + ((b - a) * k) / (n - 1));
  if (method === 'riemann-trapezoid') {
    weights[0] = 1 / n / 2;
    weights[n - 1] = 1 / n / 2;
    return { alphas: linspace(0, 1), weights };
  }
  if (method === 'riemann-left') return { alphas: linspace(0, 1 - 1 / n), weights };
  if (method === 'riemann-middle') return { alphas: linspace(1 / (2 * n), 1 - 1 / (2 * n)), weights };
  return { alphas: linspace(1 / n, 1), weights };
}

/** The baseline broadcast to `[N,H,W,C]` (a new tensor). */
function baselineBatch(baseline: number | tf.Tensor | undefined, images: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  if (baseline === undefined || typeof baseline === 'number') {
    checkFiniteNumber(baseline, 'baseline');
    return tf.fill(images.shape, baseline ?? 0) as tf.Tensor4D;
  }
  if (!(baseline instanceof tf.Tensor)) throw new ConfigError(`baseline must be a number or a tensor, got ${typeof baseline}.`);
  const s = baseline.shape;
  const fits = (s.length === 3 && s[0] === h && s[1] === w && s[2] === c) || (s.length === 4 && (s[0] === 1 || s[0] === n) && s[1] === h && s[2] === w && s[3] === c);
  if (!fits) {
    throw new ShapeError(`baseline must have shape [${h},${w},${c}], [1,${h},${w},${c}] or [${n},${h},${w},${c}] to match images ${formatShape(images.shape)}, got ${formatShape(s)}.`);
  }
  assertFinite(baseline, 'baseline');
  return tf.tidy(() => tf.add(tf.zeros([n, h, w, c]), s.length === 3 ? tf.expandDims(baseline, 0) : baseline) as tf.Tensor4D);
}

/**
 * Integrated Gradients attributions (Sundararajan et al. 2017; Captum's `IntegratedGradients`):
 * `(x − x') ⊙ Σ_k w_k ∂f/∂x(x' + α_k (x − x'))` per channel, with the quadrature `method` over
 * `steps` points, interpolated images evaluated `batchSize` at a time (rows of several images
 * share a pass). Also returns the completeness check `Σ attributions − (f(x) − f(x'))`.
 */
export async function integratedGradientsAttributions(model: ImageClassifier, images: tf.Tensor4D, options: IntegratedGradientsOptions = {}): Promise<IntegratedGradientsResult> {
  checkImages(model, images);
  checkInputAttributionOptions(options);
  checkPositiveInteger(options.batchSize, 'batchSize');
  const { alphas, weights } = integrationPoints(options.method ?? 'gauss-legendre', options.steps ?? 50);
  const batchSize = options.batchSize ?? 64;
  const targets = await resolveTargets(model, images, options.targets);
  const [n, h, w, c] = images.shape;
  const base = baselineBatch(options.baseline, images);
  const diff = tf.sub(images, base) as tf.Tensor4D;
  let sums: tf.Tensor4D = tf.zeros([n, h, w, c]);
  try {
    const steps = alphas.length;
    const total = n * steps;
    for (let start = 0; start < total; start += batchSize) {
      const end = Math.min(total, start + batchSize);
      // Rows are image-major: row r is point r mod steps of image floor(r/steps).
      const imageOfRow = Array.from({ length: end - start }, (_, k) => Math.floor((start + k) / steps));
      const pointOfRow = imageOfRow.map((_, k) => (start + k) % steps);
      const next = tf.tidy(() => {
        const a = tf.reshape(tf.tensor1d(pointOfRow.map((k) => alphas[k]!)), [end - start, 1, 1, 1]);
        const rows = tf.add(tf.gather(base, imageOfRow), tf.mul(a, tf.gather(diff, imageOfRow))) as tf.Tensor4D;
        const g = inputGradients(model, rows, imageOfRow.map((i) => targets[i]!), options.score);
        return tf.add(sums, scatterToImages(g, imageOfRow, pointOfRow.map((k) => weights[k]!), n)) as tf.Tensor4D;
      });
      sums.dispose();
      sums = next;
      await next.data();
    }
    const attributions = tf.mul(diff, sums) as tf.Tensor4D;
    const attrSums = tf.sum(attributions, [1, 2, 3]);
    const scores = tf.tidy(() => rowScores(model, tf.concat([images, base]) as tf.Tensor4D, [...targets, ...targets], options.score));
    const attributionSums = Array.from(await attrSums.data());
    const s = await scores.data();
    tf.dispose([attrSums, scores]);
    const scoreDifferences = attributionSums.map((_, i) => s[i]! - s[n + i]!);
    return { attributions, completeness: { attributionSums, scoreDifferences, errors: attributionSums.map((v, i) => v - scoreDifferences[i]!) } };
  } finally {
    sums.dispose();
    base.dispose();
    diff.dispose();
  }
}

/**
 * Integrated Gradients as a saliency map: {@link integratedGradientsAttributions} summed over
 * channels, then `sign` (default `'absolute'`), then per-image min–max (`normalize: false` skips
 * it). `onCompleteness` receives the completeness check. `layer` is ignored.
 */
export async function integratedGradients(model: ImageClassifier, images: tf.Tensor4D, options: IntegratedGradientsOptions = {}): Promise<tf.Tensor3D> {
  checkAttributionSign(options.sign);
  if (options.onCompleteness !== undefined && typeof options.onCompleteness !== 'function') {
    throw new ConfigError(`onCompleteness must be a function, got ${typeof options.onCompleteness}.`);
  }
  const { attributions, completeness } = await integratedGradientsAttributions(model, images, options);
  try {
    options.onCompleteness?.(completeness);
    return tf.tidy(() => finishAttributionMap(reduceChannels(attributions, 'sum'), options.sign ?? 'absolute', options.normalize));
  } finally {
    attributions.dispose();
  }
}

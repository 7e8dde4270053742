import * as tf from '@tensorflow/tfjs-core';
import { assertFinite, assertRank, ConfigError, createRng, formatShape, ShapeError, type ImageClassifier, type Rng } from '@lico/core';
import { checkImages, checkPositiveInteger, checkSaliency, resolveTargets, targetScores, type TargetScore } from '../common';

/**
 * The neighbour weights of ROAD's noisy linear imputer (Rong et al. 2022; pytorch-grad-cam's
 * `neighbors_weights`): `[dRow, dColumn, weight]`, 1/6 for the four edge neighbours, 1/12 for the
 * four diagonal ones.
 */
export const ROAD_NEIGHBOR_WEIGHTS: readonly (readonly [number, number, number])[] = [
  [1, 1, 1 / 12],
  [0, 1, 1 / 6],
  [-1, 1, 1 / 12],
  [1, -1, 1 / 12],
  [0, -1, 1 / 6],
  [-1, -1, 1 / 12],
  [1, 0, 1 / 6],
  [-1, 0, 1 / 6],
];

/** The percentiles pytorch-grad-cam's ROAD averages over by default. */
export const ROAD_PERCENTILES: readonly number[] = [10, 20, 30, 40, 50, 60, 70, 80, 90];

/** The noise of pytorch-grad-cam's `NoisyLinearImputer` (absolute standard deviation). */
export const ROAD_DEFAULT_NOISE = 0.01;

/** A pivot below this fraction of its diagonal entry marks a removed region that touches no kept pixel. */
const SINGULAR_PIVOT = 1e-10;

/** Options of the noisy linear imputation. */
export interface NoisyLinearImputeOptions {
  /**
   * Standard deviation of the Gaussian noise added to every imputed value, in the images' units
   * (default 0.01, pytorch-grad-cam's; 0 for the plain linear imputation).
   */
  readonly noise?: number;
  /** Seed of the noise (default 0). */
  readonly seed?: number;
}

/**
 * ROAD's linear imputation of one image (pytorch-grad-cam's `NoisyLinearImputer` without noise):
 * every removed pixel (`keep[p] = 0`) becomes the weighted mean of its in-image neighbours
 * ({@link ROAD_NEIGHBOR_WEIGHTS}, divided by the weights of the neighbours inside the image), kept
 * neighbours with their values and removed ones as unknowns. That is the sparse linear system of
 * the reference (one row per removed pixel, one right-hand side per channel); it is symmetric, and
 * solved here exactly by a banded LDLᵀ factorisation in float64 (rows in flat pixel order, band =
 * the widest neighbour distance, at most `width + 1`), as the reference's direct `spsolve`. A
 * region of removed pixels that touches no kept pixel (e.g. every pixel removed) has a singular
 * block with a zero right-hand side; it is filled with 0, which is what the reference's solve gives
 * there. `values` are `[H,W,C]` (channels last), `keep` is `[H,W]` of 0/1; returns new values.
 */
export function linearImputation(values: ArrayLike<number>, keep: ArrayLike<number>, height: number, width: number, channels: number): Float32Array {
  const size = height * width;
  if (values.length !== size * channels || keep.length !== size) {
    throw new ShapeError(`linearImputation: expected ${size * channels} values and ${size} mask entries for [${height},${width},${channels}], got ${values.length} and ${keep.length}.`);
  }
  const out = Float32Array.from(values);
  const unknown = new Int32Array(size).fill(-1);
  const pixels: number[] = [];
  for (let p = 0; p < size; p++) {
    if (keep[p] !== 0 && keep[p] !== 1) throw new ConfigError(`the keep mask must be binary (0 or 1), got ${keep[p]} at flat index ${p}.`);
    if (keep[p] === 0) {
      unknown[p] = pixels.length;
      pixels.push(p);
    }
  }
  const n = pixels.length;
  if (n === 0) return out;
  // M = −A of the reference: M_ii = Σ in-image weights, M_ij = −w for removed neighbours j, rhs = Σ w·value of kept ones.
  const diagonal = new Float64Array(n);
  const rhs = new Float64Array(n * channels);
  const links: [number, number, number][] = [];
  let band = 0;
  for (let i = 0; i < n; i++) {
    const p = pixels[i]!;
    const r = Math.floor(p / width);
    const c = p % width;
    for (const [dr, dc, w] of ROAD_NEIGHBOR_WEIGHTS) {
      const rr = r + dr;
      const cc = c + dc;
      if (rr < 0 || cc < 0 || rr >= height || cc >= width) continue;
      diagonal[i] += w;
      const q = rr * width + cc;
      const j = unknown[q]!;
      if (j < 0) {
        for (let k = 0; k < channels; k++) rhs[i * channels + k] += w * values[q * channels + k]!;
      } else if (j < i) {
        links.push([i, j, w]);
        band = Math.max(band, i - j);
      }
    }
  }
  // Banded LDLᵀ: row i of L holds columns i−band … i−1 at offsets 0 … band−1. A zero pivot (a
  // removed region without kept neighbours) gets inverse 0, so that region solves to 0.
  const lower = new Float64Array(n * Math.max(band, 1));
  for (const [i, j, w] of links) lower[i * band + (j - i + band)] = -w;
  const pivots = new Float64Array(n);
  const inverse = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const rowI = i * band - i + band;
    const first = Math.max(0, i - band);
    for (let j = first; j < i; j++) {
      const rowJ = j * band - j + band;
      let s = lower[rowI + j]!;
      for (let k = Math.max(first, j - band); k < j; k++) s -= lower[rowI + k]! * pivots[k]! * lower[rowJ + k]!;
      lower[rowI + j] = s * inverse[j]!;
    }
    let d = diagonal[i]!;
    for (let k = first; k < i; k++) d -= lower[rowI + k]! * lower[rowI + k]! * pivots[k]!;
    const regular = d > SINGULAR_PIVOT * diagonal[i]!;
    pivots[i] = regular ? d : 0;
    inverse[i] = regular ? 1 / d : 0;
  }
  // L y = rhs, then x = D⁻¹y − Lᵀx from the last row up (in place, per channel).
  const x = rhs;
  for (let i = 0; i < n; i++) {
    const rowI = i * band - i + band;
    for (let k = Math.max(0, i - band); k < i; k++) {
      const l = lower[rowI + k]!;
      if (l !== 0) for (let ch = 0; ch < channels; ch++) x[i * channels + ch] -= l * x[k * channels + ch]!;
    }
  }
  for (let i = 0; i < n; i++) for (let ch = 0; ch < channels; ch++) x[i * channels + ch] *= inverse[i]!;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = i + 1; j <= Math.min(n - 1, i + band); j++) {
      const l = lower[j * band - j + band + i]!;
      if (l !== 0) for (let ch = 0; ch < channels; ch++) x[i * channels + ch] -= l * x[j * channels + ch]!;
    }
  }
  for (let i = 0; i < n; i++) for (let ch = 0; ch < channels; ch++) out[pixels[i]! * channels + ch] = x[i * channels + ch]!;
  return out;
}

/** Adds `noise · N(0,1)` to the removed pixels of `imputed` (in place), channel by channel as the reference draws it. */
function addNoise(imputed: Float32Array, keep: ArrayLike<number>, channels: number, noise: number, rng: Rng): void {
  if (noise === 0) return;
  for (let ch = 0; ch < channels; ch++) {
    for (let p = 0; p < keep.length; p++) if (keep[p] === 0) imputed[p * channels + ch] += noise * rng.normal();
  }
}

function checkNoise(noise: number | undefined): number {
  if (noise !== undefined && (!Number.isFinite(noise) || noise < 0)) throw new ConfigError(`noise must be a finite number ≥ 0, got ${noise}.`);
  return noise ?? ROAD_DEFAULT_NOISE;
}

/**
 * pytorch-grad-cam's `NoisyLinearImputer` on one image `[H,W,C]` with a binary `keep` mask `[H,W]`
 * (1 keep, 0 impute): {@link linearImputation}, then seeded Gaussian noise of standard deviation
 * `noise` on the imputed values.
 */
export async function noisyLinearImpute(image: tf.Tensor3D, keep: tf.Tensor2D, options: NoisyLinearImputeOptions = {}): Promise<tf.Tensor3D> {
  assertRank(image, 3, 'image');
  assertRank(keep, 2, 'keep');
  const [h, w, c] = image.shape;
  if (keep.shape[0] !== h || keep.shape[1] !== w) throw new ShapeError(`keep must have shape [${h},${w}] to match image ${formatShape(image.shape)}, got ${formatShape(keep.shape)}.`);
  assertFinite(image, 'image');
  const noise = checkNoise(options.noise);
  const mask = await keep.data();
  const imputed = linearImputation(await image.data(), mask, h, w, c);
  addNoise(imputed, mask, c, noise, createRng(options.seed ?? 0));
  return tf.tensor3d(imputed, [h, w, c]);
}

/**
 * numpy's `percentile` (method `'linear'`) of float32 values, returned as the float32 the reference
 * compares against: `a_(⌊v⌋) + (a_(⌊v⌋+1) − a_(⌊v⌋))·g` with `v = (n−1)·q/100`, `g = v − ⌊v⌋`
 * (numpy's `_lerp`, which uses `b − (b − a)(1 − g)` when `g ≥ 0.5`).
 */
export function numpyPercentile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) throw new ShapeError('numpyPercentile needs at least one value.');
  const v = (n - 1) * (q / 100);
  const lo = Math.floor(v);
  const hi = Math.min(lo + 1, n - 1);
  const g = v - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  const diff = b - a;
  return Math.fround(g >= 0.5 ? b - diff * (1 - g) : a + diff * g);
}

/** Which pixels ROAD removes first. */
export type RoadOrder = 'morf' | 'lerf';

/**
 * The keep mask of pytorch-grad-cam's `RemoveMostRelevantFirst(percentile)` (`'morf'`): keep
 * `s < percentile(s)`, i.e. remove the pixels at or above the percentile; `'lerf'`
 * (`RemoveLeastRelevantFirst`) does the same on `1 − s` (in float32), removing the least salient.
 * Either way about `100 − percentile` % of the pixels go.
 */
export function roadKeepMask(saliency: ArrayLike<number>, percentile: number, order: RoadOrder): Uint8Array {
  const s = order === 'morf' ? Float32Array.from(saliency) : Float32Array.from(saliency, (v) => 1 - Math.fround(v));
  const threshold = numpyPercentile(s, percentile);
  return Uint8Array.from(s, (v) => (v < threshold ? 1 : 0));
}

/** Options of {@link roadPerturb}. */
export interface RoadPerturbOptions extends NoisyLinearImputeOptions {
  /** The percentile of the saliency that splits kept from removed pixels, in [0, 100]. */
  readonly percentile: number;
  /** `'morf'` (most relevant first, default) or `'lerf'`. */
  readonly order?: RoadOrder;
}

function checkPercentile(p: number): void {
  if (!Number.isFinite(p) || p < 0 || p > 100) throw new ConfigError(`percentiles must be numbers in [0, 100], got ${p}.`);
}

function checkOrder(order: string): void {
  if (order !== 'morf' && order !== 'lerf') throw new ConfigError(`order must be 'morf' or 'lerf', got '${order}'.`);
}

type Values = Float32Array | Int32Array | Uint8Array;

/** One image's ROAD perturbation: keep mask from its saliency, linear imputation, seeded noise. */
function perturbOne(x: Values, s: Values, i: number, shape: readonly number[], percentile: number, order: RoadOrder, noise: number, rng: Rng): Float32Array {
  const [, h, w, c] = shape as [number, number, number, number];
  const keep = roadKeepMask(s.subarray(i * h * w, (i + 1) * h * w), percentile, order);
  const imputed = linearImputation(x.subarray(i * h * w * c, (i + 1) * h * w * c), keep, h, w, c);
  addNoise(imputed, keep, c, noise, rng);
  return imputed;
}

/**
 * The ROAD-perturbed images (pytorch-grad-cam's `RemoveMostRelevantFirst` / `RemoveLeastRelevantFirst`
 * with its `NoisyLinearImputer`): per image, the pixels that {@link roadKeepMask} removes are
 * imputed from their neighbours, plus seeded noise. `images` `[N,H,W,C]`, `saliency` `[N,H,W]`.
 */
export async function roadPerturb(images: tf.Tensor4D, saliency: tf.Tensor3D, options: RoadPerturbOptions): Promise<tf.Tensor4D> {
  assertRank(images, 4, 'images');
  checkSaliency(saliency, images);
  assertFinite(images, 'images');
  checkPercentile(options.percentile);
  const order = options.order ?? 'morf';
  checkOrder(order);
  const noise = checkNoise(options.noise);
  const root = createRng(options.seed ?? 0);
  const [n, h, w, c] = images.shape;
  const x = await images.data();
  const s = await saliency.data();
  const out = new Float32Array(n * h * w * c);
  for (let i = 0; i < n; i++) out.set(perturbOne(x, s, i, images.shape, options.percentile, order, noise, root.fork()), i * h * w * c);
  return tf.tensor4d(out, images.shape);
}

/** Options of {@link road}. */
export interface RoadOptions extends NoisyLinearImputeOptions {
  /** Percentiles at which pixels are split (default {@link ROAD_PERCENTILES}, 10 … 90). */
  readonly percentiles?: readonly number[];
  /** Target class per image (default: the predicted class). */
  readonly targets?: readonly number[];
  /** Imputed images per forward pass (default 64), taken across images, percentiles and orders. */
  readonly batchSize?: number;
  /** Score compared before and after imputation (default `'logit'`, pytorch-grad-cam's `ClassifierOutputTarget`). */
  readonly score?: TargetScore;
}

/** The result of {@link road}: score changes `f(imputed) − f(image)` of the target. */
export interface RoadResult {
  readonly percentiles: number[];
  /** Most relevant first: per percentile (outer), per image. Lower (a larger drop) is better. */
  readonly morf: number[][];
  /** Least relevant first: per percentile, per image. Higher (a smaller drop) is better. */
  readonly lerf: number[][];
  /** Per image, the mean of `morf` over the percentiles (`ROADMostRelevantFirstAverage`). Lower is better. */
  readonly morfAverage: number[];
  /** Per image, the mean of `lerf` over the percentiles (`ROADLeastRelevantFirstAverage`). Higher is better. */
  readonly lerfAverage: number[];
  /** Per image `(lerfAverage − morfAverage) / 2` (`ROADCombined`). Higher is better. */
  readonly combined: number[];
  /** Means over images of the three per-image scores. */
  readonly mean: { readonly morf: number; readonly lerf: number; readonly combined: number };
  readonly targets: number[];
}

/** Target scores of `count` images made on demand by `make(j)` (`[H,W,C]` values each), `batchSize` per forward pass. */
async function scoresOf(
  model: ImageClassifier,
  count: number,
  size: readonly [number, number, number],
  make: (j: number) => ArrayLike<number>,
  target: (j: number) => number,
  score: TargetScore,
  batchSize: number,
): Promise<number[]> {
  const [h, w, c] = size;
  const out: number[] = [];
  for (let b = 0; b < count; b += batchSize) {
    const m = Math.min(batchSize, count - b);
    const data = new Float32Array(m * h * w * c);
    for (let j = 0; j < m; j++) data.set(make(b + j), j * h * w * c);
    const targets = Array.from({ length: m }, (_, j) => target(b + j));
    const t = tf.tidy(() => targetScores(model.forward(tf.tensor4d(data, [m, h, w, c]), { training: false }).logits, targets, score));
    out.push(...(await t.data()));
    t.dispose();
  }
  return out;
}

const average = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/**
 * ROAD, RemOve And Debias (Rong et al. 2022), as pytorch-grad-cam's `metrics/road.py` computes it:
 * for every percentile, the most salient (`morf`) or least salient (`lerf`) pixels of each image are
 * removed ({@link roadKeepMask}) and imputed by the noisy linear imputer, and the score is the
 * target's change `f(imputed) − f(image)` (logit by default). Averages over the percentiles and
 * `combined = (lerfAverage − morfAverage) / 2` (`ROADCombined`). The imputed images (images ×
 * percentiles × 2 orders) are made as they are needed and go through the model `batchSize` at a
 * time. The noise is seeded: one stream per order, percentile and image, independent of `batchSize`.
 */
export async function road(model: ImageClassifier, images: tf.Tensor4D, saliency: tf.Tensor3D, options: RoadOptions = {}): Promise<RoadResult> {
  checkImages(model, images);
  checkSaliency(saliency, images);
  checkPositiveInteger(options.batchSize, 'batchSize');
  const percentiles = [...(options.percentiles ?? ROAD_PERCENTILES)];
  if (percentiles.length === 0) throw new ConfigError('percentiles must hold at least one percentile.');
  percentiles.forEach(checkPercentile);
  const noise = checkNoise(options.noise);
  const score = options.score ?? 'logit';
  if (score !== 'logit' && score !== 'probability') throw new ConfigError(`score must be 'logit' or 'probability', got '${String(score)}'.`);
  const batchSize = options.batchSize ?? 64;
  const targets = await resolveTargets(model, images, options.targets);
  const [n, h, w, c] = images.shape;
  const x = await images.data();
  const s = await saliency.data();
  const orders: RoadOrder[] = ['morf', 'lerf'];
  const P = percentiles.length;
  // Job j = (order o, percentile k, image i) with j = (o·P + k)·n + i; its rng is forked in that order.
  const root = createRng(options.seed ?? 0);
  const rngs = Array.from({ length: 2 * P * n }, () => root.fork());
  const size = [h, w, c] as const;
  const before = await scoresOf(model, n, size, (i) => x.subarray(i * h * w * c, (i + 1) * h * w * c), (i) => targets[i]!, score, batchSize);
  const after = await scoresOf(
    model,
    2 * P * n,
    size,
    (j) => perturbOne(x, s, j % n, images.shape, percentiles[Math.floor(j / n) % P]!, orders[Math.floor(j / (n * P))]!, noise, rngs[j]!),
    (j) => targets[j % n]!,
    score,
    batchSize,
  );
  const change = (o: number, k: number) => Array.from({ length: n }, (_, i) => Math.fround(after[(o * P + k) * n + i]! - before[i]!));
  const morf = percentiles.map((_, k) => change(0, k));
  const lerf = percentiles.map((_, k) => change(1, k));
  const overPercentiles = (rows: number[][]) => Array.from({ length: n }, (_, i) => average(rows.map((r) => r[i]!)));
  const morfAverage = overPercentiles(morf);
  const lerfAverage = overPercentiles(lerf);
  const combined = morfAverage.map((m, i) => (lerfAverage[i]! - m) / 2);
  return { percentiles, morf, lerf, morfAverage, lerfAverage, combined, mean: { morf: average(morfAverage), lerf: average(lerfAverage), combined: average(combined) }, targets };
}

import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, createRng, formatShape, ShapeError, type ImageClassifier, type Interpreter, type InterpreterOptions, type Rng } from '@lico/core';
import { checkGivenDraws, checkImages, checkPositiveInteger, resolveTargets } from '../common';
import { asExplainFunction, type ExplainFunction } from './cascading-randomization';

/** Options of {@link maxSensitivity}. */
export interface MaxSensitivityOptions {
  /** Perturbed copies per image (default 200, Quantus' `nr_samples`). */
  readonly samples?: number;
  /**
   * Radius `r` of the L∞ ball: every input value gets independent uniform noise in `[−r, r]`
   * (default 0.2, Quantus' `lower_bound` for its `uniform_noise`), in the images' own units.
   */
  readonly radius?: number;
  /** Seed of the perturbations (default 0). */
  readonly seed?: number;
  /**
   * The perturbations `δ` to use instead of the seeded uniform draws (`radius` and `seed` are then
   * unused): `N·samples·H·W·C` values, image-major, then sample, each `[H,W,C]` (row-major), added
   * to the images as given. For replaying another implementation's perturbations (the Quantus
   * parity test does).
   */
  readonly perturbations?: Float32Array;
  /** Target class per image, the same for the perturbed copies (default: the predicted class). */
  readonly targets?: readonly number[];
  /** Layer to explain, passed to the interpreter. */
  readonly layer?: string;
  /** Perturbed images per call of the interpreter (default 64), taken across images and samples. */
  readonly batchSize?: number;
}

/** The result of {@link maxSensitivity}. Lower is better (a more robust explanation). */
export interface MaxSensitivityResult {
  /** Per image, `max_s ‖e(x) − e(x + δ_s)‖₂ / ‖e(x)‖₂` (NaN samples skipped, as `np.nanmax`). */
  readonly scores: number[];
  /** Mean over images. */
  readonly mean: number;
  readonly targets: number[];
}

/**
 * The seeded perturbation of sample `s` of image `i`: `size` values uniform in `[−r, r]`, drawn from
 * the stream `rng` (one stream per (image, sample), forked from `createRng(seed)` image by image,
 * sample by sample, so the draws do not depend on `batchSize`).
 */
export function uniformPerturbation(rng: Rng, size: number, radius: number): Float32Array {
  const out = new Float32Array(size);
  for (let p = 0; p < size; p++) out[p] = (2 * rng.next() - 1) * radius;
  return out;
}

function norm(values: ArrayLike<number>, offset: number, size: number, minus?: ArrayLike<number>, minusOffset = 0): number {
  let s = 0;
  for (let p = 0; p < size; p++) {
    const d = values[offset + p]! - (minus ? minus[minusOffset + p]! : 0);
    s += d * d;
  }
  return Math.sqrt(s);
}

/**
 * Max-Sensitivity (Yeh et al. 2019) as Quantus' `MaxSensitivity` computes it with its defaults:
 * for each image, `samples` perturbations `δ` with every input value uniform in `[−radius, radius]`
 * (`uniform_noise`, lower_bound 0.2), the explanation `e(x + δ)` for the same target, and the score
 * `max_δ ‖e(x) − e(x + δ)‖ / ‖e(x)‖` (`difference` similarity, Frobenius norms of the flattened
 * maps, `np.nanmax`, no `abs`/normalisation of the maps beyond the interpreter's own, predictions
 * allowed to change). **Lower is better.** A zero map gives `∞` (or NaN), as in Quantus. The
 * perturbed images go to the interpreter `batchSize` at a time across images and samples, so the
 * interpreter must explain each image independently of its batch (this package's all do).
 * `perturbations` replaces the seeded draws by given ones.
 */
export async function maxSensitivity(
  model: ImageClassifier,
  images: tf.Tensor4D,
  interpreter: Interpreter | ExplainFunction,
  options: MaxSensitivityOptions = {},
): Promise<MaxSensitivityResult> {
  checkImages(model, images);
  checkPositiveInteger(options.samples, 'samples');
  checkPositiveInteger(options.batchSize, 'batchSize');
  const radius = options.radius ?? 0.2;
  if (!Number.isFinite(radius) || radius < 0) throw new ConfigError(`radius must be a finite number ≥ 0, got ${radius}.`);
  const samples = options.samples ?? 200;
  const batchSize = options.batchSize ?? 64;
  const explain = asExplainFunction(interpreter);
  const targets = await resolveTargets(model, images, options.targets);
  const layer = options.layer === undefined ? {} : { layer: options.layer };
  const [n, h, w, c] = images.shape;
  const size = h * w * c;
  const given = options.perturbations;
  if (given !== undefined) checkGivenDraws(given, n * samples * size, 'perturbations', `N·samples·H·W·C = ${n}·${samples}·${h}·${w}·${c}`);
  const explained = async (batch: tf.Tensor4D, batchTargets: number[]): Promise<Float32Array> => {
    const call: InterpreterOptions = { targets: batchTargets, ...layer };
    const maps = await explain(model, batch, call);
    try {
      if (maps.rank !== 3 || maps.shape[0] !== batch.shape[0]) {
        throw new ShapeError(`the interpreter must return [${batch.shape[0]},H,W] maps for ${formatShape(batch.shape)} images, got ${formatShape(maps.shape)}.`);
      }
      return (await maps.data()) as Float32Array;
    } finally {
      maps.dispose();
    }
  };
  const original = await explained(images, targets);
  const mapSize = original.length / n;
  const x = await images.data();
  const root = createRng(options.seed ?? 0);
  const rngs = Array.from({ length: n * samples }, () => root.fork());
  const scores = new Array<number>(n).fill(Number.NaN);
  const total = n * samples;
  for (let start = 0; start < total; start += batchSize) {
    const m = Math.min(batchSize, total - start);
    const data = new Float32Array(m * size);
    const imageOf: number[] = [];
    for (let j = 0; j < m; j++) {
      const i = Math.floor((start + j) / samples);
      imageOf.push(i);
      const delta = given ? given.subarray((start + j) * size, (start + j + 1) * size) : uniformPerturbation(rngs[start + j]!, size, radius);
      for (let p = 0; p < size; p++) data[j * size + p] = x[i * size + p]! + delta[p]!;
    }
    const batch = tf.tensor4d(data, [m, h, w, c]);
    let perturbed: Float32Array;
    try {
      perturbed = await explained(batch, imageOf.map((i) => targets[i]!));
    } finally {
      batch.dispose();
    }
    for (let j = 0; j < m; j++) {
      const i = imageOf[j]!;
      const ratio = norm(original, i * mapSize, mapSize, perturbed, j * mapSize) / norm(original, i * mapSize, mapSize);
      if (!Number.isNaN(ratio) && (Number.isNaN(scores[i]!) || ratio > scores[i]!)) scores[i] = ratio;
    }
  }
  return { scores, mean: scores.reduce((a, b) => a + b, 0) / n, targets };
}

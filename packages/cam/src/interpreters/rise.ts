import * as tf from '@tensorflow/tfjs-core';
import { createRng, ShapeError, type ImageClassifier, type InterpreterOptions } from '@lico/core';
import { checkImages, checkPositiveInteger, checkUnitInterval, minMaxNormalize, resolveTargets } from '../common';

/** Options of {@link rise}. */
export interface RiseOptions extends InterpreterOptions {
  /** Number of random masks (default 2000). */
  readonly numMasks?: number;
  /** Cells per side of the random keep-grid `s` (default 8). */
  readonly gridSize?: number;
  /** Probability that a grid cell is kept, exactly: `uniform < p` (default 0.5). */
  readonly keepProbability?: number;
  /** Seed of the grids and shifts (default 0). */
  readonly seed?: number;
  /** Masked images per forward pass (default 64); bounds memory. */
  readonly batchSize?: number;
  /** Per-image min–max normalisation to [0,1] (default true); false returns `Σ p·M / (N·p1)`. */
  readonly normalize?: boolean;
  /**
   * Masks to use instead of generating them (e.g. the official code's saved `masks.npy`, see
   * {@link riseMasksFromArray}); `numMasks`, `gridSize` and `seed` are then ignored, and
   * `keepProbability` must be the one they were made with (it scales the result).
   */
  readonly maskSource?: RiseMaskSource;
}

/** RISE masks `[count,H,W,1]`, built on demand. */
export interface RiseMaskSource {
  /** Number of masks. */
  readonly numMasks: number;
  /** Builds masks `[end−start,H,W,1]` for indices `[start,end)` (the caller disposes). */
  masks(start: number, end: number): tf.Tensor4D;
}

/**
 * RISE masks as in the official code (Petsiuk et al. 2018): a `s×s` Bernoulli(p) grid, upsampled
 * bilinearly (half-pixel centres, edge clamped; the official code uses skimage with reflect mode) to
 * `(s+1)·ceil(H/s)` and cropped at a random shift in `[0, ceil(H/s))` per mask. Seeded.
 */
export function riseMasks(height: number, width: number, options: Pick<RiseOptions, 'numMasks' | 'gridSize' | 'keepProbability' | 'seed'> = {}): RiseMaskSource {
  const numMasks = options.numMasks ?? 2000;
  const s = options.gridSize ?? 8;
  const p = options.keepProbability ?? 0.5;
  checkPositiveInteger(numMasks, 'numMasks');
  checkPositiveInteger(s, 'gridSize');
  checkUnitInterval(p, 'keepProbability', true);
  const rng = createRng(options.seed ?? 0);
  const cellH = Math.ceil(height / s);
  const cellW = Math.ceil(width / s);
  const grids = new Float32Array(numMasks * s * s);
  const shifts = new Int32Array(numMasks * 2);
  for (let i = 0; i < numMasks; i++) {
    for (let j = 0; j < s * s; j++) grids[i * s * s + j] = rng.next() < p ? 1 : 0;
    shifts[2 * i] = rng.int(cellH);
    shifts[2 * i + 1] = rng.int(cellW);
  }
  const upH = (s + 1) * cellH;
  const upW = (s + 1) * cellW;
  return {
    numMasks,
    masks(start, end) {
      return tf.tidy(() => {
        const count = end - start;
        const grid = tf.tensor4d(grids.subarray(start * s * s, end * s * s), [count, s, s, 1]);
        const up = tf.image.resizeBilinear(grid, [upH, upW], false, true);
        const crops: tf.Tensor4D[] = [];
        for (let i = 0; i < count; i++) {
          const dy = shifts[2 * (start + i)]!;
          const dx = shifts[2 * (start + i) + 1]!;
          crops.push(tf.slice(up, [i, dy, dx, 0], [1, height, width, 1]));
        }
        return tf.concat(crops, 0);
      });
    },
  };
}

/**
 * A mask source over given masks (`numMasks·height·width` values in [0, 1], mask-major, e.g. the
 * official RISE code's `masks.npy` flattened).
 */
export function riseMasksFromArray(values: Float32Array, numMasks: number, height: number, width: number): RiseMaskSource {
  checkPositiveInteger(numMasks, 'numMasks');
  if (values.length !== numMasks * height * width) {
    throw new ShapeError(`riseMasksFromArray: ${values.length} values for ${numMasks} masks of ${height}×${width} (expected ${numMasks * height * width})`);
  }
  for (let i = 0; i < values.length; i++) {
    if (!(values[i]! >= 0 && values[i]! <= 1)) throw new RangeError(`riseMasksFromArray: value ${values[i]} at index ${i} is not in [0, 1]`);
  }
  const size = height * width;
  return { numMasks, masks: (start, end) => tf.tensor4d(values.slice(start * size, end * size), [end - start, height, width, 1]) };
}

/**
 * RISE (Petsiuk et al. 2018): saliency = `Σ_i P(c | x ⊙ M_i) · M_i / (N · p)` over seeded random
 * masks, with `P` the softmax probability of the target class; then min–max normalised per image.
 * The same masks serve every image of the batch; masks are built and evaluated `batchSize` at a time.
 */
export async function rise(model: ImageClassifier, images: tf.Tensor4D, options: RiseOptions = {}): Promise<tf.Tensor3D> {
  checkImages(model, images);
  checkPositiveInteger(options.batchSize, 'batchSize');
  const batchSize = options.batchSize ?? 64;
  const [n, height, width] = images.shape;
  const source = options.maskSource ?? riseMasks(height, width, options);
  const targets = await resolveTargets(model, images, options.targets);
  const p = options.keepProbability ?? 0.5;
  let sums: tf.Tensor3D = tf.zeros([n, height, width]);
  try {
    for (let start = 0; start < source.numMasks; start += batchSize) {
      const end = Math.min(source.numMasks, start + batchSize);
      const next = tf.tidy(() => {
        const masks = source.masks(start, end);
        const count = end - start;
        if (masks.shape[0] !== count || masks.shape[1] !== height || masks.shape[2] !== width || masks.shape[3] !== 1) {
          throw new ShapeError(`RISE masks [${masks.shape}] for images [${images.shape}]: expected [${count},${height},${width},1]`);
        }
        const flat = tf.reshape(masks, [count, height * width]);
        const perImage: tf.Tensor2D[] = [];
        for (let i = 0; i < n; i++) {
          const image = tf.slice(images, [i, 0, 0, 0], [1, -1, -1, -1]);
          const probs = tf.softmax(model.forward(tf.mul(image, masks) as tf.Tensor4D, { training: false }).logits);
          const pc = tf.reshape(tf.gather(probs, [targets[i]!], 1), [1, count]);
          perImage.push(tf.matMul(pc, flat));
        }
        return tf.add(sums, tf.reshape(tf.concat(perImage, 0), [n, height, width])) as tf.Tensor3D;
      });
      sums.dispose();
      sums = next;
      await next.data();
    }
    const scaled = tf.tidy(() => tf.div(sums, source.numMasks * p) as tf.Tensor3D);
    if (options.normalize === false) return scaled;
    const normalized = minMaxNormalize(scaled);
    scaled.dispose();
    return normalized;
  } finally {
    sums.dispose();
  }
}

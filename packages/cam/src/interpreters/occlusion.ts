import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, formatShape, type ImageClassifier } from '@lico/core';
import { checkImages, checkPositiveInteger, resolveTargets } from '../common';
import {
  checkAttributionSign,
  checkFiniteNumber,
  checkInputAttributionOptions,
  finishAttributionMap,
  rowScores,
  scatterToImages,
  type AttributionSign,
  type InputAttributionOptions,
} from './input-attribution';

/** Options of {@link occlusion}. */
export interface OcclusionOptions extends InputAttributionOptions {
  /** Window `[height, width]` (or one number for a square), over all channels (default 8, cut to the image side when smaller). */
  readonly window?: number | readonly [number, number];
  /** Step between windows `[y, x]` (or one number), at most the window (default 4, or the window when smaller; Captum's default is 1). */
  readonly stride?: number | readonly [number, number];
  /** Value the window is set to (default 0: in normalised space, the dataset mean; Captum's `baselines`). */
  readonly baseline?: number;
  /** Occluded images per forward pass (default 64). */
  readonly batchSize?: number;
  /** What the map keeps (default `'absolute'`; `'positive'`: only windows whose removal lowers the score). */
  readonly sign?: AttributionSign;
}

function pair(value: number | readonly [number, number] | undefined, fallback: number, what: string): [number, number] {
  const v: readonly number[] = value === undefined ? [fallback, fallback] : typeof value === 'number' ? [value, value] : value;
  if (v.length !== 2) throw new ConfigError(`${what} must be a number or [height, width], got [${v.join(',')}].`);
  v.forEach((d) => checkPositiveInteger(d, what));
  return [v[0]!, v[1]!];
}

/**
 * Window positions along one axis as Captum's `Occlusion`: `ceil((size − window)/stride) + 1`
 * starts `k·stride`; the last window may run past the edge and is cut there.
 */
export function occlusionStarts(size: number, window: number, stride: number): number[] {
  const count = Math.ceil((size - window) / stride) + 1;
  return Array.from({ length: count }, (_, k) => k * stride);
}

/**
 * Occlusion (Zeiler & Fergus 2014; Captum's `Occlusion` with the window over all channels): each
 * `window` position, slid by `stride`, is set to `baseline` in every channel and the drop of the
 * target score `f(x) − f(x_occluded)` is added to every pixel the window covers; each pixel's sum
 * is divided by the number of windows that covered it. Then `sign` (default `'absolute'`) and
 * per-image min–max (`normalize: false` returns the raw map). Occluded images are evaluated
 * `batchSize` at a time: `ceil(N·positions/batchSize)` forward passes plus one for `f(x)`. `layer`
 * is ignored.
 */
export async function occlusion(model: ImageClassifier, images: tf.Tensor4D, options: OcclusionOptions = {}): Promise<tf.Tensor3D> {
  checkImages(model, images);
  checkInputAttributionOptions(options);
  checkAttributionSign(options.sign);
  checkPositiveInteger(options.batchSize, 'batchSize');
  checkFiniteNumber(options.baseline, 'baseline');
  const [n, h, w] = images.shape;
  // Defaults: an 8×8 window cut to the image, stride 4 cut to the window (explicit values are checked).
  const [wh, ww] = options.window === undefined ? [Math.min(8, h), Math.min(8, w)] : pair(options.window, 8, 'window');
  const [sh, sw] = options.stride === undefined ? [Math.min(4, wh), Math.min(4, ww)] : pair(options.stride, 4, 'stride');
  if (wh > h || ww > w) throw new ConfigError(`window ${wh}×${ww} is larger than the images ${formatShape(images.shape)} (H×W ${h}×${w}).`);
  if ((wh < h && sh > wh) || (ww < w && sw > ww)) {
    throw new ConfigError(`stride ${sh}×${sw} must not exceed window ${wh}×${ww} (pixels would be skipped), as Captum requires.`);
  }
  const batchSize = options.batchSize ?? 64;
  const baseline = options.baseline ?? 0;
  const targets = await resolveTargets(model, images, options.targets);
  const ys = occlusionStarts(h, wh, sh);
  const xs = occlusionStarts(w, ww, sw);
  const positions = ys.flatMap((y) => xs.map((x) => [y, x] as const));
  const windowMask = (p: number, out: Float32Array, offset: number): void => {
    const [y0, x0] = positions[p]!;
    for (let y = y0; y < Math.min(h, y0 + wh); y++) for (let x = x0; x < Math.min(w, x0 + ww); x++) out[offset + y * w + x]! += 1;
  };
  const counts = new Float32Array(h * w);
  for (let p = 0; p < positions.length; p++) windowMask(p, counts, 0);
  const original = rowScores(model, images, targets, options.score);
  const channels = images.shape[3];
  const pixels = (await images.data()) as Float32Array;
  const size = h * w * channels;
  let sums: tf.Tensor3D = tf.zeros([n, h, w]);
  try {
    const total = n * positions.length;
    for (let start = 0; start < total; start += batchSize) {
      const end = Math.min(total, start + batchSize);
      // Rows are image-major: row r is window r mod P of image floor(r/P).
      const imageOfRow = Array.from({ length: end - start }, (_, k) => Math.floor((start + k) / positions.length));
      const masks = new Float32Array((end - start) * h * w);
      for (let k = 0; k < end - start; k++) windowMask((start + k) % positions.length, masks, k * h * w);
      // The occluded images in one pass (stock gather and broadcast ops cost ~10 % of the forwards
      // on wasm): x·(1 − m) + m·baseline, each step rounded to float32 as those ops round it.
      const occluded = new Float32Array((end - start) * size);
      const f = Math.fround;
      for (let k = 0; k < end - start; k++) {
        const x = pixels.subarray(imageOfRow[k]! * size, (imageOfRow[k]! + 1) * size);
        for (let p = 0; p < h * w; p++) {
          const m = masks[k * h * w + p]!;
          const keep = f(1 - m);
          const fill = f(m * baseline);
          for (let c = p * channels; c < (p + 1) * channels; c++) occluded[k * size + c] = f(f(x[c]! * keep) + fill);
        }
      }
      const next = tf.tidy(() => {
        const m = tf.tensor4d(masks, [end - start, h, w, 1]);
        const rows = tf.tensor4d(occluded, [end - start, h, w, channels]);
        const drops = tf.sub(tf.gather(original, imageOfRow), rowScores(model, rows, imageOfRow.map((i) => targets[i]!), options.score)) as tf.Tensor1D;
        return tf.add(sums, scatterToImages(tf.reshape(m, [end - start, h, w]), imageOfRow, drops, n)) as tf.Tensor3D;
      });
      sums.dispose();
      sums = next;
      await next.data();
    }
    return tf.tidy(() => finishAttributionMap(tf.div(sums, tf.tensor2d(counts, [h, w])) as tf.Tensor3D, options.sign ?? 'absolute', options.normalize));
  } finally {
    sums.dispose();
    original.dispose();
  }
}

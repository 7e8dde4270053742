import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, createRng, type ImageClassifier } from '@lico/core';
import { checkGivenDraws, checkImages, checkPositiveInteger, resolveTargets } from '../common';
import {
  checkChannelReduction,
  checkFiniteNumber,
  checkInputAttributionOptions,
  finishAttributionMap,
  inputGradients,
  reduceChannels,
  scatterToImages,
  type ChannelReduction,
  type InputAttributionOptions,
} from './input-attribution';

/** Options of {@link smoothGrad}. */
export interface SmoothGradOptions extends InputAttributionOptions {
  /** Noisy copies per image (default 50, Smilkov et al.'s choice; Captum's `nt_samples` default is 5). */
  readonly samples?: number;
  /**
   * Noise level as a fraction of each image's value range (default 0.15, inside Smilkov et al.'s
   * 10–20%): the noise's standard deviation is `sigma · (max(x) − min(x))`, which is what Captum's
   * absolute `stdevs` would have to be set to.
   */
  readonly sigma?: number;
  /** Seed of the noise (default 0). Sample `s` gets the same standard-normal draw for every image. */
  readonly seed?: number;
  /**
   * The standard-normal draws `ε` to use instead of the seeded ones (`seed` is then unused):
   * `samples·H·W·C` values, sample-major, each sample `[H,W,C]` (row-major), scaled by
   * `sigma·(max(x) − min(x))` per image as the seeded draws are, the same for every image. For
   * replaying another implementation's noise (the Captum parity test does).
   */
  readonly noise?: Float32Array;
  /** Noisy images per forward/backward pass (default 64); bounds memory. */
  readonly batchSize?: number;
  /** Channel reduction of the averaged `|∂y/∂x|` (default `'max'`, as {@link gradient}). */
  readonly channelReduction?: ChannelReduction;
}

/** `count` standard-normal draws from `createRng(seed)`. */
function seededNoise(seed: number, count: number): Float32Array {
  const rng = createRng(seed);
  const noise = new Float32Array(count);
  for (let i = 0; i < noise.length; i++) noise[i] = rng.normal();
  return noise;
}

/**
 * SmoothGrad (Smilkov et al. 2017) over the vanilla gradient, in Captum's `NoiseTunnel(Saliency)`
 * form (`nt_type='smoothgrad'`, `abs=True`): the per-channel mean of `|∂y^c/∂x|` at
 * `x + σ·ε_s`, `ε_s ~ N(0, I)` for `s = 1…samples`, then the maximum over channels
 * (`channelReduction`), then per-image min–max. The noise comes from a seeded generator
 * (`seed`), the same draws for every image (so a batch gives the maps of its images one at a
 * time) and independent of `batchSize`; `noise` replaces the draws by given ones. `layer` is ignored.
 */
export async function smoothGrad(model: ImageClassifier, images: tf.Tensor4D, options: SmoothGradOptions = {}): Promise<tf.Tensor3D> {
  checkImages(model, images);
  checkInputAttributionOptions(options);
  checkChannelReduction(options.channelReduction);
  checkPositiveInteger(options.samples, 'samples');
  checkPositiveInteger(options.batchSize, 'batchSize');
  checkFiniteNumber(options.sigma, 'sigma');
  checkFiniteNumber(options.seed, 'seed');
  const samples = options.samples ?? 50;
  const [n, h, w, c] = images.shape;
  if (options.noise !== undefined) checkGivenDraws(options.noise, samples * h * w * c, 'noise', `samples·H·W·C = ${samples}·${h}·${w}·${c}`);
  if (options.sigma !== undefined && options.sigma < 0) throw new ConfigError(`sigma must be >= 0 (a fraction of the image's value range), got ${options.sigma}.`);
  const sigma = options.sigma ?? 0.15;
  const batchSize = options.batchSize ?? 64;
  const targets = await resolveTargets(model, images, options.targets);
  const size = h * w * c;
  const noise = options.noise ?? seededNoise(options.seed ?? 0, samples * size);
  const stdevs = tf.tidy(() => tf.mul(tf.sub(tf.max(images, [1, 2, 3]), tf.min(images, [1, 2, 3])), sigma) as tf.Tensor1D);
  let sums: tf.Tensor4D = tf.zeros([n, h, w, c]);
  try {
    const total = samples * n;
    for (let start = 0; start < total; start += batchSize) {
      const end = Math.min(total, start + batchSize);
      // Rows are sample-major: row r is sample floor(r/n) of image r mod n.
      const imageOfRow = Array.from({ length: end - start }, (_, k) => (start + k) % n);
      const sampleOfRow = imageOfRow.map((_, k) => Math.floor((start + k) / n));
      const next = tf.tidy(() => {
        const rowNoise = new Float32Array((end - start) * size);
        sampleOfRow.forEach((s, k) => rowNoise.set(noise.subarray(s * size, (s + 1) * size), k * size));
        const sd = tf.reshape(tf.gather(stdevs, imageOfRow), [end - start, 1, 1, 1]);
        const rows = tf.add(tf.gather(images, imageOfRow), tf.mul(sd, tf.tensor4d(rowNoise, [end - start, h, w, c]))) as tf.Tensor4D;
        const g = tf.abs(inputGradients(model, rows, imageOfRow.map((i) => targets[i]!), options.score));
        return tf.add(sums, scatterToImages(g, imageOfRow, new Array(end - start).fill(1 / samples), n)) as tf.Tensor4D;
      });
      sums.dispose();
      sums = next;
      await next.data();
    }
    return tf.tidy(() => finishAttributionMap(reduceChannels(sums, options.channelReduction ?? 'max'), 'absolute', options.normalize));
  } finally {
    sums.dispose();
    stdevs.dispose();
  }
}

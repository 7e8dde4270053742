import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@lico/core';

/** A Gaussian blur of the insertion canvas. */
export interface BlurOptions {
  /** Standard deviation in pixels. */
  readonly sigma: number;
  /** Odd kernel size. */
  readonly kernel: number;
  /** Border handling: `'zero'` (conv with zero padding) or `'reflect'` (torchvision `GaussianBlur`). */
  readonly padding?: 'zero' | 'reflect';
  /**
   * Kernel weights: `'sampled'` (default) = `exp(−x²/2σ²)` at the integer offsets, normalised (as
   * torchvision); `'scipy-dirac'` = `scipy.ndimage.gaussian_filter` of a centred dirac of that size
   * (reflect mode, truncate 4σ), the official RISE `gkern`.
   */
  readonly weights?: 'sampled' | 'scipy-dirac';
}

/** The 1-D blur weights of {@link BlurOptions} (length `kernel`, summing to 1). */
export function blurWeights1d(options: BlurOptions): Float64Array {
  const { sigma, kernel } = options;
  if (!Number.isInteger(kernel) || kernel <= 0 || kernel % 2 === 0) throw new ConfigError(`blur.kernel must be an odd positive integer, got ${kernel}.`);
  if (!Number.isFinite(sigma) || sigma <= 0) throw new ConfigError(`blur.sigma must be a finite number > 0, got ${sigma}.`);
  const half = (kernel - 1) / 2;
  const out = new Float64Array(kernel);
  if ((options.weights ?? 'sampled') === 'sampled') {
    for (let i = 0; i < kernel; i++) out[i] = Math.exp(-0.5 * ((i - half) / sigma) ** 2);
  } else {
    // scipy gaussian_filter1d(dirac at `half`, sigma), mode 'reflect' (d c b a | a b c d), truncate 4.
    const radius = Math.floor(4 * sigma + 0.5);
    const w: number[] = [];
    let total = 0;
    for (let t = -radius; t <= radius; t++) {
      const v = Math.exp(-0.5 * (t / sigma) ** 2);
      w.push(v);
      total += v;
    }
    const reflect = (m: number): number => {
      const period = 2 * kernel;
      let r = ((m % period) + period) % period;
      if (r >= kernel) r = period - 1 - r;
      return r;
    };
    for (let i = 0; i < kernel; i++) {
      for (let t = -radius; t <= radius; t++) if (reflect(i + t) === half) out[i] += w[t + radius]! / total;
    }
  }
  const sum = out.reduce((a, b) => a + b, 0);
  for (let i = 0; i < kernel; i++) out[i] /= sum;
  return out;
}

/** Blurs `[N,H,W,C]` images channel by channel with the separable kernel of {@link BlurOptions}. */
export function gaussianBlur(images: tf.Tensor4D, options: BlurOptions): tf.Tensor4D {
  const w = blurWeights1d(options);
  const k = options.kernel;
  const half = (k - 1) / 2;
  const channels = images.shape[3];
  return tf.tidy(() => {
    const kernel2d = new Float32Array(k * k * channels);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let c = 0; c < channels; c++) kernel2d[(i * k + j) * channels + c] = w[i]! * w[j]!;
    const filter = tf.tensor4d(kernel2d, [k, k, channels, 1]);
    if ((options.padding ?? 'zero') === 'zero') return tf.depthwiseConv2d(images, filter, 1, 'same');
    if (half >= images.shape[1] || half >= images.shape[2]) {
      throw new ConfigError(`blur.kernel ${k} is too large for reflect padding of ${images.shape[1]}×${images.shape[2]} images.`);
    }
    const padded = tf.mirrorPad(images, [[0, 0], [half, half], [half, half], [0, 0]], 'reflect');
    return tf.depthwiseConv2d(padded, filter, 1, 'valid');
  });
}

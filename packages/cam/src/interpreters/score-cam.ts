import * as tf from '@tensorflow/tfjs-core';
import { UnknownNameError, type ImageClassifier } from '@lico/core';
import { checkCamOptions, checkImages, checkPositiveInteger, finishCam, resolveLayer, resolveTargets, type CamOptions } from '../common';

/** Which published Score-CAM to compute. */
export type ScoreCamVariant = 'pytorch-grad-cam' | 'official';

/** Options of {@link scoreCam}. */
export interface ScoreCamOptions extends Omit<CamOptions, 'score'> {
  /**
   * `'pytorch-grad-cam'` (default, what the LICO reproduction called): channel masks upsampled with
   * corners aligned (`UpsamplingBilinear2d`), min–max normalised with eps 1e-8, scored by the
   * target **logit** of the masked image, weights = softmax over channels, map = `Σ w_k A^k` at layer
   * resolution. `'official'` (haofanwang/Score-CAM): half-pixel upsampling, constant channels skipped,
   * scored by the target **softmax probability**, weights = those probabilities, map = `Σ s_k U_k` at
   * input resolution.
   */
  readonly variant?: ScoreCamVariant;
  /** Masked images per forward pass (default 32); bounds memory. */
  readonly batchSize?: number;
}

const VARIANTS: readonly ScoreCamVariant[] = ['pytorch-grad-cam', 'official'];

/**
 * Score-CAM (Wang et al. 2020): each channel of the layer, upsampled and normalised to [0,1], masks
 * the input; the target's score on the masked input weighs the channel. Masked images are evaluated
 * `batchSize` at a time, one image of the batch after the other.
 */
export async function scoreCam(model: ImageClassifier, images: tf.Tensor4D, options: ScoreCamOptions = {}): Promise<tf.Tensor3D> {
  checkImages(model, images);
  checkCamOptions(options);
  const variant = options.variant ?? 'pytorch-grad-cam';
  if (!VARIANTS.includes(variant)) throw new UnknownNameError('Score-CAM variant', variant, VARIANTS);
  checkPositiveInteger(options.batchSize, 'batchSize');
  const batchSize = options.batchSize ?? 32;
  const layer = resolveLayer(model, options.layer);
  const targets = await resolveTargets(model, images, options.targets);
  const [n, height, width] = images.shape;
  const official = variant === 'official';
  const activation = tf.tidy(() => model.forwardTo(images, layer, { training: false }));
  const channels = activation.shape[3];
  const maps: tf.Tensor3D[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const image = tf.slice(images, [i, 0, 0, 0], [1, -1, -1, -1]);
      const act = tf.slice(activation, [i, 0, 0, 0], [1, -1, -1, -1]);
      const scores = new Float32Array(channels);
      let acc: tf.Tensor2D | null = official ? tf.zeros([height, width]) : null;
      for (let k0 = 0; k0 < channels; k0 += batchSize) {
        const kc = Math.min(batchSize, channels - k0);
        const target = targets[i]!;
        const [chunkScores, nextAcc] = tf.tidy((): tf.Tensor[] => {
          const part = tf.slice(act, [0, 0, 0, k0], [1, -1, -1, kc]);
          const up = tf.image.resizeBilinear(part, [height, width], !official, official);
          const u = tf.transpose(up, [3, 1, 2, 0]); // [kc,H,W,1]
          const min = tf.min(u, [1, 2, 3], true);
          const max = tf.max(u, [1, 2, 3], true);
          const range = tf.sub(max, min);
          const masks = official
            ? tf.div(tf.sub(u, min), tf.where(tf.equal(range, 0), tf.onesLike(range), range))
            : tf.div(tf.sub(u, min), tf.add(range, 1e-8));
          const logits = model.forward(tf.mul(image, masks) as tf.Tensor4D, { training: false }).logits;
          const s: tf.Tensor = tf.reshape(official ? tf.gather(tf.softmax(logits), [target], 1) : tf.gather(logits, [target], 1), [kc]);
          if (!official) return [s];
          const valid = tf.cast(tf.greater(tf.reshape(range, [kc]), 0), 'float32');
          const weighted = tf.sum(tf.mul(tf.reshape(tf.mul(s, valid), [kc, 1, 1]), tf.reshape(u, [kc, height, width])), 0) as tf.Tensor2D;
          return [s, tf.add(acc!, weighted)];
        });
        scores.set((await chunkScores.data()) as Float32Array, k0);
        chunkScores.dispose();
        if (nextAcc) {
          acc!.dispose();
          acc = nextAcc as tf.Tensor2D;
        }
      }
      const map = tf.tidy(() => {
        if (official) return finishCam(tf.expandDims(acc!, 0) as tf.Tensor3D, [height, width], options);
        const weights = tf.softmax(tf.tensor2d(scores, [1, channels]) as tf.Tensor2D);
        const cam = tf.sum(tf.mul(act, tf.reshape(weights, [1, 1, 1, channels])), 3) as tf.Tensor3D;
        return finishCam(cam, [height, width], options);
      });
      acc?.dispose();
      image.dispose();
      act.dispose();
      maps.push(map);
    }
    return tf.concat(maps, 0);
  } finally {
    activation.dispose();
    for (const m of maps) m.dispose();
  }
}

import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from '@lico/core';
import { checkCamOptions, checkImages, checkTargets, finishCam, resolveLayer, type CamOptions } from '../common';

/** Options of {@link eigenCam}. Targets are accepted (and checked) but do not change the map. */
export type EigenCamOptions = CamOptions;

/**
 * The first principal component of one image's activation: rows are the `h·w` positions, columns
 * the `c` channels, centred per channel; returns the projection of every position on the first right
 * singular vector (power iteration). The sign is chosen so that the projection correlates
 * non-negatively with the channel-summed activation (an SVD's sign is arbitrary).
 */
export function firstComponentProjection(data: Float32Array, positions: number, channels: number, iterations = 200): Float32Array {
  const x = new Float64Array(positions * channels);
  for (let k = 0; k < channels; k++) {
    let mean = 0;
    for (let p = 0; p < positions; p++) mean += data[p * channels + k]!;
    mean /= positions;
    for (let p = 0; p < positions; p++) x[p * channels + k] = data[p * channels + k]! - mean;
  }
  let v = new Float64Array(channels);
  for (let k = 0; k < channels; k++) v[k] = 1 + ((k * 7919) % 13) / 13;
  const u = new Float64Array(positions);
  for (let it = 0; it < iterations; it++) {
    for (let p = 0; p < positions; p++) {
      let s = 0;
      for (let k = 0; k < channels; k++) s += x[p * channels + k]! * v[k]!;
      u[p] = s;
    }
    const next = new Float64Array(channels);
    for (let p = 0; p < positions; p++) for (let k = 0; k < channels; k++) next[k] += x[p * channels + k]! * u[p]!;
    let norm = 0;
    for (let k = 0; k < channels; k++) norm += next[k]! * next[k]!;
    norm = Math.sqrt(norm);
    if (norm === 0) break;
    for (let k = 0; k < channels; k++) next[k] /= norm;
    v = next;
  }
  const projection = new Float32Array(positions);
  let sign = 0;
  for (let p = 0; p < positions; p++) {
    let s = 0;
    let raw = 0;
    for (let k = 0; k < channels; k++) {
      s += x[p * channels + k]! * v[k]!;
      raw += data[p * channels + k]!;
    }
    projection[p] = s;
    sign += s * raw;
  }
  if (sign < 0) for (let p = 0; p < positions; p++) projection[p] = -projection[p]!;
  return projection;
}

/**
 * Eigen-CAM (Muhammad & Yeasin 2020), pytorch-grad-cam's `get_2d_projection`: the layer's centred
 * activation projected on its first principal direction, then ReLU, upsampling and normalisation.
 * Class-agnostic; needs no gradient.
 */
export async function eigenCam(model: ImageClassifier, images: tf.Tensor4D, options: EigenCamOptions = {}): Promise<tf.Tensor3D> {
  checkImages(model, images);
  checkCamOptions(options);
  const layer = resolveLayer(model, options.layer);
  if (options.targets !== undefined) checkTargets(model, options.targets, images.shape[0]);
  const activation = tf.tidy(() => model.forwardTo(images, layer, { training: false }));
  return projectionCam(activation, [images.shape[1], images.shape[2]], options);
}

/**
 * The shared tail of Eigen-CAM and Eigen-Grad-CAM: each image's {@link firstComponentProjection} of
 * `values` `[N,h,w,c]` (which this disposes), then ReLU, upsampling to `inputSize` and normalisation.
 */
export async function projectionCam(values: tf.Tensor4D, inputSize: readonly [number, number], options: CamOptions): Promise<tf.Tensor3D> {
  const [n, h, w, c] = values.shape;
  let data: Float32Array;
  try {
    data = (await values.data()) as Float32Array;
  } finally {
    values.dispose();
  }
  const out = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) out.set(firstComponentProjection(data.subarray(i * h * w * c, (i + 1) * h * w * c), h * w, c), i * h * w);
  return tf.tidy(() => finishCam(tf.tensor3d(out, [n, h, w]), inputSize, options));
}

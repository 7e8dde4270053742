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
 *
 * The iteration runs on the smaller of the two Gram matrices, built once: `XᵀX` (c×c) iterating
 * the right vector `v`, or `XXᵀ` (p×p) iterating `u = Xv/|Xv|` — the same sequence of directions
 * (`u ← XXᵀu` is `v ← XᵀXv` mapped through `X`), at `min(p, c)²` per step instead of `2·p·c`.
 */
export function firstComponentProjection(data: Float32Array, positions: number, channels: number, iterations = 200): Float32Array {
  const x = new Float64Array(positions * channels);
  for (let k = 0; k < channels; k++) {
    let mean = 0;
    for (let p = 0; p < positions; p++) mean += data[p * channels + k]!;
    mean /= positions;
    for (let p = 0; p < positions; p++) x[p * channels + k] = data[p * channels + k]! - mean;
  }
  const byPositions = positions < channels;
  const m = byPositions ? positions : channels;
  // The Gram matrix (symmetric, m×m): XXᵀ over channels, or XᵀX over positions.
  const gram = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = i; j < m; j++) {
      let s = 0;
      if (byPositions) for (let k = 0; k < channels; k++) s += x[i * channels + k]! * x[j * channels + k]!;
      else for (let p = 0; p < positions; p++) s += x[p * channels + i]! * x[p * channels + j]!;
      gram[i * m + j] = s;
      gram[j * m + i] = s;
    }
  }
  // Start: v0 as before (1 + (k·7919 mod 13)/13); on positions, u0 = X·v0.
  let vec = new Float64Array(m);
  const v0 = (k: number) => 1 + ((k * 7919) % 13) / 13;
  if (byPositions) for (let p = 0; p < positions; p++) for (let k = 0; k < channels; k++) vec[p] += x[p * channels + k]! * v0(k);
  else for (let k = 0; k < channels; k++) vec[k] = v0(k);
  let zero = false;
  for (let it = 0; it < iterations; it++) {
    const next = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += gram[i * m + j]! * vec[j]!;
      next[i] = s;
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += next[i]! * next[i]!;
    norm = Math.sqrt(norm);
    if (norm === 0) {
      zero = true;
      break;
    }
    for (let i = 0; i < m; i++) next[i] /= norm;
    vec = next;
  }
  const projection = new Float32Array(positions);
  if (byPositions) {
    // X·v with v = Xᵀu/|Xᵀu|: (XXᵀu)/|Xᵀu| = Gu / √(uᵀGu).
    let quad = 0;
    const gu = new Float64Array(positions);
    for (let i = 0; i < positions; i++) {
      let s = 0;
      for (let j = 0; j < positions; j++) s += gram[i * positions + j]! * vec[j]!;
      gu[i] = s;
      quad += vec[i]! * s;
    }
    const scale = zero || quad <= 0 ? 0 : 1 / Math.sqrt(quad);
    for (let p = 0; p < positions; p++) projection[p] = gu[p]! * scale;
  } else {
    for (let p = 0; p < positions; p++) {
      let s = 0;
      for (let k = 0; k < channels; k++) s += x[p * channels + k]! * vec[k]!;
      projection[p] = s;
    }
  }
  let sign = 0;
  for (let p = 0; p < positions; p++) {
    let raw = 0;
    for (let k = 0; k < channels; k++) raw += data[p * channels + k]!;
    sign += projection[p]! * raw;
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

import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, UnknownNameError, type ImageClassifier } from '@lico/core';
import { checkImages, checkPositiveInteger, checkSaliency, resolveTargets } from '../common';
import { gaussianBlur, type BlurOptions } from './blur';
import { saliencyRanks } from './saliency-order';

/** A named insertion/deletion protocol. */
export type InsertionDeletionPreset = 'rise' | 'lico-reproduction';

/** Options of {@link insertionDeletion}. Unset fields come from the preset. */
export interface InsertionDeletionOptions {
  /**
   * `'rise'` (default): the official RISE `CausalMetric` — target = the model's top-1 class on the
   * original image, `stepSize` = image width (224 px at 224², as the RISE demo), `ceil(HW/step)+1`
   * scores including the fully changed image, insertion canvas = official `gkern(11, 5)` blur with
   * zero padding, trapezoid AUC with `1/(n−1)` spacing.
   * `'lico-reproduction'` (lico-fact, used for LICO's tables): target = the given labels (required),
   * 10 pixels per step, `floor(HW/10)+1` scores (the last image is not fully changed), blur =
   * torchvision `GaussianBlur(9, σ=5)` (reflect padding), trapezoid AUC with `dx = 1/n`.
   */
  readonly preset?: InsertionDeletionPreset;
  /** Target class per image (default: the predicted class; required by `'lico-reproduction'`). */
  readonly targets?: readonly number[];
  /** Pixels changed per step. */
  readonly stepSize?: number;
  /** Which curves to compute (default `'both'`). */
  readonly mode?: 'insertion' | 'deletion' | 'both';
  /** Value deleted pixels take, in the images' (normalised) space (default 0). */
  readonly baseline?: number;
  /** Blur of the insertion start canvas; `false` starts insertion from `baseline` instead. */
  readonly blur?: BlurOptions | false;
  /** Canvases per forward pass (default 64). */
  readonly batchSize?: number;
  /** Score on the curve: the target's softmax probability (default) or its logit. */
  readonly score?: 'probability' | 'logit';
}

/** One metric's result. */
export interface CausalCurves {
  /** Area under each image's curve. */
  readonly auc: number[];
  /** Mean AUC over the batch. */
  readonly meanAuc: number;
  /** Each image's scores, one per point. */
  readonly curves: number[][];
  /** Fraction of pixels changed at each point. */
  readonly fractions: number[];
}

/** The result of {@link insertionDeletion}, with the protocol that was applied. */
export interface InsertionDeletionResult {
  readonly insertion?: CausalCurves;
  readonly deletion?: CausalCurves;
  readonly protocol: {
    readonly preset: InsertionDeletionPreset;
    readonly stepSize: number;
    readonly numPoints: number;
    readonly targets: number[];
    readonly baseline: number;
    readonly blur: BlurOptions | false;
    readonly score: 'probability' | 'logit';
    readonly aucSpacing: '1/(n-1)' | '1/n';
  };
}

const PRESETS: readonly InsertionDeletionPreset[] = ['rise', 'lico-reproduction'];

/** The official RISE insertion blur: `gkern(klen=11, nsig=5)` applied with zero padding. */
export const RISE_BLUR: BlurOptions = { sigma: 5, kernel: 11, padding: 'zero', weights: 'scipy-dirac' };
/** The LICO reproduction's insertion blur: torchvision `GaussianBlur(kernel_size=9, sigma=5)`. */
export const LICO_REPRODUCTION_BLUR: BlurOptions = { sigma: 5, kernel: 9, padding: 'reflect', weights: 'sampled' };

/** Trapezoid AUC of one curve with uniform spacing `dx`. */
export function trapezoidAuc(curve: readonly number[], dx: number): number {
  let s = 0;
  for (let i = 0; i + 1 < curve.length; i++) s += (curve[i]! + curve[i + 1]!) / 2;
  return s * dx;
}

/**
 * Insertion and deletion (Petsiuk et al. 2018): pixels are changed in descending saliency order,
 * `stepSize` at a time, from a start canvas to a finish canvas, scoring the target class after
 * every step. Deletion: image → `baseline` (0 = the dataset mean in normalised space). Insertion:
 * blurred image → image. Higher insertion and lower deletion AUC mean a more faithful map.
 * `images` are what the model takes (already normalised); `saliency` is `[N,H,W]`.
 * Each distinct canvas is scored once, `batchSize` per forward pass over both curves and all images:
 * deletion's first and insertion's last point show the image itself (scored by the forward pass
 * that finds the top-1 targets when none are given), and every image's fully deleted canvas is the
 * same constant image.
 */
export async function insertionDeletion(
  model: ImageClassifier,
  images: tf.Tensor4D,
  saliency: tf.Tensor3D,
  options: InsertionDeletionOptions = {},
): Promise<InsertionDeletionResult> {
  checkImages(model, images);
  checkSaliency(saliency, images);
  const preset = options.preset ?? 'rise';
  if (!PRESETS.includes(preset)) throw new UnknownNameError('insertion/deletion preset', preset, PRESETS);
  const lico = preset === 'lico-reproduction';
  if (lico && options.targets === undefined) throw new ConfigError("preset 'lico-reproduction' scores the ground-truth class: pass targets (the labels).");
  const mode = options.mode ?? 'both';
  if (!['insertion', 'deletion', 'both'].includes(mode)) throw new UnknownNameError('insertion/deletion mode', mode, ['insertion', 'deletion', 'both']);
  const score = options.score ?? 'probability';
  if (score !== 'probability' && score !== 'logit') throw new UnknownNameError('score', score, ['probability', 'logit']);
  const [n, height, width] = images.shape;
  const pixels = height * width;
  const stepSize = options.stepSize ?? (lico ? 10 : width);
  checkPositiveInteger(stepSize, 'stepSize');
  checkPositiveInteger(options.batchSize, 'batchSize');
  const batchSize = options.batchSize ?? 64;
  const baseline = options.baseline ?? 0;
  if (!Number.isFinite(baseline)) throw new ConfigError(`baseline must be finite, got ${baseline}.`);
  const blur = options.blur ?? (lico ? LICO_REPRODUCTION_BLUR : RISE_BLUR);
  const numPoints = lico ? Math.floor(pixels / stepSize) + 1 : Math.ceil(pixels / stepSize) + 1;
  const salData = (await saliency.data()) as Float32Array;
  const ranks = new Int32Array(n * pixels);
  for (let i = 0; i < n; i++) ranks.set(saliencyRanks(salData.subarray(i * pixels, (i + 1) * pixels)), i * pixels);
  const fractions = Array.from({ length: numPoints }, (_, j) => Math.min(j * stepSize, pixels) / pixels);
  const dx = lico ? 1 / numPoints : 1 / (numPoints - 1);
  const channels = images.shape[3];
  const size = pixels * channels;
  const imageData = (await images.data()) as Float32Array;

  // Each canvas's scores (all classes) by what it shows: the same image is scored once, however
  // many curve points show it (deletion's first and insertion's last point are the image itself,
  // every image's last deletion point the same all-baseline canvas).
  const known = new Map<string, Float32Array>();
  const scoresOf = (logits: tf.Tensor2D): tf.Tensor2D => (score === 'probability' ? tf.softmax(logits) : logits);
  let targets: number[];
  if (options.targets !== undefined) targets = await resolveTargets(model, images, options.targets);
  else {
    // The top-1 classes come from the images' own forward pass, whose scores are the images' points.
    const [values, top] = tf.tidy(() => {
      const logits = model.forward(images, { training: false }).logits;
      return [scoresOf(logits), tf.argMax(logits, 1)];
    });
    const [data, classes] = [(await values.data()) as Float32Array, values.shape[1]];
    targets = Array.from(await top.data());
    tf.dispose([values, top]);
    for (let i = 0; i < n; i++) known.set(`image:${i}`, data.subarray(i * classes, (i + 1) * classes));
  }

  /** Where a curve's start or finish comes from: the images, their blur, or a constant. */
  interface Source {
    readonly key: string;
    readonly data: Float32Array | number;
  }
  const imageSource: Source = { key: 'image', data: imageData };
  const constant = (value: number): Source => ({ key: `constant:${value}`, data: value });
  interface Curve {
    readonly start: Source;
    readonly finish: Source;
  }
  const curves: Curve[] = [];
  let blurred: tf.Tensor4D | undefined;
  try {
    if (mode !== 'insertion') curves.push({ start: imageSource, finish: constant(baseline) });
    if (mode !== 'deletion') {
      if (blur === false) curves.push({ start: constant(baseline), finish: imageSource });
      else {
        blurred = gaussianBlur(images, blur);
        curves.push({ start: { key: 'blur', data: (await blurred.data()) as Float32Array }, finish: imageSource });
      }
    }
  } finally {
    blurred?.dispose();
  }
  const sourceKey = (s: Source, i: number): string => (typeof s.data === 'number' ? s.key : `${s.key}:${i}`);
  const threshold = (j: number): number => Math.min(j * stepSize, pixels);
  const keyOf = (c: number, i: number, j: number): string => {
    const t = threshold(j);
    if (t === 0) return sourceKey(curves[c]!.start, i);
    if (t === pixels) return sourceKey(curves[c]!.finish, i);
    return `curve:${c}:${i}:${j}`;
  };
  /** Writes source `s` of image i into `out`, or `s`'s values at the `count` top-ranked pixels. */
  const fill = (out: Float32Array, s: Source, i: number, rank?: Int32Array, count = 0): void => {
    const d = s.data;
    if (rank === undefined) {
      if (typeof d === 'number') out.fill(d);
      else out.set(d.subarray(i * size, (i + 1) * size));
      return;
    }
    const from = typeof d === 'number' ? undefined : d.subarray(i * size, (i + 1) * size);
    for (let p = 0; p < pixels; p++) {
      if (rank[p]! >= count) continue;
      for (let ch = p * channels; ch < (p + 1) * channels; ch++) out[ch] = from ? from[ch]! : (d as number);
    }
  };

  // The distinct canvases in curve, image, point order, scored `batchSize` per forward pass.
  const pending: { key: string; c: number; i: number; j: number }[] = [];
  const queued = new Set<string>();
  for (let c = 0; c < curves.length; c++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < numPoints; j++) {
        const key = keyOf(c, i, j);
        if (known.has(key) || queued.has(key)) continue;
        queued.add(key);
        pending.push({ key, c, i, j });
      }
    }
  }
  for (let b0 = 0; b0 < pending.length; b0 += batchSize) {
    const batch = pending.slice(b0, b0 + batchSize);
    // The canvases in one pass over the pixels (stock gather/compare/select ops cost ~10 % of the
    // forwards): a pixel among the first `threshold` by rank takes the finish value, the others the
    // start value, copied as the official RISE code assigns them.
    const canvases = new Float32Array(batch.length * size);
    batch.forEach(({ c, i, j }, q) => {
      const out = canvases.subarray(q * size, (q + 1) * size);
      const t = threshold(j);
      const curve = curves[c]!;
      fill(out, t === pixels ? curve.finish : curve.start, i);
      if (t > 0 && t < pixels) fill(out, curve.finish, i, ranks.subarray(i * pixels, (i + 1) * pixels), t);
    });
    const values = tf.tidy(() => scoresOf(model.forward(tf.tensor4d(canvases, [batch.length, height, width, channels]), { training: false }).logits));
    const [data, classes] = [(await values.data()) as Float32Array, values.shape[1]];
    values.dispose();
    batch.forEach(({ key }, q) => known.set(key, data.subarray(q * classes, (q + 1) * classes)));
  }

  const results = curves.map((_curve, c): CausalCurves => {
    const scores = Array.from({ length: n }, (_image, i) => Array.from({ length: numPoints }, (_point, j) => known.get(keyOf(c, i, j))![targets[i]!]!));
    const auc = scores.map((curve) => trapezoidAuc(curve, dx));
    return { auc, meanAuc: auc.reduce((a, b) => a + b, 0) / n, curves: scores, fractions };
  });
  const deletion = mode !== 'insertion' ? results[0] : undefined;
  const insertion = mode !== 'deletion' ? results[results.length - 1] : undefined;
  return {
    ...(insertion ? { insertion } : {}),
    ...(deletion ? { deletion } : {}),
    protocol: { preset, stepSize, numPoints, targets, baseline, blur, score, aucSpacing: lico ? '1/n' : '1/(n-1)' },
  };
}

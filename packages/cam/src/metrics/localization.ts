import type * as tf from '@tensorflow/tfjs-core';
import { assertFinite, assertRank, ConfigError, formatShape, ShapeError } from '@lico/core';

function checkPair(saliency: tf.Tensor3D, masks: tf.Tensor3D): void {
  assertRank(saliency, 3, 'saliency');
  assertRank(masks, 3, 'masks');
  if (saliency.shape.some((d, i) => d !== masks.shape[i])) {
    throw new ShapeError(`masks must have the shape of saliency ${formatShape(saliency.shape)}, got ${formatShape(masks.shape)}.`);
  }
  assertFinite(saliency, 'saliency');
  assertFinite(masks, 'masks');
}

/** Options of {@link pointingGame}. */
export interface PointingGameOptions {
  /** A hit may lie this many pixels (Chebyshev distance) outside the mask (default 0; Zhang et al. used 15 at 224²). */
  readonly tolerance?: number;
}

/** The result of {@link pointingGame}. */
export interface PointingGameResult {
  /** Per image: a maximum of the saliency lies in the mask; `null` when the mask is empty. */
  readonly hits: (boolean | null)[];
  /** Hits over images with a non-empty mask (NaN if there are none). */
  readonly accuracy: number;
}

/**
 * Pointing game (Zhang et al. 2016; Quantus' form): a hit when any location of maximal saliency lies
 * inside the ground-truth mask (mask value > 0), optionally within `tolerance` pixels of it.
 */
export async function pointingGame(saliency: tf.Tensor3D, masks: tf.Tensor3D, options: PointingGameOptions = {}): Promise<PointingGameResult> {
  checkPair(saliency, masks);
  const tolerance = options.tolerance ?? 0;
  if (!Number.isInteger(tolerance) || tolerance < 0) throw new ConfigError(`tolerance must be a non-negative integer, got ${tolerance}.`);
  const [n, h, w] = saliency.shape;
  const s = await saliency.data();
  const m = await masks.data();
  const hits: (boolean | null)[] = [];
  for (let i = 0; i < n; i++) {
    const off = i * h * w;
    let empty = true;
    let max = -Infinity;
    for (let p = 0; p < h * w; p++) {
      if (m[off + p]! > 0) empty = false;
      max = Math.max(max, s[off + p]!);
    }
    if (empty) {
      hits.push(null);
      continue;
    }
    let hit = false;
    for (let p = 0; p < h * w && !hit; p++) {
      if (s[off + p] !== max) continue;
      const y = Math.floor(p / w);
      const x = p % w;
      for (let yy = Math.max(0, y - tolerance); yy <= Math.min(h - 1, y + tolerance) && !hit; yy++) {
        for (let xx = Math.max(0, x - tolerance); xx <= Math.min(w - 1, x + tolerance); xx++) {
          if (m[off + yy * w + xx]! > 0) {
            hit = true;
            break;
          }
        }
      }
    }
    hits.push(hit);
  }
  const scored = hits.filter((v) => v !== null);
  return { hits, accuracy: scored.length === 0 ? Number.NaN : scored.filter(Boolean).length / scored.length };
}

/** The result of {@link energyInMask}. */
export interface EnergyInMaskResult {
  /** Per image `Σ saliency·mask / Σ saliency` (NaN when the saliency sums to 0). */
  readonly energy: number[];
  /** Mean over images with a defined energy. */
  readonly mean: number;
}

/**
 * Energy inside the mask (the "energy-based pointing game" of the Score-CAM paper): the share of the
 * saliency's total mass that falls inside the ground-truth mask (mask values weigh, so a binary
 * mask counts pixels in or out).
 */
export async function energyInMask(saliency: tf.Tensor3D, masks: tf.Tensor3D): Promise<EnergyInMaskResult> {
  checkPair(saliency, masks);
  const [n, h, w] = saliency.shape;
  const s = await saliency.data();
  const m = await masks.data();
  const energy: number[] = [];
  for (let i = 0; i < n; i++) {
    let inside = 0;
    let total = 0;
    for (let p = i * h * w; p < (i + 1) * h * w; p++) {
      inside += s[p]! * m[p]!;
      total += s[p]!;
    }
    energy.push(total === 0 ? Number.NaN : inside / total);
  }
  const defined = energy.filter((e) => !Number.isNaN(e));
  return { energy, mean: defined.length === 0 ? Number.NaN : defined.reduce((a, b) => a + b, 0) / defined.length };
}

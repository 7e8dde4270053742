import { ConfigError } from '@lico/core';
import { createDataset, type LicoDataset } from './dataset';
import { maskBox, withLocalisation, type Box, type LocalisationDataset } from './localisation';
import { derivedRng } from './seeds';
import { bilinearResample } from './bilinear';

/** Options of {@link createLocalisationBenchmark}. */
export interface LocalisationBenchmarkOptions {
  /** Where objects (and distractor patches) come from, e.g. a Fashion-MNIST dataset. */
  readonly source: LicoDataset;
  /** Side of the square canvas (default 64). */
  readonly canvasSize?: number;
  /** Number of images (any size: each is generated on the fly from (seed, index)). */
  readonly count: number;
  readonly seed: number;
  /** Object side as a fraction of the canvas side, drawn uniformly in `[min,max]` (default [0.35, 0.6]). */
  readonly scale?: readonly [number, number];
  /** Distractor patches per image: random crops of other source images (default 4). */
  readonly distractors?: number;
  /** Standard deviation of Gaussian pixel noise in [0,1] units (default 0.05). */
  readonly noise?: number;
  /** A resized object pixel brighter than this (0..255, max over channels) belongs to the mask (default 25). */
  readonly maskThreshold?: number;
}

/** One generated sample. */
export interface LocalisationSample {
  /** uint8 HWC canvas. */
  readonly image: Uint8Array;
  /** H×W, 1 = object. */
  readonly mask: Uint8Array;
  readonly box: Box;
  readonly label: number;
  /** Index of the object's image in the source. */
  readonly sourceIndex: number;
}

const TAG = 0x10ca1;

/** Bilinear resize (half-pixel centres) of a uint8 HWC image to `dh×dw`, as floats. */
function resize(src: Uint8Array, sh: number, sw: number, c: number, dh: number, dw: number): Float32Array {
  const out = new Float32Array(dh * dw * c);
  bilinearResample((p, ch) => src[p * c + ch]!, sh, sw, c, dh, dw, (i, v) => {
    out[i] = v;
  });
  return out;
}

/**
 * A localisation benchmark with ground truth: each image places one source object (e.g. a
 * Fashion-MNIST item) at a random position and scale on a larger canvas cluttered with distractor
 * patches (random crops of other source images) and Gaussian noise; the object's silhouette is the
 * mask. Sample `i` depends only on `(seed, i)`; images are generated on the fly.
 */
export function createLocalisationBenchmark(options: LocalisationBenchmarkOptions): LocalisationDataset & { sample(i: number): LocalisationSample } {
  const { source, count, seed } = options;
  const size = options.canvasSize ?? 64;
  const [minScale, maxScale] = options.scale ?? [0.35, 0.6];
  const distractors = options.distractors ?? 4;
  const noise = options.noise ?? 0.05;
  const threshold = options.maskThreshold ?? 25;
  if (!Number.isInteger(count) || count <= 0) throw new ConfigError(`localisation benchmark: count must be a positive integer, got ${count}.`);
  if (!Number.isInteger(size) || size < 4) throw new ConfigError(`localisation benchmark: canvasSize must be an integer >= 4, got ${size}.`);
  if (!(minScale > 0 && maxScale >= minScale && maxScale <= 1)) throw new ConfigError(`localisation benchmark: scale must satisfy 0 < min <= max <= 1, got [${minScale}, ${maxScale}].`);
  if (!Number.isInteger(distractors) || distractors < 0) throw new ConfigError(`localisation benchmark: distractors must be an integer >= 0, got ${distractors}.`);
  if (!Number.isFinite(noise) || noise < 0) throw new ConfigError(`localisation benchmark: noise must be a finite number >= 0, got ${noise}.`);
  if (!Number.isFinite(seed)) throw new ConfigError(`localisation benchmark: seed must be finite, got ${seed}.`);
  const [sh, sw, c] = source.imageShape;
  const cache = new Map<number, LocalisationSample>();

  const generate = (i: number): LocalisationSample => {
    if (!Number.isInteger(i) || i < 0 || i >= count) throw new ConfigError(`sample index ${i} is outside 0..${count - 1}.`);
    const hit = cache.get(i);
    if (hit) return hit;
    const rng = derivedRng(seed, i, TAG);
    const canvas = new Float32Array(size * size * c);
    const sourceIndex = rng.int(source.size);
    const label = source.label(sourceIndex);
    for (let d = 0; d < distractors; d++) {
      const k = rng.int(source.size);
      const p = Math.max(2, Math.min(sh, sw, Math.floor(size * (0.1 + 0.15 * rng.next()))));
      const cy = rng.int(sh - p + 1);
      const cx = rng.int(sw - p + 1);
      const py = rng.int(size - p + 1);
      const px = rng.int(size - p + 1);
      const img = source.image(k);
      for (let y = 0; y < p; y++) {
        for (let x = 0; x < p; x++) {
          for (let ch = 0; ch < c; ch++) canvas[((py + y) * size + px + x) * c + ch] = img[((cy + y) * sw + cx + x) * c + ch]!;
        }
      }
    }
    const side = Math.max(1, Math.min(size, Math.round(size * (minScale + (maxScale - minScale) * rng.next()))));
    const obj = resize(source.image(sourceIndex), sh, sw, c, side, side);
    const oy = rng.int(size - side + 1);
    const ox = rng.int(size - side + 1);
    const mask = new Uint8Array(size * size);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        let peak = 0;
        for (let ch = 0; ch < c; ch++) peak = Math.max(peak, obj[(y * side + x) * c + ch]!);
        if (peak > threshold) {
          const at = (oy + y) * size + ox + x;
          mask[at] = 1;
          for (let ch = 0; ch < c; ch++) canvas[at * c + ch] = obj[(y * side + x) * c + ch]!;
        }
      }
    }
    let box = maskBox(mask, size, size);
    if (!box) {
      // A blank object: the placement square is the ground truth.
      for (let y = 0; y < side; y++) mask.fill(1, (oy + y) * size + ox, (oy + y) * size + ox + side);
      box = [oy, ox, oy + side, ox + side];
    }
    const image = new Uint8Array(size * size * c);
    const sigma = noise * 255;
    for (let k = 0; k < image.length; k++) {
      const v = canvas[k]! + (sigma > 0 ? sigma * rng.normal() : 0);
      image[k] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
    const sample: LocalisationSample = { image, mask, box, label, sourceIndex };
    if (cache.size >= 512) cache.delete(cache.keys().next().value!);
    cache.set(i, sample);
    return sample;
  };

  const base = createDataset({
    name: `localisation(${source.name},${size}px,seed${seed})`,
    source: {
      size: count,
      imageShape: [size, size, c],
      pixels: (i) => ({ data: generate(i).image, offset: 0 }),
      label: (i) => generate(i).label,
    },
    classNames: source.classNames,
    normalization: source.normalization,
  });
  return withLocalisation(base, (i) => generate(i).mask, (i) => generate(i).box, { sample: generate });
}

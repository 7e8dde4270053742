import { ConfigError, type Rng } from '@lico/core';

/** Training augmentation of a dataset; every random choice comes from a seeded generator. */
export interface Augmentation {
  /** Random crop after padding each side by `padding` pixels (0 or absent: no crop). */
  readonly cropPadding?: number;
  /** How the padding is filled: `'zero'` (black, as torchvision) or `'reflect'` (default `'zero'`). */
  readonly padMode?: 'zero' | 'reflect';
  /** Random horizontal flip with probability 1/2. */
  readonly flip?: boolean;
  /** Standard deviation of Gaussian noise added in normalised space (0 or absent: none). */
  readonly noiseStd?: number;
}

/** Validates an augmentation configuration. */
export function checkAugmentation(a: Augmentation): void {
  const pad = a.cropPadding ?? 0;
  if (!Number.isInteger(pad) || pad < 0) throw new ConfigError(`augmentation.cropPadding must be an integer >= 0, got ${pad}.`);
  if (a.padMode !== undefined && a.padMode !== 'zero' && a.padMode !== 'reflect') {
    throw new ConfigError(`augmentation.padMode must be 'zero' or 'reflect', got '${String(a.padMode)}'.`);
  }
  const noise = a.noiseStd ?? 0;
  if (!Number.isFinite(noise) || noise < 0) throw new ConfigError(`augmentation.noiseStd must be a finite number >= 0, got ${noise}.`);
}

/** Per-sample random choices of one augmented image. */
export interface AugmentParams {
  /** Vertical offset of the crop window relative to the unpadded image, in [-pad, pad]. */
  readonly dy: number;
  /** Horizontal offset, in [-pad, pad]. */
  readonly dx: number;
  readonly flip: boolean;
}

/** Draws the crop offsets and flip of one sample (always three draws, so streams stay aligned). */
export function drawAugmentParams(a: Augmentation, rng: Rng): AugmentParams {
  const pad = a.cropPadding ?? 0;
  const dy = rng.int(2 * pad + 1) - pad;
  const dx = rng.int(2 * pad + 1) - pad;
  const flip = a.flip === true && rng.next() < 0.5;
  return { dy, dx, flip };
}

function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

/**
 * Writes one normalised, augmented image into `out` at `outOffset`: output pixel (y,x) reads
 * source pixel (y+dy, x'+dx) where x' = W-1-x under a flip (flip after crop, as torchvision);
 * pixels outside the source are black (zero padding, normalised) or reflected.
 */
export function writeAugmentedImage(
  src: Uint8Array,
  srcOffset: number,
  h: number,
  w: number,
  c: number,
  lut: Float32Array,
  params: AugmentParams,
  padMode: 'zero' | 'reflect',
  out: Float32Array,
  outOffset: number,
): void {
  const { dy, dx, flip } = params;
  let o = outOffset;
  for (let y = 0; y < h; y++) {
    let sy = y + dy;
    const rowInside = sy >= 0 && sy < h;
    if (!rowInside && padMode === 'reflect') sy = reflectIndex(sy, h);
    for (let x = 0; x < w; x++) {
      let sx = (flip ? w - 1 - x : x) + dx;
      const inside = rowInside && sx >= 0 && sx < w;
      if (inside || padMode === 'reflect') {
        if (sx < 0 || sx >= w) sx = reflectIndex(sx, w);
        const s = srcOffset + (sy * w + sx) * c;
        for (let ch = 0; ch < c; ch++) out[o++] = lut[ch * 256 + src[s + ch]!]!;
      } else {
        for (let ch = 0; ch < c; ch++) out[o++] = lut[ch * 256]!;
      }
    }
  }
}

/** Writes one normalised image without augmentation. */
export function writeImage(src: Uint8Array, srcOffset: number, pixels: number, c: number, lut: Float32Array, out: Float32Array, outOffset: number): void {
  const n = pixels * c;
  if (c === 1) {
    for (let i = 0; i < n; i++) out[outOffset + i] = lut[src[srcOffset + i]!]!;
    return;
  }
  for (let i = 0; i < n; i += c) {
    for (let ch = 0; ch < c; ch++) out[outOffset + i + ch] = lut[ch * 256 + src[srcOffset + i + ch]!]!;
  }
}

/** Adds Gaussian noise of standard deviation `std` to `n` values from `offset`. */
export function addNoise(out: Float32Array, offset: number, n: number, std: number, rng: Rng): void {
  // Box–Muller pairs: two normals per (u, v) draw.
  let i = 0;
  while (i < n) {
    let u = rng.next();
    if (u === 0) u = 1e-12;
    const v = rng.next();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[offset + i++] += r * Math.cos(2 * Math.PI * v);
    if (i < n) out[offset + i++] += r * Math.sin(2 * Math.PI * v);
  }
}

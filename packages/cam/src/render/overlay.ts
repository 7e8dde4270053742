import * as tf from '@tensorflow/tfjs-core';
import { assertFinite, assertRank, ConfigError, formatShape, ShapeError, UnknownNameError } from '@lico/core';
import { colormap, COLORMAPS, type ColormapName } from './colormap';
import { encodePng } from './png';

/** Options of {@link renderOverlay} and {@link renderGrid}. */
export interface OverlayOptions {
  /** Colour map of the heatmap (default `'jet'`). */
  readonly colormap?: ColormapName;
  /** Weight of the heatmap: `out = (1−alpha)·image + alpha·heatmap` (default 0.5). */
  readonly alpha?: number;
  /**
   * Per-channel mean and standard deviation the images were normalised with; the image is shown as
   * `x·std + mean`. Default: the images are already in [0,1]. Values are clamped to [0,1].
   */
  readonly normalization?: { readonly mean: readonly number[]; readonly std: readonly number[] };
}

/** Options of {@link renderGrid}. */
export interface GridOptions extends OverlayOptions {
  /** Cells per row (default: min(N, 8)). */
  readonly columns?: number;
  /** Pixels between cells (default 2, white). */
  readonly padding?: number;
  /** Put the plain image left of each overlay (default false). */
  readonly withImage?: boolean;
}

function checkOptions(options: OverlayOptions, channels: number): void {
  const alpha = options.alpha ?? 0.5;
  if (!Number.isFinite(alpha) || alpha < 0 || alpha > 1) throw new ConfigError(`alpha must be in [0,1], got ${alpha}.`);
  if (options.colormap !== undefined && !COLORMAPS.includes(options.colormap)) throw new UnknownNameError('colormap', options.colormap, COLORMAPS);
  if (channels !== 1 && channels !== 3) throw new ShapeError(`images must have 1 or 3 channels, got ${channels}.`);
  const norm = options.normalization;
  if (norm && (norm.mean.length !== channels || norm.std.length !== channels)) {
    throw new ConfigError(`normalization.mean and .std must have ${channels} entries, got ${norm.mean.length} and ${norm.std.length}.`);
  }
}

/** Blends one image `[H·W·C]` with its saliency `[H·W]` into RGB bytes (3 per pixel) at `out`. */
function blend(image: ArrayLike<number>, saliency: ArrayLike<number>, channels: number, options: OverlayOptions): Uint8Array {
  const pixels = saliency.length;
  const alpha = options.alpha ?? 0.5;
  const name = options.colormap ?? 'jet';
  const norm = options.normalization;
  const out = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const heat = colormap(name, saliency[p]!);
    for (let c = 0; c < 3; c++) {
      const ch = channels === 1 ? 0 : c;
      let v = image[p * channels + ch]!;
      if (norm) v = v * norm.std[ch]! + norm.mean[ch]!;
      v = Math.min(1, Math.max(0, v));
      out[p * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, (1 - alpha) * v + alpha * heat[c]!)));
    }
  }
  return out;
}


/**
 * Renders one heatmap over its image as a PNG: `image` `[H,W,C]` (C = 1 or 3), `saliency` `[H,W]`
 * in [0,1]. Returns the PNG file's bytes.
 */
export async function renderOverlay(image: tf.Tensor3D, saliency: tf.Tensor2D, options: OverlayOptions = {}): Promise<Uint8Array> {
  assertRank(image, 3, 'image');
  assertRank(saliency, 2, 'saliency');
  if (image.shape[0] !== saliency.shape[0] || image.shape[1] !== saliency.shape[1]) {
    throw new ShapeError(`saliency ${formatShape(saliency.shape)} must match the image's size ${formatShape(image.shape)}.`);
  }
  assertFinite(image, 'image');
  assertFinite(saliency, 'saliency');
  const [h, w, c] = image.shape;
  checkOptions(options, c);
  const rgb = blend(await image.data(), await saliency.data(), c, options);
  const data = new Uint8Array(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    data.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
    data[p * 4 + 3] = 255;
  }
  return encodePng(data, w, h, 4);
}

/**
 * Renders a batch as one PNG grid: `images` `[N,H,W,C]`, `saliency` `[N,H,W]`; cells in row-major
 * order, `columns` per row, white padding between them.
 */
export async function renderGrid(images: tf.Tensor4D, saliency: tf.Tensor3D, options: GridOptions = {}): Promise<Uint8Array> {
  assertRank(images, 4, 'images');
  assertRank(saliency, 3, 'saliency');
  const [n, h, w, c] = images.shape;
  if (saliency.shape[0] !== n || saliency.shape[1] !== h || saliency.shape[2] !== w) {
    throw new ShapeError(`saliency must have shape [${n},${h},${w}] to match images ${formatShape(images.shape)}, got ${formatShape(saliency.shape)}.`);
  }
  assertFinite(images, 'images');
  assertFinite(saliency, 'saliency');
  checkOptions(options, c);
  const columns = options.columns ?? Math.min(n, 8);
  const padding = options.padding ?? 2;
  if (!Number.isInteger(columns) || columns <= 0) throw new ConfigError(`columns must be a positive integer, got ${columns}.`);
  if (!Number.isInteger(padding) || padding < 0) throw new ConfigError(`padding must be a non-negative integer, got ${padding}.`);
  const pair = options.withImage === true;
  const cellW = pair ? 2 * w + padding : w;
  const rows = Math.ceil(n / columns);
  const width = columns * cellW + (columns + 1) * padding;
  const height = rows * h + (rows + 1) * padding;
  const data = new Uint8Array(width * height * 4).fill(255);
  const img = await images.data();
  const sal = await saliency.data();
  const put = (rgb: Uint8Array, x0: number, y0: number) => {
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(rgb.subarray((y * w + x) * 3, (y * w + x) * 3 + 3), ((y0 + y) * width + x0 + x) * 4);
  };
  for (let i = 0; i < n; i++) {
    const x0 = padding + (i % columns) * (cellW + padding);
    const y0 = padding + Math.floor(i / columns) * (h + padding);
    const image = img.subarray(i * h * w * c, (i + 1) * h * w * c);
    const map = sal.subarray(i * h * w, (i + 1) * h * w);
    if (pair) put(blend(image, map, c, { ...options, alpha: 0 }), x0, y0);
    put(blend(image, map, c, options), pair ? x0 + w + padding : x0, y0);
  }
  return encodePng(data, width, height, 4);
}


import { readFile } from 'node:fs/promises';
import { FileFormatError, NotFoundError } from '@lico/core';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { bilinearResample } from './bilinear';

/** A decoded image: RGBA, 4 bytes per pixel, row-major. */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

/** The largest image decoded (pixels): 40 megapixels, e.g. 6324×6324; larger headers are refused before any allocation. */
export const MAX_IMAGE_PIXELS = 40_000_000;

/** Decodes PNG (pngjs) or JPEG (jpeg-js) bytes, detected by their magic numbers. */
export function decodeImage(bytes: Uint8Array, file: string): DecodedImage {
  const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (!isPng && !isJpeg) throw new FileFormatError(file, 'not a PNG or JPEG image (unrecognised magic number).');
  if (isPng && bytes.length >= 24) {
    // IHDR comes first: width and height, big-endian, at bytes 16..23.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const w = view.getUint32(16);
    const h = view.getUint32(20);
    if (w * h > MAX_IMAGE_PIXELS) throw new FileFormatError(file, `its PNG header declares ${w}×${h} pixels, more than the limit of ${MAX_IMAGE_PIXELS}; refused before decoding.`);
  }
  try {
    if (isPng) {
      const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6 });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (error) {
    throw new FileFormatError(file, `cannot decode the ${isPng ? 'PNG' : 'JPEG'} image (${(error as Error).message}).`);
  }
}

/** Reads and decodes a PNG or JPEG file. */
export async function readImage(file: string): Promise<DecodedImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${file}: no such file.`);
    throw error;
  }
  return decodeImage(bytes, file);
}

/**
 * Converts RGBA to `channels` (3: RGB; 1: luminance 0.299R + 0.587G + 0.114B, rounded), resized
 * bilinearly (half-pixel centres, as `tf.image.resizeBilinear(..., halfPixelCenters=true)`) to
 * `[height,width]` when that differs. Writes into `out` at `offset`.
 */
export function toChannels(img: DecodedImage, channels: 1 | 3, height: number, width: number, out: Uint8Array, offset: number): void {
  const { rgba } = img;
  const sw = img.width;
  const sh = img.height;
  const pick = (p: number, c: number): number => {
    if (channels === 3) return rgba[p * 4 + c]!;
    return 0.299 * rgba[p * 4]! + 0.587 * rgba[p * 4 + 1]! + 0.114 * rgba[p * 4 + 2]!;
  };
  if (sw === width && sh === height) {
    for (let p = 0; p < width * height; p++) for (let c = 0; c < channels; c++) out[offset + p * channels + c] = Math.round(pick(p, c));
    return;
  }
  bilinearResample(pick, sh, sw, channels, height, width, (i, v) => {
    out[offset + i] = Math.round(v);
  });
}

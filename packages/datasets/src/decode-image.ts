import { readFile } from 'node:fs/promises';
import { FileFormatError, NotFoundError } from '@lico/core';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';

/** A decoded image: RGBA, 4 bytes per pixel, row-major. */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

/** Decodes PNG (pngjs) or JPEG (jpeg-js) bytes, detected by their magic numbers. */
export function decodeImage(bytes: Uint8Array, file: string): DecodedImage {
  const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (!isPng && !isJpeg) throw new FileFormatError(file, 'not a PNG or JPEG image (unrecognised magic number).');
  try {
    if (isPng) {
      const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
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
  const sy = sh / height;
  const sx = sw / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), sh - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), sw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, sw - 1);
      const wx = fx - x0;
      for (let c = 0; c < channels; c++) {
        const top = pick(y0 * sw + x0, c) * (1 - wx) + pick(y0 * sw + x1, c) * wx;
        const bottom = pick(y1 * sw + x0, c) * (1 - wx) + pick(y1 * sw + x1, c) * wx;
        out[offset + (y * width + x) * channels + c] = Math.round(top * (1 - wy) + bottom * wy);
      }
    }
  }
}

import { FileFormatError } from '@lico/core';
import { zlibDeflate, zlibInflate } from '#zlib';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const CHANNELS_OF_TYPE: Record<number, 1 | 3 | 4> = { 0: 1, 2: 3, 6: 4 };

/**
 * Encodes `pixels` (row-major, `channels` bytes per pixel: 1 grey, 3 RGB or 4 RGBA) as an 8-bit,
 * non-interlaced PNG. Platform-free (zlib-compressed in Node, stored blocks in a browser).
 *
 * ```ts
 * const png = encodePng(new Uint8Array([255, 0, 0, 255]), 1, 1, 4); // one red pixel
 * ```
 */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 | 4 = 4): Uint8Array {
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new RangeError(`encodePng: width and height must be positive integers, got ${width}×${height}`);
  }
  if (pixels.length !== width * height * channels) {
    throw new RangeError(`encodePng: expected ${width}×${height}×${channels} = ${width * height * channels} bytes, got ${pixels.length}`);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8;
  header[9] = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height); // filter type 0 (none) on every row
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return concat([new Uint8Array(SIGNATURE), chunk('IHDR', header), chunk('IDAT', zlibDeflate(raw)), chunk('IEND', new Uint8Array(0))]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decodes an 8-bit, non-interlaced grey, RGB or RGBA PNG to RGBA bytes (for checks and tests).
 * Other PNG kinds are a {@link FileFormatError} naming what is unsupported.
 */
export function decodePng(bytes: Uint8Array): { width: number; height: number; data: Uint8Array } {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new FileFormatError('<png>', 'is not a PNG (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 8;
  let width = 0;
  let height = 0;
  let channels: 1 | 3 | 4 = 4;
  const idat: Uint8Array[] = [];
  while (o + 8 <= bytes.length) {
    const len = view.getUint32(o);
    const type = String.fromCharCode(...bytes.subarray(o + 4, o + 8));
    const data = bytes.subarray(o + 8, o + 8 + len);
    if (type === 'IHDR') {
      width = view.getUint32(o + 8);
      height = view.getUint32(o + 12);
      const depth = data[8];
      const kind = CHANNELS_OF_TYPE[data[9]!];
      if (depth !== 8 || !kind || data[12] !== 0) throw new FileFormatError('<png>', `bit depth ${depth}, colour type ${data[9]}, interlace ${data[12]}: only 8-bit grey/RGB/RGBA without interlacing is decoded`);
      channels = kind;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    o += 12 + len;
  }
  const raw = zlibInflate(concat(idat));
  const stride = width * channels;
  if (raw.length < (stride + 1) * height) throw new FileFormatError('<png>', `image data holds ${raw.length} bytes, ${(stride + 1) * height} expected`);
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? px[y * stride + x - channels]! : 0;
      const b = y > 0 ? px[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? px[(y - 1) * stride + x - channels]! : 0;
      const predictor = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? paeth(a, b, c) : -1;
      if (predictor < 0) throw new FileFormatError('<png>', `row ${y} has filter type ${filter}`);
      px[y * stride + x] = (row[x]! + predictor) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let ch = 0; ch < 3; ch++) rgba[p * 4 + ch] = px[p * channels + (channels === 1 ? 0 : ch)]!;
    rgba[p * 4 + 3] = channels === 4 ? px[p * 4 + 3]! : 255;
  }
  return { width, height, data: rgba };
}

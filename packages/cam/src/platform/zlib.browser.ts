/** Browser zlib for PNG (see `./zlib`): stored deflate blocks, and an inflate for stored blocks only. */
import { FileFormatError } from '@lico/core';

const MAX_STORED = 65535;

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + data[i]!) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** A zlib stream of `data` in stored (uncompressed) deflate blocks. */
export function zlibDeflate(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / MAX_STORED));
  const out = new Uint8Array(2 + blocks * 5 + data.length + 4);
  out[0] = 0x78;
  out[1] = 0x01;
  let o = 2;
  for (let k = 0; k < blocks; k++) {
    const part = data.subarray(k * MAX_STORED, Math.min(data.length, (k + 1) * MAX_STORED));
    out[o++] = k === blocks - 1 ? 1 : 0;
    out[o++] = part.length & 0xff;
    out[o++] = part.length >>> 8;
    out[o++] = ~part.length & 0xff;
    out[o++] = (~part.length >>> 8) & 0xff;
    out.set(part, o);
    o += part.length;
  }
  new DataView(out.buffer).setUint32(o, adler32(data));
  return out;
}

/** The bytes of a zlib stream made of stored blocks (as {@link zlibDeflate} writes); compressed blocks are refused. */
export function zlibInflate(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let o = 2;
  for (;;) {
    const head = data[o++];
    if (head === undefined || (head & 0b110) !== 0) {
      throw new FileFormatError('<png>', 'holds compressed deflate blocks, which the browser build of @lico/cam does not inflate (only its own stored-block PNGs); decode it in Node or with the browser (createImageBitmap)');
    }
    const len = data[o]! | (data[o + 1]! << 8);
    o += 4;
    parts.push(data.subarray(o, o + len));
    o += len;
    if (head & 1) break;
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let w = 0;
  for (const p of parts) {
    out.set(p, w);
    w += p.length;
  }
  return out;
}

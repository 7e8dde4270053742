/**
 * zlib streams for PNG: Node's `node:zlib` (compressed). The package's `browser` build resolves
 * `#zlib` to `zlib.browser.ts` instead (stored, uncompressed blocks: valid PNGs, larger files).
 */
import { deflateSync as nodeDeflate, inflateSync as nodeInflate } from 'node:zlib';

/** A zlib stream of `data`. */
export function zlibDeflate(data: Uint8Array): Uint8Array {
  return new Uint8Array(nodeDeflate(data));
}

/** The bytes of a zlib stream. */
export function zlibInflate(data: Uint8Array): Uint8Array {
  return new Uint8Array(nodeInflate(data));
}

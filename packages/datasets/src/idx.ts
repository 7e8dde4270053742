import { FileFormatError } from '@lico/core';
import { readMaybeGzip } from './read-file';

/** A parsed IDX file (MNIST format) of unsigned bytes. */
export interface IdxArray {
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/**
 * Parses IDX bytes (magic `0x00 0x00 0x08 rank`, big-endian int32 dims, uint8 data). `file` names
 * the source in errors.
 */
export function parseIdx(bytes: Uint8Array, file: string, expectedRank?: number): IdxArray {
  if (bytes.length < 4) throw new FileFormatError(file, `truncated: ${bytes.length} bytes, shorter than the 4-byte IDX magic number.`);
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    throw new FileFormatError(file, `wrong magic number 0x${hex}: expected an IDX file of unsigned bytes (0x000008__).`);
  }
  const rank = bytes[3]!;
  if (expectedRank !== undefined && rank !== expectedRank) {
    throw new FileFormatError(file, `IDX rank ${rank}, expected ${expectedRank} (magic 0x0000080${rank}).`);
  }
  const header = 4 + 4 * rank;
  if (bytes.length < header) throw new FileFormatError(file, `truncated: ${bytes.length} bytes, shorter than the ${header}-byte IDX header.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  const have = bytes.length - header;
  if (have < count) throw new FileFormatError(file, `truncated: the header declares [${shape.join(',')}] = ${count} bytes of data but only ${have} are present.`);
  if (have > count) throw new FileFormatError(file, `${have - count} unexpected trailing bytes after [${shape.join(',')}] data.`);
  return { shape, data: bytes.subarray(header) };
}

/** Reads an IDX file, gzip-compressed or raw. */
export async function readIdx(file: string, expectedRank?: number): Promise<IdxArray> {
  return parseIdx(await readMaybeGzip(file), file, expectedRank);
}

/** Encodes an IDX file of unsigned bytes (for tests and tools). */
export function encodeIdx(shape: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  out[2] = 0x08;
  out[3] = shape.length;
  const view = new DataView(out.buffer);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}

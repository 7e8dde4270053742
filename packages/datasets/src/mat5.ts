import { inflateSync } from 'node:zlib';
import { FileFormatError } from '@lico/core';

/** One numeric array variable of a MATLAB v5 file (column-major data, as stored). */
export interface MatArray {
  readonly name: string;
  /** MATLAB class, e.g. `'uint8'`, `'double'`. */
  readonly className: string;
  /** Dimensions, e.g. `[32,32,3,N]`. */
  readonly dims: readonly number[];
  /** The real part, column-major, in the stored element type. */
  readonly data: Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;
}

const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16 } as const;
const CLASS_NAMES: Record<number, string> = { 1: 'cell', 2: 'struct', 3: 'object', 4: 'char', 5: 'sparse', 6: 'double', 7: 'single', 8: 'int8', 9: 'uint8', 10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64' };
const ELEMENT_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1 };

interface Element {
  readonly type: number;
  readonly bytes: Uint8Array;
  /** Offset just after the element (padded). */
  readonly next: number;
}

function readElement(buf: Uint8Array, view: DataView, pos: number, le: boolean, file: string): Element {
  if (pos + 8 > buf.length) throw new FileFormatError(file, `truncated: a data element tag at byte ${pos} runs past the end (${buf.length} bytes).`);
  const first = view.getUint32(pos, le);
  if (first >>> 16 !== 0) {
    // Small data element: type and size in one word, data in the next 4 bytes.
    const type = first & 0xffff;
    const n = first >>> 16;
    if (n > 4) throw new FileFormatError(file, `bad small data element at byte ${pos} (size ${n} > 4).`);
    return { type, bytes: buf.subarray(pos + 4, pos + 4 + n), next: pos + 8 };
  }
  const n = view.getUint32(pos + 4, le);
  const start = pos + 8;
  if (start + n > buf.length) throw new FileFormatError(file, `truncated: a data element at byte ${pos} declares ${n} bytes but only ${buf.length - start} remain.`);
  const padded = first === MI.COMPRESSED ? n : Math.ceil(n / 8) * 8;
  return { type: first, bytes: buf.subarray(start, start + n), next: Math.min(start + padded, buf.length) };
}

function typedArray(el: Element, le: boolean, file: string, what: string): MatArray['data'] {
  const size = ELEMENT_SIZE[el.type];
  if (size === undefined || el.type === MI.INT64 || el.type === MI.UINT64) throw new FileFormatError(file, `${what}: unsupported data type ${el.type}.`);
  const n = el.bytes.length / size;
  if (!Number.isInteger(n)) throw new FileFormatError(file, `${what}: ${el.bytes.length} bytes is not a multiple of the element size ${size}.`);
  const copy = new Uint8Array(el.bytes); // a real copy (Buffer#slice would be a view)
  const v = new DataView(copy.buffer);
  switch (el.type) {
    case MI.INT8:
      return new Int8Array(copy.buffer);
    case MI.UINT8:
    case MI.UTF8:
      return copy;
    default: {
      const make = { 3: Int16Array, 4: Uint16Array, 5: Int32Array, 6: Uint32Array, 7: Float32Array, 9: Float64Array }[el.type as 3 | 4 | 5 | 6 | 7 | 9];
      const out = new make(n);
      const get = {
        3: (o: number) => v.getInt16(o, le),
        4: (o: number) => v.getUint16(o, le),
        5: (o: number) => v.getInt32(o, le),
        6: (o: number) => v.getUint32(o, le),
        7: (o: number) => v.getFloat32(o, le),
        9: (o: number) => v.getFloat64(o, le),
      }[el.type as 3 | 4 | 5 | 6 | 7 | 9];
      for (let i = 0; i < n; i++) out[i] = get(i * size);
      return out;
    }
  }
}

function parseMatrix(bytes: Uint8Array, le: boolean, file: string): MatArray | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = readElement(bytes, view, 0, le, file);
  const flagsView = new DataView(flags.bytes.buffer, flags.bytes.byteOffset, flags.bytes.byteLength);
  if (flags.bytes.length < 8) throw new FileFormatError(file, 'truncated array flags in a matrix element.');
  const cls = flagsView.getUint32(0, le) & 0xff;
  const complex = (flagsView.getUint32(0, le) & 0x800) !== 0;
  const dimsEl = readElement(bytes, view, flags.next, le, file);
  const dims = Array.from(typedArray(dimsEl, le, file, 'dimensions'));
  const nameEl = readElement(bytes, view, dimsEl.next, le, file);
  const name = Buffer.from(nameEl.bytes).toString('latin1');
  const className = CLASS_NAMES[cls] ?? `class ${cls}`;
  if (cls < 6 || cls > 13) return { name, className, dims, data: new Uint8Array(0) };
  const real = readElement(bytes, view, nameEl.next, le, file);
  const data = typedArray(real, le, file, `variable '${name}'`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new FileFormatError(file, `variable '${name}' has dimensions [${dims.join(',')}] = ${count} values but holds ${data.length}.`);
  if (complex) throw new FileFormatError(file, `variable '${name}' is complex; only real arrays are supported.`);
  return { name, className, dims, data };
}

/**
 * Reads the numeric array variables of a MATLAB level-5 MAT file (uncompressed or zlib-compressed
 * elements, either byte order). Cells, structs and other classes are listed with empty data.
 * MAT v7.3 (HDF5) files are rejected with a clear message.
 */
export function parseMat5(buf: Uint8Array, file: string): Map<string, MatArray> {
  if (buf.length < 128) throw new FileFormatError(file, `truncated: ${buf.length} bytes, shorter than the 128-byte MAT-file header.`);
  const head = Buffer.from(buf.subarray(0, 116)).toString('latin1');
  if (head.startsWith('MATLAB 7.3')) throw new FileFormatError(file, 'MAT v7.3 (HDF5) files are not supported; re-save with -v7 or use the official SVHN .mat files (v5).');
  const endian = String.fromCharCode(buf[126]!, buf[127]!);
  if (!head.startsWith('MATLAB 5.0 MAT-file') && endian !== 'IM' && endian !== 'MI') {
    throw new FileFormatError(file, "not a MATLAB 5 MAT-file (no 'MATLAB 5.0 MAT-file' header or endian indicator).");
  }
  if (endian !== 'IM' && endian !== 'MI') throw new FileFormatError(file, `bad endian indicator '${endian}' in the MAT-file header.`);
  const le = endian === 'IM';
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Map<string, MatArray>();
  let pos = 128;
  while (pos < buf.length) {
    let el = readElement(buf, view, pos, le, file);
    pos = el.next;
    if (el.type === MI.COMPRESSED) {
      let inflated: Uint8Array;
      try {
        inflated = inflateSync(el.bytes);
      } catch (error) {
        throw new FileFormatError(file, `corrupt compressed element (${(error as Error).message}).`);
      }
      el = readElement(inflated, new DataView(inflated.buffer, inflated.byteOffset, inflated.byteLength), 0, le, file);
    }
    if (el.type !== MI.MATRIX) continue;
    const m = parseMatrix(el.bytes, le, file);
    if (m) out.set(m.name, m);
  }
  return out;
}

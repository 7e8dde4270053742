import { fs } from '#node-builtins';
import { FileFormatError } from '../errors';
import { writeFileAtomic } from './atomic-write';

/**
 * Reading and writing `.safetensors` files (https://huggingface.co/docs/safetensors), treated as
 * untrusted input: the header is checked in full (length within the file, JSON, dtypes, shapes
 * against byte sizes, offsets in range, no overlaps or holes, expected keys) before any tensor
 * data is read, and every problem is a {@link FileFormatError} naming the file and the key.
 */

/** Dtypes understood here, with their byte sizes. */
export const SAFETENSORS_DTYPES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 } as const;

/** A safetensors dtype name. */
export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPES;

/** One tensor's entry in the header. */
export interface SafetensorsEntry {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** Byte offsets `[begin, end)` relative to the start of the data section. */
  readonly dataOffsets: readonly [number, number];
}

/** A validated header. */
export interface SafetensorsHeader {
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Readonly<Record<string, string>>;
  /** Byte offset of the data section in the file (8 + header length). */
  readonly dataStart: number;
}

/** A tensor read from a file; floating dtypes are widened to float32, integer ones to int32. */
export interface LoadedTensor {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/** Options of {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /** Keys that must all be present. */
  readonly expectedKeys?: readonly string[];
  /** With `expectedKeys`: refuse keys not in the list (default true). */
  readonly rejectUnexpected?: boolean;
  /** Read only the keys for which this returns true (others are still validated). */
  readonly select?: (key: string) => boolean;
}

/** Largest header accepted (100 MB, as the reference implementation). */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

/** Validates a header given its raw JSON bytes and the total file size. */
export function parseSafetensorsHeader(file: string, headerBytes: Uint8Array, fileSize: number): SafetensorsHeader {
  const dataStart = 8 + headerBytes.length;
  const dataSize = fileSize - dataStart;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new FileFormatError(file, `safetensors header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new FileFormatError(file, 'safetensors header must be a JSON object');
  }
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new FileFormatError(file, '__metadata__ must be an object of strings');
      }
      metadata = value as Record<string, string>;
      continue;
    }
    const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (v === null || typeof v !== 'object') throw new FileFormatError(file, `tensor '${key}': entry must be an object`);
    if (typeof v.dtype !== 'string' || !(v.dtype in SAFETENSORS_DTYPES)) {
      throw new FileFormatError(file, `tensor '${key}': unsupported dtype ${JSON.stringify(v.dtype)} (supported: ${Object.keys(SAFETENSORS_DTYPES).join(', ')})`);
    }
    const dtype = v.dtype as SafetensorsDType;
    if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new FileFormatError(file, `tensor '${key}': shape must be an array of non-negative integers, got ${JSON.stringify(v.shape)}`);
    }
    const shape = v.shape as number[];
    const offsets = v.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new FileFormatError(file, `tensor '${key}': data_offsets must be two non-negative integers, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw new FileFormatError(file, `tensor '${key}': data_offsets [${begin}, ${end}] end before begin`);
    if (end > dataSize) {
      throw new FileFormatError(file, `tensor '${key}': data_offsets [${begin}, ${end}] lie beyond the data section of ${dataSize} bytes (file truncated?)`);
    }
    const numel = shape.reduce((a, b) => a * b, 1);
    const expectedBytes = numel * SAFETENSORS_DTYPES[dtype];
    if (expectedBytes !== end - begin) {
      throw new FileFormatError(file, `tensor '${key}': dtype ${dtype} and shape [${shape.join(',')}] need ${expectedBytes} bytes, but data_offsets span ${end - begin}`);
    }
    entries.set(key, { dtype, shape, dataOffsets: [begin, end] });
  }
  const sorted = [...entries.entries()].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0]);
  let cursor = 0;
  for (const [key, entry] of sorted) {
    const [begin, end] = entry.dataOffsets;
    if (begin < cursor) throw new FileFormatError(file, `tensor '${key}': data_offsets [${begin}, ${end}] overlap the previous tensor`);
    if (begin > cursor) throw new FileFormatError(file, `tensor '${key}': a hole of ${begin - cursor} bytes precedes its data`);
    cursor = end;
  }
  if (cursor !== dataSize) {
    throw new FileFormatError(file, `the data section holds ${dataSize} bytes but the tensors cover ${cursor}`);
  }
  return { entries, metadata, dataStart };
}

/** Reads and validates only the header of a `.safetensors` file. */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const handle = await fs.open(file, 'r');
  try {
    return await readHeaderFrom(handle, file);
  } finally {
    await handle.close();
  }
}

/** The header length from the first 8 bytes of a file of `size` bytes, checked against the size and the limit. */
function headerLengthOf(file: string, first8: Uint8Array, size: number): number {
  if (size < 8) throw new FileFormatError(file, `file of ${size} bytes is too short for a safetensors header`);
  const headerLength = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > size - 8) {
    throw new FileFormatError(file, `header length ${headerLength} exceeds the file size of ${size} bytes (truncated or not safetensors)`);
  }
  if (headerLength > MAX_SAFETENSORS_HEADER) throw new FileFormatError(file, `header length ${headerLength} exceeds the limit of ${MAX_SAFETENSORS_HEADER}`);
  return headerLength;
}

async function readHeaderFrom(handle: fs.FileHandle, file: string): Promise<SafetensorsHeader> {
  const { size } = await handle.stat();
  const lenBuf = new Uint8Array(8);
  if (size >= 8) await handle.read(lenBuf, 0, 8, 0);
  const headerLength = headerLengthOf(file, lenBuf, size);
  const header = new Uint8Array(headerLength);
  await handle.read(header, 0, headerLength, 8);
  return parseSafetensorsHeader(file, header, size);
}

/**
 * Validates the header of a whole `.safetensors` file held in memory (e.g. fetched in a browser);
 * `source` names it in errors. The same checks as {@link readSafetensorsHeader}.
 */
export function parseSafetensorsBytes(source: string, bytes: Uint8Array): SafetensorsHeader {
  const headerLength = headerLengthOf(source, bytes.subarray(0, 8), bytes.byteLength);
  return parseSafetensorsHeader(source, bytes.subarray(8, 8 + headerLength), bytes.byteLength);
}

/** Checks the header's keys against `expectedKeys`; throws naming the first missing or unexpected key. */
export function checkSafetensorsKeys(file: string, header: SafetensorsHeader, expectedKeys: readonly string[], rejectUnexpected = true): void {
  const expected = new Set(expectedKeys);
  const missing = expectedKeys.filter((k) => !header.entries.has(k));
  if (missing.length > 0) {
    throw new FileFormatError(file, `missing tensor '${missing[0]}'${missing.length > 1 ? ` (and ${missing.length - 1} more: ${missing.slice(1, 6).join(', ')}${missing.length > 6 ? ', …' : ''})` : ''}`);
  }
  if (rejectUnexpected) {
    const unexpected = [...header.entries.keys()].filter((k) => !expected.has(k));
    if (unexpected.length > 0) {
      throw new FileFormatError(file, `unexpected tensor '${unexpected[0]}'${unexpected.length > 1 ? ` (and ${unexpected.length - 1} more)` : ''}`);
    }
  }
}

/**
 * Reads a `.safetensors` file: validates the header and keys first, then reads each selected
 * tensor, widening F16/BF16/F64 to float32 and I64/I16/I8/U8/BOOL to int32.
 */
export async function readSafetensors(file: string, options: ReadSafetensorsOptions = {}): Promise<Map<string, LoadedTensor>> {
  const handle = await fs.open(file, 'r');
  try {
    const header = await readHeaderFrom(handle, file);
    return await decodeSelected(file, header, options, async (key, begin, end) => {
      const bytes = new Uint8Array(end - begin);
      const { bytesRead } = await handle.read(bytes, 0, end - begin, begin);
      if (bytesRead !== end - begin) throw new FileFormatError(file, `tensor '${key}': file ended while reading its data`);
      return bytes;
    });
  } finally {
    await handle.close();
  }
}

/**
 * {@link readSafetensors} for a whole file held in memory (e.g. `new Uint8Array(await
 * (await fetch(url)).arrayBuffer())` in a browser): the same checks, the same result.
 */
export async function decodeSafetensors(source: string, bytes: Uint8Array, options: ReadSafetensorsOptions = {}): Promise<Map<string, LoadedTensor>> {
  const header = parseSafetensorsBytes(source, bytes);
  return decodeSelected(source, header, options, async (_key, begin, end) => bytes.subarray(begin, end));
}

/** Checks the keys, then decodes each selected tensor from the bytes `read(key, begin, end)` gives (file offsets). */
async function decodeSelected(
  file: string,
  header: SafetensorsHeader,
  options: ReadSafetensorsOptions,
  read: (key: string, begin: number, end: number) => Promise<Uint8Array>,
): Promise<Map<string, LoadedTensor>> {
  if (options.expectedKeys) checkSafetensorsKeys(file, header, options.expectedKeys, options.rejectUnexpected ?? true);
  const out = new Map<string, LoadedTensor>();
  for (const [key, entry] of header.entries) {
    if (options.select && !options.select(key)) continue;
    const [begin, end] = entry.dataOffsets;
    const bytes = await read(key, header.dataStart + begin, header.dataStart + end);
    out.set(key, { dtype: entry.dtype, shape: entry.shape, data: decodeSafetensorsData(key, entry.dtype, bytes, file) });
  }
  return out;
}

/** Converts raw little-endian bytes of `dtype` to float32 (floating dtypes) or int32 (integers). */
export function decodeSafetensorsData(key: string, dtype: SafetensorsDType, bytes: Uint8Array, file = '<memory>'): Float32Array | Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / SAFETENSORS_DTYPES[dtype];
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        tmp.setUint32(0, view.getUint16(i * 2, true) << 16, true);
        out[i] = tmp.getFloat32(0, true);
      }
      return out;
    }
    case 'I32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) throw new FileFormatError(file, `tensor '${key}': int64 value ${v} does not fit int32`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'I16': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'I8': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      return out;
    }
    case 'U8':
    case 'BOOL': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getUint8(i);
      return out;
    }
  }
}

/** IEEE 754 half precision bits to a number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** A number to IEEE 754 half precision bits (round to nearest even). */
export function floatToHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  e = half >> 10;
  return sign | half;
}

/** A tensor to write. */
export interface TensorToWrite {
  readonly dtype: 'F32' | 'F16' | 'I32';
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

/** Encodes tensors as a safetensors byte buffer (keys sorted, 8-byte aligned header). */
export function encodeSafetensors(tensors: Readonly<Record<string, TensorToWrite>>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const keys = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const key of keys) {
    const t = tensors[key]!;
    const bytes = t.data.length * SAFETENSORS_DTYPES[t.dtype];
    header[key] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const utf8 = new TextEncoder();
  while ((8 + utf8.encode(json).length) % 8 !== 0) json += ' ';
  const headerBytes = utf8.encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const key of keys) {
    const t = tensors[key]!;
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i]!;
      if (t.dtype === 'F32') view.setFloat32(p + i * 4, v, true);
      else if (t.dtype === 'I32') view.setInt32(p + i * 4, v, true);
      else view.setUint16(p + i * 2, floatToHalf(v), true);
    }
    p += t.data.length * SAFETENSORS_DTYPES[t.dtype];
  }
  return out;
}

/** Writes tensors to a `.safetensors` file atomically. */
export async function writeSafetensors(file: string, tensors: Readonly<Record<string, TensorToWrite>>, metadata?: Readonly<Record<string, string>>): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

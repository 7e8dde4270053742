import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { FileFormatError, NotFoundError } from '@lico/core';

/** The most a gzip file may inflate to (2 GiB), whatever its trailer says. */
export const MAX_INFLATED_BYTES = 2 ** 31;

/**
 * Inflates one gzip member, refusing to produce more than its trailer declares (ISIZE, the size
 * mod 2^32) or {@link MAX_INFLATED_BYTES}: a gzip bomb or a damaged file ends in a named error
 * before it can fill the memory.
 */
export function gunzipCapped(raw: Uint8Array, file: string): Uint8Array {
  if (raw.length < 18) throw new FileFormatError(file, 'corrupt or truncated gzip data (shorter than a gzip header and trailer).');
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const declared = view.getUint32(raw.length - 4, true);
  const cap = Math.min(MAX_INFLATED_BYTES, Math.max(declared, 1));
  try {
    const out = gunzipSync(raw, { maxOutputLength: cap });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new FileFormatError(file, `inflates beyond the ${cap} bytes its gzip trailer declares (limit ${MAX_INFLATED_BYTES}); refused as damaged or hostile.`);
    }
    throw new FileFormatError(file, `corrupt or truncated gzip data (${(error as Error).message}).`);
  }
}

/** Reads a file, gunzipping it when it starts with the gzip magic; errors name the file. */
export async function readMaybeGzip(file: string): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${file}: no such file.`);
    throw error;
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) return gunzipCapped(raw, file);
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { FileFormatError, NotFoundError } from '@lico/core';

/** Reads a file, gunzipping it when it starts with the gzip magic; errors name the file. */
export async function readMaybeGzip(file: string): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${file}: no such file.`);
    throw error;
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      const out = gunzipSync(raw);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (error) {
      throw new FileFormatError(file, `corrupt or truncated gzip data (${(error as Error).message}).`);
    }
  }
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileFormatError } from '@lico/core';
import { gunzipCapped } from './read-file';

/**
 * Extracts the regular files of a (gzipped) ustar/GNU tar archive into `dest`, keeping relative
 * paths; refuses absolute paths and `..`. Returns the extracted paths.
 */
export async function extractTar(file: string, dest: string): Promise<string[]> {
  let bytes: Uint8Array = await readFile(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    bytes = gunzipCapped(bytes, file);
  }
  const out: string[] = [];
  const text = (a: number, b: number): string => {
    let end = a;
    while (end < b && bytes[end] !== 0) end++;
    return Buffer.from(bytes.subarray(a, end)).toString('utf8');
  };
  let pos = 0;
  let longName: string | undefined;
  while (pos + 512 <= bytes.length) {
    if (bytes.subarray(pos, pos + 512).every((b) => b === 0)) break;
    let name = text(pos, pos + 100);
    const prefix = text(pos + 345, pos + 500);
    const size = Number.parseInt(text(pos + 124, pos + 136).trim() || '0', 8);
    const type = String.fromCharCode(bytes[pos + 156]!);
    if (!Number.isFinite(size) || size < 0) throw new FileFormatError(file, `bad tar header at byte ${pos}.`);
    const dataStart = pos + 512;
    if (dataStart + size > bytes.length) throw new FileFormatError(file, `truncated tar archive: entry '${name}' needs ${size} bytes at ${dataStart}.`);
    if (type === 'L') {
      longName = text(dataStart, dataStart + size);
    } else {
      if (longName !== undefined) name = longName;
      else if (prefix) name = `${prefix}/${name}`;
      longName = undefined;
      if (type === '0' || type === '\0') {
        if (path.isAbsolute(name) || name.split('/').includes('..')) throw new FileFormatError(file, `unsafe path '${name}' in tar archive.`);
        const target = path.join(dest, name);
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, bytes.subarray(dataStart, dataStart + size));
        out.push(target);
      }
    }
    pos = dataStart + Math.ceil(size / 512) * 512;
  }
  return out;
}

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FileFormatError, NotFoundError } from '@lico/core';
import { describe, expect, it } from 'vitest';
import { encodeIdx, parseIdx, readIdx } from './idx';

const dir = mkdtempSync(path.join(tmpdir(), 'lico-idx-'));

describe('IDX', () => {
  it('round-trips shape and data, raw and gzip', async () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 7) % 256);
    const bytes = encodeIdx([2, 3, 4], data);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0, 0, 8, 3, 0, 0, 0, 2]);
    const parsed = parseIdx(bytes, 'x', 3);
    expect(parsed.shape).toEqual([2, 3, 4]);
    expect(Array.from(parsed.data)).toEqual(Array.from(data));
    writeFileSync(path.join(dir, 'a.gz'), gzipSync(bytes));
    writeFileSync(path.join(dir, 'a'), bytes);
    expect(Array.from((await readIdx(path.join(dir, 'a.gz'), 3)).data)).toEqual(Array.from(data));
    expect((await readIdx(path.join(dir, 'a'), 3)).shape).toEqual([2, 3, 4]);
  });

  it('rejects a wrong magic number, naming the file', () => {
    const bytes = encodeIdx([2], new Uint8Array(2));
    bytes[2] = 0x0d; // float32 IDX
    expect(() => parseIdx(bytes, '/d/f.idx')).toThrow(FileFormatError);
    expect(() => parseIdx(bytes, '/d/f.idx')).toThrow(/\/d\/f\.idx: wrong magic number 0x00000d01/);
  });

  it('rejects a wrong rank', () => {
    expect(() => parseIdx(encodeIdx([2], new Uint8Array(2)), 'f', 3)).toThrow(/IDX rank 1, expected 3/);
  });

  it('rejects truncated headers and data, and trailing bytes', () => {
    const bytes = encodeIdx([3, 2], new Uint8Array(6));
    expect(() => parseIdx(bytes.subarray(0, 6), 'f')).toThrow(/truncated: 6 bytes, shorter than the 12-byte IDX header/);
    expect(() => parseIdx(bytes.subarray(0, 15), 'f')).toThrow(/declares \[3,2\] = 6 bytes of data but only 3 are present/);
    const longer = new Uint8Array(bytes.length + 2);
    longer.set(bytes);
    expect(() => parseIdx(longer, 'f')).toThrow(/2 unexpected trailing bytes/);
    expect(() => parseIdx(new Uint8Array(2), 'f')).toThrow(/shorter than the 4-byte/);
  });

  it('rejects corrupt gzip and missing files', async () => {
    const gz = gzipSync(encodeIdx([100], new Uint8Array(100)));
    writeFileSync(path.join(dir, 'bad.gz'), gz.subarray(0, gz.length - 12));
    await expect(readIdx(path.join(dir, 'bad.gz'))).rejects.toThrow(/bad\.gz: corrupt or truncated gzip data/);
    await expect(readIdx(path.join(dir, 'nope.gz'))).rejects.toThrow(NotFoundError);
  });
});

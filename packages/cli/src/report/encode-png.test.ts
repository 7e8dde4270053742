import { describe, expect, it } from 'vitest';
import { inflateSync } from 'node:zlib';
import { encodePng } from './encode-png';

describe('encodePng', () => {
  it('writes the signature, IHDR and the filtered rows', () => {
    const png = Buffer.from(encodePng(new Uint8Array([1, 2, 3, 4, 5, 6]), 3, 2, 1));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(3);
    expect(png.readUInt32BE(20)).toBe(2);
    expect(png[24]).toBe(8);
    expect(png[25]).toBe(0);
    const idatLength = png.readUInt32BE(33);
    expect(png.subarray(37, 41).toString('ascii')).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    expect([...raw]).toEqual([0, 1, 2, 3, 0, 4, 5, 6]);
    expect(png.subarray(png.length - 8, png.length - 4).toString('ascii')).toBe('IEND');
  });
  it('rejects a size mismatch', () => {
    expect(() => encodePng(new Uint8Array(5), 1, 1, 4)).toThrow(/expected 1×1×4 = 4 bytes, got 5/);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileFormatError } from '../errors';
import { readFileSync } from 'node:fs';
import { decodeSafetensors, encodeSafetensors, floatToHalf, halfToFloat, parseSafetensorsBytes, readSafetensors, readSafetensorsHeader, writeSafetensors } from './safetensors';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lico-st-'));

/** Builds a file from a raw header object and a data section. */
function craft(name: string, header: unknown, dataBytes: number, headerLengthOverride?: bigint): string {
  const json = Buffer.from(JSON.stringify(header));
  const buf = Buffer.alloc(8 + json.length + dataBytes);
  buf.writeBigUInt64LE(headerLengthOverride ?? BigInt(json.length), 0);
  json.copy(buf, 8);
  const file = path.join(dir, name);
  writeFileSync(file, buf);
  return file;
}

describe('safetensors', () => {
  it('round-trips F32, F16 and I32 tensors', async () => {
    const file = path.join(dir, 'ok.safetensors');
    await writeSafetensors(file, {
      'a.weight': { dtype: 'F32', shape: [2, 3], data: [1, -2, 3.5, 4, 5, 6] },
      b: { dtype: 'F16', shape: [3], data: [0.5, -1.25, 65504] },
      c: { dtype: 'I32', shape: [2], data: [7, -9] },
    });
    const t = await readSafetensors(file, { expectedKeys: ['a.weight', 'b', 'c'] });
    expect(Array.from(t.get('a.weight')!.data)).toEqual([1, -2, 3.5, 4, 5, 6]);
    expect(t.get('a.weight')!.shape).toEqual([2, 3]);
    expect(Array.from(t.get('b')!.data)).toEqual([0.5, -1.25, 65504]);
    expect(Array.from(t.get('c')!.data)).toEqual([7, -9]);
  });

  it('half conversion is exact on representable values and rounds otherwise', () => {
    for (const v of [0, 1, -2, 2 ** -14, 1000.5, 65504]) expect(halfToFloat(floatToHalf(v))).toBe(v);
    expect(halfToFloat(floatToHalf(0.1))).toBeCloseTo(0.1, 3);
    expect(halfToFloat(floatToHalf(1024.5))).toBe(1024); // ties to even
  });

  it('refuses a header length beyond the file', async () => {
    const file = craft('long.safetensors', {}, 0, 1_000_000n);
    await expect(readSafetensorsHeader(file)).rejects.toThrow(/header length 1000000 exceeds the file size/);
  });

  it('refuses offsets beyond the data, naming the key', async () => {
    const file = craft('oob.safetensors', { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8);
    await expect(readSafetensors(file)).rejects.toThrow(/tensor 'w'.*beyond the data section/);
  });

  it('refuses overlapping tensors', async () => {
    const file = craft('overlap.safetensors', {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    }, 12);
    await expect(readSafetensors(file)).rejects.toThrow(/tensor 'b'.*overlap/);
  });

  it('refuses a dtype/shape that disagrees with the byte size', async () => {
    const file = craft('size.safetensors', { w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8);
    await expect(readSafetensors(file)).rejects.toThrow(/tensor 'w': dtype F32 and shape \[3\] need 12 bytes, but data_offsets span 8/);
  });

  it('refuses unknown dtypes and non-JSON headers', async () => {
    await expect(readSafetensors(craft('dt.safetensors', { w: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, 1))).rejects.toThrow(/tensor 'w': unsupported dtype "Q4"/);
    const bad = path.join(dir, 'garbage.safetensors');
    const buf = Buffer.alloc(20);
    buf.writeBigUInt64LE(4n, 0);
    buf.write('{{{{', 8);
    writeFileSync(bad, buf);
    await expect(readSafetensors(bad)).rejects.toThrow(FileFormatError);
  });

  it('names a missing and an unexpected key', async () => {
    const file = path.join(dir, 'keys.safetensors');
    writeFileSync(file, encodeSafetensors({ a: { dtype: 'F32', shape: [1], data: [1] }, extra: { dtype: 'F32', shape: [1], data: [2] } }));
    await expect(readSafetensors(file, { expectedKeys: ['a', 'b'] })).rejects.toThrow(/missing tensor 'b'/);
    await expect(readSafetensors(file, { expectedKeys: ['a'] })).rejects.toThrow(/unexpected tensor 'extra'/);
  });

  it('refuses a truncated file', async () => {
    const full = encodeSafetensors({ a: { dtype: 'F32', shape: [100], data: new Array(100).fill(1) } });
    const file = path.join(dir, 'trunc.safetensors');
    writeFileSync(file, full.subarray(0, full.length - 10));
    await expect(readSafetensors(file)).rejects.toThrow(/tensor 'a'.*beyond the data section/);
  });

  it('decodes a file held in memory as readSafetensors reads it, with the same checks', async () => {
    const file = path.join(dir, 'mem.safetensors');
    await writeSafetensors(file, { a: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3, -4] }, b: { dtype: 'F16', shape: [1], data: [0.5] }, c: { dtype: 'I32', shape: [1], data: [9] } }, { note: 'x' });
    const bytes = new Uint8Array(readFileSync(file));
    const fromFile = await readSafetensors(file, { select: (k) => k !== 'c' });
    const fromBytes = await decodeSafetensors('mem', bytes, { select: (k) => k !== 'c' });
    expect([...fromBytes.keys()]).toEqual(['a', 'b']);
    for (const [k, t] of fromFile) expect({ ...fromBytes.get(k)!, data: Array.from(fromBytes.get(k)!.data) }).toEqual({ ...t, data: Array.from(t.data) });
    expect(parseSafetensorsBytes('mem', bytes)).toEqual(await readSafetensorsHeader(file));
    await expect(decodeSafetensors('mem', bytes, { expectedKeys: ['a', 'z'] })).rejects.toThrow(/mem: .*missing tensor 'z'/);
    await expect(decodeSafetensors('cut', bytes.subarray(0, bytes.length - 2))).rejects.toThrow(/tensor 'c'.*beyond the data section/);
    expect(() => parseSafetensorsBytes('short', bytes.subarray(0, 5))).toThrow(/file of 5 bytes is too short/);
  });
});

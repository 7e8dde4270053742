import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileFormatError } from '@lico/core';
import { describe, expect, it } from 'vitest';
import { parseMat5 } from './mat5';
import { svhn, svhnFromMat } from './svhn';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__');
// Written by tools/reference/svhn-mat-fixtures.py with scipy.io.savemat (versions in the JSON).
const ref = JSON.parse(readFileSync(path.join(fixtures, 'svhn-tiny.json'), 'utf8')) as { shape: number[]; pixel_r2_c5_ch1_n2: number; labels_raw: number[]; sum_X: number };

describe('MAT v5 reader on files written by scipy', () => {
  for (const file of ['svhn-tiny.mat', 'svhn-tiny-compressed.mat']) {
    it(`reads X and y from ${file}`, () => {
      const buf = readFileSync(path.join(fixtures, file));
      const vars = parseMat5(buf, file);
      const X = vars.get('X')!;
      expect(X.className).toBe('uint8');
      expect(X.dims).toEqual(ref.shape);
      let sum = 0;
      for (const v of X.data) sum += v;
      expect(sum).toBe(ref.sum_X);
      expect(Array.from(vars.get('y')!.data)).toEqual(ref.labels_raw);
      const { images, labels } = svhnFromMat(buf, file);
      // Label 10 is the digit 0.
      expect(Array.from(labels)).toEqual([0, 1, 5]);
      // HWC image 2, row 2, column 5, channel 1, against scipy's X[2,5,1,2] and the closed form.
      expect(images[2 * 3072 + (2 * 32 + 5) * 3 + 1]).toBe(ref.pixel_r2_c5_ch1_n2);
      for (const [r, c, ch, k] of [[0, 0, 0, 0], [31, 7, 2, 1], [13, 29, 1, 2]] as const) {
        expect(images[k * 3072 + (r * 32 + c) * 3 + ch]).toBe((r * 7 + c * 3 + ch * 50 + k * 11) % 256);
      }
    });
  }

  it('svhn() finds <split>_32x32.mat under root', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'lico-svhn-'));
    copyFileSync(path.join(fixtures, 'svhn-tiny-compressed.mat'), path.join(root, 'test_32x32.mat'));
    const ds = await svhn({ split: 'test', root });
    expect(ds.size).toBe(3);
    expect(ds.imageShape).toEqual([32, 32, 3]);
    expect(ds.name).toBe('svhn/test');
  });

  it('rejects truncated, corrupt and wrong files, naming them', () => {
    const buf = readFileSync(path.join(fixtures, 'svhn-tiny.mat'));
    expect(() => parseMat5(buf.subarray(0, 100), 'a.mat')).toThrow(/a\.mat: truncated: 100 bytes, shorter than the 128-byte/);
    expect(() => parseMat5(buf.subarray(0, 3000), 'b.mat')).toThrow(/b\.mat: truncated: a data element at byte 128 declares/);
    const comp = Buffer.from(readFileSync(path.join(fixtures, 'svhn-tiny-compressed.mat')));
    comp.fill(0x55, 200, 260);
    expect(() => parseMat5(comp, 'c.mat')).toThrow(/c\.mat: corrupt compressed element/);
    const v73 = Buffer.alloc(512);
    v73.write('MATLAB 7.3 MAT-file, Platform: GLNXA64');
    expect(() => parseMat5(v73, 'd.mat')).toThrow(/MAT v7\.3 \(HDF5\) files are not supported/);
    const junk = Buffer.alloc(200, 7);
    expect(() => parseMat5(junk, 'e.mat')).toThrow(FileFormatError);
  });

  it('rejects an X/y count mismatch and a corrupt dimension, naming the file', () => {
    const bad = readFileSync(path.join(fixtures, 'svhn-mismatch.mat'));
    expect(() => svhnFromMat(bad, 'm.mat')).toThrow(/m\.mat: 'y' holds 2 labels but 'X' holds 3 images/);
    const buf = Buffer.from(readFileSync(path.join(fixtures, 'svhn-tiny.mat')));
    // In the uncompressed fixture, y's name is a small element "y"; its [3,1] dims sit just before.
    const yName = buf.indexOf(Buffer.from([0x01, 0x00, 0x01, 0x00, 0x79]));
    expect(yName).toBeGreaterThan(128);
    buf.writeInt32LE(2, yName - 8);
    expect(() => svhnFromMat(buf, 'x.mat')).toThrow(/x\.mat: variable 'y' has dimensions \[2,1\] = 2 values but holds 3/);
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileFormatError, NotFoundError } from '@lico/core';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { localisationFolder } from './localisation-folder';

/** A w×h PNG whose pixel (x,y) is f(x,y) in every channel. */
function png(w: number, h: number, f: (x: number, y: number) => number): Buffer {
  const img = new pngjs.PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * 4;
      img.data.fill(f(x, y), p, p + 3);
      img.data[p + 3] = 255;
    }
  }
  return pngjs.PNG.sync.write(img);
}

function make(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'lico-loc-'));
  mkdirSync(path.join(root, 'images'));
  mkdirSync(path.join(root, 'masks'));
  writeFileSync(path.join(root, 'classes.txt'), 'cat\ndog\n');
  writeFileSync(path.join(root, 'labels.csv'), 'file,label\nb.png,dog\na.png,0\n');
  writeFileSync(path.join(root, 'images', 'a.png'), png(8, 6, (x, y) => x * 10 + y));
  writeFileSync(path.join(root, 'images', 'b.png'), png(8, 6, () => 200));
  // a: object in rows 1..2, columns 3..5; b: one pixel at (7, 5).
  writeFileSync(path.join(root, 'masks', 'a.png'), png(8, 6, (x, y) => (y >= 1 && y <= 2 && x >= 3 && x <= 5 ? 255 : 0)));
  writeFileSync(path.join(root, 'masks', 'b.png'), png(8, 6, (x, y) => (x === 7 && y === 5 ? 1 : 0)));
  return root;
}

describe('localisationFolder', () => {
  it('reads images, masks, labels (index or name) and class names in CSV order', async () => {
    const ds = await localisationFolder(make(), { channels: 1 });
    expect(ds.size).toBe(2);
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect([ds.label(0), ds.label(1)]).toEqual([1, 0]);
    expect(ds.imageShape).toEqual([6, 8, 1]);
    expect(ds.image(1)[2 * 8 + 3]).toBe(32);
    expect(ds.box(1)).toEqual([1, 3, 3, 6]);
    expect(ds.box(0)).toEqual([5, 7, 6, 8]);
    const m = ds.mask(1);
    expect(Array.from(m).reduce((a, b) => a + b, 0)).toBe(6);
    expect(m[1 * 8 + 3]).toBe(1);
    expect(m[0]).toBe(0);
    expect(ds.batchMasks([1, 0]).subarray(48)).toEqual(ds.mask(0));
  });

  it('resizes images and masks together', async () => {
    const ds = await localisationFolder(make(), { size: [12, 16] });
    expect(ds.imageShape).toEqual([12, 16, 3]);
    expect(ds.box(1)).toEqual([2, 6, 6, 12]);
  });

  it('fails clearly on a missing mask, size mismatch, unknown label, unlisted image and missing files', async () => {
    let root = make();
    rmSync(path.join(root, 'masks', 'a.png'));
    await expect(localisationFolder(root)).rejects.toThrow(/masks\/a\.png: the mask of image 'a\.png' is missing/);
    root = make();
    writeFileSync(path.join(root, 'masks', 'a.png'), png(4, 6, () => 9));
    await expect(localisationFolder(root)).rejects.toThrow(/masks\/a\.png: mask is 4×6 but its image 'a\.png' is 8×6/);
    root = make();
    writeFileSync(path.join(root, 'labels.csv'), 'b.png,cow\na.png,0\n');
    await expect(localisationFolder(root)).rejects.toThrow(/labels\.csv: line 1: unknown label 'cow'; the classes \(classes\.txt\) are 0 'cat', 1 'dog'/);
    root = make();
    writeFileSync(path.join(root, 'labels.csv'), 'a.png,0\n');
    await expect(localisationFolder(root)).rejects.toThrow(/image 'b\.png' in .*images has no row/);
    root = make();
    writeFileSync(path.join(root, 'masks', 'b.png'), png(8, 6, () => 0));
    await expect(localisationFolder(root)).rejects.toThrow(FileFormatError);
    root = make();
    writeFileSync(path.join(root, 'images', 'b.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4, 5]));
    await expect(localisationFolder(root)).rejects.toThrow(/images\/b\.png: cannot decode the PNG image/);
    root = make();
    rmSync(path.join(root, 'classes.txt'));
    await expect(localisationFolder(root)).rejects.toThrow(NotFoundError);
  });
});

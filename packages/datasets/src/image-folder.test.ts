import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { FileFormatError, NotFoundError } from '@lico/core';
import { useCpuBackend } from '@lico/testing';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, toChannels } from './decode-image';
import { imageFolder } from './image-folder';

beforeAll(async () => {
  await useCpuBackend();
});

/** RGBA pixels: R = 10x + y, G = 20y, B = seed. */
function rgba(w: number, h: number, seed: number): Buffer {
  const d = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * 4;
      d[p] = 10 * x + y;
      d[p + 1] = 20 * y;
      d[p + 2] = seed;
      d[p + 3] = 255;
    }
  }
  return d;
}

function png(w: number, h: number, seed: number): Buffer {
  const img = new pngjs.PNG({ width: w, height: h });
  rgba(w, h, seed).copy(img.data);
  return pngjs.PNG.sync.write(img);
}

function jpg(w: number, h: number, seed: number): Buffer {
  return jpeg.encode({ width: w, height: h, data: rgba(w, h, seed) }, 100).data;
}

function folder(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'lico-folder-'));
  mkdirSync(path.join(root, 'cat'));
  mkdirSync(path.join(root, 'ant'));
  writeFileSync(path.join(root, 'cat', 'b.png'), png(6, 4, 1));
  writeFileSync(path.join(root, 'cat', 'a.jpg'), jpg(6, 4, 2));
  writeFileSync(path.join(root, 'ant', 'z.PNG'), png(6, 4, 3));
  writeFileSync(path.join(root, 'ant', 'notes.txt'), 'ignored');
  return root;
}

describe('imageFolder', () => {
  it('labels sorted class folders and decodes PNG exactly and JPEG closely', async () => {
    const ds = await imageFolder({ root: folder() });
    expect(ds.classNames).toEqual(['ant', 'cat']);
    expect(Array.from(ds.labels)).toEqual([0, 1, 1]);
    expect(ds.imageShape).toEqual([4, 6, 3]);
    const px = (i: number, y: number, x: number): number[] => Array.from(ds.images.subarray(i * 72 + (y * 6 + x) * 3, i * 72 + (y * 6 + x) * 3 + 3));
    // ant/z.PNG (seed 3), exact.
    expect(px(0, 2, 5)).toEqual([52, 40, 3]);
    // cat/a.jpg (seed 2), lossy at quality 100: within a few levels.
    const j = px(1, 3, 4);
    [43, 60, 2].forEach((v, k) => expect(Math.abs(j[k]! - v)).toBeLessThanOrEqual(4));
    // cat/b.png (seed 1).
    expect(px(2, 0, 0)).toEqual([0, 0, 1]);
  });

  it('honours explicit class names and rejects an unknown class folder, naming it', async () => {
    const root = folder();
    const ds = await imageFolder({ root, classNames: ['cat', 'ant', 'dog'] });
    expect(Array.from(ds.labels)).toEqual([1, 0, 0]);
    const err = await imageFolder({ root, classNames: ['cat'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as Error).message).toMatch(/ant: unknown class folder 'ant'; the classes are 'cat'/);
  });

  it('converts to luminance and resizes like tf.image.resizeBilinear (half-pixel centres)', async () => {
    const ds = await imageFolder({ root: folder(), channels: 1, size: [3, 5] });
    expect(ds.imageShape).toEqual([3, 5, 1]);
    const src = rgba(6, 4, 3);
    const lum = new Float32Array(24);
    for (let p = 0; p < 24; p++) lum[p] = 0.299 * src[p * 4]! + 0.587 * src[p * 4 + 1]! + 0.114 * src[p * 4 + 2]!;
    const ref = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(lum, [1, 4, 6, 1]), [3, 5], false, true).dataSync());
    const got = Array.from(ds.images.subarray(0, 15));
    got.forEach((v, k) => expect(Math.abs(v - ref[k]!)).toBeLessThanOrEqual(0.5 + 1e-4));
    // Also RGB upsampling.
    const out = new Uint8Array(8 * 12 * 3);
    toChannels(decodeImage(png(6, 4, 9), 'x.png'), 3, 8, 12, out, 0);
    const refRgb = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(rgba(6, 4, 9)), [1, 4, 6, 4]);
      return tf.image.resizeBilinear(tf.slice(x, [0, 0, 0, 0], [1, 4, 6, 3]), [8, 12], false, true).dataSync();
    });
    out.forEach((v, k) => expect(Math.abs(v - refRgb[k]!)).toBeLessThanOrEqual(0.5 + 1e-4));
  });

  it('rejects undecodable images and mixed sizes, naming the file; nothing half-loaded', async () => {
    const root = folder();
    writeFileSync(path.join(root, 'cat', 'c.png'), png(6, 4, 1).subarray(0, 40));
    await expect(imageFolder({ root })).rejects.toThrow(/cat\/c\.png: cannot decode the PNG image/);
    writeFileSync(path.join(root, 'cat', 'c.png'), Buffer.from('hello'));
    await expect(imageFolder({ root })).rejects.toThrow(/cat\/c\.png: not a PNG or JPEG image/);
    const bad = jpg(6, 4, 1);
    writeFileSync(path.join(root, 'cat', 'c.png'), bad.subarray(0, 30));
    await expect(imageFolder({ root })).rejects.toThrow(/cat\/c\.png: cannot decode the JPEG image/);
    writeFileSync(path.join(root, 'cat', 'c.png'), png(5, 4, 1));
    await expect(imageFolder({ root })).rejects.toThrow(/cat\/c\.png: is 5×4 but .*ant\/z\.PNG is 6×4; pass \{ size/);
    const resized = await imageFolder({ root, size: [4, 6] });
    expect(resized.size).toBe(4);
    await expect(imageFolder({ root: path.join(root, 'nope') })).rejects.toThrow(NotFoundError);
  });
});

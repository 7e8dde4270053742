import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, UnknownNameError } from '@lico/core';
import { expectClose, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { colormap } from './colormap';
import { renderGrid, renderOverlay } from './overlay';
import { decodePng, encodePng } from './png';

beforeAll(useCpuBackend);

describe('colour maps', () => {
  it('jet follows matplotlib\'s segments', () => {
    expectClose(colormap('jet', 0), [0, 0, 0.5]);
    expectClose(colormap('jet', 1), [0.5, 0, 0]);
    expectClose(colormap('jet', 0.5), [0.15 / 0.31, 1, 1 - 0.16 / 0.31], { atol: 1e-9 });
    expectClose(colormap('jet', 2), [0.5, 0, 0]);
  });
  it('viridis matches matplotlib\'s table (ends and entry 128 exactly; entry 100 within 0.002)', () => {
    expectClose(colormap('viridis', 0), [0.267004, 0.004874, 0.329415], { atol: 1e-9 });
    expectClose(colormap('viridis', 1), [0.993248, 0.906157, 0.143936], { atol: 1e-9 });
    expectClose(colormap('viridis', 128 / 255), [0.127568, 0.566949, 0.550556], { atol: 1e-9 });
    expectClose(colormap('viridis', 100 / 255), [0.166617, 0.463708, 0.558119], { atol: 2e-3 });
    expect(() => colormap('parula' as 'jet', 0.5)).toThrow(UnknownNameError);
  });
});

describe('PNG overlays', () => {
  it('a single overlay blends image and heatmap', async () => {
    const image = tf.tensor3d([0, 0, 0, 1, 1, 1], [1, 2, 3]);
    const sal = tf.tensor2d([0, 1], [1, 2]);
    const png = decodePng(await renderOverlay(image, sal, { alpha: 0.5 }));
    expect([png.width, png.height]).toEqual([2, 1]);
    expect(Array.from(png.data)).toEqual([0, 0, Math.round(255 * 0.25), 255, Math.round(255 * 0.75), 128, 128, 255]);
    const gray = decodePng(await renderOverlay(tf.tensor3d([0.5, 0.5], [1, 2, 1]), sal, { alpha: 0, normalization: { mean: [0.5], std: [2] } }));
    expect(Array.from(gray.data.subarray(0, 4))).toEqual([255, 255, 255, 255]);
  });

  it('a grid places the cells with padding (and optional plain images)', async () => {
    const images = tf.zeros([3, 4, 5, 3]) as tf.Tensor4D;
    const sal = tf.ones([3, 4, 5]) as tf.Tensor3D;
    const png = decodePng(await renderGrid(images, sal, { columns: 2, padding: 1, colormap: 'viridis', alpha: 1 }));
    expect([png.width, png.height]).toEqual([2 * 5 + 3, 2 * 4 + 3]);
    const at = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 4));
    expect(at(0, 0)).toEqual([255, 255, 255, 255]);
    expect(at(1, 1)).toEqual([253, 231, 37, 255]);
    expect(at(5, 9)).toEqual([253, 231, 37, 255]); // last pixel of the third cell (row 2, column 1)
    expect(at(6, 9)).toEqual([255, 255, 255, 255]);
    expect(at(7, 6)).toEqual([255, 255, 255, 255]); // the empty fourth cell
    const pairs = decodePng(await renderGrid(images, sal, { columns: 3, padding: 0, withImage: true, alpha: 1 }));
    expect([pairs.width, pairs.height]).toEqual([3 * 10, 4]);
    await expect(renderGrid(images, tf.ones([2, 4, 5]) as tf.Tensor3D)).rejects.toThrow(ShapeError);
  });
});

describe('encodePng / decodePng', () => {
  it('round-trip grey, RGB and RGBA exactly; the CRC and zlib stream are valid (checked by node:zlib)', async () => {
    const { inflateSync, crc32 } = await import('node:zlib');
    for (const channels of [1, 3, 4] as const) {
      const px = Uint8Array.from({ length: 5 * 3 * channels }, (_, i) => (i * 37 + channels) & 0xff);
      const png = encodePng(px, 5, 3, channels);
      const back = decodePng(png);
      expect([back.width, back.height]).toEqual([5, 3]);
      for (let p = 0; p < 15; p++) {
        for (let c = 0; c < 3; c++) expect(back.data[p * 4 + c]).toBe(px[p * channels + (channels === 1 ? 0 : c)]);
        expect(back.data[p * 4 + 3]).toBe(channels === 4 ? px[p * 4 + 3] : 255);
      }
      const view = new DataView(png.buffer, png.byteOffset);
      const idatLen = view.getUint32(33);
      expect(new TextDecoder().decode(png.subarray(37, 41))).toBe('IDAT');
      expect(inflateSync(png.subarray(41, 41 + idatLen)).length).toBe((5 * channels + 1) * 3);
      expect(view.getUint32(41 + idatLen)).toBe(crc32(png.subarray(37, 41 + idatLen)) >>> 0);
    }
    expect(() => encodePng(new Uint8Array(3), 2, 2, 1)).toThrow(/expected 2×2×1 = 4 bytes, got 3/);
    expect(() => decodePng(new Uint8Array([1, 2, 3]))).toThrow(/not a PNG/);
  });

  it("the browser build's stored-block zlib round-trips and is a valid zlib stream (node:zlib inflates it)", async () => {
    const { inflateSync } = await import('node:zlib');
    const { zlibDeflate, zlibInflate } = await import('../platform/zlib.browser');
    for (const n of [0, 1, 65535, 65536, 200_000]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
      const z = zlibDeflate(data);
      expect(Buffer.from(inflateSync(z)).equals(Buffer.from(data))).toBe(true);
      expect(Buffer.from(zlibInflate(z)).equals(Buffer.from(data))).toBe(true);
    }
    const { deflateSync } = await import('node:zlib');
    expect(() => zlibInflate(new Uint8Array(deflateSync(new Uint8Array(100))))).toThrow(/compressed deflate blocks/);
  });
});

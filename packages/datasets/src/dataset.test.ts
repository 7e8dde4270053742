import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError } from '@lico/core';
import { expectNoLeaks, useCpuBackend } from '@lico/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createInMemoryDataset, type InMemoryDataset } from './dataset';
import type { Augmentation } from './augment';

beforeAll(async () => {
  await useCpuBackend();
});

/** n images of [h,w,c] whose pixel (y,x,ch) of image i is (i*7 + y*w*c + x*c + ch) % 256. */
function toy(n: number, h: number, w: number, c: number, augmentation?: Augmentation): InMemoryDataset {
  const images = new Uint8Array(n * h * w * c);
  for (let i = 0; i < n; i++) for (let p = 0; p < h * w * c; p++) images[i * h * w * c + p] = (i * 7 + p) % 256;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  return createInMemoryDataset({
    name: 'toy',
    images,
    labels,
    imageShape: [h, w, c],
    classNames: ['a', 'b', 'c'],
    normalization: { mean: [0.5, 0.25, 0.125].slice(0, c), std: [0.5, 0.25, 2].slice(0, c) },
    ...(augmentation ? { augmentation } : {}),
  });
}

async function collect(ds: InMemoryDataset, o: Parameters<InMemoryDataset['batches']>[0]): Promise<{ images: number[][]; labels: number[][]; indices: number[][] }> {
  const out = { images: [] as number[][], labels: [] as number[][], indices: [] as number[][] };
  for await (const b of ds.batches(o)) {
    out.images.push(Array.from(b.images.dataSync()));
    out.labels.push(Array.from(b.labels.dataSync()));
    out.indices.push(Array.from(b.indices));
    expect(b.images.dtype).toBe('float32');
    expect(b.labels.dtype).toBe('int32');
    tf.dispose([b.images, b.labels]);
  }
  return out;
}

describe('batches', () => {
  it('normalises (v/255 - mean)/std per channel, closed form', async () => {
    const ds = toy(2, 2, 2, 3);
    const [b] = await collect(ds, { batchSize: 2, seed: 0, shuffle: false }).then((r) => [r]);
    const flat = b!.images[0]!;
    expect(flat).toHaveLength(2 * 2 * 2 * 3);
    const mean = [0.5, 0.25, 0.125];
    const std = [0.5, 0.25, 2];
    for (let k = 0; k < flat.length; k++) {
      const i = Math.floor(k / 12);
      const p = k % 12;
      const v = (i * 7 + p) % 256;
      expect(flat[k]).toBeCloseTo((v / 255 - mean[p % 3]!) / std[p % 3]!, 6);
    }
    expect(b!.labels[0]).toEqual([0, 1]);
  });

  it('visits every sample once per epoch; the order is a pure function of (seed, epoch)', async () => {
    const ds = toy(10, 2, 2, 1);
    expect(ds.numBatches({ batchSize: 4 })).toBe(3);
    expect(ds.numBatches({ batchSize: 4, dropLast: true })).toBe(2);
    const a = await collect(ds, { batchSize: 4, seed: 3, epoch: 1 });
    const b = await collect(ds, { batchSize: 4, seed: 3, epoch: 1 });
    const c = await collect(ds, { batchSize: 4, seed: 3, epoch: 2 });
    expect(a.indices.map((x) => x.length)).toEqual([4, 4, 2]);
    expect(a.indices.flat().sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(b).toEqual(a);
    expect(c.indices.flat()).not.toEqual(a.indices.flat());
    expect(a.labels.flat()).toEqual(a.indices.flat().map((i) => i % 3));
    const dropped = await collect(ds, { batchSize: 4, seed: 3, epoch: 1, dropLast: true });
    expect(dropped.indices).toEqual(a.indices.slice(0, 2));
    const plain = await collect(ds, { batchSize: 4, seed: 3, shuffle: false });
    expect(plain.indices.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a resumed run (skipBatches) sees exactly the same batches, augmentation included', async () => {
    const ds = toy(20, 6, 6, 3, { cropPadding: 2, padMode: 'reflect', flip: true, noiseStd: 0.1 });
    const full = await collect(ds, { batchSize: 3, seed: 11, epoch: 4, augment: true });
    const resumed = await collect(ds, { batchSize: 3, seed: 11, epoch: 4, augment: true, skipBatches: 4 });
    expect(resumed.indices).toEqual(full.indices.slice(4));
    expect(resumed.images).toEqual(full.images.slice(4));
    expect(ds.batchArrays({ batchSize: 3, seed: 11, epoch: 4, augment: true }, 5).images).toEqual(Float32Array.from(full.images[5]!));
    const other = await collect(ds, { batchSize: 3, seed: 12, epoch: 4, augment: true });
    expect(other.images).not.toEqual(full.images);
  });

  it('is leak-free when the consumer disposes the batch tensors', async () => {
    const ds = toy(9, 4, 4, 1);
    await expectNoLeaks(async () => {
      for await (const b of ds.batches({ batchSize: 4, seed: 0 })) tf.dispose([b.images, b.labels]);
    });
    expect(ds.pipelineStats.batches).toBe(3);
  });

  it('validates its options', async () => {
    const ds = toy(4, 2, 2, 1);
    expect(() => ds.numBatches({ batchSize: 0 })).toThrow(ConfigError);
    await expect(collect(ds, { batchSize: 2.5, seed: 0 })).rejects.toThrow(/batchSize must be a positive integer, got 2.5/);
    await expect(collect(ds, { batchSize: 2, seed: Number.NaN })).rejects.toThrow(/seed must be a finite number/);
    await expect(collect(ds, { batchSize: 2, seed: 0, skipBatches: 3 })).rejects.toThrow(/skipBatches must be an integer in 0..2/);
    expect(() => createInMemoryDataset({ name: 'x', images: new Uint8Array(5), labels: new Int32Array(2), imageShape: [1, 1, 2], classNames: ['a'], normalization: { mean: [0], std: [1] } })).toThrow(ShapeError);
    expect(() => createInMemoryDataset({ name: 'x', images: new Uint8Array(2), labels: Int32Array.from([0, 1]), imageShape: [1, 1, 1], classNames: ['a'], normalization: { mean: [0], std: [1] } })).toThrow(/label 1 of sample 1 is outside 0..0/);
    expect(() => toy(2, 2, 2, 1, { cropPadding: -1 })).toThrow(/cropPadding/);
  });
});

describe('augmentation', () => {
  // One 4×4 single-channel image with pixel value y*4+x, identity normalisation (mean 0, std 1/255).
  const img = Uint8Array.from({ length: 16 }, (_, i) => i);
  const make = (a: Augmentation): InMemoryDataset =>
    createInMemoryDataset({ name: 'grid', images: img, labels: Int32Array.from([0]), imageShape: [4, 4, 1], classNames: ['a'], normalization: { mean: [0], std: [1 / 255] }, augmentation: a });

  function expected(dy: number, dx: number, flip: boolean, mode: 'zero' | 'reflect'): number[] {
    const refl = (i: number): number => (i < 0 ? -i : i > 3 ? 6 - i : i);
    const out: number[] = [];
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 4; x++) {
        const sy = y + dy;
        const sx = (flip ? 3 - x : x) + dx;
        const inside = sy >= 0 && sy < 4 && sx >= 0 && sx < 4;
        out.push(inside ? sy * 4 + sx : mode === 'zero' ? 0 : refl(sy) * 4 + refl(sx));
      }
    }
    return out;
  }

  it('every augmented image is an exact crop(+flip) of the padded image, and all offsets occur', () => {
    for (const mode of ['zero', 'reflect'] as const) {
      const ds = make({ cropPadding: 2, padMode: mode, flip: true });
      const seen = new Set<string>();
      const possible = new Set<string>();
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) for (const flip of [false, true]) possible.add(expected(dy, dx, flip, mode).join(' '));
      for (let seed = 0; seed < 400; seed++) {
        const got = Array.from(ds.batchArrays({ batchSize: 1, seed, augment: true }, 0).images, (v) => Math.round(v)).join(' ');
        expect(possible.has(got), `seed ${seed} mode ${mode}: ${got}`).toBe(true);
        seen.add(got);
      }
      // Every distinct outcome of the 5×5 offsets × 2 flips (50 in zero mode; fewer in reflect
      // mode, where some crops coincide) is reached in 400 draws.
      expect(possible.size).toBe(mode === 'zero' ? 50 : possible.size);
      expect(seen.size).toBe(possible.size);
    }
  });

  it('reflect padding mirrors without repeating the edge (numpy/torch "reflect")', () => {
    expect(expected(-1, -2, false, 'reflect').slice(0, 4)).toEqual([6, 5, 4, 5]);
  });

  it('without augment: true, batches are the plain normalised images', () => {
    const ds = make({ cropPadding: 2, flip: true, noiseStd: 1 });
    expect(Array.from(ds.batchArrays({ batchSize: 1, seed: 5 }, 0).images, (v) => Math.round(v))).toEqual(Array.from(img));
  });

  it('Gaussian noise has the requested standard deviation in normalised space', () => {
    const n = 64;
    const ds = createInMemoryDataset({ name: 'flat', images: new Uint8Array(n * 16 * 16).fill(51), labels: new Int32Array(n), imageShape: [16, 16, 1], classNames: ['a'], normalization: { mean: [0.2], std: [0.5] }, augmentation: { noiseStd: 0.3 } });
    const x = ds.batchArrays({ batchSize: n, seed: 1, augment: true }, 0).images;
    let s = 0;
    let s2 = 0;
    for (const v of x) {
      s += v;
      s2 += v * v;
    }
    const mean = s / x.length;
    const std = Math.sqrt(s2 / x.length - mean * mean);
    // 51/255 = 0.2 = mean → clean value 0; 16384 samples: SE of std ≈ 0.3/sqrt(2·16384) ≈ 0.0017.
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(std - 0.3)).toBeLessThan(0.01);
  });
});

describe('prefetch', () => {
  it('builds the next batch while the consumer awaits, so the consumer does not wait on input', async () => {
    const ds = toy(64 * 12, 32, 32, 3, { cropPadding: 4, flip: true });
    for await (const b of ds.batches({ batchSize: 64, seed: 0, augment: true })) {
      // A consumer step that yields to the event loop (as an async training step does).
      await new Promise((r) => setTimeout(r, 15));
      tf.dispose([b.images, b.labels]);
    }
    const s = ds.pipelineStats;
    expect(s.batches).toBe(12);
    // Only the first batch (built before anything else runs) is waited for; the other 11 were
    // ready when asked for (each wait is just the resumption of the generator, microseconds here;
    // without prefetch the consumer would wait about the whole build time, ~6 ms a batch). The
    // bounds leave room for scheduler jitter on a busy 2-core CI machine.
    expect(s.buildMs).toBeGreaterThan(0);
    expect(s.firstWaitMs).toBeGreaterThan(0);
    expect(s.maxWaitMs).toBeLessThan(10);
    expect(s.waitMs).toBeLessThan(s.buildMs / 4);
  });
});

describe('iteration edge cases', () => {
  it('a consumer that stops early leaks nothing; skipping every batch yields none', async () => {
    const ds = toy(10, 4, 4, 1);
    await expectNoLeaks(async () => {
      for await (const b of ds.batches({ batchSize: 3, seed: 0 })) {
        tf.dispose([b.images, b.labels]);
        break;
      }
    });
    expect(ds.pipelineStats.batches).toBe(1);
    expect((await collect(ds, { batchSize: 3, seed: 0, skipBatches: 4 })).indices).toEqual([]);
  });

  it('withAugmentation keeps the samples and changes only the augmentation', () => {
    const ds = toy(4, 4, 4, 1);
    const aug = ds.withAugmentation({ flip: true });
    expect(aug.images).toBe(ds.images);
    expect(aug.augmentation).toEqual({ flip: true });
    expect(Array.from(aug.batchArrays({ batchSize: 4, seed: 0 }, 0).images)).toEqual(Array.from(ds.batchArrays({ batchSize: 4, seed: 0 }, 0).images));
  });
});

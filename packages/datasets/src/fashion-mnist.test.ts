import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ConfigError, FileFormatError, NotFoundError } from '@lico/core';
import { afterEach, describe, expect, it } from 'vitest';
import { DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_CLASSES, fashionMnist, mnist } from './fashion-mnist';
import { encodeIdx } from './idx';

function writePair(dir: string, prefix: string, n: number, nLabels = n, labelValue = 3): void {
  mkdirSync(dir, { recursive: true });
  const images = Uint8Array.from({ length: n * 28 * 28 }, (_, i) => i % 251);
  writeFileSync(path.join(dir, `${prefix}-images-idx3-ubyte.gz`), gzipSync(encodeIdx([n, 28, 28], images)));
  writeFileSync(path.join(dir, `${prefix}-labels-idx1-ubyte`), encodeIdx([nLabels], new Uint8Array(nLabels).fill(labelValue)));
}

const savedEnv = { ...process.env };
afterEach(() => {
  process.env = { ...savedEnv };
});

describe('fashionMnist on the real Debian files', () => {
  it('reads the 60000-image train split with the published statistics', async () => {
    const t0 = performance.now();
    const ds = await fashionMnist({ split: 'train', root: DEBIAN_FASHION_MNIST_DIR });
    const ms = performance.now() - t0;
    expect(ds.size).toBe(60000);
    expect(ds.imageShape).toEqual([28, 28, 1]);
    expect(ds.images.length).toBe(60000 * 784);
    expect(ds.labels).toBeInstanceOf(Int32Array);
    expect(ds.classNames).toEqual(FASHION_MNIST_CLASSES);
    expect(ds.name).toBe('fashion-mnist/train');
    // Balanced: 6000 per class.
    const counts = new Array(10).fill(0);
    for (const l of ds.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(6000));
    // First training label is 9 (ankle boot), as in the official files.
    expect(Array.from(ds.labels.subarray(0, 5))).toEqual([9, 0, 0, 3, 0]);
    let sum = 0;
    let sq = 0;
    const px = ds.images;
    for (let i = 0; i < px.length; i++) {
      const v = px[i]!;
      sum += v;
      sq += v * v;
    }
    const mean = sum / px.length / 255;
    const std = Math.sqrt(sq / px.length / 255 ** 2 - mean * mean);
    expect(mean).toBeCloseTo(0.286, 3);
    expect(std).toBeCloseTo(0.353, 3);
    expect(ds.normalization.mean[0]).toBeCloseTo(mean, 3);
    console.log(`fashion-mnist train load: ${ms.toFixed(0)} ms`);
  });

  it('finds the test split in Debian\u2019s directory without a root', async () => {
    process.env.LICO_DATA_DIR = mkdtempSync(path.join(tmpdir(), 'lico-empty-'));
    process.env.LICO_CACHE_DIR = mkdtempSync(path.join(tmpdir(), 'lico-cache-'));
    const ds = await fashionMnist({ split: 'test' });
    expect(ds.size).toBe(10000);
    expect(ds.name).toBe('fashion-mnist/test');
    expect(ds.labels[0]).toBe(9);
  });
});

describe('data location', () => {
  it('prefers LICO_DATA_DIR/<name> over the Debian directory, and reads raw or gzip files', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'lico-data-'));
    writePair(path.join(root, 'fashion-mnist'), 't10k', 5);
    process.env.LICO_DATA_DIR = root;
    const ds = await fashionMnist({ split: 'test' });
    expect(ds.size).toBe(5);
    expect(Array.from(ds.labels)).toEqual([3, 3, 3, 3, 3]);
    expect(ds.images[784 + 1]).toBe((784 + 1) % 251);
  });

  it('uses the cache directory after LICO_DATA_DIR', async () => {
    const cache = mkdtempSync(path.join(tmpdir(), 'lico-cache-'));
    writePair(path.join(cache, 'datasets', 'mnist'), 'train', 4, 4, 7);
    process.env.LICO_CACHE_DIR = cache;
    delete process.env.LICO_DATA_DIR;
    const ds = await mnist({ split: 'train' });
    expect(ds.size).toBe(4);
    expect(ds.labels[0]).toBe(7);
  });

  it('says exactly what to do when nothing is found', async () => {
    process.env.LICO_DATA_DIR = mkdtempSync(path.join(tmpdir(), 'lico-empty-'));
    process.env.LICO_CACHE_DIR = mkdtempSync(path.join(tmpdir(), 'lico-cache-'));
    delete process.env.LICO_ALLOW_DOWNLOAD;
    const err = await mnist({ split: 'test' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/t10k-images-idx3-ubyte\.gz/);
    expect(msg).toMatch(/LICO_DATA_DIR/);
    expect(msg).toMatch(/download: true/);
    const err2 = await fashionMnist({ split: 'test', root: '/nonexistent-dir' }).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/'\/nonexistent-dir' \(given as root\)/);
    await expect(fashionMnist({ split: 'val' as 'test' })).rejects.toThrow(ConfigError);
  });

  it('downloads with a checksum through a fetch when allowed (fake fetch, no network)', async () => {
    process.env.LICO_DATA_DIR = mkdtempSync(path.join(tmpdir(), 'lico-empty-'));
    const cache = mkdtempSync(path.join(tmpdir(), 'lico-cache-'));
    process.env.LICO_CACHE_DIR = cache;
    const { locateDataFiles } = await import('./locate');
    const { createHash } = await import('node:crypto');
    const body = encodeIdx([2], Uint8Array.from([1, 2]));
    const md5 = createHash('md5').update(body).digest('hex');
    const urls: string[] = [];
    const fakeFetch = async (url: string): Promise<Response> => {
      urls.push(url);
      return new Response(Buffer.from(body), { headers: { 'content-length': String(body.length) } });
    };
    const found = await locateDataFiles({ dataset: 'x', files: { a: { names: ['a.idx'], url: 'https://example.org/a.idx', md5 } }, download: true, fetch: fakeFetch, progress: false });
    expect(urls).toEqual(['https://example.org/a.idx']);
    expect(found.a).toBe(path.join(cache, 'datasets', 'x', 'a.idx'));
    await expect(
      locateDataFiles({ dataset: 'y', files: { a: { names: ['a.idx'], url: 'https://example.org/a.idx', md5: '0'.repeat(32) } }, download: true, fetch: fakeFetch, progress: false }),
    ).rejects.toThrow(/MD5/i);
  });
});

describe('bad files', () => {
  it('rejects image and label counts that differ, naming both files', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'lico-bad-'));
    writePair(root, 'train', 5, 4);
    const err = await fashionMnist({ split: 'train', root }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as Error).message).toMatch(/train-labels-idx1-ubyte: holds 4 labels but .*train-images-idx3-ubyte\.gz holds 5 images/);
  });

  it('rejects labels outside the class range', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'lico-bad-'));
    writePair(root, 'train', 2, 2, 12);
    await expect(fashionMnist({ split: 'train', root })).rejects.toThrow(/label 12 at index 0 is outside 0\.\.9/);
  });

  it('rejects a truncated image file', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'lico-bad-'));
    writePair(root, 'train', 2);
    const full = encodeIdx([2, 28, 28], new Uint8Array(2 * 784));
    writeFileSync(path.join(root, 'train-images-idx3-ubyte.gz'), gzipSync(full.subarray(0, 1000)));
    await expect(fashionMnist({ split: 'train', root })).rejects.toThrow(/train-images-idx3-ubyte\.gz: truncated/);
  });
});

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FileFormatError, NotFoundError } from '@lico/core';
import { describe, expect, it } from 'vitest';
import { CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES, CIFAR10_CLASSES, cifar10, cifar100 } from './cifar';
import { extractTar } from './tar';

/** Record i: labels, then R plane = (i + p) % 256, G = (2i + p) % 256, B = (3i + p) % 256 for p in 0..1023. */
function records(labels: number[][]): Uint8Array {
  const lb = labels[0]!.length;
  const out = new Uint8Array(labels.length * (lb + 3072));
  labels.forEach((ls, i) => {
    const base = i * (lb + 3072);
    out.set(ls, base);
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) out[base + lb + c * 1024 + p] = ((c + 1) * i + p) % 256;
  });
  return out;
}

function tarOf(entries: Record<string, Uint8Array>): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, data] of Object.entries(entries)) {
    const h = new Uint8Array(512);
    h.set(Buffer.from(name), 0);
    h.set(Buffer.from(data.length.toString(8).padStart(11, '0')), 124);
    h[156] = '0'.charCodeAt(0);
    h.set(Buffer.from('ustar'), 257);
    blocks.push(h, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  return Buffer.concat(blocks);
}

describe('CIFAR', () => {
  it('reads CIFAR-10 batches in order, CHW records to HWC images', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'lico-cifar-'));
    const dir = path.join(root, 'cifar-10-batches-bin');
    mkdirSync(dir);
    for (let k = 1; k <= 5; k++) writeFileSync(path.join(dir, `data_batch_${k}.bin`), records([[k], [(k + 1) % 10]]));
    writeFileSync(path.join(dir, 'test_batch.bin'), records([[9]]));
    const ds = await cifar10({ split: 'train', root });
    expect(ds.size).toBe(10);
    expect(ds.imageShape).toEqual([32, 32, 3]);
    expect(Array.from(ds.labels)).toEqual([1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
    expect(ds.classNames).toEqual(CIFAR10_CLASSES);
    // Sample 1 (record i = 1 of batch 1): pixel p=5 → R = 1+5, G = 2+5, B = 3+5.
    expect(Array.from(ds.images.subarray(3072 + 15, 3072 + 18))).toEqual([6, 7, 8]);
    expect(ds.normalization.mean).toEqual([0.4914, 0.4822, 0.4465]);
    const test = await cifar10({ split: 'test', root: dir });
    expect(Array.from(test.labels)).toEqual([9]);
  });

  it('reads CIFAR-100 fine and coarse labels and names from the meta files', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'lico-cifar100-'));
    writeFileSync(path.join(root, 'train.bin'), records([[19, 99], [0, 3], [7, 42]]));
    const fine = await cifar100({ split: 'train', root });
    expect(Array.from(fine.labels)).toEqual([99, 3, 42]);
    expect(Array.from(fine.coarseLabels)).toEqual([19, 0, 7]);
    expect(fine.classNames).toHaveLength(100);
    expect(fine.classNames[99]).toBe('worm');
    const coarse = await cifar100({ split: 'train', root, labels: 'coarse' });
    expect(Array.from(coarse.labels)).toEqual([19, 0, 7]);
    expect(coarse.classNames).toEqual(CIFAR100_COARSE_CLASSES);
    expect(new Set(CIFAR100_FINE_CLASSES).size).toBe(100);
    expect(CIFAR100_COARSE_CLASSES).toHaveLength(20);
  });

  it('extracts the official tarball layout', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lico-tar-'));
    const tgz = path.join(dir, 'c.tar.gz');
    writeFileSync(tgz, gzipSync(tarOf({ 'cifar-10-batches-bin/test_batch.bin': records([[4], [5]]), 'cifar-10-batches-bin/batches.meta.txt': Buffer.from(CIFAR10_CLASSES.map((c) => c.toUpperCase()).join('\n')) })));
    const out = path.join(dir, 'out');
    const files = await extractTar(tgz, out);
    expect(files.map((f) => path.relative(out, f))).toEqual(['cifar-10-batches-bin/test_batch.bin', 'cifar-10-batches-bin/batches.meta.txt']);
    const ds = await cifar10({ split: 'test', root: out });
    expect(Array.from(ds.labels)).toEqual([4, 5]);
    expect(ds.classNames[0]).toBe('AIRPLANE');
    writeFileSync(tgz, tarOf({ '../evil': new Uint8Array(3) }));
    await expect(extractTar(tgz, out)).rejects.toThrow(/unsafe path '\.\.\/evil'/);
  });

  it('rejects truncated files and bad labels, naming the file', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'lico-cifar-bad-'));
    writeFileSync(path.join(root, 'test_batch.bin'), records([[1], [2]]).subarray(0, 5000));
    const err = await cifar10({ split: 'test', root }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as Error).message).toMatch(/test_batch\.bin: 5000 bytes is not a whole number of 3073-byte CIFAR records/);
    writeFileSync(path.join(root, 'test_batch.bin'), records([[1], [12]]));
    await expect(cifar10({ split: 'test', root })).rejects.toThrow(/test_batch\.bin: record 1: label 12 is outside 0\.\.9/);
    writeFileSync(path.join(root, 'test.bin'), records([[20, 1]]));
    await expect(cifar100({ split: 'test', root })).rejects.toThrow(/record 0: label 20 is outside 0\.\.19/);
    await expect(cifar10({ split: 'train', root })).rejects.toThrow(NotFoundError);
  });
});

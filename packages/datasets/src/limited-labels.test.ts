import { ConfigError } from '@lico/core';
import { describe, expect, it } from 'vitest';
import { createInMemoryDataset, type InMemoryDataset } from './dataset';
import { limitedLabels } from './limited-labels';
import { subset } from './subset';

/** 10 classes × 50 samples; image i is filled with i % 256 so copies can be traced. */
function tenClasses(perClass = 50): InMemoryDataset {
  const n = 10 * perClass;
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % 10);
  const images = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) images.fill(i % 256, i * 4, i * 4 + 4);
  return createInMemoryDataset({ name: 'ten', images, labels, imageShape: [2, 2, 1], classNames: 'abcdefghij'.split(''), normalization: { mean: [0], std: [1] } });
}

function counts(labels: Int32Array): number[] {
  const c = new Array(10).fill(0);
  for (const l of labels) c[l]++;
  return c;
}

describe('limitedLabels', () => {
  it('draws 40 / 250 labels class-balanced, with a disjoint balanced validation split', () => {
    const ds = tenClasses();
    const s40 = limitedLabels(ds, { labelsTotal: 40, seed: 1, validation: 50 });
    expect(s40.labelled.size).toBe(40);
    expect(counts(s40.labelled.labels)).toEqual(new Array(10).fill(4));
    expect(counts(s40.validation!.labels)).toEqual(new Array(10).fill(5));
    const all = [...s40.labelledIndices, ...s40.validationIndices, ...s40.unlabelledIndices].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(s40.unlabelled!.size).toBe(410);
    // The labelled subset holds copies of the right images and labels.
    for (let k = 0; k < 40; k++) {
      const i = s40.labelledIndices[k]!;
      expect(s40.labelled.labels[k]).toBe(ds.labels[i]);
      expect(s40.labelled.images[k * 4]).toBe(i % 256);
    }
    const s250 = limitedLabels(ds, { labelsTotal: 250, seed: 1 });
    // 250/10 = 25 per class exactly.
    expect(counts(s250.labelled.labels)).toEqual(new Array(10).fill(25));
    expect(s250.validation).toBeUndefined();
  });

  it('is a pure function of the seed', () => {
    const ds = tenClasses();
    const a = limitedLabels(ds, { perClass: 3, seed: 7, validation: 10 });
    const b = limitedLabels(ds, { perClass: 3, seed: 7, validation: 10 });
    const c = limitedLabels(ds, { perClass: 3, seed: 8, validation: 10 });
    expect(Array.from(a.labelledIndices)).toEqual(Array.from(b.labelledIndices));
    expect(Array.from(a.validationIndices)).toEqual(Array.from(b.validationIndices));
    expect(Array.from(a.labelledIndices)).not.toEqual(Array.from(c.labelledIndices));
  });

  it('spreads a total that does not divide evenly over seeded classes', () => {
    const s = limitedLabels(tenClasses(), { labelsTotal: 23, seed: 2 });
    const c = counts(s.labelled.labels);
    expect(c.reduce((x, y) => x + y, 0)).toBe(23);
    expect(c.filter((x) => x === 3)).toHaveLength(3);
    expect(c.filter((x) => x === 2)).toHaveLength(7);
  });

  it('fails clearly when a class is too small or the options are wrong', () => {
    expect(() => limitedLabels(tenClasses(5), { perClass: 4, seed: 0, validation: 20 })).toThrow(/class 0 \('a'\) has 5 samples but 4 labelled \+ 2 validation are asked for/);
    expect(() => limitedLabels(tenClasses(), { seed: 0 })).toThrow(ConfigError);
    expect(() => limitedLabels(tenClasses(), { perClass: 1, labelsTotal: 10, seed: 0 })).toThrow(/exactly one/);
    expect(() => limitedLabels(tenClasses(), { labelsTotal: 0, seed: 0 })).toThrow(/positive integer/);
  });
});

describe('subset', () => {
  it('copies the chosen samples in order and checks the indices', () => {
    const ds = tenClasses();
    const s = subset(ds, [5, 3, 5]);
    expect(s.size).toBe(3);
    expect(Array.from(s.labels)).toEqual([ds.labels[5], ds.labels[3], ds.labels[5]]);
    expect(Array.from(s.images.subarray(0, 8))).toEqual([5, 5, 5, 5, 3, 3, 3, 3]);
    expect(s.classNames).toBe(ds.classNames);
    expect(() => subset(ds, [500])).toThrow(/subset index 500 \(position 0\) is outside 0..499/);
  });
});

import { ConfigError, ShapeError } from '@lico/core';
import { loadGolden } from '@lico/testing';
import { describe, expect, it } from 'vitest';
import { ssim } from './ssim';

interface SsimGolden {
  cases: { name: string; height: number; width: number; win_size: number | null; a: number[]; b: number[]; ssim: number }[];
}
const golden = loadGolden<SsimGolden>(new URL('../__golden__/ssim-skimage.json', import.meta.url));

describe('ssim (Quantus ssim = skimage structural_similarity, data range of both maps)', () => {
  for (const c of golden.cases) {
    it(`${c.name}: equals skimage 0.19 within 1e-9`, () => {
      const ours = ssim(c.a, c.b, c.height, c.width, c.win_size === null ? {} : { window: c.win_size });
      expect(Math.abs(ours - c.ssim)).toBeLessThan(1e-9);
    });
  }

  it('one 3×3 window by hand: the sample-covariance formula', () => {
    const a = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const b = [8, 1, 6, 3, 5, 7, 4, 9, 2];
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const ua = mean(a);
    const ub = mean(b);
    const cov = (x: number[], y: number[]) => x.reduce((s, v, i) => s + (v - mean(x)) * (y[i]! - mean(y)), 0) / (x.length - 1);
    const L = 9; // max − min over both
    const c1 = (0.01 * L) ** 2;
    const c2 = (0.03 * L) ** 2;
    const expected = ((2 * ua * ub + c1) * (2 * cov(a, b) + c2)) / ((ua ** 2 + ub ** 2 + c1) * (cov(a, a) + cov(b, b) + c2));
    expect(ssim(a, b, 3, 3)).toBeCloseTo(expected, 12);
  });

  it('identical maps give 1 (constant ones too); a map too small for 3×3 windows gives NaN; sizes and windows are checked', () => {
    const a = Array.from({ length: 20 }, (_, i) => Math.sin(i));
    expect(ssim(a, a, 4, 5)).toBeCloseTo(1, 12);
    expect(ssim([2, 2, 2, 2], [2, 2, 2, 2], 2, 2)).toBeNaN();
    expect(ssim(new Array(9).fill(2), new Array(9).fill(2), 3, 3)).toBe(1);
    expect(() => ssim([1, 2], [1, 2, 3], 1, 2)).toThrow(ShapeError);
    expect(() => ssim(a, a, 4, 5, { window: 4 })).toThrow(ConfigError);
  });
});

import { describe, expect, test } from 'vitest';
import { firstComponentProjection } from './eigen-cam';

/** X = s1·a·bᵀ + s2·c·dᵀ + offsets per channel, with a ⟂ c ⟂ 1 (positions) and b ⟂ d (channels), all unit. */
function rankTwo(positions: number, channels: number, s1: number, s2: number) {
  const unit = (v: number[]) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const centred = (f: (i: number) => number, n: number) => {
    const v = Array.from({ length: n }, (_, i) => f(i));
    const mean = v.reduce((p, q) => p + q, 0) / n;
    return v.map((x) => x - mean);
  };
  const a = unit(centred((i) => Math.cos((2 * Math.PI * i) / positions), positions));
  const c = unit(centred((i) => Math.sin((2 * Math.PI * i) / positions), positions));
  const b = unit(Array.from({ length: channels }, (_, k) => 1 + (k % 3)));
  const d0 = Array.from({ length: channels }, (_, k) => ((k * 5) % 7) - 3);
  const dot = d0.reduce((p, q, k) => p + q * b[k]!, 0);
  const d = unit(d0.map((x, k) => x - dot * b[k]!));
  const data = new Float32Array(positions * channels);
  for (let p = 0; p < positions; p++) for (let k = 0; k < channels; k++) data[p * channels + k] = s1 * a[p]! * b[k]! + s2 * c[p]! * d[k]! + 0.25 * k;
  return { data, a };
}

describe('firstComponentProjection', () => {
  // Fewer positions than channels (iterates XXᵀ) and more (iterates XᵀX): the projection on the
  // first right singular vector is s1·a up to sign; the sign makes it correlate with the channel sum.
  for (const [positions, channels] of [
    [16, 40],
    [49, 12],
  ] as const) {
    test(`${positions} positions × ${channels} channels: s1·a (closed form), sign by the channel sum`, () => {
      const { data, a } = rankTwo(positions, channels, 3, 1.2);
      const got = firstComponentProjection(data, positions, channels);
      let raw = 0;
      for (let p = 0; p < positions; p++) for (let k = 0; k < channels; k++) raw += a[p]! * data[p * channels + k]!;
      const sign = raw >= 0 ? 1 : -1;
      for (let p = 0; p < positions; p++) expect(got[p]!).toBeCloseTo(sign * 3 * a[p]!, 5);
    });
  }

  test('a constant activation (zero after centring) gives zeros, not NaN', () => {
    for (const [p, c] of [
      [4, 9],
      [9, 4],
    ]) {
      expect(Array.from(firstComponentProjection(new Float32Array(p * c).fill(2.5), p, c))).toEqual(new Array(p).fill(0));
    }
  });
});

import { describe, expect, it } from 'vitest';
import { meanInterval, pairedDifference, regularizedBeta, studentTCdf, studentTQuantile } from './statistics';

describe('Student t', () => {
  it('quantiles equal the published t(0.975, df) values to 1e-6', () => {
    // Standard tables (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2), six decimals.
    const table: [number, number][] = [
      [1, 12.706205],
      [2, 4.302653],
      [4, 2.776445],
      [10, 2.228139],
      [30, 2.042272],
      [100, 1.983972],
    ];
    for (const [df, t] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 5);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.776445, 5);
    expect(studentTQuantile(0.5, 7)).toBe(0);
  });

  it('CDF closed forms: df 1 is the Cauchy CDF, df 2 is 1/2 + t / (2 sqrt(2 + t^2))', () => {
    for (const t of [-3, -0.5, 0, 0.7, 4]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 12);
    }
  });

  it('regularised incomplete beta: I_x(a,1) = x^a, I_x(1,b) = 1-(1-x)^b, symmetry', () => {
    for (const x of [0.1, 0.5, 0.93]) {
      expect(regularizedBeta(x, 3, 1)).toBeCloseTo(x ** 3, 12);
      expect(regularizedBeta(x, 1, 2.5)).toBeCloseTo(1 - (1 - x) ** 2.5, 12);
      expect(regularizedBeta(x, 2.2, 0.5) + regularizedBeta(1 - x, 0.5, 2.2)).toBeCloseTo(1, 12);
    }
  });

  it('rejects p outside (0,1) and df <= 0', () => {
    expect(() => studentTQuantile(1, 3)).toThrow(/p must be in/);
    expect(() => studentTQuantile(0.9, 0)).toThrow(/df must be > 0/);
  });
});

describe('meanInterval / pairedDifference', () => {
  it('mean ± t(0.975, n-1)·sd/√n, by hand', () => {
    const m = meanInterval([1, 2, 3, 4, 5]);
    const half = (2.7764451051977987 * Math.sqrt(2.5)) / Math.sqrt(5);
    expect(m.mean).toBe(3);
    expect(m.sd).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(m.ci95![0]).toBeCloseTo(3 - half, 8);
    expect(m.ci95![1]).toBeCloseTo(3 + half, 8);
    expect(meanInterval([0.7])).toEqual({ n: 1, mean: 0.7, sd: null, ci95: null });
    expect(() => meanInterval([])).toThrow(/no values/);
    expect(() => meanInterval([1, Number.NaN])).toThrow(/not finite/);
  });

  it('paired t: a difference whose t statistic is t(0.975, 4) has p = 0.05', () => {
    // Differences with mean d and sd s: t = d / (s/√5). Choose d so that t = 2.776445.
    const base = [0.5, 0.6, 0.55, 0.7, 0.65];
    const noise = [-1, 0.5, 0, 1, -0.5]; // mean 0, sd = sqrt(2.5/4)
    const s = Math.sqrt(2.5 / 4) * 0.01;
    const d = (2.7764451051977987 * s) / Math.sqrt(5);
    const arm = base.map((b, i) => b + d + 0.01 * noise[i]!);
    const r = pairedDifference([0, 1, 2, 3, 4], arm, base);
    expect(r.mean).toBeCloseTo(d, 12);
    expect(r.p).toBeCloseTo(0.05, 6);
    expect(r.ci95![0]).toBeCloseTo(0, 10); // the 95 % interval just touches 0
    expect(r.method).toMatch(/paired t/);
    // Identical arms: difference 0, no spread, no p.
    expect(pairedDifference([0, 1], [0.5, 0.6], [0.5, 0.6])).toMatchObject({ mean: 0, sd: 0, p: null });
    expect(() => pairedDifference([0, 1], [1], [1, 2])).toThrow(/must be as many/);
  });
});

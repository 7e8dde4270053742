/**
 * The statistics of a study: means with Student-t confidence intervals, paired differences, and the
 * t quantiles they need (from the regularised incomplete beta function, no tables).
 */
import { ConfigError } from '@lico/core';

/** `ln Γ(x)` for x > 0 (Lanczos, g = 7, 9 terms; relative error < 1e-13). */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function `I_x(a, b)`. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** The CDF of Student's t distribution with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * regularizedBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The `p`-quantile of Student's t with `df` degrees of freedom (bisection on the CDF, to 1e-12). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new ConfigError(`studentTQuantile: p must be in (0, 1), got ${p}.`);
  if (!(df > 0)) throw new ConfigError(`studentTQuantile: df must be > 0, got ${df}.`);
  if (p === 0.5) return 0;
  let lo = -1;
  let hi = 1;
  while (studentTCdf(lo, df) > p) lo *= 2;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** A mean with its 95 % interval. */
export interface MeanInterval {
  /** Values used. */
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (n − 1 in the denominator); null for n < 2. */
  readonly sd: number | null;
  /** 95 % confidence interval `mean ± t(0.975, n−1)·sd/√n`; null for n < 2. */
  readonly ci95: readonly [number, number] | null;
}

/** The mean of `values` with a Student-t 95 % confidence interval. Non-finite values are an error. */
export function meanInterval(values: readonly number[]): MeanInterval {
  if (values.length === 0) throw new ConfigError('meanInterval: no values.');
  const bad = values.find((v) => !Number.isFinite(v));
  if (bad !== undefined) throw new ConfigError(`meanInterval: a value is not finite (${bad}).`);
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, sd: null, ci95: null };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const half = (studentTQuantile(0.975, n - 1) * sd) / Math.sqrt(n);
  return { n, mean, sd, ci95: [mean - half, mean + half] };
}

/** A paired difference (arm − baseline over the same seeds). */
export interface PairedDifference extends MeanInterval {
  /** The seeds paired. */
  readonly seeds: readonly number[];
  /** Two-sided p-value of the paired t test (null for n < 2 or zero spread). */
  readonly p: number | null;
  readonly method: 'paired t (Student, n-1 degrees of freedom)';
}

/** The paired t analysis of `arm[i] − baseline[i]`. */
export function pairedDifference(seeds: readonly number[], arm: readonly number[], baseline: readonly number[]): PairedDifference {
  if (arm.length !== baseline.length || arm.length !== seeds.length) {
    throw new ConfigError(`pairedDifference: ${seeds.length} seeds, ${arm.length} arm values and ${baseline.length} baseline values must be as many.`);
  }
  const diffs = arm.map((v, i) => v - baseline[i]!);
  const m = meanInterval(diffs);
  let p: number | null = null;
  if (m.sd !== null && m.sd > 0) {
    const t = m.mean / (m.sd / Math.sqrt(m.n));
    p = 2 * (1 - studentTCdf(Math.abs(t), m.n - 1));
  }
  return { ...m, seeds: [...seeds], p, method: 'paired t (Student, n-1 degrees of freedom)' };
}

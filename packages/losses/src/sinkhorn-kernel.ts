/**
 * The Sinkhorn iterations on plain arrays (float64), shared by every backend. Potentials are kept
 * in the log domain, scaled by `1/ε` (`f = u/ε`, `g = v/ε`), and each update is the spec's
 *
 *     u ← ε (log μ − logsumexp_b((−C + u_a + v_b)/ε)) + u   (= ε log μ − ε logsumexp_b((v_b − C)/ε))
 *     v ← ε (log ν − logsumexp_a((−C + u_a + v_b)/ε)) + v
 *
 * Each logsumexp is evaluated exactly. Fast path: `logsumexp_b(g_b − C_ab/ε)` factorises as
 * `log Σ_b K_ab G_b + max g − min_b C_ab/ε` with `K_ab = exp(−(C_ab − min_b C_ab)/ε)` computed once
 * and `G_b = exp(g_b − max g)` once per iteration, so an iteration costs multiply–adds, not
 * exponentials. The fast path is taken only when its sum is ≥ 1e-250: then no term that matters
 * can have underflowed (each lost term is < 1e-308), so it agrees with the max-shifted formula to
 * rounding. Otherwise (tiny ε, huge costs) that row falls back to the max-shifted logsumexp.
 */

/** Inputs of {@link sinkhornKernel}: flat row-major arrays. */
export interface SinkhornKernelInput {
  /** Cost `[N,P,Q]`. */
  readonly cost: ArrayLike<number>;
  readonly n: number;
  readonly p: number;
  readonly q: number;
  /** log of the source weights `[N,P]`. */
  readonly logMu: Float64Array;
  /** log of the target weights `[N,Q]`. */
  readonly logNu: Float64Array;
  readonly epsilon: number;
  readonly maxIterations: number;
  readonly tolerance: number;
}

/** Output of {@link sinkhornKernel}. */
export interface SinkhornKernelOutput {
  /** The plan `exp((−C + u + v)/ε)`, `[N,P,Q]`. */
  readonly plan: Float32Array;
  /** Potentials `u` `[N,P]` and `v` `[N,Q]` (unscaled, in cost units). */
  readonly u: Float64Array;
  readonly v: Float64Array;
  /** Iterations run (1…maxIterations). */
  readonly iterations: number;
  /** Batch-mean L1 change of `u` at the last iteration. */
  readonly lastChange: number;
}

const SAFE_SUM = 1e-250;

/** Runs batched log-domain Sinkhorn on flat arrays. */
export function sinkhornKernel(input: SinkhornKernelInput): SinkhornKernelOutput {
  const { n, p, q, logMu, logNu, epsilon, maxIterations, tolerance } = input;
  const pq = p * q;
  const size = n * pq;
  const inv = 1 / epsilon;
  // Scaled cost C/ε.
  const ce = new Float64Array(size);
  for (let i = 0; i < size; i++) ce[i] = input.cost[i]! * inv;
  // Row-shifted and column-shifted kernels.
  const rowMin = new Float64Array(n * p);
  const colMin = new Float64Array(n * q);
  const kRow = new Float64Array(size);
  const kCol = new Float64Array(size);
  for (let s = 0; s < n; s++) {
    const base = s * pq;
    for (let b = 0; b < q; b++) colMin[s * q + b] = Infinity;
    for (let a = 0; a < p; a++) {
      let m = Infinity;
      const o = base + a * q;
      for (let b = 0; b < q; b++) {
        const c = ce[o + b]!;
        if (c < m) m = c;
        if (c < colMin[s * q + b]!) colMin[s * q + b] = c;
      }
      rowMin[s * p + a] = m;
    }
    for (let a = 0; a < p; a++) {
      const o = base + a * q;
      const m = rowMin[s * p + a]!;
      for (let b = 0; b < q; b++) {
        const c = ce[o + b]!;
        kRow[o + b] = Math.exp(m - c);
        kCol[o + b] = Math.exp(colMin[s * q + b]! - c);
      }
    }
  }

  const f = new Float64Array(n * p);
  const g = new Float64Array(n * q);
  const expG = new Float64Array(q);
  const expF = new Float64Array(p);
  const colSum = new Float64Array(q);
  const colMax = new Float64Array(q);
  let iterations = 0;
  let change = Infinity;
  while (iterations < maxIterations) {
    iterations++;
    let total = 0;
    for (let s = 0; s < n; s++) {
      const base = s * pq;
      const fo = s * p;
      const go = s * q;
      // ---- u update: f_a = log μ_a − logsumexp_b(g_b − ce_ab)
      let gMax = -Infinity;
      for (let b = 0; b < q; b++) if (g[go + b]! > gMax) gMax = g[go + b]!;
      for (let b = 0; b < q; b++) expG[b] = Math.exp(g[go + b]! - gMax);
      let l1 = 0;
      for (let a = 0; a < p; a++) {
        const o = base + a * q;
        let sum = 0;
        for (let b = 0; b < q; b++) sum += kRow[o + b]! * expG[b]!;
        let lse: number;
        if (sum >= SAFE_SUM) {
          lse = Math.log(sum) + gMax - rowMin[fo + a]!;
        } else {
          let m = -Infinity;
          for (let b = 0; b < q; b++) {
            const t = g[go + b]! - ce[o + b]!;
            if (t > m) m = t;
          }
          let sm = 0;
          for (let b = 0; b < q; b++) sm += Math.exp(g[go + b]! - ce[o + b]! - m);
          lse = m + Math.log(sm);
        }
        const fNew = logMu[fo + a]! - lse;
        l1 += Math.abs(fNew - f[fo + a]!);
        f[fo + a] = fNew;
      }
      total += l1 * epsilon;
      // ---- v update: g_b = log ν_b − logsumexp_a(f_a − ce_ab)
      let fMax = -Infinity;
      for (let a = 0; a < p; a++) if (f[fo + a]! > fMax) fMax = f[fo + a]!;
      for (let a = 0; a < p; a++) expF[a] = Math.exp(f[fo + a]! - fMax);
      colSum.fill(0);
      for (let a = 0; a < p; a++) {
        const o = base + a * q;
        const w = expF[a]!;
        for (let b = 0; b < q; b++) colSum[b] = colSum[b]! + kCol[o + b]! * w;
      }
      let needSlow = false;
      for (let b = 0; b < q; b++) if (!(colSum[b]! >= SAFE_SUM)) needSlow = true;
      if (needSlow) {
        colMax.fill(-Infinity);
        for (let a = 0; a < p; a++) {
          const o = base + a * q;
          const fa = f[fo + a]!;
          for (let b = 0; b < q; b++) {
            const t = fa - ce[o + b]!;
            if (t > colMax[b]!) colMax[b] = t;
          }
        }
      }
      for (let b = 0; b < q; b++) {
        let lse: number;
        if (colSum[b]! >= SAFE_SUM) {
          lse = Math.log(colSum[b]!) + fMax - colMin[go + b]!;
        } else {
          const m = colMax[b]!;
          let sm = 0;
          for (let a = 0; a < p; a++) sm += Math.exp(f[fo + a]! - ce[base + a * q + b]! - m);
          lse = m + Math.log(sm);
        }
        g[go + b] = logNu[go + b]! - lse;
      }
    }
    change = total / n;
    if (change < tolerance) break;
  }

  const plan = new Float32Array(size);
  for (let s = 0; s < n; s++) {
    const base = s * pq;
    for (let a = 0; a < p; a++) {
      const fa = f[s * p + a]!;
      const o = base + a * q;
      for (let b = 0; b < q; b++) plan[o + b] = Math.exp(fa + g[s * q + b]! - ce[o + b]!);
    }
  }
  const u = new Float64Array(n * p);
  const v = new Float64Array(n * q);
  for (let i = 0; i < u.length; i++) u[i] = f[i]! * epsilon;
  for (let i = 0; i < v.length; i++) v[i] = g[i]! * epsilon;
  return { plan, u, v, iterations, lastChange: change };
}

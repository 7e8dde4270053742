/**
 * The Sinkhorn iterations on plain arrays (float64), shared by every backend. Potentials are kept
 * in the log domain, scaled by `1/ε` (`f = u/ε`, `g = v/ε`), and each update is the spec's
 *
 *     u ← ε (log μ − logsumexp_b((−C + u_a + v_b)/ε)) + u   (= ε log μ − ε logsumexp_b((v_b − C)/ε))
 *     v ← ε (log ν − logsumexp_a((−C + u_a + v_b)/ε)) + v
 *
 * Each logsumexp is evaluated exactly. Fast path: with `K_ab = exp(m_a − C_ab/ε)`, `m_a = min_b C_ab/ε`,
 * computed once, `logsumexp_b(g_b − C_ab/ε) = log Σ_b K_ab exp(g_b − max g) + max g − m_a` and
 * `logsumexp_a(f_a − C_ab/ε) = log Σ_a K_ab exp(w_a − max w) + max w` with `w_a = f_a − m_a`, so an
 * iteration costs multiply–adds and `P + Q` exponentials per sample, not `2PQ`. A fast-path sum is
 * used only when it is ≥ 1e-250: each term lost to underflow is < 1e-308, so the result agrees
 * with the max-shifted formula to rounding. Otherwise (tiny ε, huge costs) that row or column
 * falls back to the max-shifted logsumexp. The plan is formed the same way, with an exact
 * fallback for rows whose scale factor exceeds 1e250.
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
const SAFE_SCALE = 1e250;

/** Runs batched log-domain Sinkhorn on flat arrays. */
export function sinkhornKernel(input: SinkhornKernelInput): SinkhornKernelOutput {
  const { n, p, q, logMu, logNu, epsilon, maxIterations, tolerance } = input;
  const cost = input.cost;
  const pq = p * q;
  const size = n * pq;
  const inv = 1 / epsilon;
  // Row minima of C/ε and the row-shifted Gibbs kernel K.
  const rowMin = new Float64Array(n * p);
  const kernel = new Float64Array(size);
  for (let r = 0; r < n * p; r++) {
    const o = r * q;
    let m = Infinity;
    for (let b = 0; b < q; b++) {
      const c = cost[o + b]! * inv;
      if (c < m) m = c;
    }
    rowMin[r] = m;
    for (let b = 0; b < q; b++) kernel[o + b] = Math.exp(m - cost[o + b]! * inv);
  }

  const f = new Float64Array(n * p);
  const g = new Float64Array(n * q);
  const expG = new Float64Array(q);
  const expW = new Float64Array(p);
  const colSum = new Float64Array(q);
  let iterations = 0;
  let change = Infinity;
  while (iterations < maxIterations) {
    iterations++;
    let total = 0;
    for (let s = 0; s < n; s++) {
      const base = s * pq;
      const fo = s * p;
      const go = s * q;
      // ---- u update: f_a = log μ_a − logsumexp_b(g_b − C_ab/ε)
      let gMax = -Infinity;
      for (let b = 0; b < q; b++) if (g[go + b]! > gMax) gMax = g[go + b]!;
      for (let b = 0; b < q; b++) expG[b] = Math.exp(g[go + b]! - gMax);
      let l1 = 0;
      for (let a = 0; a < p; a++) {
        const o = base + a * q;
        let sum = 0;
        for (let b = 0; b < q; b++) sum += kernel[o + b]! * expG[b]!;
        let lse: number;
        if (sum >= SAFE_SUM) {
          lse = Math.log(sum) + gMax - rowMin[fo + a]!;
        } else {
          let m = -Infinity;
          for (let b = 0; b < q; b++) {
            const t = g[go + b]! - cost[o + b]! * inv;
            if (t > m) m = t;
          }
          let sm = 0;
          for (let b = 0; b < q; b++) sm += Math.exp(g[go + b]! - cost[o + b]! * inv - m);
          lse = m + Math.log(sm);
        }
        const fNew = logMu[fo + a]! - lse;
        l1 += Math.abs(fNew - f[fo + a]!);
        f[fo + a] = fNew;
      }
      total += l1 * epsilon;
      // ---- v update: g_b = log ν_b − logsumexp_a(f_a − C_ab/ε), with w_a = f_a − m_a
      let wMax = -Infinity;
      for (let a = 0; a < p; a++) {
        const w = f[fo + a]! - rowMin[fo + a]!;
        if (w > wMax) wMax = w;
      }
      for (let a = 0; a < p; a++) expW[a] = Math.exp(f[fo + a]! - rowMin[fo + a]! - wMax);
      colSum.fill(0);
      for (let a = 0; a < p; a++) {
        const o = base + a * q;
        const w = expW[a]!;
        for (let b = 0; b < q; b++) colSum[b] = colSum[b]! + kernel[o + b]! * w;
      }
      for (let b = 0; b < q; b++) {
        let lse: number;
        if (colSum[b]! >= SAFE_SUM) {
          lse = Math.log(colSum[b]!) + wMax;
        } else {
          let m = -Infinity;
          for (let a = 0; a < p; a++) {
            const t = f[fo + a]! - cost[base + a * q + b]! * inv;
            if (t > m) m = t;
          }
          let sm = 0;
          for (let a = 0; a < p; a++) sm += Math.exp(f[fo + a]! - cost[base + a * q + b]! * inv - m);
          lse = m + Math.log(sm);
        }
        g[go + b] = logNu[go + b]! - lse;
      }
    }
    change = total / n;
    if (change < tolerance) break;
  }

  // Plan P_ab = exp(f_a + g_b − C_ab/ε) = K_ab · exp(f_a − m_a + max g) · exp(g_b − max g).
  const plan = new Float32Array(size);
  for (let s = 0; s < n; s++) {
    const base = s * pq;
    const go = s * q;
    let gMax = -Infinity;
    for (let b = 0; b < q; b++) if (g[go + b]! > gMax) gMax = g[go + b]!;
    for (let b = 0; b < q; b++) expG[b] = Math.exp(g[go + b]! - gMax);
    for (let a = 0; a < p; a++) {
      const r = s * p + a;
      const o = base + a * q;
      const scale = Math.exp(f[r]! - rowMin[r]! + gMax);
      if (scale <= SAFE_SCALE) {
        for (let b = 0; b < q; b++) plan[o + b] = kernel[o + b]! * scale * expG[b]!;
      } else {
        const fa = f[r]!;
        for (let b = 0; b < q; b++) plan[o + b] = Math.exp(fa + g[go + b]! - cost[o + b]! * inv);
      }
    }
  }
  const u = new Float64Array(n * p);
  const v = new Float64Array(n * q);
  for (let i = 0; i < u.length; i++) u[i] = f[i]! * epsilon;
  for (let i = 0; i < v.length; i++) v[i] = g[i]! * epsilon;
  return { plan, u, v, iterations, lastChange: change };
}

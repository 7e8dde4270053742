// WebAssembly SIMD kernels of @lico/losses' optimal-transport loss (forward cost, Sinkhorn,
// backward). Built by tools/wasm/build-losses-wasm.mjs with Debian's clang 14 + wasm-ld:
//   clang --target=wasm32 -O3 -msimd128 -nostdlib ... -> src/generated/ot-kernels-wasm.ts
// No libc: exp and log are imported from the host (JavaScript's Math.exp / Math.log, which V8
// calls from wasm without a JS frame), sqrt is the wasm instruction. The TypeScript side
// (src/ot-wasm.ts) owns the memory layout: every pointer below is a byte offset it chose.
//
// The arithmetic mirrors the TypeScript fallback (src/sinkhorn-kernel.ts, src/detached-ot-loss.ts)
// operation for operation in float64, except the dot products over D, which are float32 SIMD sums
// (as the backend's matMul is on the fallback path).

#include <wasm_simd128.h>

typedef __SIZE_TYPE__ size_t;

__attribute__((import_module("env"), import_name("exp"))) double host_exp(double);
__attribute__((import_module("env"), import_name("log"))) double host_log(double);

#define SAFE_SUM 1e-250
#define SAFE_SCALE 1e250
#define EXPORT __attribute__((visibility("default")))

static inline float dot4(const float *a, const float *b, int d) {
  v128_t acc0 = wasm_f32x4_splat(0.0f), acc1 = wasm_f32x4_splat(0.0f);
  int k = 0;
  for (; k + 8 <= d; k += 8) {
    acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_v128_load(a + k), wasm_v128_load(b + k)));
    acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(wasm_v128_load(a + k + 4), wasm_v128_load(b + k + 4)));
  }
  for (; k + 4 <= d; k += 4) acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_v128_load(a + k), wasm_v128_load(b + k)));
  v128_t acc = wasm_f32x4_add(acc0, acc1);
  float s = wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) + wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
  for (; k < d; k++) s += a[k] * b[k];
  return s;
}

/**
 * Normalised squared cost. x [n,p,d], y [n,q,d] (float32). Writes xx [n,p], yy [n,q] (squared
 * norms, float32), r [n,p], s [n,q] (1/max(norm, sqrt(floor)), float64), cross [n,p,q] (x·y,
 * float32) and cost [n,p,q] = fround(xx r² + yy s² − 2 cross r s), clamped at 0 (NaN kept).
 * Returns the number of non-finite costs.
 */
EXPORT int ot_cost(const float *x, const float *y, int n, int p, int q, int d, double floor, float *xx, float *yy, double *r, double *s,
                   float *cross, float *cost) {
  for (int i = 0; i < n * p; i++) {
    float v = dot4(x + (size_t)i * d, x + (size_t)i * d, d);
    xx[i] = v;
    double m = v > floor ? v : floor;
    r[i] = 1.0 / __builtin_sqrt(m);
  }
  for (int i = 0; i < n * q; i++) {
    float v = dot4(y + (size_t)i * d, y + (size_t)i * d, d);
    yy[i] = v;
    double m = v > floor ? v : floor;
    s[i] = 1.0 / __builtin_sqrt(m);
  }
  int bad = 0;
  for (int k = 0; k < n; k++) {
    const float *yk = y + (size_t)k * q * d;
    for (int a = 0; a < p; a++) {
      const float *xa = x + ((size_t)k * p + a) * d;
      double ra = r[k * p + a];
      double xn = (double)xx[k * p + a] * ra * ra;
      size_t o = ((size_t)k * p + a) * q;
      for (int b = 0; b < q; b++) {
        float cr = dot4(xa, yk + (size_t)b * d, d);
        cross[o + b] = cr;
        double sb = s[k * q + b];
        float c = (float)(xn + (double)yy[k * q + b] * sb * sb - 2.0 * (double)cr * ra * sb);
        if (c != c) bad++;
        else if (c - c != 0.0f) bad++;
        cost[o + b] = c > 0.0f ? c : (c != c ? c : 0.0f);
      }
    }
  }
  return bad;
}

/**
 * Batched log-domain Sinkhorn on cost [n,p,q] (float32), exactly the algorithm of
 * src/sinkhorn-kernel.ts (kernel-scaling fast path with exact max-shifted fallbacks). logMu [n,p],
 * logNu [n,q]; scratch: rowMin [n,p], kernel [n,p,q] (float64), f [n,p], g [n,q], expG [q],
 * expW [p], colSum [q]. Writes plan [n,p,q] (float32) and the scaled potentials f = u/ε, g = v/ε.
 * Returns the iterations run; *lastChange receives the batch-mean L1 change of u.
 */
EXPORT int ot_sinkhorn(const float *cost, int n, int p, int q, const double *logMu, const double *logNu, double epsilon, int maxIterations,
                       double tolerance, double *rowMin, double *kernel, double *f, double *g, double *expG, double *expW, double *colSum,
                       float *plan, double *lastChange) {
  const int pq = p * q;
  const double inv = 1.0 / epsilon;
  for (int r = 0; r < n * p; r++) {
    size_t o = (size_t)r * q;
    double m = __builtin_inf();
    for (int b = 0; b < q; b++) {
      double c = (double)cost[o + b] * inv;
      if (c < m) m = c;
    }
    rowMin[r] = m;
    for (int b = 0; b < q; b++) kernel[o + b] = host_exp(m - (double)cost[o + b] * inv);
  }
  for (int i = 0; i < n * p; i++) f[i] = 0;
  for (int i = 0; i < n * q; i++) g[i] = 0;
  int iterations = 0;
  double change = __builtin_inf();
  while (iterations < maxIterations) {
    iterations++;
    double total = 0;
    for (int sIdx = 0; sIdx < n; sIdx++) {
      size_t base = (size_t)sIdx * pq;
      int fo = sIdx * p;
      int go = sIdx * q;
      // u update: f_a = log mu_a - logsumexp_b(g_b - C_ab/eps)
      double gMax = -__builtin_inf();
      for (int b = 0; b < q; b++) if (g[go + b] > gMax) gMax = g[go + b];
      for (int b = 0; b < q; b++) expG[b] = host_exp(g[go + b] - gMax);
      double l1 = 0;
      for (int a = 0; a < p; a++) {
        size_t o = base + (size_t)a * q;
        double sum = 0;
        int b = 0;
        v128_t acc = wasm_f64x2_splat(0.0);
        for (; b + 2 <= q; b += 2) acc = wasm_f64x2_add(acc, wasm_f64x2_mul(wasm_v128_load(kernel + o + b), wasm_v128_load(expG + b)));
        sum = wasm_f64x2_extract_lane(acc, 0) + wasm_f64x2_extract_lane(acc, 1);
        for (; b < q; b++) sum += kernel[o + b] * expG[b];
        double lse;
        if (sum >= SAFE_SUM) {
          lse = host_log(sum) + gMax - rowMin[fo + a];
        } else {
          double m = -__builtin_inf();
          for (int bb = 0; bb < q; bb++) {
            double t = g[go + bb] - (double)cost[o + bb] * inv;
            if (t > m) m = t;
          }
          double sm = 0;
          for (int bb = 0; bb < q; bb++) sm += host_exp(g[go + bb] - (double)cost[o + bb] * inv - m);
          lse = m + host_log(sm);
        }
        double fNew = logMu[fo + a] - lse;
        double dlt = fNew - f[fo + a];
        l1 += dlt < 0 ? -dlt : dlt;
        f[fo + a] = fNew;
      }
      total += l1 * epsilon;
      // v update: g_b = log nu_b - logsumexp_a(f_a - C_ab/eps), with w_a = f_a - m_a
      double wMax = -__builtin_inf();
      for (int a = 0; a < p; a++) {
        double w = f[fo + a] - rowMin[fo + a];
        if (w > wMax) wMax = w;
      }
      for (int a = 0; a < p; a++) expW[a] = host_exp(f[fo + a] - rowMin[fo + a] - wMax);
      for (int b = 0; b < q; b++) colSum[b] = 0;
      for (int a = 0; a < p; a++) {
        size_t o = base + (size_t)a * q;
        v128_t w2 = wasm_f64x2_splat(expW[a]);
        int b = 0;
        for (; b + 2 <= q; b += 2) wasm_v128_store(colSum + b, wasm_f64x2_add(wasm_v128_load(colSum + b), wasm_f64x2_mul(wasm_v128_load(kernel + o + b), w2)));
        for (; b < q; b++) colSum[b] += kernel[o + b] * expW[a];
      }
      for (int b = 0; b < q; b++) {
        double lse;
        if (colSum[b] >= SAFE_SUM) {
          lse = host_log(colSum[b]) + wMax;
        } else {
          double m = -__builtin_inf();
          for (int a = 0; a < p; a++) {
            double t = f[fo + a] - (double)cost[base + (size_t)a * q + b] * inv;
            if (t > m) m = t;
          }
          double sm = 0;
          for (int a = 0; a < p; a++) sm += host_exp(f[fo + a] - (double)cost[base + (size_t)a * q + b] * inv - m);
          lse = m + host_log(sm);
        }
        g[go + b] = logNu[go + b] - lse;
      }
    }
    change = total / n;
    if (change < tolerance) break;
  }
  // plan P_ab = exp(f_a + g_b - C_ab/eps) = K_ab exp(f_a - m_a + max g) exp(g_b - max g)
  for (int sIdx = 0; sIdx < n; sIdx++) {
    size_t base = (size_t)sIdx * pq;
    int go = sIdx * q;
    double gMax = -__builtin_inf();
    for (int b = 0; b < q; b++) if (g[go + b] > gMax) gMax = g[go + b];
    for (int b = 0; b < q; b++) expG[b] = host_exp(g[go + b] - gMax);
    for (int a = 0; a < p; a++) {
      int r = sIdx * p + a;
      size_t o = base + (size_t)a * q;
      double scale = host_exp(f[r] - rowMin[r] + gMax);
      if (scale <= SAFE_SCALE) {
        for (int b = 0; b < q; b++) plan[o + b] = (float)(kernel[o + b] * scale * expG[b]);
      } else {
        double fa = f[r];
        for (int b = 0; b < q; b++) plan[o + b] = (float)host_exp(fa + g[go + b] - (double)cost[o + b] * inv);
      }
    }
  }
  *lastChange = change;
  return iterations;
}

/** Σ plan·cost in float64 (the loss before dividing by n). */
EXPORT double ot_dot(const float *plan, const float *cost, int size) {
  double total = 0;
  for (int i = 0; i < size; i++) total += (double)plan[i] * (double)cost[i];
  return total;
}

/**
 * Backward of (scale·n)·Σ plan·cost with the plan held constant, as src/detached-ot-loss.ts:
 * gx [n,p,d] and gy [n,q,d] (float32). `scale` = upstream gradient / n. Scratch: dCross [n,p,q],
 * dxx [n,p], dyy [n,q] (float64).
 */
EXPORT void ot_backward(const float *x, const float *y, int n, int p, int q, int d, double floor, const float *xx, const float *yy,
                        const double *r, const double *s, const float *cross, const float *cost, const float *plan, double scale,
                        float *dCross, double *dxx, double *dyy, float *gx, float *gy) {
  for (int i = 0; i < n * q; i++) dyy[i] = 0;
  for (int k = 0; k < n; k++) {
    for (int a = 0; a < p; a++) {
      double ra = r[k * p + a];
      int xUnder = (double)xx[k * p + a] <= floor;
      size_t o = ((size_t)k * p + a) * q;
      double accX = 0;
      for (int b = 0; b < q; b++) {
        if (!(cost[o + b] > 0.0f)) {  // the clamp at 0 passes no gradient
          dCross[o + b] = 0.0f;
          continue;
        }
        double gv = (double)plan[o + b] * scale;
        double sb = s[k * q + b];
        int yUnder = (double)yy[k * q + b] <= floor;
        double cr = cross[o + b];
        dCross[o + b] = (float)(-2.0 * gv * ra * sb);
        accX += xUnder ? gv * ra * ra : gv * cr * sb * ra * ra * ra;
        dyy[k * q + b] += yUnder ? gv * sb * sb : gv * cr * ra * sb * sb * sb;
      }
      dxx[k * p + a] = accX;
    }
  }
  // gx[a,:] = Σ_b dCross[a,b] y[b,:] + 2 dxx[a] x[a,:];  gy[b,:] = Σ_a dCross[a,b] x[a,:] + 2 dyy[b] y[b,:]
  for (int k = 0; k < n; k++) {
    const float *yk = y + (size_t)k * q * d;
    float *gyk = gy + (size_t)k * q * d;
    for (int b = 0; b < q; b++) {
      float two = (float)(2.0 * dyy[k * q + b]);
      const float *yb = yk + (size_t)b * d;
      float *gb = gyk + (size_t)b * d;
      int j = 0;
      v128_t t = wasm_f32x4_splat(two);
      for (; j + 4 <= d; j += 4) wasm_v128_store(gb + j, wasm_f32x4_mul(t, wasm_v128_load(yb + j)));
      for (; j < d; j++) gb[j] = two * yb[j];
    }
    for (int a = 0; a < p; a++) {
      const float *xa = x + ((size_t)k * p + a) * d;
      float *ga = gx + ((size_t)k * p + a) * d;
      const float *dc = dCross + ((size_t)k * p + a) * q;
      float two = (float)(2.0 * dxx[k * p + a]);
      int j = 0;
      v128_t t = wasm_f32x4_splat(two);
      for (; j + 4 <= d; j += 4) wasm_v128_store(ga + j, wasm_f32x4_mul(t, wasm_v128_load(xa + j)));
      for (; j < d; j++) ga[j] = two * xa[j];
      for (int b = 0; b < q; b++) {
        float w = dc[b];
        if (w == 0.0f) continue;
        const float *yb = yk + (size_t)b * d;
        float *gb = gyk + (size_t)b * d;
        v128_t wv = wasm_f32x4_splat(w);
        int jj = 0;
        for (; jj + 4 <= d; jj += 4) {
          v128_t xv = wasm_v128_load(xa + jj);
          wasm_v128_store(ga + jj, wasm_f32x4_add(wasm_v128_load(ga + jj), wasm_f32x4_mul(wv, wasm_v128_load(yb + jj))));
          wasm_v128_store(gb + jj, wasm_f32x4_add(wasm_v128_load(gb + jj), wasm_f32x4_mul(wv, xv)));
        }
        for (; jj < d; jj++) {
          ga[jj] += w * yb[jj];
          gb[jj] += w * xa[jj];
        }
      }
    }
  }
}

// lico's WebAssembly SIMD kernels for tfjs-backend-wasm: an NHWC conv2d (forward, input gradient,
// filter gradient) and the batched matrix product, reading and writing tfjs-backend-wasm's own
// memory (this module imports it and keeps no data, stack or state of its own; the build checks).
// Every export takes a range of work units (rows, row groups or element ranges) so that threads
// can share a call; no element's value depends on which thread computes it or how many there are.
//
// Filter gradient:
//   dw[i, j, c, o] = sum over (n, p, q) of x[n, p*sh + i - top, q*sw + j - left, c] * dy[n, p, q, o]
//
// (x outside the image is 0). The work is cut into tiles: one filter tap (i, j), up to 4 input
// channels and up to 8 output channels, whose sums live in SIMD registers while the tile sweeps a
// block of output rows; every tile of a block is done before the next block, so the block's x and
// dy stay in cache. Output rows form a fixed number of groups (set by the caller from the problem
// alone); threads take whole groups, each writing its own partial dw, and the partials are added in
// group order (sum_groups).
//
// Multiply-adds: the relaxed-SIMD build (-mrelaxed-simd) computes acc + a*b with f32x4.relaxed_madd,
// which V8 lowers to a fused multiply-add (one rounding) where the CPU has FMA and to a multiply
// and an add otherwise; the SIMD build always rounds twice. Either way the order of the sums is
// the same, so each build gives the same numbers on any thread count.
#include <wasm_simd128.h>

#define EXPORT __attribute__((visibility("default")))
#define INLINE static inline __attribute__((always_inline))

#ifdef __wasm_relaxed_simd__
#define MADD(acc, a, b) ((v128_t)__builtin_wasm_relaxed_madd_f32x4((__f32x4)(a), (__f32x4)(b), (__f32x4)(acc)))
#else
#define MADD(acc, a, b) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#endif

// Output-channel tile widths: 8 (two vectors), then one tile of 4, then single channels.
INLINE int o_tiles(int co) { return co / 8 + (co % 8) / 4 + co % 4; }
INLINE void o_tile(int t, int co, int* o0, int* ow) {
  int n8 = co / 8, n4 = (co % 8) / 4;
  if (t < n8) { *o0 = 8 * t; *ow = 8; }
  else if (t < n8 + n4) { *o0 = 8 * n8; *ow = 4; }
  else { *o0 = 8 * n8 + 4 * n4 + (t - n8 - n4); *ow = 1; }
}

// One tile of CT input channels (1..4) and OW output channels (8, 4 or 1) over output rows [r0, r1)
// (rows of all images, r = n * ho + p). CT and OW are constants at every call site.
INLINE void tile(const float* x, const float* dy, float* dw, int ho, int h, int w, int c, int wo, int co,
                 int sh, int sw, int i, int j, int top, int left, int CT, int OW, int r0, int r1) {
  v128_t a[4][2];
  for (int k = 0; k < CT; k++) {
    if (OW == 8) { a[k][0] = wasm_v128_load(dw + k * co); a[k][1] = wasm_v128_load(dw + k * co + 4); }
    else if (OW == 4) a[k][0] = wasm_v128_load(dw + k * co);
    else a[k][0] = wasm_v128_load32_zero(dw + k * co);
  }
  // Columns q whose input column q*sw + j - left lies in [0, w).
  int q0 = j < left ? (left - j + sw - 1) / sw : 0;
  int q1 = (w + left - j + sw - 1) / sw;
  if (q1 > wo) q1 = wo;
  int n = r0 / ho, p = r0 - n * ho;
  for (int r = r0; r < r1; r++) {
    int y = p * sh + i - top;
    if (y >= 0 && y < h && q0 < q1) {
      const float* xp = x + ((n * h + y) * w + q0 * sw + j - left) * c;
      const float* dp = dy + (r * wo + q0) * co;
      int xs = sw * c;
      for (int q = q0; q < q1; q++, xp += xs, dp += co) {
        v128_t d0, d1;
        if (OW == 8) { d0 = wasm_v128_load(dp); d1 = wasm_v128_load(dp + 4); }
        else if (OW == 4) d0 = wasm_v128_load(dp);
        else d0 = wasm_v128_load32_zero(dp);
        for (int k = 0; k < CT; k++) {
          v128_t xk = wasm_v128_load32_splat(xp + k);
          a[k][0] = MADD(a[k][0], xk, d0);
          if (OW == 8) a[k][1] = MADD(a[k][1], xk, d1);
        }
      }
    }
    if (++p == ho) { p = 0; n++; }
  }
  for (int k = 0; k < CT; k++) {
    if (OW == 8) { wasm_v128_store(dw + k * co, a[k][0]); wasm_v128_store(dw + k * co + 4, a[k][1]); }
    else if (OW == 4) wasm_v128_store(dw + k * co, a[k][0]);
    else wasm_v128_store32_lane(dw + k * co, a[k][0], 0);
  }
}

// The tile call with CT (1..4) and OW made constants.
#define TILE_CASES(OW)                                                                                      \
  switch (ct) {                                                                                             \
    case 4: tile(xc, dyo, d, ho, h, w, c, wo, co, sh, sw, i, j, top, left, 4, OW, r0, r1); break;               \
    case 3: tile(xc, dyo, d, ho, h, w, c, wo, co, sh, sw, i, j, top, left, 3, OW, r0, r1); break;               \
    case 2: tile(xc, dyo, d, ho, h, w, c, wo, co, sh, sw, i, j, top, left, 2, OW, r0, r1); break;               \
    default: tile(xc, dyo, d, ho, h, w, c, wo, co, sh, sw, i, j, top, left, 1, OW, r0, r1); break;              \
  }

/** The number of tiles of a filter gradient (kh*kw taps x input-channel groups x output-channel groups). */
EXPORT int filter_grad_tiles(int kh, int kw, int c, int co) { return kh * kw * ((c + 3) / 4) * o_tiles(co); }

// Tiles [tile_begin, tile_end) of dw summed over output rows [row_begin, row_end) only.
static void filter_grad_rows(const float* x, const float* dy, float* dw, int h, int w, int c, int ho, int wo, int co,
                             int kh, int kw, int sh, int sw, int top, int left, int tile_begin, int tile_end, int block_rows,
                             int row_begin, int row_end) {
  int cg = (c + 3) / 4, og = o_tiles(co);
  // Zero this range's tiles.
  for (int t = tile_begin; t < tile_end; t++) {
    int tap = t / (cg * og), rest = t % (cg * og), c0 = 4 * (rest % cg), o0, ow;
    o_tile(rest / cg, co, &o0, &ow);
    int ct = c - c0 < 4 ? c - c0 : 4;
    float* d = dw + (tap * c + c0) * co + o0;
    for (int k = 0; k < ct; k++) for (int m = 0; m < ow; m++) d[k * co + m] = 0.0f;
  }
  for (int r0 = row_begin; r0 < row_end; r0 += block_rows) {
    int r1 = r0 + block_rows < row_end ? r0 + block_rows : row_end;
    for (int t = tile_begin; t < tile_end; t++) {
      int tap = t / (cg * og), rest = t % (cg * og), c0 = 4 * (rest % cg), o0, ow;
      o_tile(rest / cg, co, &o0, &ow);
      int i = tap / kw, j = tap % kw;
      int ct = c - c0 < 4 ? c - c0 : 4;
      float* d = dw + (tap * c + c0) * co + o0;
      const float* xc = x + c0;
      const float* dyo = dy + o0;
      if (ow == 8) TILE_CASES(8)
      else if (ow == 4) TILE_CASES(4)
      else TILE_CASES(1)
    }
  }
}

/**
 * The filter gradient in `groups` fixed groups of output rows (a function of the problem, not of
 * the thread count): group g sums rows [g*rows/groups, (g+1)*rows/groups) (rows = nb*ho) into
 * partials + g*size (size = kh*kw*c*co), for groups [group_begin, group_end). With one group,
 * partials is dw itself; else sum_groups adds the partials in group order. Threads take groups, so
 * each reads only its rows of x and dy.
 */
EXPORT void filter_grad_groups(const float* x, const float* dy, float* partials, int nb, int h, int w, int c, int ho, int wo,
                               int co, int kh, int kw, int sh, int sw, int top, int left, int group_begin, int group_end,
                               int groups, int block_rows) {
  int rows = nb * ho, size = kh * kw * c * co, tiles = filter_grad_tiles(kh, kw, c, co);
  for (int g = group_begin; g < group_end; g++) {
    int r0 = (int)((long long)g * rows / groups), r1 = (int)((long long)(g + 1) * rows / groups);
    filter_grad_rows(x, dy, partials + (long long)g * size, h, w, c, ho, wo, co, kh, kw, sh, sw, top, left, 0, tiles, block_rows, r0, r1);
  }
}

/** out[e] = sum over g < groups of partials[g*size + e], added in group order, for e in [begin, end). */
EXPORT void sum_groups(const float* partials, float* out, int size, int begin, int end, int groups) {
  int e = begin;
  for (; e + 4 <= end; e += 4) {
    v128_t acc = wasm_v128_load(partials + e);
    for (int g = 1; g < groups; g++) acc = wasm_f32x4_add(acc, wasm_v128_load(partials + (long long)g * size + e));
    wasm_v128_store(out + e, acc);
  }
  for (; e < end; e++) {
    float acc = partials[e];
    for (int g = 1; g < groups; g++) acc += partials[(long long)g * size + e];
    out[e] = acc;
  }
}

// Input gradient:
//   dx[n, y, x, c] = sum over (i, j, o) of dy[n, p, q, o] * w[i, j, c, o]
// over the taps with y = p*sh + i - top and x = q*sw + j - left for whole p in [0, ho), q in [0, wo).
// The filter is first rearranged (input_grad_filter) into channel groups of 8 (a last group of 4,
// zero-padded past c): group g at wt + kh*kw*co*c0, element [i][j][o][lane]. Output positions of
// one row (n, y) that share the column phase x mod sw are taken 4 at a time: for a tap (i, j) they
// read 4 consecutive dy columns q. Sums of 4 positions x 8 (or 4) channels stay in SIMD registers
// over every tap and output channel, and each dx element is written once (0 where no tap reaches
// it). Threads take disjoint ranges of rows (n, y).

// Regroups a filter viewed as w[t][a][b] (t < T taps) into groups of 8 (then 4, zero-padded past
// the end) along a (group_a) or b: group g0 at wt + T*m*g0 (m: the other axis' size), element
// [t][other index][lane]. Returns the floats it writes: T * m * (n rounded up to 4).
static int regroup(const float* w, float* wt, int T, int A, int B, int group_a) {
  int n = group_a ? A : B, m = group_a ? B : A, npad = (n + 3) / 4 * 4;
  if (!w) return T * m * npad;
  for (int g0 = 0; g0 < npad;) {
    int gw = n - g0 >= 8 ? 8 : 4;
    float* g = wt + T * m * g0;
    for (int t = 0; t < T; t++)
      for (int k = 0; k < m; k++)
        for (int l = 0; l < gw; l++) {
          int at = group_a ? (t * A + g0 + l) * B + k : (t * A + k) * B + g0 + l;
          g[(t * m + k) * gw + l] = g0 + l < n ? w[at] : 0.0f;
        }
    g0 += gw;
  }
  return T * m * npad;
}

/** Floats of the rearranged filter: kh*kw*co*cpad with cpad = c rounded up to 4. */
EXPORT int input_grad_filter_size(int kh, int kw, int c, int co) { return regroup(0, 0, kh * kw, c, co, 1); }

/** Rearranges w ([kh, kw, c, co]) into wt (input-channel groups of 8, then 4; zero past c): [tap][o][lane]. */
EXPORT void input_grad_filter(const float* w, float* wt, int kh, int kw, int c, int co) { regroup(w, wt, kh * kw, c, co, 1); }

// acc[k] += sum over m < len of src[k*ps + m] * wp[m*GW .. m*GW + GW) for K positions k: the inner
// loop of both gather kernels (input gradient: src = dy, m = output channel; forward: src = x,
// m = input channel).
INLINE void gather_taps(v128_t acc[4][2], const float* dp, const float* wp, int len, int ps, int K, int GW) {
  for (int o = 0; o < len; o++, wp += GW) {
    v128_t w0 = wasm_v128_load(wp), w1;
    if (GW == 8) w1 = wasm_v128_load(wp + 4);
    for (int k = 0; k < K; k++) {
      v128_t d = wasm_v128_load32_splat(dp + k * ps + o);
      acc[k][0] = MADD(acc[k][0], d, w0);
      if (GW == 8) acc[k][1] = MADD(acc[k][1], d, w1);
    }
  }
}

// gather_taps for the positions k0 <= k < k1 only: all 4 at once, else (edge tiles) one at a time
// (constant indices keep acc in registers).
INLINE void gather_range(v128_t acc[4][2], const float* dp, const float* wp, int len, int ps, int k0, int k1, int GW) {
  if (k0 == 0 && k1 == 4) {
    gather_taps(acc, dp, wp, len, ps, 4, GW);
    return;
  }
#define ONE(K)                                       \
  if (k0 <= K && K < k1) {                           \
    v128_t one[4][2] = {{acc[K][0], acc[K][1]}};     \
    gather_taps(one, dp + K * ps, wp, len, ps, 1, GW); \
    acc[K][0] = one[0][0];                           \
    acc[K][1] = one[0][1];                           \
  }
  ONE(0) ONE(1) ONE(2) ONE(3)
#undef ONE
}

// Stores acc[k] (k < kn) at out + k*step: `lanes` channels (8, 4 or 1-3; the rest is padding).
INLINE void store_tile(v128_t acc[4][2], float* out, int step, int kn, int lanes) {
#define STORE(K)                                                                                   \
  if (K < kn) {                                                                                    \
    float* o = out + K * step;                                                                     \
    if (lanes == 8) {                                                                              \
      wasm_v128_store(o, acc[K][0]);                                                               \
      wasm_v128_store(o + 4, acc[K][1]);                                                           \
    } else if (lanes == 4) wasm_v128_store(o, acc[K][0]);                                          \
    else { /* no stack array: this module has no stack */                                          \
      o[0] = wasm_f32x4_extract_lane(acc[K][0], 0);                                                \
      if (lanes > 1) o[1] = wasm_f32x4_extract_lane(acc[K][0], 1);                                 \
      if (lanes > 2) o[2] = wasm_f32x4_extract_lane(acc[K][0], 2);                                 \
    }                                                                                              \
  }
  STORE(0) STORE(1) STORE(2) STORE(3)
#undef STORE
}

// One tile: up to 4 positions (x0 + k*sw, k < kn) of row (n, y), channels [c0, c0 + GW).
INLINE void input_tile(const float* dy, const float* wg, float* dx, int n, int y, int x0, int kn, int h, int w, int c, int ho, int wo,
                       int co, int kh, int kw, int sh, int sw, int top, int left, int c0, int GW) {
  v128_t acc[4][2];
  for (int k = 0; k < 4; k++) acc[k][0] = acc[k][1] = wasm_f32x4_splat(0.0f);
  for (int i = 0; i < kh; i++) {
    int ty = y + top - i;
    if (ty < 0 || ty % sh != 0 || ty / sh >= ho) continue;
    int p = ty / sh;
    for (int j = 0; j < kw; j++) {
      int tx = x0 + left - j;
      if (tx < 0 ? (-tx) % sw != 0 : tx % sw != 0) continue;
      int q0 = tx < 0 ? -((-tx) / sw) : tx / sw;  // exact: tx is a multiple of sw
      // positions k with 0 <= q0 + k < wo, k < kn
      int k0 = q0 < 0 ? -q0 : 0;
      int k1 = wo - q0 < kn ? wo - q0 : kn;
      if (k0 >= k1) continue;
      const float* dp = dy + ((n * ho + p) * wo + q0) * co;
      const float* wp = wg + (i * kw + j) * co * GW;
      gather_range(acc, dp, wp, co, co, k0, k1, GW);
    }
  }
  store_tile(acc, dx + ((n * h + y) * w + x0) * c + c0, sw * c, kn, c - c0 < GW ? c - c0 : GW);
}

/**
 * Computes rows [row_begin, row_end) (r = n*h + y) of dx ([nb, h, w, c]) from dy ([nb, ho, wo, co])
 * and the rearranged filter wt (input_grad_filter).
 */
EXPORT void input_grad(const float* dy, const float* wt, float* dx, int nb, int h, int w, int c, int ho, int wo, int co,
                       int kh, int kw, int sh, int sw, int top, int left, int row_begin, int row_end) {
  (void)nb;
  int cpad = (c + 3) / 4 * 4;
  for (int r = row_begin; r < row_end; r++) {
    int n = r / h, y = r - n * h;
    for (int c0 = 0; c0 < cpad;) {
      int gw = c - c0 >= 8 ? 8 : 4;
      const float* wg = wt + kh * kw * co * c0;
      for (int ph = 0; ph < sw && ph < w; ph++) {
        int m = (w - ph + sw - 1) / sw;  // positions of this phase
        for (int m0 = 0; m0 < m; m0 += 4) {
          int kn = m - m0 < 4 ? m - m0 : 4;
          if (gw == 8) input_tile(dy, wg, dx, n, y, ph + m0 * sw, kn, h, w, c, ho, wo, co, kh, kw, sh, sw, top, left, c0, 8);
          else input_tile(dy, wg, dx, n, y, ph + m0 * sw, kn, h, w, c, ho, wo, co, kh, kw, sh, sw, top, left, c0, 4);
        }
      }
      c0 += gw;
    }
  }
}

// The first `lanes` (1..4) floats at p, zeros in the other lanes (never reads past them).
INLINE v128_t load_lanes(const float* p, int lanes) {
  if (lanes >= 4) return wasm_v128_load(p);
  v128_t v = wasm_f32x4_splat(0.0f);
  v = wasm_f32x4_replace_lane(v, 0, p[0]);
  if (lanes > 1) v = wasm_f32x4_replace_lane(v, 1, p[1]);
  if (lanes > 2) v = wasm_f32x4_replace_lane(v, 2, p[2]);
  return v;
}

// Stores the first `lanes` (1..4) lanes of v at p.
INLINE void store_lanes(float* p, v128_t v, int lanes) {
  if (lanes >= 4) { wasm_v128_store(p, v); return; }
  p[0] = wasm_f32x4_extract_lane(v, 0);
  if (lanes > 1) p[1] = wasm_f32x4_extract_lane(v, 1);
  if (lanes > 2) p[2] = wasm_f32x4_extract_lane(v, 2);
}

// What a forward conv does to each output value after the bias (LicoConvAffineAct, FusedConv2D's
// activations): z = (conv + bias)·scale + shift + residual, then the activation. It lives in the
// caller's memory (this module has no data of its own); a pointer is 0 where the part is absent.
// The per-channel map is one multiply-add, as bn_apply's, and the residual one add, so the fused
// result has the bits of the conv, LicoAffineAct and Add run one after another.
typedef struct {
  const float* scale;     // [co] (with shift), or 0
  const float* shift;     // [co], or 0 (only with scale)
  const float* residual;  // the output's shape, or 0
  float alpha;            // the LeakyReLU slope (act 2)
  int act;                // 0: none, 1: ReLU as max(z, 0), 2: LeakyReLU z > 0 ? z : alpha·z
} Epilogue;

// The epilogue's values for one group of 4 output channels (from o; `lanes` of them exist), read
// once per group: the bias (0: none), the map's scale and shift, the slope, the flags.
typedef struct {
  v128_t bias, scale, shift, alpha;
  int biased, affine, act, residual;
} EpiGroup;

INLINE EpiGroup epi_group(const Epilogue* ep, const float* bias, int o, int lanes) {
  EpiGroup e;
  v128_t zero = wasm_f32x4_splat(0.0f);
  e.biased = bias != 0;
  e.bias = bias ? load_lanes(bias + o, lanes) : zero;
  e.affine = ep && ep->scale;
  e.scale = e.affine ? load_lanes(ep->scale + o, lanes) : zero;
  e.shift = e.affine ? load_lanes(ep->shift + o, lanes) : zero;
  e.act = ep ? ep->act : 0;
  e.alpha = wasm_f32x4_splat(ep ? ep->alpha : 0.0f);
  e.residual = ep && ep->residual;
  return e;
}

// z + bias through the group's epilogue; res: the residual at this output's offset (read only when
// the epilogue has one; `lanes` of it).
INLINE v128_t epi_apply(EpiGroup e, v128_t z, const float* res, int lanes) {
  v128_t zero = wasm_f32x4_splat(0.0f);
  if (e.biased) z = wasm_f32x4_add(z, e.bias);
  if (e.affine) z = MADD(e.shift, z, e.scale);
  if (e.residual) z = wasm_f32x4_add(z, load_lanes(res, lanes));
  // ReLU as max(z, 0): +0 for negative z, as tfjs's relu (0·z would give −0)
  if (e.act == 1) z = wasm_f32x4_max(z, zero);
  else if (e.act == 2) z = wasm_v128_bitselect(z, wasm_f32x4_mul(z, e.alpha), wasm_f32x4_gt(z, zero));
  return z;
}

// Forward convolution (optionally with bias, then an Epilogue: FusedConv2D's relu, LicoConvAffineAct):
//   y[n, p, q, o] = epilogue(bias[o] + sum over (i, j, c) of x[n, p*sh + i - top, q*sw + j - left, c] * w[i, j, c, o])
// The filter is rearranged (conv_forward_filter) into output-channel groups of 8 (then 4,
// zero-padded past co): group at wt + kh*kw*c*o0, element [i][j][c][lane]. Each tile is 4
// consecutive output pixels of one row x 8 (or 4) output channels, summed in SIMD registers over
// every tap and input channel (the 4 pixels read x at a stride of sw*c). Threads take disjoint
// ranges of output rows (n, p).

/** Floats of the rearranged forward filter: kh*kw*c*copad with copad = co rounded up to 4. */
EXPORT int conv_forward_filter_size(int kh, int kw, int c, int co) { return regroup(0, 0, kh * kw, c, co, 0); }

/** Rearranges w ([kh, kw, c, co]) into wt (output-channel groups of 8, then 4; zero past co): [tap][c][lane]. */
EXPORT void conv_forward_filter(const float* w, float* wt, int kh, int kw, int c, int co) { regroup(w, wt, kh * kw, c, co, 0); }

INLINE void forward_tile(const float* x, const float* wg, const float* bias, float* y, int n, int p, int q0, int kn, int h, int w, int c,
                         int ho, int wo, int co, int kh, int kw, int sh, int sw, int top, int left, int o0, const Epilogue* ep, int GW) {
  v128_t b0 = wasm_f32x4_splat(0.0f), b1 = b0;
  if (bias) {
    // Bias lanes past co are never stored; read only what exists.
    if (co - o0 >= 8) { b0 = wasm_v128_load(bias + o0); b1 = wasm_v128_load(bias + o0 + 4); }
    else if (co - o0 >= 4) b0 = wasm_v128_load(bias + o0);
    else {
      b0 = wasm_f32x4_replace_lane(b0, 0, bias[o0]);
      if (co - o0 > 1) b0 = wasm_f32x4_replace_lane(b0, 1, bias[o0 + 1]);
      if (co - o0 > 2) b0 = wasm_f32x4_replace_lane(b0, 2, bias[o0 + 2]);
    }
  }
  v128_t acc[4][2];
  for (int k = 0; k < 4; k++) { acc[k][0] = b0; acc[k][1] = b1; }
  int ps = sw * c;
  for (int i = 0; i < kh; i++) {
    int yy = p * sh + i - top;
    if (yy < 0 || yy >= h) continue;
    for (int j = 0; j < kw; j++) {
      int xx = q0 * sw + j - left;  // input column of position k: xx + k*sw, valid in [0, w)
      int k0 = xx < 0 ? (-xx + sw - 1) / sw : 0;
      int k1 = xx >= w ? 0 : (w - xx + sw - 1) / sw;
      if (k1 > kn) k1 = kn;
      if (k0 >= k1) continue;
      const float* dp = x + ((n * h + yy) * w + xx) * c;
      const float* wp = wg + (i * kw + j) * c * GW;
      gather_range(acc, dp, wp, c, ps, k0, k1, GW);
    }
  }
  long long at = ((long long)(n * ho + p) * wo + q0) * co + o0;
  if (ep) {
    // GW 8: at least 8 channels left, two full groups; GW 4: one group of up to 4 channels.
    int lanes = co - o0 < 4 ? co - o0 : 4;
    // The residual at this tile's offset (read only where the epilogue has one; else y's, unread).
    const float* res = (ep->residual ? ep->residual : y) + at;
    // acc holds the bias already
    EpiGroup e0 = epi_group(ep, 0, o0, lanes), e1 = GW == 8 ? epi_group(ep, 0, o0 + 4, 4) : e0;
#define EPI(K)                                                                     \
  if (K < kn) {                                                                    \
    acc[K][0] = epi_apply(e0, acc[K][0], res + K * co, lanes);                     \
    if (GW == 8) acc[K][1] = epi_apply(e1, acc[K][1], res + K * co + 4, 4);        \
  }
    EPI(0) EPI(1) EPI(2) EPI(3)
#undef EPI
  }
  store_tile(acc, y + at, co, kn, co - o0 < GW ? co - o0 : GW);
}

/**
 * Computes output rows [row_begin, row_end) (r = n*ho + p) of y ([nb, ho, wo, co]) from x
 * ([nb, h, w, c]), the rearranged filter wt (conv_forward_filter) and bias (0: none), then the
 * epilogue ep (0: none).
 */
EXPORT void conv_forward(const float* x, const float* wt, float* y, int nb, int h, int w, int c, int ho, int wo, int co,
                         int kh, int kw, int sh, int sw, int top, int left, int row_begin, int row_end, const float* bias, const Epilogue* ep) {
  (void)nb;
  int copad = (co + 3) / 4 * 4;
  for (int r = row_begin; r < row_end; r++) {
    int n = r / ho, p = r - n * ho;
    for (int o0 = 0; o0 < copad;) {
      int gw = co - o0 >= 8 ? 8 : 4;
      const float* wg = wt + kh * kw * c * o0;
      for (int q0 = 0; q0 < wo; q0 += 4) {
        int kn = wo - q0 < 4 ? wo - q0 : 4;
        if (gw == 8) forward_tile(x, wg, bias, y, n, p, q0, kn, h, w, c, ho, wo, co, kh, kw, sh, sw, top, left, o0, ep, 8);
        else forward_tile(x, wg, bias, y, n, p, q0, kn, h, w, c, ho, wo, co, kh, kw, sh, sw, top, left, o0, ep, 4);
      }
      o0 += gw;
    }
  }
}

// Batched matrix product (tfjs's BatchMatMul, the products every dense layer's gradient runs):
//   c[t] = op(a[t or 0]) · op(b[t or 0]),  op = transpose or not; a: M×K, b: K×N, c: M×N per batch.
// matmul_prepare lays b out in column groups of 8 (then 4, zero-padded): [group][k][lane] per
// batch, and a transposed a as M×K rows; matmul then computes rows [row_begin, row_end) of all
// batches (row r = t*M + i), 4 rows × 8 columns in SIMD registers over the whole K (gather_range,
// as the convolutions). Threads take disjoint row ranges.

/** Floats of scratch matmul_prepare needs: the packed b of every b batch, then a transposed if ta. */
EXPORT int matmul_scratch_size(int batch_a, int batch_b, int m, int n, int k, int ta) {
  return batch_b * regroup(0, 0, 1, k, n, 0) + (ta ? batch_a * m * k : 0);
}

/** Packs b (and transposes a if ta) into scratch; see matmul_scratch_size for the layout. */
EXPORT void matmul_prepare(const float* a, const float* b, float* scratch, int batch_a, int batch_b, int m, int n, int k, int ta, int tb) {
  int packed = regroup(0, 0, 1, k, n, 0);
  for (int t = 0; t < batch_b; t++) {
    // b: K×N rows (tb = 0) or N×K rows (tb = 1); groups run along N either way.
    if (tb) regroup(b + t * n * k, scratch + t * packed, 1, n, k, 1);
    else regroup(b + t * k * n, scratch + t * packed, 1, k, n, 0);
  }
  if (ta) {
    float* at = scratch + batch_b * packed;
    for (int t = 0; t < batch_a; t++)
      for (int i = 0; i < m; i++)
        for (int kk = 0; kk < k; kk++) at[(t * m + i) * k + kk] = a[(t * k + kk) * m + i];
  }
}

/**
 * Rows [row_begin, row_end) of c ([batch, m, n]) from a (or its transposed copy in scratch when ta)
 * and the packed b in scratch. batch_a and batch_b are 1 (broadcast) or the batch.
 */
EXPORT void matmul(const float* a, const float* scratch, float* c, int batch_a, int batch_b, int m, int n, int k, int ta,
                   int row_begin, int row_end) {
  int packed = regroup(0, 0, 1, k, n, 0);
  const float* rows = ta ? scratch + batch_b * packed : a;
  int npad = (n + 3) / 4 * 4;
  int r = row_begin;
  while (r < row_end) {
    int t = r / m, i = r - t * m;
    int kn = m - i < 4 ? m - i : 4;  // rows of this tile (not past the batch)
    if (kn > row_end - r) kn = row_end - r;
    const float* ar = rows + ((batch_a > 1 ? t : 0) * m + i) * k;
    const float* bp = scratch + (batch_b > 1 ? t : 0) * packed;
    for (int g0 = 0; g0 < npad;) {
      int gw = n - g0 >= 8 ? 8 : 4;
      v128_t acc[4][2];
      for (int q = 0; q < 4; q++) acc[q][0] = acc[q][1] = wasm_f32x4_splat(0.0f);
      if (gw == 8) gather_range(acc, ar, bp + k * g0, k, k, 0, kn, 8);
      else gather_range(acc, ar, bp + k * g0, k, k, 0, kn, 4);
      store_tile(acc, c + (t * m + i) * n + g0, n, kn, n - g0 < gw ? n - g0 : gw);
      g0 += gw;
    }
    r += kn;
  }
}

// Training-mode batch norm with the activation that follows it, both ways (tfjs kernels
// LicoBatchNormAct / LicoBatchNormActGrad). x is [m, c] (m = N·H·W positions of an NHWC tensor);
// the activation is LeakyReLU with slope alpha (alpha = 0: ReLU, alpha = 1: none):
//   forward   z = x·scale + shift (scale = γ/σ, shift = β − μ·scale), y = z > 0 ? z : alpha·z
//   backward  dz = y > 0 ? dy : alpha·dy (y > 0 exactly when z > 0), dx = dz·a + x·b + k
// Per-channel sums (Σx, Σx² forward; Σdz, Σdz·x backward) are taken per fixed group of positions
// (the group count is the caller's function of the problem, never of the threads): each group
// sums blocks of 16 positions in float32 registers and adds them to its float64 sums; the caller
// adds the groups in order. So results are the same on any thread count. coef holds the
// per-channel coefficients the caller computed from the sums, then alpha.

// dz = y > 0 ? g : alpha·g, lane by lane (va = alpha splat).
INLINE v128_t leaky_dz(v128_t g, v128_t y, v128_t va, v128_t zero) { return wasm_v128_bitselect(g, wasm_f32x4_mul(g, va), wasm_f32x4_gt(y, zero)); }

// Adds the float32 lanes of v to the float64 sums at s[0..3].
INLINE void add_f64(double* s, v128_t v) {
  wasm_v128_store(s, wasm_f64x2_add(wasm_v128_load(s), wasm_f64x2_promote_low_f32x4(v)));
  wasm_v128_store(s + 2, wasm_f64x2_add(wasm_v128_load(s + 2), wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3))));
}

// The sums of one group: positions [p0, p1); grad = 0: s1 += x, s2 += x² ; grad = 1: s1 += dz, s2 += dz·x.
INLINE void bn_group_sums(const float* x, const float* dy, const float* y, double* s1, double* s2, int c, float alpha, int p0, int p1, int grad) {
  for (int k = 0; k < 2 * c; k++) s1[k] = 0.0;  // s2 = s1 + c
  v128_t va = wasm_f32x4_splat(alpha), zero = wasm_f32x4_splat(0.0f);
  int c4 = c / 4 * 4;
  for (int b0 = p0; b0 < p1; b0 += 16) {
    int b1 = b0 + 16 < p1 ? b0 + 16 : p1;
    for (int ch = 0; ch < c4; ch += 4) {
      v128_t a1 = zero, a2 = zero;
      for (int p = b0; p < b1; p++) {
        v128_t v = wasm_v128_load(x + (long long)p * c + ch);
        if (grad) {
          v128_t g = wasm_v128_load(dy + (long long)p * c + ch);
          v128_t dz = leaky_dz(g, wasm_v128_load(y + (long long)p * c + ch), va, zero);
          a1 = wasm_f32x4_add(a1, dz);
          a2 = MADD(a2, dz, v);
        } else {
          a1 = wasm_f32x4_add(a1, v);
          a2 = MADD(a2, v, v);
        }
      }
      add_f64(s1 + ch, a1);
      add_f64(s2 + ch, a2);
    }
    for (int ch = c4; ch < c; ch++) {
      float a1 = 0.0f, a2 = 0.0f;
      for (int p = b0; p < b1; p++) {
        float v = x[(long long)p * c + ch];
        if (grad) {
          float g = dy[(long long)p * c + ch];
          float dz = y[(long long)p * c + ch] > 0.0f ? g : g * alpha;
          a1 += dz;
          a2 += dz * v;
        } else {
          a1 += v;
          a2 += v * v;
        }
      }
      s1[ch] += a1;
      s2[ch] += a2;
    }
  }
}

/** Forward sums of groups [g0, g1) of `groups`: sums[g*2c + ch] = Σx, sums[g*2c + c + ch] = Σx² (float64). */
EXPORT void bn_stats(const float* x, double* sums, int m, int c, int g0, int g1, int groups) {
  for (int g = g0; g < g1; g++) {
    int p0 = (int)((long long)g * m / groups), p1 = (int)((long long)(g + 1) * m / groups);
    bn_group_sums(x, 0, 0, sums + (long long)g * 2 * c, sums + (long long)g * 2 * c + c, c, 0.0f, p0, p1, 0);
  }
}

/** Backward sums of groups [g0, g1): Σdz and Σdz·x (alpha at coef[0]). */
EXPORT void bn_grad_stats(const float* dy, const float* y, const float* x, double* sums, const float* coef, int m, int c, int g0, int g1, int groups) {
  for (int g = g0; g < g1; g++) {
    int p0 = (int)((long long)g * m / groups), p1 = (int)((long long)(g + 1) * m / groups);
    bn_group_sums(x, dy, y, sums + (long long)g * 2 * c, sums + (long long)g * 2 * c + c, c, coef[0], p0, p1, 1);
  }
}

/** Forward, positions [p0, p1): y = act(x·scale + shift); coef = [scale (c), shift (c), alpha]. */
EXPORT void bn_apply(const float* x, float* y, const float* coef, int m, int c, int p0, int p1) {
  (void)m;
  const float* scale = coef;
  const float* shift = coef + c;
  float alpha = coef[2 * c];
  int relu = alpha == 0.0f;
  v128_t va = wasm_f32x4_splat(alpha), zero = wasm_f32x4_splat(0.0f);
  int c4 = c / 4 * 4;
  for (int p = p0; p < p1; p++) {
    const float* xp = x + (long long)p * c;
    float* yp = y + (long long)p * c;
    for (int ch = 0; ch < c4; ch += 4) {
      v128_t z = MADD(wasm_v128_load(shift + ch), wasm_v128_load(xp + ch), wasm_v128_load(scale + ch));
      // ReLU as max(z, 0): +0 for negative z, as tfjs's relu (0·z would give −0)
      wasm_v128_store(yp + ch, relu ? wasm_f32x4_max(z, zero) : wasm_v128_bitselect(z, wasm_f32x4_mul(z, va), wasm_f32x4_gt(z, zero)));
    }
    if (c4 < c) {
      // The last channels as one partial vector: the same multiply-add as the others (and as a
      // conv's epilogue) in either build.
      int lanes = c - c4;
      v128_t z = MADD(load_lanes(shift + c4, lanes), load_lanes(xp + c4, lanes), load_lanes(scale + c4, lanes));
      store_lanes(yp + c4, relu ? wasm_f32x4_max(z, zero) : wasm_v128_bitselect(z, wasm_f32x4_mul(z, va), wasm_f32x4_gt(z, zero)), lanes);
    }
  }
}

/** Backward, positions [p0, p1): dx = dz·a + x·b + k, dz = y > 0 ? dy : alpha·dy; coef = [a (c), b (c), k (c), alpha]. */
EXPORT void bn_grad_apply(const float* dy, const float* y, const float* x, float* dx, const float* coef, int m, int c, int p0, int p1) {
  (void)m;
  const float* a = coef;
  const float* b = coef + c;
  const float* k = coef + 2 * c;
  float alpha = coef[3 * c];
  v128_t va = wasm_f32x4_splat(alpha), zero = wasm_f32x4_splat(0.0f);
  int c4 = c / 4 * 4;
  for (int p = p0; p < p1; p++) {
    long long o = (long long)p * c;
    for (int ch = 0; ch < c4; ch += 4) {
      v128_t g = wasm_v128_load(dy + o + ch);
      v128_t dz = leaky_dz(g, wasm_v128_load(y + o + ch), va, zero);
      v128_t r = MADD(wasm_v128_load(k + ch), wasm_v128_load(x + o + ch), wasm_v128_load(b + ch));
      wasm_v128_store(dx + o + ch, MADD(r, dz, wasm_v128_load(a + ch)));
    }
    for (int ch = c4; ch < c; ch++) {
      float g = dy[o + ch];
      float dz = y[o + ch] > 0.0f ? g : g * alpha;
      dx[o + ch] = dz * a[ch] + (x[o + ch] * b[ch] + k[ch]);
    }
  }
}

// Inference-mode batch norm (a fixed per-channel affine map) with its activation (tfjs kernel
// LicoAffineAct): the forward pass is bn_apply with the folded scale and shift; the input
// gradient (LicoAffineActGrad) is dx = dz·scale, dz = y > 0 ? dy : alpha·dy, one pass:

/** Elements per unit of add_same's work range. */
#define ADD_UNIT 4096

/** y = a + b over the elements of units [u0, u1) (unit u: [u·ADD_UNIT, (u + 1)·ADD_UNIT) ∩ [0, n)). */
EXPORT void add_same(const float* a, const float* b, float* y, int n, int u0, int u1) {
  int e0 = u0 * ADD_UNIT, e1 = u1 * ADD_UNIT < n ? u1 * ADD_UNIT : n;
  int e = e0;
  for (; e + 4 <= e1; e += 4) wasm_v128_store(y + e, wasm_f32x4_add(wasm_v128_load(a + e), wasm_v128_load(b + e)));
  for (; e < e1; e++) y[e] = a[e] + b[e];
}

/** Positions [p0, p1): dx = (y > 0 ? dy : alpha·dy)·scale; coef = [scale (c), alpha]. */
EXPORT void affine_act_grad(const float* dy, const float* y, float* dx, const float* coef, int m, int c, int p0, int p1) {
  (void)m;
  float alpha = coef[c];
  v128_t va = wasm_f32x4_splat(alpha), zero = wasm_f32x4_splat(0.0f);
  int c4 = c / 4 * 4;
  for (int p = p0; p < p1; p++) {
    long long o = (long long)p * c;
    for (int ch = 0; ch < c4; ch += 4)
      wasm_v128_store(dx + o + ch, wasm_f32x4_mul(leaky_dz(wasm_v128_load(dy + o + ch), wasm_v128_load(y + o + ch), va, zero), wasm_v128_load(coef + ch)));
    for (int ch = c4; ch < c; ch++) {
      float g = dy[o + ch];
      dx[o + ch] = (y[o + ch] > 0.0f ? g : g * alpha) * coef[ch];
    }
  }
}

// Winograd F(2×2, 3×3) for stride-1 3×3 convolutions (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016): each 2×2 output tile of one output channel is
//   Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A
// with d_c the 4×4 input patch of channel c under the tile and g_c the 3×3 filter of (c, o):
// 16 multiply-adds per tile and channel pair instead of 36. The work per block of tiles:
//   1. input transform: V[e][t][c] = (Bᵀ d B)[e] (e < 16 the position in the 4×4 tile),
//   2. 16 matrix products M[e][t][o] = Σ_c V[e][t][c] · U[e][c][o] (the transformed filter U,
//      packed as conv_forward_filter packs one tap: output-channel groups of 8, then 4),
//   3. output transform of M, + bias, the epilogue (scale, shift, residual, activation), stored into y.
// Each output element is computed by one thread in a fixed order, so the result does not depend
// on the thread count or on how tiles are blocked. The input gradient of a stride-1 3×3 conv is the
// same computation on dy with the spatially flipped, in/out-swapped filter and padding 2 − pad.
// The filter gradient uses the adjoints: dU[e][c][o] = Σ_t V[e][t][c] · (A dY_t Aᵀ)[e][o] over the
// tiles (summed in fixed groups, as filter_grad_groups), then dg = Gᵀ dU G.
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1].
// Scratch: the caller gives each thread its own slot (wino_forward: `slot`; the filter gradient:
// one per tile group). The 16
// planes of a block (one per e) lie wino_plane floats apart: a block of tiles times the channels,
// plus one cache line, so that the 16 loads or stores of one tile do not all fall in the same
// cache set (a plane of a power-of-two size would put them 4 KiB apart).

// Floats from one plane of V, M or Z to the next: tb tiles of n (padded) channels and 16 floats.
INLINE int wino_plane(int tb, int n) { return tb * n + 16; }


// Tap (i, j) of the 3×3 filter from input channel k to output channel m of the conv a Winograd
// filter transform is for: w itself (flip = 0) or its input-gradient form (flip = 1: spatially
// flipped, channels swapped); 0 past cout.
INLINE double filter_tap(const float* w, int i, int j, int c, int co, int k, int m, int cout, int flip) {
  if (m >= cout) return 0.0;
  return flip ? w[(((2 - i) * 3 + (2 - j)) * c + m) * co + k] : w[((i * 3 + j) * c + k) * co + m];
}

// Row r of G (n = 4: F(2×2, 3×3); n = 6: F(4×4, 3×3); n = 9: Gs of the stride-2 form) applied to
// (a, b, d), in float64.
INLINE double wino_g(int n, int r, double a, double b, double d) {
  if (n == 4) return r == 0 ? a : r == 1 ? 0.5 * (a + b + d) : r == 2 ? 0.5 * (a - b + d) : d;
  if (n == 9) {
    // Stride 2 (Gs): G of F(4, 2) on the even taps (a, d), then the odd tap b four times.
    switch (r) {
      case 0: return a / 2.0;
      case 1: return -(a + d) / 2.0;
      case 2: return (d - a) / 6.0;
      case 3: return a / 6.0 + d / 3.0;
      case 4: return d;
      default: return b;
    }
  }
  switch (r) {
    case 0: return a / 4.0;
    case 1: return -(a + b + d) / 6.0;
    case 2: return -(a - b + d) / 6.0;
    case 3: return a / 24.0 + b / 12.0 + d / 6.0;
    case 4: return a / 24.0 - b / 12.0 + d / 6.0;
    default: return d;
  }
}

// U = G g Gᵀ (n×n) for every channel pair of w, computed in float64 and rounded once, packed per
// position as conv_forward_filter packs a tap (see wino_filter).
static void wino_filter_n(const float* w, float* u, int c, int co, int flip, int n) {
  int cin = flip ? co : c, cout = flip ? c : co;
  int copad = (cout + 3) / 4 * 4, n8 = cout / 8 * 8;
  for (int k = 0; k < cin; k++) {
    for (int m = 0; m < copad; m++) {
      double g[3][3];
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) g[i][j] = filter_tap(w, i, j, c, co, k, m, cout, flip);
      int g0 = m < n8 ? m / 8 * 8 : n8 + (m - n8) / 4 * 4, gw = m < n8 ? 8 : 4;
      for (int r = 0; r < n; r++) {
        // (G g)[r][·], then its product with Gᵀ.
        double a = wino_g(n, r, g[0][0], g[1][0], g[2][0]), b = wino_g(n, r, g[0][1], g[1][1], g[2][1]), d = wino_g(n, r, g[0][2], g[1][2], g[2][2]);
        for (int q = 0; q < n; q++) u[(r * n + q) * cin * copad + cin * g0 + k * gw + (m - g0)] = (float)wino_g(n, q, a, b, d);
      }
    }
  }
}

/** Floats of a transformed filter: 16 * cin * (cout rounded up to 4). */
EXPORT int wino_filter_size(int cin, int cout) { return 16 * regroup(0, 0, 1, cin, cout, 0); }

/**
 * U = G g Gᵀ for every (input, output) channel pair of w ([3, 3, c, co]), computed in float64 and
 * rounded once: U + e*cin*copad holds tap e packed as conv_forward_filter packs a tap (zeros past
 * cout). flip = 0: the conv itself (cin = c, cout = co); flip = 1: the conv giving its input
 * gradient, g'[i][j] of (o, c) = w[2 − i][2 − j][c][o] (cin = co, cout = c).
 */
EXPORT void wino_filter(const float* w, float* u, int c, int co, int flip) { wino_filter_n(w, u, c, co, flip, 4); }

// The input transform of tiles [t0, t1) (tile t = (n, a, b): output rows 2a, 2a+1, columns 2b,
// 2b+1) into v: V[e][t − t0][ch] at v + e*wino_plane(tb, cpad) + (t − t0)*cpad + ch (lanes past c: zero).
static void wino_input(const float* x, float* v, int h, int w, int c, int ho, int wo, int top, int left, int tb, int t0, int t1) {
  int cpad = (c + 3) / 4 * 4, tw = (wo + 1) / 2, tpi = (ho + 1) / 2 * tw, pv = wino_plane(tb, cpad);
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int t = t0; t < t1; t++) {
    int n = t / tpi, rem = t - n * tpi, a = rem / tw, b = rem - a * tw;
    int y0 = 2 * a - top, x0 = 2 * b - left;
    float* vt = v + (t - t0) * cpad;
    int ok[4];
    for (int s = 0; s < 4; s++) ok[s] = x0 + s >= 0 && x0 + s < w;
    for (int ch = 0; ch < cpad; ch += 4) {
      int lanes = c - ch < 4 ? c - ch : 4;
      v128_t u[4][4];
      for (int r = 0; r < 4; r++) {
        int yy = y0 + r;
        v128_t d0 = zero, d1 = zero, d2 = zero, d3 = zero;
        if (yy >= 0 && yy < h) {
          const float* row = x + ((long long)(n * h + yy) * w + x0) * c + ch;
          if (ok[0]) d0 = load_lanes(row, lanes);
          if (ok[1]) d1 = load_lanes(row + c, lanes);
          if (ok[2]) d2 = load_lanes(row + 2 * c, lanes);
          if (ok[3]) d3 = load_lanes(row + 3 * c, lanes);
        }
        u[r][0] = wasm_f32x4_sub(d0, d2);
        u[r][1] = wasm_f32x4_add(d1, d2);
        u[r][2] = wasm_f32x4_sub(d2, d1);
        u[r][3] = wasm_f32x4_sub(d1, d3);
      }
      for (int s = 0; s < 4; s++) {
        wasm_v128_store(vt + (0 * 4 + s) * pv + ch, wasm_f32x4_sub(u[0][s], u[2][s]));
        wasm_v128_store(vt + (1 * 4 + s) * pv + ch, wasm_f32x4_add(u[1][s], u[2][s]));
        wasm_v128_store(vt + (2 * 4 + s) * pv + ch, wasm_f32x4_sub(u[2][s], u[1][s]));
        wasm_v128_store(vt + (3 * 4 + s) * pv + ch, wasm_f32x4_sub(u[1][s], u[3][s]));
      }
    }
  }
}

// The products M[e] = V[e] · U[e] of one block of nt tiles for the `planes` positions e (16: F(2×2),
// 36: F(4×4)), 4 tiles × 8 (or 4) output channels at a time.
INLINE void wino_products(const float* v, const float* u, float* mm, int planes, int pv, int pm, int c, int co, int nt) {
  int cpad = (c + 3) / 4 * 4, copad = (co + 3) / 4 * 4;
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int e = 0; e < planes; e++) {
    const float* ve = v + e * pv;
    const float* ue = u + e * c * copad;
    float* me = mm + e * pm;
    for (int o0 = 0; o0 < copad;) {
      int gw = co - o0 >= 8 ? 8 : 4;
      for (int q = 0; q < nt; q += 4) {
        int kn = nt - q < 4 ? nt - q : 4;
        v128_t acc[4][2];
        for (int k = 0; k < 4; k++) acc[k][0] = acc[k][1] = zero;
        if (gw == 8) gather_range(acc, ve + q * cpad, ue + c * o0, c, cpad, 0, kn, 8);
        else gather_range(acc, ve + q * cpad, ue + c * o0, c, cpad, 0, kn, 4);
        store_tile(acc, me + q * copad + o0, copad, kn, gw);
      }
      o0 += gw;
    }
  }
}

/** Floats of one scratch slot of wino_forward / wino_filter_grad_groups for blocks of tb tiles. */
EXPORT int wino_slot_size(int c, int co, int tb) { return 16 * (wino_plane(tb, (c + 3) / 4 * 4) + wino_plane(tb, (co + 3) / 4 * 4)); }


// Winograd F(4×4, 3×3) (Lavin & Gray 2016, points 0, ±1, ±2, ∞): each 4×4 output tile is
//   Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A
// with d_c the 6×6 input patch under the tile: 36 multiply-adds per tile and channel pair instead
// of 144 (4×; F(2×2) saves 2.25×), at the price of larger rounding (the transforms scale by up to
// 8 and 5). The forward and the input gradient (same form, flipped filter) use it; the filter
// gradient stays F(2×2, 3×3).
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
//   G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1⁄24 1⁄12 ⅙; 1⁄24 −1⁄12 ⅙; 0 0 1],
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
// Scratch as F(2×2)'s, with 36 planes.

/** Floats of an F(4×4) transformed filter: 36 * cin * (cout rounded up to 4). */
EXPORT int wino4_filter_size(int cin, int cout) { return 36 * regroup(0, 0, 1, cin, cout, 0); }

/** U = G g Gᵀ (6×6) for every channel pair of w, in float64 rounded once; layout and flip as wino_filter. */
EXPORT void wino4_filter(const float* w, float* u, int c, int co, int flip) { wino_filter_n(w, u, c, co, flip, 6); }

// Bᵀ applied to 6 values (one row or column of a patch), 4 channels at a time, stored at o, o + st, … o + 5·st.
#define WINO4_BT(d0, d1, d2, d3, d4, d5, o, st)                                                                    \
  do {                                                                                                            \
    v128_t s12 = wasm_f32x4_add(d1, d2), d12 = wasm_f32x4_sub(d1, d2);                                            \
    v128_t d31 = wasm_f32x4_sub(d3, d1), d42 = wasm_f32x4_sub(d4, d2);                                            \
    wasm_v128_store((o), wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(d0, four), wasm_f32x4_mul(d2, five)), d4));     \
    wasm_v128_store((o) + (st), wasm_f32x4_sub(wasm_f32x4_add(d3, d4), wasm_f32x4_mul(s12, four)));                  \
    wasm_v128_store((o) + 2 * (st), wasm_f32x4_add(wasm_f32x4_sub(d4, d3), wasm_f32x4_mul(d12, four)));              \
    wasm_v128_store((o) + 3 * (st), wasm_f32x4_add(d42, wasm_f32x4_mul(d31, two)));                                  \
    wasm_v128_store((o) + 4 * (st), wasm_f32x4_sub(d42, wasm_f32x4_mul(d31, two)));                                  \
    wasm_v128_store((o) + 5 * (st), wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(d1, four), wasm_f32x4_mul(d3, five)), d5)); \
  } while (0)

// Bᵀ d B of one 6×6 patch of 4 channels (element (r, s) at src + r·rs + s·cs) into the 36 planes
// of v (position (r, s) at vc + (6r + s)·pv): rows first, then columns in place.
INLINE void wino4_patch(const float* src, int rs, int cs, float* vc, int pv) {
  v128_t two = wasm_f32x4_splat(2.0f), four = wasm_f32x4_splat(4.0f), five = wasm_f32x4_splat(5.0f);
  for (int r = 0; r < 6; r++) {
    const float* p = src + r * rs;
    v128_t d0 = wasm_v128_load(p), d1 = wasm_v128_load(p + cs), d2 = wasm_v128_load(p + 2 * cs);
    v128_t d3 = wasm_v128_load(p + 3 * cs), d4 = wasm_v128_load(p + 4 * cs), d5 = wasm_v128_load(p + 5 * cs);
    WINO4_BT(d0, d1, d2, d3, d4, d5, vc + r * 6 * pv, pv);
  }
  for (int q = 0; q < 6; q++) {
    float* col = vc + q * pv;
    v128_t d0 = wasm_v128_load(col), d1 = wasm_v128_load(col + 6 * pv), d2 = wasm_v128_load(col + 12 * pv);
    v128_t d3 = wasm_v128_load(col + 18 * pv), d4 = wasm_v128_load(col + 24 * pv), d5 = wasm_v128_load(col + 30 * pv);
    WINO4_BT(d0, d1, d2, d3, d4, d5, col, 6 * pv);
  }
}

// Aᵀ applied to 6 values: 4 outputs y0 … y3 (locals of the caller).
#define WINO4_AT(m0, m1, m2, m3, m4, m5)                                        \
  v128_t s12 = wasm_f32x4_add(m1, m2), d12 = wasm_f32x4_sub(m1, m2);            \
  v128_t s34 = wasm_f32x4_add(m3, m4), d34 = wasm_f32x4_sub(m3, m4);            \
  v128_t y0 = wasm_f32x4_add(wasm_f32x4_add(m0, s12), s34);                     \
  v128_t y1 = wasm_f32x4_add(d12, wasm_f32x4_mul(d34, two));                    \
  v128_t y2 = wasm_f32x4_add(s12, wasm_f32x4_mul(s34, four));                   \
  v128_t y3 = wasm_f32x4_add(wasm_f32x4_add(d12, wasm_f32x4_mul(d34, eight)), m5)

/** Floats of one scratch slot of wino4_forward for blocks of tb tiles. */
EXPORT int wino4_slot_size(int c, int co, int tb) { return 36 * (wino_plane(tb, (c + 3) / 4 * 4) + wino_plane(tb, (co + 3) / 4 * 4)) + 144; }

// One output row of a 4×4 tile: y0 … y3 through the group's epilogue e (bias included; res: the
// residual at out's offset, read only where e has one), into the first `cols` pixels (co apart)
// and `lanes` channels at out.
INLINE void store_row4(float* out, int co, v128_t y0, v128_t y1, v128_t y2, v128_t y3, EpiGroup e, const float* res, int cols, int lanes) {
  v128_t z0 = epi_apply(e, y0, res, lanes), z1 = y1, z2 = y2, z3 = y3;
  if (cols > 1) z1 = epi_apply(e, y1, res + co, lanes);
  if (cols > 2) z2 = epi_apply(e, y2, res + 2 * co, lanes);
  if (cols > 3) z3 = epi_apply(e, y3, res + 3 * co, lanes);
  store_lanes(out, z0, lanes);
  if (cols > 1) store_lanes(out + co, z1, lanes);
  if (cols > 2) store_lanes(out + 2 * co, z2, lanes);
  if (cols > 3) store_lanes(out + 3 * co, z3, lanes);
}

// Y = Aᵀ M A (F(2×2)) of one tile at output (p0, q0) of image n from its products mt (plane stride
// pm), + bias, then the epilogue ep (0: none), for each group of 4 output channels.
INLINE void wino_output2(const float* mt, int pm, float* y, int n, int ho, int wo, int co, int p0, int q0, const float* bias, const Epilogue* ep) {
  int rows = ho - p0 < 2 ? 1 : 2, cols = wo - q0 < 2 ? 1 : 2;
  for (int o = 0; o < co; o += 4) {
    int lanes = co - o < 4 ? co - o : 4;
    v128_t p[2][4];
    for (int s = 0; s < 4; s++) {
      v128_t m0 = wasm_v128_load(mt + (0 * 4 + s) * pm + o), m1 = wasm_v128_load(mt + (1 * 4 + s) * pm + o);
      v128_t m2 = wasm_v128_load(mt + (2 * 4 + s) * pm + o), m3 = wasm_v128_load(mt + (3 * 4 + s) * pm + o);
      p[0][s] = wasm_f32x4_add(wasm_f32x4_add(m0, m1), m2);
      p[1][s] = wasm_f32x4_sub(wasm_f32x4_sub(m1, m2), m3);
    }
    EpiGroup e = epi_group(ep, bias, o, lanes);
    for (int r = 0; r < rows; r++) {
      long long at = ((long long)(n * ho + p0 + r) * wo + q0) * co + o;
      float* out = y + at;
      const float* res = (ep && ep->residual ? ep->residual : y) + at;  // read only where e has a residual
      v128_t y0 = epi_apply(e, wasm_f32x4_add(wasm_f32x4_add(p[r][0], p[r][1]), p[r][2]), res, lanes);
      v128_t y1 = wasm_f32x4_sub(wasm_f32x4_sub(p[r][1], p[r][2]), p[r][3]);
      if (cols > 1) y1 = epi_apply(e, y1, res + co, lanes);  // the residual of a pixel that exists only
      store_lanes(out, y0, lanes);
      if (cols > 1) store_lanes(out + co, y1, lanes);
    }
  }
}

// Y = Aᵀ M A (F(4×4)) of one tile, as wino_output2; M is overwritten (columns transformed in place).
INLINE void wino_output4(float* mt, int pm, float* y, int n, int ho, int wo, int co, int p0, int q0, const float* bias, const Epilogue* ep) {
  v128_t two = wasm_f32x4_splat(2.0f), four = wasm_f32x4_splat(4.0f), eight = wasm_f32x4_splat(8.0f);
  int rows = ho - p0 < 4 ? ho - p0 : 4, cols = wo - q0 < 4 ? wo - q0 : 4;
  for (int o = 0; o < co; o += 4) {
    int lanes = co - o < 4 ? co - o : 4;
    // Columns: Aᵀ down each column of M, in place into rows 0 … 3; then rows, stored into y.
    for (int q = 0; q < 6; q++) {
      float* col = mt + q * pm + o;
      WINO4_AT(wasm_v128_load(col), wasm_v128_load(col + 6 * pm), wasm_v128_load(col + 12 * pm), wasm_v128_load(col + 18 * pm),
               wasm_v128_load(col + 24 * pm), wasm_v128_load(col + 30 * pm));
      wasm_v128_store(col, y0);
      wasm_v128_store(col + 6 * pm, y1);
      wasm_v128_store(col + 12 * pm, y2);
      wasm_v128_store(col + 18 * pm, y3);
    }
    EpiGroup e = epi_group(ep, bias, o, lanes);
    const float* res = ep && ep->residual ? ep->residual : y;  // read only where e has a residual
    if (rows == 4 && cols == 4 && lanes == 4) {
      // A whole tile of 4 channels: no partial stores.
      for (int r = 0; r < 4; r++) {
        const float* row = mt + r * 6 * pm + o;
        WINO4_AT(wasm_v128_load(row), wasm_v128_load(row + pm), wasm_v128_load(row + 2 * pm), wasm_v128_load(row + 3 * pm),
                 wasm_v128_load(row + 4 * pm), wasm_v128_load(row + 5 * pm));
        long long at = ((long long)(n * ho + p0 + r) * wo + q0) * co + o;
        store_row4(y + at, co, y0, y1, y2, y3, e, res + at, 4, 4);
      }
      continue;
    }
    for (int r = 0; r < rows; r++) {
      const float* row = mt + r * 6 * pm + o;
      WINO4_AT(wasm_v128_load(row), wasm_v128_load(row + pm), wasm_v128_load(row + 2 * pm), wasm_v128_load(row + 3 * pm),
               wasm_v128_load(row + 4 * pm), wasm_v128_load(row + 5 * pm));
      long long at = ((long long)(n * ho + p0 + r) * wo + q0) * co + o;
      store_row4(y + at, co, y0, y1, y2, y3, e, res + at, cols, lanes);
    }
  }
}

// Stride-2 3×3 convolutions by nested minimal filtering: along each axis, a stride-2 3-tap
// correlation is the 2-tap correlation (w0, w2) of the even samples plus the 1-tap (w1) one of the
// odd samples; the first is F(4, 2) (Lavin & Gray 2016; points 0, ±1, 2, ∞: 5 products for 4
// outputs), the second 4 products. Nested over rows and columns, a 4×4 output tile takes 81
// multiply-adds per channel pair from its 9×9 input patch instead of 144 (1.78× fewer):
//   Y = As [ Σ_c (Gs g_c Gsᵀ) ⊙ (T d_c Tᵀ) ] Asᵀ,
//   T (9×9): Bᵀ = [2 −1 −2 1 0; 0 −2 −1 1 0; 0 2 −3 1 0; 0 −1 0 1 0; 0 2 −1 −2 1] on samples 0, 2, 4, 6, 8,
//            then samples 1, 3, 5, 7 as they are;
//   Gs (9×3): G = [½ 0; −½ −½; −⅙ ⅙; ⅙ ⅓; 0 1] on (w0, w2), then w1 four times (wino_g, n = 9);
//   As (4×9): [Aᵀ | I₄], Aᵀ = [1 1 1 1 0; 0 1 −1 2 0; 0 1 1 4 0; 0 1 −1 8 1].
// The products are wino_products' with 81 planes; scratch slots as F(4×4)'s, with 81 planes and a
// 9×9 patch buffer.

/** Floats of a stride-2 transformed filter: 81 * c * (co rounded up to 4). */
EXPORT int wino_s2_filter_size(int c, int co) { return 81 * regroup(0, 0, 1, c, co, 0); }

/** U = Gs g Gsᵀ (9×9) for every channel pair of w ([3, 3, c, co]), in float64 rounded once; layout as wino_filter. */
EXPORT void wino_s2_filter(const float* w, float* u, int c, int co) { wino_filter_n(w, u, c, co, 0, 9); }

/** Floats of one scratch slot of wino_s2_forward for blocks of tb tiles. */
EXPORT int wino_s2_slot_size(int c, int co, int tb) { return 81 * (wino_plane(tb, (c + 3) / 4 * 4) + wino_plane(tb, (co + 3) / 4 * 4)) + 324; }

// T applied to 9 values (a row or column of a patch), stored at o, o + st, … o + 8·st.
#define WINO_S2_T(d0, d1, d2, d3, d4, d5, d6, d7, d8, o, st)                                                       \
  do {                                                                                                            \
    v128_t d62 = wasm_f32x4_sub(d6, d2);                                                                          \
    wasm_v128_store((o), wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(wasm_f32x4_sub(d0, d4), two), d2), d6));      \
    wasm_v128_store((o) + (st), wasm_f32x4_sub(wasm_f32x4_sub(d6, d4), wasm_f32x4_mul(d2, two)));                    \
    wasm_v128_store((o) + 2 * (st), wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(d2, two), wasm_f32x4_mul(d4, three)), d6)); \
    wasm_v128_store((o) + 3 * (st), d62);                                                                         \
    wasm_v128_store((o) + 4 * (st), wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(wasm_f32x4_sub(d2, d6), two), d4), d8)); \
    wasm_v128_store((o) + 5 * (st), d1);                                                                          \
    wasm_v128_store((o) + 6 * (st), d3);                                                                          \
    wasm_v128_store((o) + 7 * (st), d5);                                                                          \
    wasm_v128_store((o) + 8 * (st), d7);                                                                          \
  } while (0)

// T d Tᵀ of one 9×9 patch of 4 channels (element (r, s) at src + r·rs + s·cs) into the 81 planes of
// v (position (r, s) at vc + (9r + s)·pv): rows first, then columns in place.
INLINE void wino_s2_patch(const float* src, int rs, int cs, float* vc, int pv) {
  v128_t two = wasm_f32x4_splat(2.0f), three = wasm_f32x4_splat(3.0f);
  for (int r = 0; r < 9; r++) {
    const float* p = src + r * rs;
    v128_t d0 = wasm_v128_load(p), d1 = wasm_v128_load(p + cs), d2 = wasm_v128_load(p + 2 * cs);
    v128_t d3 = wasm_v128_load(p + 3 * cs), d4 = wasm_v128_load(p + 4 * cs), d5 = wasm_v128_load(p + 5 * cs);
    v128_t d6 = wasm_v128_load(p + 6 * cs), d7 = wasm_v128_load(p + 7 * cs), d8 = wasm_v128_load(p + 8 * cs);
    WINO_S2_T(d0, d1, d2, d3, d4, d5, d6, d7, d8, vc + r * 9 * pv, pv);
  }
  for (int q = 0; q < 9; q++) {
    float* col = vc + q * pv;
    v128_t d0 = wasm_v128_load(col), d1 = wasm_v128_load(col + 9 * pv), d2 = wasm_v128_load(col + 18 * pv);
    v128_t d3 = wasm_v128_load(col + 27 * pv), d4 = wasm_v128_load(col + 36 * pv), d5 = wasm_v128_load(col + 45 * pv);
    v128_t d6 = wasm_v128_load(col + 54 * pv), d7 = wasm_v128_load(col + 63 * pv), d8 = wasm_v128_load(col + 72 * pv);
    WINO_S2_T(d0, d1, d2, d3, d4, d5, d6, d7, d8, col, 9 * pv);
  }
}

// The input transform of tiles [t0, t1) of the 4×4-tile forms (m = 4: F(4×4), 6×6 patches 4 apart;
// m = 8: stride 2, 9×9 patches 8 apart; tile t = (n, a, b): output rows 4a … 4a+3, columns
// 4b … 4b+3) into v: V[e][t − t0][ch] at v + e*wino_plane(tb, cpad) + (t − t0)*cpad + ch. A patch
// inside the image is read in place; one that crosses the border (or of a last channel group with
// fewer than 4 channels) is first copied, zero-padded, into `patch` (4·P² floats, P the patch side).
static void wino_tile_input(const float* x, float* v, float* patch, int h, int w, int c, int ho, int wo, int top, int left, int tb, int t0, int t1, int m) {
  int cpad = (c + 3) / 4 * 4, tw = (wo + 3) / 4, tpi = (ho + 3) / 4 * tw, pv = wino_plane(tb, cpad);
  int side = m == 8 ? 9 : 6;
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int t = t0; t < t1; t++) {
    int n = t / tpi, rem = t - n * tpi, a = rem / tw, b = rem - a * tw;
    int y0 = m * a - top, x0 = m * b - left;
    float* vt = v + (t - t0) * cpad;
    int inside = y0 >= 0 && y0 + side <= h && x0 >= 0 && x0 + side <= w;
    const float* base = x + ((n * h + y0) * w + x0) * c;
    for (int ch = 0; ch < cpad; ch += 4) {
      int lanes = c - ch < 4 ? c - ch : 4;
      const float* src = base + ch;
      int rs = w * c, cs = c;
      if (!inside || lanes < 4) {
        for (int r = 0; r < side; r++) {
          int yy = y0 + r;
          for (int s = 0; s < side; s++) {
            int xx = x0 + s;
            v128_t d = zero;
            if (yy >= 0 && yy < h && xx >= 0 && xx < w) d = load_lanes(base + (r * w + s) * c + ch, lanes);
            wasm_v128_store(patch + (r * side + s) * 4, d);
          }
        }
        src = patch, rs = 4 * side, cs = 4;
      }
      if (m == 8) wino_s2_patch(src, rs, cs, vt + ch, pv);
      else wino4_patch(src, rs, cs, vt + ch, pv);
    }
  }
}

// As applied to 9 values: 4 outputs y0 … y3 (locals of the caller).
#define WINO_S2_A(m0, m1, m2, m3, m4, m5, m6, m7, m8)                              \
  v128_t s12 = wasm_f32x4_add(m1, m2), d12 = wasm_f32x4_sub(m1, m2);               \
  v128_t y0 = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(m0, s12), m3), m5);     \
  v128_t y1 = wasm_f32x4_add(wasm_f32x4_add(d12, wasm_f32x4_mul(m3, two)), m6);    \
  v128_t y2 = wasm_f32x4_add(wasm_f32x4_add(s12, wasm_f32x4_mul(m3, four)), m7);   \
  v128_t y3 = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(d12, wasm_f32x4_mul(m3, eight)), m4), m8)

// Y = As M Asᵀ of one tile from its products mt (plane stride pm), + bias, the epilogue, as wino_output4;
// M is overwritten (columns transformed in place).
INLINE void wino_s2_output(float* mt, int pm, float* y, int n, int ho, int wo, int co, int p0, int q0, const float* bias, const Epilogue* ep) {
  v128_t two = wasm_f32x4_splat(2.0f), four = wasm_f32x4_splat(4.0f), eight = wasm_f32x4_splat(8.0f);
  int rows = ho - p0 < 4 ? ho - p0 : 4, cols = wo - q0 < 4 ? wo - q0 : 4;
  for (int o = 0; o < co; o += 4) {
    int lanes = co - o < 4 ? co - o : 4;
    for (int q = 0; q < 9; q++) {
      float* col = mt + q * pm + o;
      WINO_S2_A(wasm_v128_load(col), wasm_v128_load(col + 9 * pm), wasm_v128_load(col + 18 * pm), wasm_v128_load(col + 27 * pm),
                wasm_v128_load(col + 36 * pm), wasm_v128_load(col + 45 * pm), wasm_v128_load(col + 54 * pm), wasm_v128_load(col + 63 * pm),
                wasm_v128_load(col + 72 * pm));
      wasm_v128_store(col, y0);
      wasm_v128_store(col + 9 * pm, y1);
      wasm_v128_store(col + 18 * pm, y2);
      wasm_v128_store(col + 27 * pm, y3);
    }
    EpiGroup e = epi_group(ep, bias, o, lanes);
    const float* res = ep && ep->residual ? ep->residual : y;  // read only where e has a residual
    for (int r = 0; r < rows; r++) {
      const float* row = mt + r * 9 * pm + o;
      WINO_S2_A(wasm_v128_load(row), wasm_v128_load(row + pm), wasm_v128_load(row + 2 * pm), wasm_v128_load(row + 3 * pm),
                wasm_v128_load(row + 4 * pm), wasm_v128_load(row + 5 * pm), wasm_v128_load(row + 6 * pm), wasm_v128_load(row + 7 * pm),
                wasm_v128_load(row + 8 * pm));
      long long at = ((long long)(n * ho + p0 + r) * wo + q0) * co + o;
      store_row4(y + at, co, y0, y1, y2, y3, e, res + at, cols, lanes);
    }
  }
}

// Blocks [block_begin, block_end) of tb tiles of the Winograd forward of form m (2: F(2×2, 3×3),
// 4: F(4×4, 3×3), 8: the stride-2 form, 4×4 output tiles): input transform, products, output transform.
static void wino_forward_m(const float* x, const float* u, float* y, float* scratch, int nb, int h, int w, int c, int ho, int wo, int co,
                           int top, int left, int tb, int block_begin, int block_end, int slot, const float* bias, const Epilogue* ep, int m) {
  int tile = m == 8 ? 4 : m, planes = m == 2 ? 16 : m == 4 ? 36 : 81, copad = (co + 3) / 4 * 4;
  int tw = (wo + tile - 1) / tile, tpi = (ho + tile - 1) / tile * tw, tiles = nb * tpi;
  int pv = wino_plane(tb, (c + 3) / 4 * 4), pm = wino_plane(tb, copad);
  float* v = scratch + (long long)slot * (m == 2 ? wino_slot_size(c, co, tb) : m == 4 ? wino4_slot_size(c, co, tb) : wino_s2_slot_size(c, co, tb));
  float* mm = v + planes * pv;
  for (int blk = block_begin; blk < block_end; blk++) {
    int t0 = blk * tb, t1 = t0 + tb < tiles ? t0 + tb : tiles, nt = t1 - t0;
    if (m == 2) wino_input(x, v, h, w, c, ho, wo, top, left, tb, t0, t1);
    else wino_tile_input(x, v, mm + planes * pm, h, w, c, ho, wo, top, left, tb, t0, t1, m);
    wino_products(v, u, mm, planes, pv, pm, c, co, nt);
    for (int t = t0; t < t1; t++) {
      int n = t / tpi, rem = t - n * tpi, a = rem / tw, b = rem - a * tw;
      float* mt = mm + (t - t0) * copad;
      if (m == 2) wino_output2(mt, pm, y, n, ho, wo, co, 2 * a, 2 * b, bias, ep);
      else if (m == 4) wino_output4(mt, pm, y, n, ho, wo, co, 4 * a, 4 * b, bias, ep);
      else wino_s2_output(mt, pm, y, n, ho, wo, co, 4 * a, 4 * b, bias, ep);
    }
  }
}

/**
 * Blocks [block_begin, block_end) of tb tiles of the stride-1 3×3 conv y ([nb, ho, wo, co]) of x
 * ([nb, h, w, c]) with the transformed filter u (wino_filter), padding top/left, + bias (0: none),
 * then the epilogue ep (0: none). Scratch: slot `slot` of `scratch` (wino_slot_size floats each), the calling
 * thread's own (the blocks' results do not depend on it).
 */
EXPORT void wino_forward(const float* x, const float* u, float* y, float* scratch, int nb, int h, int w, int c, int ho, int wo, int co,
                         int top, int left, int tb, int block_begin, int block_end, int slot, const float* bias, const Epilogue* ep) {
  wino_forward_m(x, u, y, scratch, nb, h, w, c, ho, wo, co, top, left, tb, block_begin, block_end, slot, bias, ep, 2);
}

/** wino_forward with F(4×4, 3×3): u from wino4_filter, scratch slots of wino4_slot_size floats. */
EXPORT void wino4_forward(const float* x, const float* u, float* y, float* scratch, int nb, int h, int w, int c, int ho, int wo, int co,
                          int top, int left, int tb, int block_begin, int block_end, int slot, const float* bias, const Epilogue* ep) {
  wino_forward_m(x, u, y, scratch, nb, h, w, c, ho, wo, co, top, left, tb, block_begin, block_end, slot, bias, ep, 4);
}

/**
 * Blocks [block_begin, block_end) of tb tiles (4×4 outputs) of the stride-2 3×3 conv y ([nb, ho, wo,
 * co]) of x ([nb, h, w, c]) with the transformed filter u (wino_s2_filter), padding top/left, + bias
 * (0: none), then the epilogue ep (0: none); scratch slots of wino_s2_slot_size floats, as wino_forward.
 */
EXPORT void wino_s2_forward(const float* x, const float* u, float* y, float* scratch, int nb, int h, int w, int c, int ho, int wo, int co,
                            int top, int left, int tb, int block_begin, int block_end, int slot, const float* bias, const Epilogue* ep) {
  wino_forward_m(x, u, y, scratch, nb, h, w, c, ho, wo, co, top, left, tb, block_begin, block_end, slot, bias, ep, 8);
}

/**
 * The filter-gradient sums dU (16 × c × copad, [e][ch][o]) of tile groups [group_begin, group_end)
 * of `groups` (group g: tiles [g*T/groups, (g+1)*T/groups)) into partials + g*16*c*copad, in
 * blocks of tb tiles, scratch slot g of `scratch`.
 */
EXPORT void wino_filter_grad_groups(const float* x, const float* dy, float* partials, float* scratch, int nb, int h, int w, int c, int ho,
                                    int wo, int co, int top, int left, int tb, int group_begin, int group_end, int groups) {
  int cpad = (c + 3) / 4 * 4, copad = (co + 3) / 4 * 4;
  int tw = (wo + 1) / 2, tpi = (ho + 1) / 2 * tw, tiles = nb * tpi;
  int og = o_tiles(copad);
  v128_t zero = wasm_f32x4_splat(0.0f);
  for (int g = group_begin; g < group_end; g++) {
    int g0 = (int)((long long)g * tiles / groups), g1 = (int)((long long)(g + 1) * tiles / groups);
    float* du = partials + (long long)g * 16 * c * copad;
    int pv = wino_plane(tb, cpad), pz = wino_plane(tb, copad);
    float* v = scratch + (long long)g * wino_slot_size(c, co, tb);
    float* z = v + 16 * pv;
    for (int k = 0; k < 16 * c * copad; k += 4) wasm_v128_store(du + k, zero);
    for (int t0 = g0; t0 < g1; t0 += tb) {
      int t1 = t0 + tb < g1 ? t0 + tb : g1;
      wino_input(x, v, h, w, c, ho, wo, top, left, tb, t0, t1);
      // Z = A dY Aᵀ per tile and group of 4 output channels (dy outside [ho, wo): 0; lanes past co: 0).
      for (int t = t0; t < t1; t++) {
        int n = t / tpi, rem = t - n * tpi, a = rem / tw, b = rem - a * tw;
        int p0 = 2 * a, q0 = 2 * b;
        int rows = ho - p0 < 2 ? 1 : 2, cols = wo - q0 < 2 ? 1 : 2;
        float* zt = z + (t - t0) * copad;
        for (int o = 0; o < copad; o += 4) {
          int lanes = co - o < 4 ? co - o : 4;
          v128_t wq[2][4];
          for (int r = 0; r < 2; r++) {
            v128_t d0 = zero, d1 = zero;
            if (r < rows) {
              const float* dp = dy + ((long long)(n * ho + p0 + r) * wo + q0) * co + o;
              d0 = load_lanes(dp, lanes);
              if (cols > 1) d1 = load_lanes(dp + co, lanes);
            }
            wq[r][0] = d0;
            wq[r][1] = wasm_f32x4_add(d0, d1);
            wq[r][2] = wasm_f32x4_sub(d0, d1);
            wq[r][3] = wasm_f32x4_neg(d1);
          }
          for (int s = 0; s < 4; s++) {
            wasm_v128_store(zt + (0 * 4 + s) * pz + o, wq[0][s]);
            wasm_v128_store(zt + (1 * 4 + s) * pz + o, wasm_f32x4_add(wq[0][s], wq[1][s]));
            wasm_v128_store(zt + (2 * 4 + s) * pz + o, wasm_f32x4_sub(wq[0][s], wq[1][s]));
            wasm_v128_store(zt + (3 * 4 + s) * pz + o, wasm_f32x4_neg(wq[1][s]));
          }
        }
      }
      // dU[e] += V[e]ᵀ · Z[e]: 4 input × 8 (or 4) output channels in registers over the block's tiles.
      int nt = t1 - t0;
      for (int e = 0; e < 16; e++) {
        const float* ve = v + e * pv;
        const float* ze = z + e * pz;
        float* de = du + e * c * copad;
        for (int ot = 0; ot < og; ot++) {
          int o0, ow;
          o_tile(ot, copad, &o0, &ow);
          for (int c0 = 0; c0 < c; c0 += 4) {
            int ct = c - c0 < 4 ? c - c0 : 4;
            float* d = de + c0 * copad + o0;
#define WINO_DU(CT, OW)                                                                        \
  {                                                                                            \
    v128_t a0[4], a1[4];                                                                       \
    for (int k = 0; k < CT; k++) {                                                             \
      a0[k] = wasm_v128_load(d + k * copad);                                                   \
      if (OW == 8) a1[k] = wasm_v128_load(d + k * copad + 4);                                  \
    }                                                                                          \
    const float* vp = ve + c0;                                                                 \
    const float* zp = ze + o0;                                                                 \
    for (int t = 0; t < nt; t++, vp += cpad, zp += copad) {                                    \
      v128_t z0 = wasm_v128_load(zp), z1 = OW == 8 ? wasm_v128_load(zp + 4) : z0;              \
      for (int k = 0; k < CT; k++) {                                                           \
        v128_t xv = wasm_v128_load32_splat(vp + k);                                            \
        a0[k] = MADD(a0[k], xv, z0);                                                           \
        if (OW == 8) a1[k] = MADD(a1[k], xv, z1);                                              \
      }                                                                                        \
    }                                                                                          \
    for (int k = 0; k < CT; k++) {                                                             \
      wasm_v128_store(d + k * copad, a0[k]);                                                   \
      if (OW == 8) wasm_v128_store(d + k * copad + 4, a1[k]);                                  \
    }                                                                                          \
  }
            if (ow == 8) {
              switch (ct) {
                case 4: WINO_DU(4, 8) break;
                case 3: WINO_DU(3, 8) break;
                case 2: WINO_DU(2, 8) break;
                default: WINO_DU(1, 8) break;
              }
            } else {
              switch (ct) {
                case 4: WINO_DU(4, 4) break;
                case 3: WINO_DU(3, 4) break;
                case 2: WINO_DU(2, 4) break;
                default: WINO_DU(1, 4) break;
              }
            }
#undef WINO_DU
          }
        }
      }
    }
  }
}

/** dw ([3, 3, c, co]) = Gᵀ dU G for input channels [c_begin, c_end), dU as wino_filter_grad_groups writes it. */
EXPORT void wino_filter_grad_out(const float* du, float* dw, int c, int co, int c_begin, int c_end) {
  int copad = (co + 3) / 4 * 4;
  v128_t half = wasm_f32x4_splat(0.5f);
  for (int ch = c_begin; ch < c_end; ch++) {
    for (int o = 0; o < co; o += 4) {
      int lanes = co - o < 4 ? co - o : 4;
      v128_t q[4][3];
      for (int r = 0; r < 4; r++) {
        const float* dr = du + ((r * 4) * c + ch) * copad + o;
        v128_t u0 = wasm_v128_load(dr), u1 = wasm_v128_load(dr + c * copad);
        v128_t u2 = wasm_v128_load(dr + 2 * c * copad), u3 = wasm_v128_load(dr + 3 * c * copad);
        v128_t s12 = wasm_f32x4_mul(half, wasm_f32x4_add(u1, u2));
        q[r][0] = wasm_f32x4_add(u0, s12);
        q[r][1] = wasm_f32x4_mul(half, wasm_f32x4_sub(u1, u2));
        q[r][2] = wasm_f32x4_add(s12, u3);
      }
      for (int j = 0; j < 3; j++) {
        v128_t s12 = wasm_f32x4_mul(half, wasm_f32x4_add(q[1][j], q[2][j]));
        store_lanes(dw + ((0 * 3 + j) * c + ch) * co + o, wasm_f32x4_add(q[0][j], s12), lanes);
        store_lanes(dw + ((1 * 3 + j) * c + ch) * co + o, wasm_f32x4_mul(half, wasm_f32x4_sub(q[1][j], q[2][j])), lanes);
        store_lanes(dw + ((2 * 3 + j) * c + ch) * co + o, wasm_f32x4_add(s12, q[3][j]), lanes);
      }
    }
  }
}

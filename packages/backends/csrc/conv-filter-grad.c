// The filter gradient of an NHWC conv2d, in WebAssembly SIMD, reading and writing tfjs-backend-wasm's
// own memory (this module imports it and keeps no data, stack or state of its own).
//
//   dw[i, j, c, o] = sum over (n, p, q) of x[n, p*sh + i - top, q*sw + j - left, c] * dy[n, p, q, o]
//
// (x outside the image is 0). The work is cut into tiles: one filter tap (i, j), up to 4 input
// channels and up to 8 output channels, whose sums live in SIMD registers while the tile sweeps a
// block of output rows; every tile of a block is done before the next block, so the block's x and
// dy stay in cache. Threads take disjoint ranges of tiles (tile_begin, tile_end) of the same call and
// need no synchronisation: each writes its own tiles of dw only. Sums run in float32 in the order
// n, p, q for every element, so the result does not depend on the thread count.
#include <wasm_simd128.h>

#define EXPORT __attribute__((visibility("default")))
#define INLINE static inline __attribute__((always_inline))

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
          a[k][0] = wasm_f32x4_add(a[k][0], wasm_f32x4_mul(xk, d0));
          if (OW == 8) a[k][1] = wasm_f32x4_add(a[k][1], wasm_f32x4_mul(xk, d1));
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

/**
 * Computes tiles [tile_begin, tile_end) of dw ([kh, kw, c, co]) from x ([nb, h, w, c]) and dy
 * ([nb, ho, wo, co]), sweeping block_rows output rows at a time. Tiles are numbered tap-major, then
 * output-channel group, then input-channel group.
 */
EXPORT void filter_grad(const float* x, const float* dy, float* dw, int nb, int h, int w, int c, int ho, int wo, int co,
                        int kh, int kw, int sh, int sw, int top, int left, int tile_begin, int tile_end, int block_rows) {
  int cg = (c + 3) / 4, og = o_tiles(co);
  // Zero this range's tiles.
  for (int t = tile_begin; t < tile_end; t++) {
    int tap = t / (cg * og), rest = t % (cg * og), c0 = 4 * (rest % cg), o0, ow;
    o_tile(rest / cg, co, &o0, &ow);
    int ct = c - c0 < 4 ? c - c0 : 4;
    float* d = dw + (tap * c + c0) * co + o0;
    for (int k = 0; k < ct; k++) for (int m = 0; m < ow; m++) d[k * co + m] = 0.0f;
  }
  int rows = nb * ho;
  for (int r0 = 0; r0 < rows; r0 += block_rows) {
    int r1 = r0 + block_rows < rows ? r0 + block_rows : rows;
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

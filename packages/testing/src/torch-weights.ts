/**
 * Deterministic "PyTorch" weights and inputs: the JS twin of
 * `tools/reference/backbones-torch-weights.py`. Both sides fill a state dict by the same formula, so
 * parity tests can compare against goldens computed by PyTorch without committing large weights.
 *
 * For the k-th key in sorted order (keys ending in `num_batches_tracked` skipped) and flat element
 * i (row-major, PyTorch layout), with s = {@link hashUnit}(i, k) ∈ [-1, 1) (an exact 32-bit integer
 * hash, decorrelated across channels):
 * - `…running_var`: 0.75 + 0.25·s; `…running_mean`: 0.1·s
 * - rank-1 `….weight` (batch-norm scale): 1 + 0.2·s; rank-1 `….bias`: 0.1·s
 * - rank ≥ 2 (conv / linear weight): s / sqrt(prod(shape[1:]))
 *
 * Inputs, flat NCHW index j: 0.8·sin(0.11·j + 0.3) + 0.2·cos(0.017·j).
 *
 * Usage (e.g. torchvision ResNet-18 for Grad-CAM parity): take the PyTorch key → shape map (from
 * `torchStateDictShapes(model)` of `@lico/backbones` or a golden), call {@link formulaStateDict},
 * write it with `writeSafetensors` from `@lico/core`, load it with `loadTorchWeights`.
 */

/** One tensor of a formula state dict, ready for `writeSafetensors`. */
export interface FormulaTensor {
  readonly dtype: 'F32';
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * A uniform-looking value in [-1, 1) from integers `i`, `k`, exact in JS and Python:
 * `h = ((i+1)·0x9E3779B1 mod 2³²) XOR ((k+1)·0x85EBCA77 mod 2³²)`,
 * `h = ((h XOR h>>15)·0x2C1B3C6D) mod 2³²`, `h = h XOR h>>12`, result `2h/2³² - 1`.
 */
export function hashUnit(i: number, k: number): number {
  let h = (Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  h = (h ^ (h >>> 12)) >>> 0;
  return h * (2 / 4294967296) - 1;
}

/** The formula value of one tensor (`k` = its index among the sorted keys). */
export function formulaTensor(key: string, shape: readonly number[], k: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let f: (s: number) => number;
  if (key.endsWith('running_var')) f = (s) => 0.75 + 0.25 * s;
  else if (key.endsWith('running_mean')) f = (s) => 0.1 * s;
  else if (shape.length === 1 && key.endsWith('.weight')) f = (s) => 1 + 0.2 * s;
  else if (shape.length === 1 && key.endsWith('.bias')) f = (s) => 0.1 * s;
  else {
    const scale = 1 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1));
    f = (s) => s * scale;
  }
  for (let i = 0; i < n; i++) out[i] = f(hashUnit(i, k));
  return out;
}

/**
 * A whole formula state dict for a PyTorch key → shape map (keys ending in `num_batches_tracked`
 * are left out; importers must not require them).
 */
export function formulaStateDict(shapes: Readonly<Record<string, readonly number[]>>): Record<string, FormulaTensor> {
  const keys = Object.keys(shapes)
    .filter((k) => !k.endsWith('num_batches_tracked'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: Record<string, FormulaTensor> = {};
  keys.forEach((key, k) => {
    out[key] = { dtype: 'F32', shape: shapes[key]!, data: formulaTensor(key, shapes[key]!, k) };
  });
  return out;
}

/** The formula input of NCHW shape `shape`, flat in NCHW order. */
export function formulaInputNCHW(shape: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) out[j] = 0.8 * Math.sin(0.11 * j + 0.3) + 0.2 * Math.cos(0.017 * j);
  return out;
}

/** The formula input of NCHW shape `[n,c,h,w]`, transposed to NHWC (flat), for tfjs models. */
export function formulaInputNHWC(shape: readonly [number, number, number, number]): Float32Array {
  const [n, c, h, w] = shape;
  const src = formulaInputNCHW(shape);
  const out = new Float32Array(src.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((b * h + y) * w + x) * c + ch] = src[((b * c + ch) * h + y) * w + x]!;
  return out;
}

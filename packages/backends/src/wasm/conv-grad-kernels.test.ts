import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRng, UnknownNameError } from '@lico/core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONV_GRAD_SOURCE_SHA256 } from '../generated/conv-grad-wasm';
import { claimChunks, closeJob, convGradRunner, selectWasmConvAlgorithm, SLOTS, WASM_CONV_ALGORITHMS, wasmConvAlgorithm, winogradApplies, winogradStride2Applies, type ConvGeometry, type WasmConvAlgorithm } from './conv-grad-kernels';
import { selectWasmKernelBuild, wasmKernelBuild } from './kernel-build';
import { KERNEL_BUILDS } from './test-parity';

/**
 * The conv and both gradients by the definition, in float64, over every (n, p, q, i, j) with an
 * input pixel (y = p·sh + i − top, x = q·sw + j − left): out[n,p,q,o] += x[n,y,x,c] · w[i,j,c,o]
 * (then + bias, max 0), dw[i,j,c,o] += x[n,y,x,c] · dy[n,p,q,o], dx[n,y,x,c] += dy[n,p,q,o] · w[i,j,c,o].
 */
function reference(x: Float32Array, dy: Float32Array, w: Float32Array, g: ConvGeometry, bias: Float32Array): { dw: Float64Array; dx: Float64Array; y: Float64Array } {
  const dw = new Float64Array(g.kh * g.kw * g.c * g.co);
  const dx = new Float64Array(g.nb * g.h * g.w * g.c);
  const out = new Float64Array(g.nb * g.ho * g.wo * g.co);
  for (let n = 0; n < g.nb; n++)
    for (let p = 0; p < g.ho; p++)
      for (let q = 0; q < g.wo; q++)
        for (let i = 0; i < g.kh; i++)
          for (let j = 0; j < g.kw; j++) {
            const y = p * g.sh + i - g.top;
            const xx = q * g.sw + j - g.left;
            if (y < 0 || y >= g.h || xx < 0 || xx >= g.w) continue;
            for (let c = 0; c < g.c; c++) {
              const at = ((n * g.h + y) * g.w + xx) * g.c + c;
              for (let o = 0; o < g.co; o++) {
                const d = dy[((n * g.ho + p) * g.wo + q) * g.co + o]!;
                const tap = ((i * g.kw + j) * g.c + c) * g.co + o;
                dw[tap] += x[at]! * d;
                dx[at] += d * w[tap]!;
                out[((n * g.ho + p) * g.wo + q) * g.co + o] += x[at]! * w[tap]!;
              }
            }
          }
  const y = out.map((v, k) => Math.max(0, v + bias[k % g.co]!));
  return { dw, dx, y };
}

/** A geometry with output sizes derived from the input, kernel, stride and leading/trailing pads. */
function geometry(nb: number, h: number, w: number, c: number, co: number, kh: number, kw: number, sh: number, sw: number, pads: [number, number, number, number]): ConvGeometry {
  const [top, bottom, left, right] = pads;
  return { nb, h, w, c, co, kh, kw, sh, sw, top, left, ho: Math.floor((h + top + bottom - kh) / sh) + 1, wo: Math.floor((w + left + right - kw) / sw) + 1 };
}

/** Byte offsets of every array on a memory, each `shift` floats past a 16-byte boundary, 8 floats apart. */
function layout(x: Float32Array, dy: Float32Array, w: Float32Array, bias: Float32Array, shift: number) {
  let at = 1024 + 4 * shift;
  const next = (floats: number) => {
    const ptr = at;
    at += 4 * (floats + 8);
    return ptr;
  };
  return { xPtr: next(x.length), dyPtr: next(dy.length), wPtr: next(w.length), dwPtr: next(w.length), dxPtr: next(x.length), yPtr: next(dy.length), biasPtr: next(bias.length), scratchPtr: at };
}

/** Runs the three kernels on a memory (the forward pass with `bias` and relu) at {@link layout}'s offsets. */
function runOn(memory: WebAssembly.Memory, threads: number, x: Float32Array, dy: Float32Array, w: Float32Array, g: ConvGeometry, bias: Float32Array, shift = 0): { dw: Float32Array; dx: Float32Array; y: Float32Array } {
  const runner = convGradRunner(memory, threads);
  if (!runner) throw new Error('the kernels did not instantiate');
  if (runner.build !== wasmKernelBuild()) throw new Error(`runner build ${runner.build}, selected ${wasmKernelBuild()}`);
  const { xPtr, dyPtr, wPtr, dwPtr, dxPtr, yPtr, biasPtr, scratchPtr } = layout(x, dy, w, bias, shift);
  const need = scratchPtr + 4 * Math.max(runner.inputGradScratch(g), runner.forwardScratch(g), runner.filterGradScratch(g));
  if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
  const heap = new Float32Array(memory.buffer);
  heap.set(x, xPtr / 4);
  heap.set(dy, dyPtr / 4);
  heap.set(w, wPtr / 4);
  heap.set(bias, biasPtr / 4);
  // every element must be written
  for (const [ptr, n] of [[dwPtr, w.length], [dxPtr, x.length], [yPtr, dy.length]] as const) heap.fill(Number.NaN, ptr / 4, ptr / 4 + n);
  runner.filterGrad(xPtr, dyPtr, dwPtr, scratchPtr, g);
  runner.inputGrad(dyPtr, wPtr, dxPtr, scratchPtr, g);
  runner.forward(xPtr, wPtr, biasPtr, yPtr, scratchPtr, g, { activation: 'relu' });
  const out = new Float32Array(memory.buffer);
  return { dw: out.slice(dwPtr / 4, dwPtr / 4 + w.length), dx: out.slice(dxPtr / 4, dxPtr / 4 + x.length), y: out.slice(yPtr / 4, yPtr / 4 + dy.length) };
}

function random(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => 2 * rng.next() - 1);
}

/** Random x, dy, w and bias for a geometry (seeds seed … seed + 3). */
function arrays(g: ConvGeometry, seed: number) {
  return { x: random(g.nb * g.h * g.w * g.c, seed), dy: random(g.nb * g.ho * g.wo * g.co, seed + 1), w: random(g.kh * g.kw * g.c * g.co, seed + 2), bias: random(g.co, seed + 3) };
}

function relativeError(actual: Float32Array, expected: Float64Array): number {
  let diff = 0;
  let scale = 0;
  for (let k = 0; k < expected.length; k++) {
    diff = Math.max(diff, Math.abs(actual[k]! - expected[k]!));
    scale = Math.max(scale, Math.abs(expected[k]!));
  }
  return scale === 0 ? diff : diff / scale; // all-zero expectations (relu) compare absolutely
}

describe.each(KERNEL_BUILDS)('the SIMD conv2d kernels (forward and both gradients), %s build', (build) => {
  beforeAll(() => selectWasmKernelBuild(build));

  it('was built from the committed C source (rebuild: node tools/wasm/build-wasm.mjs backends)', () => {
    const source = readFileSync(new URL('../../csrc/conv-grad.c', import.meta.url));
    expect(createHash('sha256').update(source).digest('hex')).toBe(CONV_GRAD_SOURCE_SHA256);
  });

  // Channel counts hit every tile shape (filter gradient: 4 input channels or fewer, 8, 4 or single
  // output channels; input gradient: groups of 8, 4 and 1–3 channels, 4 positions or fewer per
  // phase); strides, kernels and pads differ per axis; pads beyond the kernel leave taps empty,
  // and strides above the kernel leave input pixels no tap reaches (their gradient is 0).
  const cases: { name: string; g: ConvGeometry; shift?: number }[] = [
    { name: 'c 1, co 1, 1×1', g: geometry(2, 5, 4, 1, 1, 1, 1, 1, 1, [0, 0, 0, 0]) },
    { name: 'c 3, co 13, 3×3 same', g: geometry(3, 7, 9, 3, 13, 3, 3, 1, 1, [1, 1, 1, 1]), shift: 1 },
    { name: 'c 5, co 12, 3×3 stride 2 same', g: geometry(2, 8, 7, 5, 12, 3, 3, 2, 2, [0, 1, 1, 1]), shift: 3 },
    { name: 'c 7, co 17, 5×4 strides 2×3', g: geometry(2, 9, 8, 7, 17, 5, 4, 2, 3, [2, 1, 0, 2]), shift: 2 },
    { name: 'c 8, co 8, 1×1 stride 2 valid', g: geometry(3, 6, 6, 8, 8, 1, 1, 2, 2, [0, 0, 0, 0]) },
    { name: 'c 9, co 5, 7×7 on 4×4 (taps outside the image)', g: geometry(1, 4, 4, 9, 5, 7, 7, 1, 1, [3, 3, 3, 3]) },
    { name: 'c 4, co 16, 2×2 valid, batch 1', g: geometry(1, 6, 5, 4, 16, 2, 2, 1, 1, [0, 0, 0, 0]) },
    { name: 'c 13, co 5, 5×4 strides 2×3', g: geometry(2, 9, 8, 13, 5, 5, 4, 2, 3, [2, 1, 2, 2]), shift: 1 },
    { name: 'c 20, co 9, 2×2 stride 3 (pixels no tap reaches)', g: geometry(2, 8, 10, 20, 9, 2, 2, 3, 3, [0, 0, 0, 0]) },
  ];
  it.each(cases)('the conv (bias, relu) and both gradients match the definition (float64) to 1e-5: $name', ({ g, shift }) => {
    const { x, dy, w, bias } = arrays(g, 1);
    const { dw, dx, y } = runOn(new WebAssembly.Memory({ initial: 4 }), 1, x, dy, w, g, bias, shift);
    const expected = reference(x, dy, w, g, bias);
    expect(dw.every(Number.isFinite) && dx.every(Number.isFinite) && y.every(Number.isFinite)).toBe(true);
    expect(relativeError(dw, expected.dw)).toBeLessThan(1e-5);
    expect(relativeError(dx, expected.dx)).toBeLessThan(1e-5);
    expect(relativeError(y, expected.y)).toBeLessThan(1e-5);
    for (let k = 0; k < y.length; k++) if (expected.y[k] === 0) expect(y[k]).toBe(0); // relu
    // Pixels no tap reaches get exactly 0.
    for (let k = 0; k < dx.length; k++) if (expected.dx[k] === 0) expect(dx[k]).toBe(0);
  });

  it('a closed form: 1×1 filter, one channel each way: dw = Σ x·dy, dx = w·dy, y = max(0, w·x + b)', () => {
    const g = geometry(1, 2, 2, 1, 1, 1, 1, 1, 1, [0, 0, 0, 0]);
    const { dw, dx, y } = runOn(new WebAssembly.Memory({ initial: 1 }), 1, Float32Array.of(1, 2, 3, -4), Float32Array.of(0.5, -1, 2, 0.25), Float32Array.of(3), g, Float32Array.of(-4));
    expect(Array.from(dw)).toEqual([0.5 - 2 + 6 - 1]);
    expect(Array.from(dx)).toEqual([1.5, -3, 6, 0.75]);
    expect(Array.from(y)).toEqual([0, 2, 5, 0]);
  });

  it.each([
    { name: 'stride 1', g: geometry(8, 16, 16, 32, 24, 3, 3, 1, 1, [1, 1, 1, 1]) },
    { name: 'stride 2', g: geometry(8, 17, 16, 24, 40, 3, 3, 2, 2, [0, 1, 1, 1]) },
  ])('splits the work over worker threads on a shared memory with bit-identical results ($name)', ({ g }) => {
    // ≥ 8·16·16·9·24·24 ≈ 11M multiply-adds: above the size where a call uses its workers.
    const { x, dy, w, bias } = arrays(g, 3);
    const single = runOn(new WebAssembly.Memory({ initial: 4 }), 1, x, dy, w, g, bias);
    const shared = new WebAssembly.Memory({ initial: 64, maximum: 1024, shared: true });
    expect(convGradRunner(shared, 3)?.threads).toBe(3);
    for (const threads of [1, 2, 3]) {
      const out = runOn(shared, threads, x, dy, w, g, bias);
      expect(Array.from(out.dw)).toEqual(Array.from(single.dw));
      expect(Array.from(out.dx)).toEqual(Array.from(single.dx));
      expect(Array.from(out.y)).toEqual(Array.from(single.y));
    }
    const expected = reference(x, dy, w, g, bias);
    expect(relativeError(single.dw, expected.dw)).toBeLessThan(1e-5);
    expect(relativeError(single.dx, expected.dx)).toBeLessThan(1e-5);
    expect(relativeError(single.y, expected.y)).toBeLessThan(1e-5);
  });

  it('1000 threaded calls keep the JS heap flat (the worker protocol allocates nothing that survives)', () => {
    const g = geometry(2, 16, 16, 32, 32, 3, 3, 1, 1, [1, 1, 1, 1]); // 4.7M multiply-adds: threaded
    const { x, dy, w, bias } = arrays(g, 7);
    const shared = new WebAssembly.Memory({ initial: 64, maximum: 1024, shared: true });
    const first = runOn(shared, 2, x, dy, w, g, bias);
    const runner = convGradRunner(shared, 2)!;
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'run with --expose-gc').toBeTypeOf('function');
    gc!();
    const before = process.memoryUsage().heapUsed;
    const { xPtr, dyPtr, wPtr, dwPtr, dxPtr, scratchPtr } = layout(x, dy, w, bias, 0); // runOn's offsets
    for (let i = 0; i < 1000; i++) {
      runner.filterGrad(xPtr, dyPtr, dwPtr, scratchPtr, g);
      runner.inputGrad(dyPtr, wPtr, dxPtr, scratchPtr, g);
    }
    gc!();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(2 * 2 ** 20);
    const heap = new Float32Array(shared.buffer);
    expect(Array.from(heap.subarray(dwPtr / 4, dwPtr / 4 + w.length))).toEqual(Array.from(first.dw));
    expect(Array.from(heap.subarray(dxPtr / 4, dxPtr / 4 + x.length))).toEqual(Array.from(first.dx));
  });

  it('a trap in a threaded call throws, after the workers finish, and the next call works', () => {
    const g = geometry(2, 16, 16, 32, 32, 3, 3, 1, 1, [1, 1, 1, 1]); // threaded
    const { x, dy, w, bias } = arrays(g, 11);
    const shared = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
    const first = runOn(shared, 2, x, dy, w, g, bias);
    const runner = convGradRunner(shared, 2)!;
    const { dyPtr, dwPtr, scratchPtr } = layout(x, dy, w, bias, 0);
    // x "past the end of memory": every thread's share reads out of bounds.
    expect(() => runner.filterGrad(shared.buffer.byteLength - 64, dyPtr, dwPtr, scratchPtr, g)).toThrow(/out of bounds/);
    const again = runOn(shared, 2, x, dy, w, g, bias);
    expect(Array.from(again.dw)).toEqual(Array.from(first.dw));
  });

  it('a plain (not shared) memory runs on the calling thread whatever the thread count', () => {
    expect(convGradRunner(new WebAssembly.Memory({ initial: 1 }), 4)?.threads).toBe(1);
  });
});

describe('the relaxed-SIMD build (fused multiply-adds)', () => {
  it('differs from the SIMD build only by rounding: where the CPU has FMA some sums differ, elsewhere none', () => {
    const g = geometry(2, 9, 9, 16, 24, 3, 3, 1, 1, [1, 1, 1, 1]);
    const { x, dy, w, bias } = arrays(g, 5);
    const out: Record<string, { dw: Float32Array; dx: Float32Array; y: Float32Array }> = {};
    for (const build of KERNEL_BUILDS) {
      selectWasmKernelBuild(build);
      out[build] = runOn(new WebAssembly.Memory({ initial: 4 }), 1, x, dy, w, g, bias);
    }
    const expected = reference(x, dy, w, g, bias);
    let differing = 0;
    for (const key of ['dw', 'dx', 'y'] as const) {
      const [simd, relaxed] = [out.simd![key], out['relaxed-simd']![key]];
      expect(relativeError(relaxed, expected[key])).toBeLessThan(1e-5);
      for (let k = 0; k < simd.length; k++) if (simd[k] !== relaxed[k]) differing++;
    }
    const fma = /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf-8'));
    if (fma) expect(differing).toBeGreaterThan(0);
    else expect(differing).toBe(0);
  });
});

// 'winograd-4x4': F(4×4, 3×3) forward and input gradient, F(2×2, 3×3) filter gradient; 'winograd': F(2×2) for all three.
const WINOGRAD_CASES = KERNEL_BUILDS.flatMap((build) => (['winograd-4x4', 'winograd'] as const).map((algorithm) => ({ build, algorithm })));

describe.each(WINOGRAD_CASES)('Winograd for stride-1 3×3 convs (forward, input and filter gradients): $algorithm, $build build', ({ build, algorithm }) => {
  beforeAll(() => selectWasmKernelBuild(build));
  beforeEach(() => selectWasmConvAlgorithm(algorithm));
  afterEach(() => selectWasmConvAlgorithm(undefined));

  // Partial tiles (odd output sizes), channel counts that are not multiples of 4 or 8 (the
  // transformed filter's groups of 8, then 4), 'same', 'valid', asymmetric pads, pads beyond the
  // kernel (rows no tap reaches), one-pixel-wide outputs, blocks of tiles that cross images, and
  // tiles inside the image.
  const cases: { name: string; g: ConvGeometry; shift?: number }[] = [
    { name: 'c 16, co 16, 7×9 same (partial tiles)', g: geometry(2, 7, 9, 16, 16, 3, 3, 1, 1, [1, 1, 1, 1]) },
    { name: 'c 17, co 21, 6×5 valid', g: geometry(3, 6, 5, 17, 21, 3, 3, 1, 1, [0, 0, 0, 0]), shift: 1 },
    { name: 'c 24, co 19, pads 0/2 2/0', g: geometry(2, 5, 6, 24, 19, 3, 3, 1, 1, [0, 2, 2, 0]), shift: 3 },
    { name: 'c 20, co 36, pads 3/0 1/3 (beyond the kernel)', g: geometry(1, 4, 5, 20, 36, 3, 3, 1, 1, [3, 0, 1, 3]), shift: 2 },
    { name: 'c 16, co 32, 1×2 same', g: geometry(5, 1, 2, 16, 32, 3, 3, 1, 1, [1, 1, 1, 1]) },
    { name: 'c 64, co 40, 8×8 same, batch 9 (many blocks)', g: geometry(9, 8, 8, 64, 40, 3, 3, 1, 1, [1, 1, 1, 1]) },
    // Tiles whose whole patch lies inside the image (read in place by F(4×4)'s input transform).
    { name: 'c 32, co 24, 13×14 same (patches inside the image)', g: geometry(2, 13, 14, 32, 24, 3, 3, 1, 1, [1, 1, 1, 1]) },
    { name: 'c 18, co 16, 12×12 valid (inside, 2-channel last group)', g: geometry(1, 12, 12, 18, 16, 3, 3, 1, 1, [0, 0, 0, 0]), shift: 1 },
  ];

  it.each(cases)('matches the definition (float64) to 1e-5 and differs from the direct sums only by rounding: $name', ({ g, shift }) => {
    expect(winogradApplies(g)).toBe(true);
    const { x, dy, w, bias } = arrays(g, 21);
    const wino = runOn(new WebAssembly.Memory({ initial: 4 }), 1, x, dy, w, g, bias, shift);
    selectWasmConvAlgorithm('direct');
    expect(winogradApplies(g)).toBe(false);
    const direct = runOn(new WebAssembly.Memory({ initial: 4 }), 1, x, dy, w, g, bias, shift);
    const expected = reference(x, dy, w, g, bias);
    let differing = 0;
    for (const key of ['dw', 'dx', 'y'] as const) {
      expect(wino[key].every(Number.isFinite)).toBe(true);
      expect(relativeError(wino[key], expected[key])).toBeLessThan(1e-5);
      expect(relativeError(direct[key], expected[key])).toBeLessThan(1e-5);
      for (let k = 0; k < wino[key].length; k++) if (wino[key][k] !== direct[key][k]) differing++;
    }
    expect(differing).toBeGreaterThan(0); // the Winograd kernels ran
    for (let k = 0; k < wino.y.length; k++) if (expected.y[k] === 0) expect(wino.y[k]).toBe(0); // relu: +0
    if (algorithm === 'winograd-4x4') {
      // F(4×4) ran for the forward and input-gradient forms (other roundings than F(2×2)), F(2×2) for the filter gradient (the same bits).
      selectWasmConvAlgorithm('winograd');
      const small = runOn(new WebAssembly.Memory({ initial: 4 }), 1, x, dy, w, g, bias, shift);
      expect(Array.from(wino.dw)).toEqual(Array.from(small.dw));
      for (const key of ['dx', 'y'] as const) expect(wino[key].some((v, k) => v !== small[key][k])).toBe(true);
    }
  });

  it('a closed form: all-ones x and filter, 3×3 same on 3×3: y = bias + c·(taps inside), dw = c·… (counts of overlaps); exact for F(2×2), within 1e-6 relative for F(4×4) (its transforms hold ⅙, 1⁄24)', () => {
    const g = geometry(1, 3, 3, 16, 16, 3, 3, 1, 1, [1, 1, 1, 1]);
    const ones = (n: number) => new Float32Array(n).fill(1);
    const { dw, dx, y } = runOn(new WebAssembly.Memory({ initial: 4 }), 1, ones(9 * 16), ones(9 * 16), ones(9 * 16 * 16), g, new Float32Array(16).fill(0.5));
    const inside = [4, 6, 4, 6, 9, 6, 4, 6, 4]; // taps of a 3×3 window inside a 3×3 image, per output pixel
    const near = (actual: number, expected: number) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(algorithm === 'winograd-4x4' ? 1e-6 * expected : 0);
    for (let p = 0; p < 9; p++) for (let o = 0; o < 16; o++) near(y[p * 16 + o]!, 0.5 + 16 * inside[p]!);
    // dx: each input pixel is reached by as many output pixels as there are taps inside: the same counts, times co.
    for (let p = 0; p < 9; p++) for (let c = 0; c < 16; c++) near(dx[p * 16 + c]!, 16 * inside[p]!);
    // dw[i][j]: output pixels whose tap (i, j) lies inside: (3 − |i − 1|)·(3 − |j − 1|).
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 256; k++) expect(dw[(i * 3 + j) * 256 + k]).toBe((3 - Math.abs(i - 1)) * (3 - Math.abs(j - 1)));
  });

  it('the algorithm is chosen by name: unknown names throw and list the valid ones; LICO_WASM_CONV sets the default', () => {
    expect(WASM_CONV_ALGORITHMS).toEqual(['winograd-4x4', 'winograd', 'direct']);
    selectWasmConvAlgorithm(undefined);
    expect(wasmConvAlgorithm()).toBe('winograd-4x4');
    expect(() => selectWasmConvAlgorithm('fft' as WasmConvAlgorithm)).toThrow(UnknownNameError);
    expect(() => selectWasmConvAlgorithm('fft' as WasmConvAlgorithm)).toThrow(/'winograd-4x4', 'winograd', 'direct'/);
    const saved = process.env.LICO_WASM_CONV;
    try {
      process.env.LICO_WASM_CONV = 'direct';
      expect(wasmConvAlgorithm()).toBe('direct');
      selectWasmConvAlgorithm('winograd-4x4');
      expect(wasmConvAlgorithm()).toBe('winograd-4x4'); // a selection wins over the environment
      selectWasmConvAlgorithm(undefined);
      process.env.LICO_WASM_CONV = 'gemm';
      expect(() => wasmConvAlgorithm()).toThrow(/LICO_WASM_CONV value 'gemm'/);
    } finally {
      if (saved === undefined) delete process.env.LICO_WASM_CONV;
      else process.env.LICO_WASM_CONV = saved;
    }
    // Where it does not apply: other kernels, strides, or fewer than 16 channels either way.
    expect(winogradApplies(geometry(1, 8, 8, 16, 16, 3, 3, 2, 2, [1, 1, 1, 1]))).toBe(false);
    expect(winogradApplies(geometry(1, 8, 8, 16, 16, 5, 5, 1, 1, [2, 2, 2, 2]))).toBe(false);
    expect(winogradApplies(geometry(1, 8, 8, 3, 16, 3, 3, 1, 1, [1, 1, 1, 1]))).toBe(false);
    expect(winogradApplies(geometry(1, 8, 8, 16, 8, 3, 3, 1, 1, [1, 1, 1, 1]))).toBe(false);
  });
});

describe.each(KERNEL_BUILDS)('Winograd for stride-2 3×3 forwards (nested F(4, 2)), %s build', (build) => {
  beforeAll(() => selectWasmKernelBuild(build));
  afterEach(() => selectWasmConvAlgorithm(undefined));

  // TF's 'same' for stride 2 (pads 0/1), symmetric pads, partial tiles (odd sizes), channel counts
  // that are not multiples of 4 or 8, patches inside the image, blocks that cross images.
  const cases: { name: string; g: ConvGeometry; shift?: number }[] = [
    { name: 'c 32, co 24, 32×32 same (pads 0/1)', g: geometry(2, 32, 32, 32, 24, 3, 3, 2, 2, [0, 1, 0, 1]) },
    { name: 'c 18, co 21, 13×11 pads 1/1 (partial tiles)', g: geometry(3, 13, 11, 18, 21, 3, 3, 2, 2, [1, 1, 1, 1]), shift: 1 },
    { name: 'c 16, co 17, 9×9 valid (one tile, inside)', g: geometry(2, 9, 9, 16, 17, 3, 3, 2, 2, [0, 0, 0, 0]), shift: 2 },
    { name: 'c 20, co 16, 6×7 pads 2/0 0/2', g: geometry(2, 6, 7, 20, 16, 3, 3, 2, 2, [2, 0, 0, 2]), shift: 3 },
  ];

  it.each(cases)('the forward matches the definition (float64) to 1e-5; the gradients stay the direct sums: $name', ({ g, shift }) => {
    expect(winogradStride2Applies(g)).toBe(true);
    expect(winogradApplies(g)).toBe(false);
    const { x, dy, w, bias } = arrays(g, 31);
    const wino = runOn(new WebAssembly.Memory({ initial: 4 }), 1, x, dy, w, g, bias, shift);
    selectWasmConvAlgorithm('winograd'); // the earlier default: direct sums for stride 2
    expect(winogradStride2Applies(g)).toBe(false);
    const direct = runOn(new WebAssembly.Memory({ initial: 4 }), 1, x, dy, w, g, bias, shift);
    const expected = reference(x, dy, w, g, bias);
    expect(wino.y.every(Number.isFinite)).toBe(true);
    expect(relativeError(wino.y, expected.y)).toBeLessThan(1e-5);
    expect(relativeError(direct.y, expected.y)).toBeLessThan(1e-5);
    expect(wino.y.some((v, k) => v !== direct.y[k])).toBe(true); // the Winograd form ran
    for (let k = 0; k < wino.y.length; k++) if (expected.y[k] === 0) expect(wino.y[k]).toBe(0); // relu: +0
    expect(Array.from(wino.dw)).toEqual(Array.from(direct.dw));
    expect(Array.from(wino.dx)).toEqual(Array.from(direct.dx));
  });

  it('gives the same bits on 1 and 2 threads over a shared memory', () => {
    const g = geometry(8, 32, 32, 32, 64, 3, 3, 2, 2, [0, 1, 0, 1]); // 19M multiply-adds: threaded
    const { x, dy, w, bias } = arrays(g, 5);
    const single = runOn(new WebAssembly.Memory({ initial: 64, maximum: 1024, shared: true }), 1, x, dy, w, g, bias);
    const threaded = runOn(new WebAssembly.Memory({ initial: 64, maximum: 1024, shared: true }), 2, x, dy, w, g, bias);
    expect(Array.from(threaded.y)).toEqual(Array.from(single.y));
    expect(relativeError(single.y, reference(x, dy, w, g, bias).y)).toBeLessThan(1e-5);
  });

  it('a closed form: all-ones x and filter on 5×5, pads 1/1: y = bias + c·(taps inside), within 1e-6 relative (G holds ⅙, ⅓)', () => {
    const g = geometry(1, 5, 5, 16, 16, 3, 3, 2, 2, [1, 1, 1, 1]); // 3×3 outputs
    const ones = (n: number) => new Float32Array(n).fill(1);
    const { y } = runOn(new WebAssembly.Memory({ initial: 4 }), 1, ones(25 * 16), ones(9 * 16), ones(9 * 16 * 16), g, new Float32Array(16).fill(0.5));
    const inside = [4, 6, 4, 6, 9, 6, 4, 6, 4]; // output (p, q) reads rows 2p − 1 … 2p + 1: 2 or 3 inside, per axis
    for (let p = 0; p < 9; p++) for (let o = 0; o < 16; o++) expect(Math.abs(y[p * 16 + o]! - (0.5 + 16 * inside[p]!))).toBeLessThanOrEqual(1e-6 * (0.5 + 16 * inside[p]!));
  });

  it('applies to 3×3 stride-2 convs with ≥ 16 channels each way, under winograd-4x4 only', () => {
    expect(winogradStride2Applies(geometry(1, 8, 8, 16, 16, 3, 3, 2, 2, [1, 1, 1, 1]))).toBe(true);
    expect(winogradStride2Applies(geometry(1, 8, 8, 15, 16, 3, 3, 2, 2, [1, 1, 1, 1]))).toBe(false);
    expect(winogradStride2Applies(geometry(1, 8, 8, 16, 8, 3, 3, 2, 2, [1, 1, 1, 1]))).toBe(false);
    expect(winogradStride2Applies(geometry(1, 8, 8, 16, 16, 3, 3, 2, 1, [1, 1, 1, 1]))).toBe(false);
    expect(winogradStride2Applies(geometry(1, 8, 8, 16, 16, 3, 3, 1, 1, [1, 1, 1, 1]))).toBe(false);
    expect(winogradStride2Applies(geometry(1, 8, 8, 16, 16, 5, 5, 2, 2, [2, 2, 2, 2]))).toBe(false);
    selectWasmConvAlgorithm('direct');
    expect(winogradStride2Applies(geometry(1, 8, 8, 16, 16, 3, 3, 2, 2, [1, 1, 1, 1]))).toBe(false);
  });
});

describe('claimChunks (how the threads share a job)', () => {
  const control = () => {
    const shared = new SharedArrayBuffer(8 * (SLOTS.claim + 1));
    return { ctl: new Int32Array(shared), claim: new BigUint64Array(shared) };
  };
  const post = (claim: BigUint64Array, gen: number) => Atomics.store(claim, SLOTS.claim, BigInt(gen >>> 0) << 32n);

  it("runs every chunk of the current job once, with the range and this thread's index, and counts them", () => {
    const { ctl, claim } = control();
    post(claim, 7);
    const calls: number[][] = [];
    // args [10, 20], trailing [-1, 30]; index 2 (the first trailing) is the thread's own slot
    const error = claimChunks(ctl, claim, SLOTS, 7, (...a) => void calls.push(a), [10, 20, -1, 30], 2, 10, 4, 3, 2, 1);
    expect(error).toBeUndefined();
    expect(calls).toEqual([
      [10, 20, 0, 4, 1, 30],
      [10, 20, 4, 8, 1, 30],
      [10, 20, 8, 10, 1, 30],
    ]);
    expect(Atomics.load(ctl, SLOTS.completed)).toBe(3);
    // nothing left to claim
    expect(claimChunks(ctl, claim, SLOTS, 7, () => calls.push([]), [0], 1, 10, 4, 3, -1, 0)).toBeUndefined();
    expect(calls).toHaveLength(3);
  });

  it('claims nothing for a job that is over: a thread that read an earlier generation runs no chunk of a later one', () => {
    const { ctl, claim } = control();
    post(claim, 8); // generation 8 posted; a late thread still holds generation 7's arguments
    let ran = 0;
    claimChunks(ctl, claim, SLOTS, 7, () => void ran++, [], 0, 10, 1, 10, -1, 1);
    expect(ran).toBe(0);
    expect(Atomics.load(claim, SLOTS.claim)).toBe(8n << 32n); // the claim counter untouched
    // generations past 2^31 (the Int32 slot wraps negative) tag the same way on both sides
    post(claim, -5);
    claimChunks(ctl, claim, SLOTS, -5, () => void ran++, [], 0, 2, 1, 2, -1, 0);
    expect(ran).toBe(2);
  });

  it('claims nothing of a closed job, even with the larger chunk count of a torn read of the next job', () => {
    const { ctl, claim } = control();
    post(claim, 7);
    let ran = 0;
    claimChunks(ctl, claim, SLOTS, 7, () => void ran++, [], 0, 3, 1, 3, -1, 0); // all 3 chunks done
    expect(ran).toBe(3);
    // Left open, a late thread that read 10 chunks (the next job's count) claims chunks 3 … 9, past the end:
    const open = control();
    post(open.claim, 7);
    let stale = 0;
    claimChunks(open.ctl, open.claim, SLOTS, 7, () => void stale++, [], 0, 3, 1, 3, -1, 0);
    claimChunks(open.ctl, open.claim, SLOTS, 7, () => void stale++, [], 0, 10, 1, 10, -1, 1);
    expect(stale).toBe(10);
    // Closed (as the caller closes every job), it claims nothing.
    closeJob(claim, SLOTS, 7);
    claimChunks(ctl, claim, SLOTS, 7, () => void ran++, [], 0, 10, 1, 10, -1, 1);
    expect(ran).toBe(3);
    // and the next generation's chunks are claimed as usual once it is posted
    post(claim, 8);
    claimChunks(ctl, claim, SLOTS, 8, () => void ran++, [], 0, 2, 1, 2, -1, 0);
    expect(ran).toBe(5);
  });

  it('a chunk that throws still counts as completed, marks the job failed, and its first error is returned', () => {
    const { ctl, claim } = control();
    post(claim, 1);
    const error = claimChunks(ctl, claim, SLOTS, 1, (_b, e) => { if (e === 2) throw new Error('chunk 1'); if (e === 3) throw new Error('chunk 2'); }, [], 0, 3, 1, 3, -1, 0);
    expect((error as Error).message).toBe('chunk 1');
    expect(Atomics.load(ctl, SLOTS.completed)).toBe(3);
    expect(Atomics.load(ctl, SLOTS.jobFailed)).toBe(1);
  });
});

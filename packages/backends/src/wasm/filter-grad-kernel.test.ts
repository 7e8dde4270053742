import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRng } from '@lico/core';
import { describe, expect, it } from 'vitest';
import { CONV_FILTER_GRAD_SOURCE_SHA256 } from '../generated/conv-filter-grad-wasm';
import { filterGradRunner, type FilterGradGeometry } from './filter-grad-kernel';

/** dw by the definition, in float64: dw[i,j,c,o] = Σ x[n, p·sh+i−top, q·sw+j−left, c] · dy[n,p,q,o]. */
function reference(x: Float32Array, dy: Float32Array, g: FilterGradGeometry): Float64Array {
  const dw = new Float64Array(g.kh * g.kw * g.c * g.co);
  for (let n = 0; n < g.nb; n++)
    for (let p = 0; p < g.ho; p++)
      for (let q = 0; q < g.wo; q++)
        for (let i = 0; i < g.kh; i++)
          for (let j = 0; j < g.kw; j++) {
            const y = p * g.sh + i - g.top;
            const xx = q * g.sw + j - g.left;
            if (y < 0 || y >= g.h || xx < 0 || xx >= g.w) continue;
            for (let c = 0; c < g.c; c++) {
              const xv = x[((n * g.h + y) * g.w + xx) * g.c + c]!;
              for (let o = 0; o < g.co; o++) dw[((i * g.kw + j) * g.c + c) * g.co + o] += xv * dy[((n * g.ho + p) * g.wo + q) * g.co + o]!;
            }
          }
  return dw;
}

/** A geometry with output sizes derived from the input, kernel, stride and leading/trailing pads. */
function geometry(nb: number, h: number, w: number, c: number, co: number, kh: number, kw: number, sh: number, sw: number, pads: [number, number, number, number]): FilterGradGeometry {
  const [top, bottom, left, right] = pads;
  return { nb, h, w, c, co, kh, kw, sh, sw, top, left, ho: Math.floor((h + top + bottom - kh) / sh) + 1, wo: Math.floor((w + left + right - kw) / sw) + 1 };
}

/** Runs the kernel on a memory: x, dy and dw placed at `shift` floats past 16-byte boundaries. */
function runOn(memory: WebAssembly.Memory, threads: number, x: Float32Array, dy: Float32Array, g: FilterGradGeometry, shift = 0): Float32Array {
  const runner = filterGradRunner(memory, threads);
  if (!runner) throw new Error('the kernel did not instantiate');
  const size = g.kh * g.kw * g.c * g.co;
  const xPtr = 1024 + 4 * shift;
  const dyPtr = xPtr + 4 * (x.length + 8);
  const dwPtr = dyPtr + 4 * (dy.length + 8);
  const need = dwPtr + 4 * size;
  if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
  const heap = new Float32Array(memory.buffer);
  heap.set(x, xPtr / 4);
  heap.set(dy, dyPtr / 4);
  heap.fill(Number.NaN, dwPtr / 4, dwPtr / 4 + size); // every element must be written
  runner.run(xPtr, dyPtr, dwPtr, g);
  return new Float32Array(memory.buffer).slice(dwPtr / 4, dwPtr / 4 + size);
}

function random(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => 2 * rng.next() - 1);
}

function relativeError(actual: Float32Array, expected: Float64Array): number {
  let diff = 0;
  let scale = 0;
  for (let k = 0; k < expected.length; k++) {
    diff = Math.max(diff, Math.abs(actual[k]! - expected[k]!));
    scale = Math.max(scale, Math.abs(expected[k]!));
  }
  return diff / scale;
}

describe('the SIMD conv2d filter-gradient kernel', () => {
  it('was built from the committed C source (rebuild: node tools/wasm/build-wasm.mjs backends)', () => {
    const source = readFileSync(new URL('../../csrc/conv-filter-grad.c', import.meta.url));
    expect(createHash('sha256').update(source).digest('hex')).toBe(CONV_FILTER_GRAD_SOURCE_SHA256);
  });

  // Channel counts hit every tile shape (4 input channels or fewer; 8, 4 or single output
  // channels); strides, kernels and pads differ per axis; pads beyond the kernel leave taps empty.
  const cases: { name: string; g: FilterGradGeometry; shift?: number }[] = [
    { name: 'c 1, co 1, 1×1', g: geometry(2, 5, 4, 1, 1, 1, 1, 1, 1, [0, 0, 0, 0]) },
    { name: 'c 3, co 13, 3×3 same', g: geometry(3, 7, 9, 3, 13, 3, 3, 1, 1, [1, 1, 1, 1]), shift: 1 },
    { name: 'c 5, co 12, 3×3 stride 2 same', g: geometry(2, 8, 7, 5, 12, 3, 3, 2, 2, [0, 1, 1, 1]), shift: 3 },
    { name: 'c 7, co 17, 5×4 strides 2×3', g: geometry(2, 9, 8, 7, 17, 5, 4, 2, 3, [2, 1, 0, 2]), shift: 2 },
    { name: 'c 8, co 8, 1×1 stride 2 valid', g: geometry(3, 6, 6, 8, 8, 1, 1, 2, 2, [0, 0, 0, 0]) },
    { name: 'c 9, co 5, 7×7 on 4×4 (taps outside the image)', g: geometry(1, 4, 4, 9, 5, 7, 7, 1, 1, [3, 3, 3, 3]) },
    { name: 'c 4, co 16, 2×2 valid, batch 1', g: geometry(1, 6, 5, 4, 16, 2, 2, 1, 1, [0, 0, 0, 0]) },
  ];
  it.each(cases)('matches the definition (float64) to 1e-5: $name', ({ g, shift }) => {
    const x = random(g.nb * g.h * g.w * g.c, 1);
    const dy = random(g.nb * g.ho * g.wo * g.co, 2);
    const out = runOn(new WebAssembly.Memory({ initial: 4 }), 1, x, dy, g, shift);
    expect(out.every(Number.isFinite)).toBe(true);
    expect(relativeError(out, reference(x, dy, g))).toBeLessThan(1e-5);
  });

  it('a closed form: 1×1 filter, one channel each way, gives Σ x·dy', () => {
    const g = geometry(1, 2, 2, 1, 1, 1, 1, 1, 1, [0, 0, 0, 0]);
    expect(Array.from(runOn(new WebAssembly.Memory({ initial: 1 }), 1, Float32Array.of(1, 2, 3, 4), Float32Array.of(0.5, -1, 2, 0.25), g))).toEqual([0.5 - 2 + 6 + 1]);
  });

  it('splits the work over worker threads on a shared memory with bit-identical results', () => {
    // 8·16·16·9·32·24 ≈ 14M multiply-adds: above the size where a call uses its workers.
    const g = geometry(8, 16, 16, 32, 24, 3, 3, 1, 1, [1, 1, 1, 1]);
    const x = random(g.nb * g.h * g.w * g.c, 3);
    const dy = random(g.nb * g.ho * g.wo * g.co, 4);
    const single = runOn(new WebAssembly.Memory({ initial: 4 }), 1, x, dy, g);
    const shared = new WebAssembly.Memory({ initial: 64, maximum: 1024, shared: true });
    expect(filterGradRunner(shared, 3)?.threads).toBe(3);
    for (const threads of [1, 2, 3]) {
      const out = runOn(shared, threads, x, dy, g);
      expect(Array.from(out)).toEqual(Array.from(single));
    }
    expect(relativeError(single, reference(x, dy, g))).toBeLessThan(1e-5);
  });

  it('a plain (not shared) memory runs on the calling thread whatever the thread count', () => {
    expect(filterGradRunner(new WebAssembly.Memory({ initial: 1 }), 4)?.threads).toBe(1);
  });
});

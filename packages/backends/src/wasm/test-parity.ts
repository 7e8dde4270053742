import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@lico/core';
import { convGradRunnerFor } from './conv-grad-kernels';
import { wasmKernelBuild, type WasmKernelBuild } from './kernel-build';

/** Both builds of lico's wasm kernels, for `describe.each` (the tests run with relaxed SIMD on). */
export const KERNEL_BUILDS: WasmKernelBuild[] = ['simd', 'relaxed-simd'];

/**
 * Test helper: runs `f` on the cpu and then on the wasm backend (same seeded inputs) and returns
 * the flattened results of both.
 */
export async function onCpuAndWasm(f: () => tf.Tensor[]): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const out: Record<string, Float32Array[]> = {};
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    if (backend === 'wasm' && convGradRunnerFor(tf.backend())?.runner.build !== wasmKernelBuild()) {
      throw new Error(`the wasm kernels do not run the selected '${wasmKernelBuild()}' build`);
    }
    out[backend] = tf.tidy(f).map((t) => {
      const v = t.dataSync() as Float32Array;
      t.dispose();
      return v;
    });
  }
  return { cpu: out.cpu!, wasm: out.wasm! };
}

/** Test helper: uniform random tensor in [-1, 1) from a seed. */
export const rand = (shape: number[], seed: number): tf.Tensor => tf.randomUniform(shape, -1, 1, 'float32', seed);

/** Test helper: `n` floats uniform in `offset ± scale` from a seed (lico's generator). */
export function seededFloats(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => offset + scale * (2 * rng.next() - 1));
}

/** Test helper: max |a − e| / max |e| (max |a − e| where e is all zeros). */
export function maxRelErr(a: ArrayLike<number>, e: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let k = 0; k < e.length; k++) {
    d = Math.max(d, Math.abs(a[k]! - e[k]!));
    s = Math.max(s, Math.abs(e[k]!));
  }
  return s === 0 ? d : d / s;
}

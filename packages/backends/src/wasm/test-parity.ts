import * as tf from '@tensorflow/tfjs-core';
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

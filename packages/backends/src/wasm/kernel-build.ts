import { ConfigError, UnknownNameError } from '@lico/core';
import { setFlagsFromString } from '#node-builtins';

/** The builds of lico's wasm kernels: plain SIMD, or relaxed SIMD (fused multiply-adds). */
export type WasmKernelBuild = 'simd' | 'relaxed-simd';

/** What `useBackend`'s `kernels` option (and `LICO_WASM_KERNELS`) accepts. */
export const WASM_KERNEL_OPTIONS = ['auto', 'simd', 'relaxed-simd'] as const;

/** A value of `useBackend`'s `kernels` option. */
export type WasmKernelsOption = (typeof WASM_KERNEL_OPTIONS)[number];

// (v128, v128, v128) -> v128 = f32x4.relaxed_madd (0xfd 0x105): valid only where relaxed SIMD is on.
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00, 0x0a,
  0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b,
]);

/** Whether this JavaScript engine runs WebAssembly relaxed SIMD (Node ≥ 22 and current browsers do). */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(RELAXED_SIMD_PROBE);
  } catch {
    return false;
  }
}

/**
 * Turns relaxed SIMD on in Node 20, where it is behind `--experimental-wasm-relaxed-simd` (V8 reads
 * the flag when it next compiles a module, so call this before the first `useBackend`). A no-op
 * where it is already on, and in a browser (which either has it or not). Returns whether relaxed
 * SIMD is now available. The `lico` CLI calls it at start; a library changes no process flag by
 * itself.
 */
export function enableRelaxedSimd(): boolean {
  if (!relaxedSimdSupported()) setFlagsFromString('--experimental-wasm-relaxed-simd');
  return relaxedSimdSupported();
}

let selected: WasmKernelBuild | undefined;

/**
 * The build an option asks for: `'auto'` (the default; else `LICO_WASM_KERNELS`) is relaxed SIMD
 * where the engine has it, else SIMD. Asking for `'relaxed-simd'` where the engine lacks it is a
 * `ConfigError` that says how to enable it; an unknown name lists the valid ones.
 */
export function resolveWasmKernels(option?: string): WasmKernelBuild {
  const env = typeof process === 'undefined' ? undefined : process.env?.LICO_WASM_KERNELS;
  const value = option ?? (env ? env : 'auto');
  if (!(WASM_KERNEL_OPTIONS as readonly string[]).includes(value)) throw new UnknownNameError(option === undefined ? 'LICO_WASM_KERNELS value' : 'wasm kernel build', value, WASM_KERNEL_OPTIONS);
  if (value === 'simd') return 'simd';
  if (relaxedSimdSupported()) return 'relaxed-simd';
  if (value === 'relaxed-simd') {
    throw new ConfigError(
      "wasm kernels 'relaxed-simd': this engine does not run WebAssembly relaxed SIMD. Node 20 has it behind --experimental-wasm-relaxed-simd (run node with that flag, or call enableRelaxedSimd() before useBackend); Node >= 22 and current browsers have it on.",
    );
  }
  return 'simd';
}

/** Selects the build the kernels instantiate from now on (`useBackend` calls it). */
export function selectWasmKernelBuild(build: WasmKernelBuild): void {
  selected = build;
}

/** The build lico's wasm kernels use: the one `useBackend` selected, else relaxed SIMD where available. */
export function wasmKernelBuild(): WasmKernelBuild {
  return selected ?? (relaxedSimdSupported() ? 'relaxed-simd' : 'simd');
}

import { ConfigError } from '@lico/core';
import { OT_KERNELS_WASM_BASE64 } from './generated/ot-kernels-wasm';
import type { SinkhornKernelInput, SinkhornKernelOutput } from './sinkhorn-kernel';

/**
 * Which implementation runs the off-tape optimal-transport work (cost, Sinkhorn iterations,
 * backward): `'wasm-simd'` (the WebAssembly SIMD kernels of `csrc/ot-kernels.c`), `'js'` (plain
 * TypeScript in float64, plus the backend's matMul), or `'auto'` (default: wasm-simd where the
 * runtime can compile it synchronously or {@link prepareOtKernels} compiled it, else js). Both give the same plan and loss to float32
 * rounding (tested).
 */
export type OtImplementation = 'auto' | 'wasm-simd' | 'js';

/** The valid {@link OtImplementation} names. */
export const OT_IMPLEMENTATIONS: readonly OtImplementation[] = ['auto', 'wasm-simd', 'js'];

/** The kernels' exports (see csrc/ot-kernels.c). */
export interface OtKernels {
  readonly memory: WebAssembly.Memory;
  readonly __heap_base: WebAssembly.Global;
  ot_cost(...args: number[]): number;
  ot_sinkhorn(...args: number[]): number;
  ot_dot(plan: number, cost: number, size: number): number;
  ot_backward(...args: number[]): void;
}

let instance: OtKernels | null | undefined;
let loadError: string | undefined;

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const binary = atob(OT_KERNELS_WASM_BASE64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const IMPORTS = { env: { exp: Math.exp, log: Math.log } };

/** Compiles the kernels once (synchronously); null where WebAssembly SIMD is unavailable. */
function kernels(): OtKernels | null {
  if (instance !== undefined) return instance;
  try {
    const module = new WebAssembly.Module(moduleBytes());
    instance = new WebAssembly.Instance(module, IMPORTS).exports as unknown as OtKernels;
  } catch (error) {
    // no WebAssembly, no SIMD, or a main-thread size limit on synchronous compilation (browsers)
    loadError = error instanceof Error ? error.message : String(error);
    instance = null;
  }
  return instance;
}

/**
 * Compiles the wasm-simd kernels asynchronously. Browsers refuse to compile modules over 4 KB
 * synchronously on the main thread, where `'auto'` would otherwise fall back to the TypeScript
 * path: await this once at start-up there (harmless elsewhere). Resolves to whether the kernels
 * can run.
 *
 * ```ts
 * import { prepareOtKernels } from '@lico/losses';
 * await prepareOtKernels(); // then 'auto' uses the wasm-simd kernels in the browser too
 * ```
 */
export async function prepareOtKernels(): Promise<boolean> {
  if (instance) return true;
  try {
    const inst = await WebAssembly.instantiate(await WebAssembly.compile(moduleBytes()), IMPORTS);
    instance = inst.exports as unknown as OtKernels;
    loadError = undefined;
  } catch (error) {
    loadError = error instanceof Error ? error.message : String(error);
    instance = null;
  }
  return instance !== null;
}

/** Whether the wasm-simd kernels can run here (compiling them on first call). */
export function otWasmAvailable(): boolean {
  return kernels() !== null;
}

/** Checks an implementation name (throws a {@link ConfigError} listing the valid ones); compiles nothing. */
export function checkOtImplementation(implementation: OtImplementation | undefined): OtImplementation {
  const name = implementation ?? 'auto';
  if (!OT_IMPLEMENTATIONS.includes(name)) {
    throw new ConfigError(`Unknown optimal-transport implementation '${String(name)}'. Valid implementations: ${OT_IMPLEMENTATIONS.map((v) => `'${v}'`).join(', ')}.`);
  }
  return name;
}

/**
 * Resolves an implementation name to the kernels to use (null: the TypeScript path), compiling the
 * module on first use. The module's memory grows to the largest problem seen and is kept.
 */
export function resolveOtKernels(implementation: OtImplementation | undefined): OtKernels | null {
  const name = checkOtImplementation(implementation);
  if (name === 'js') return null;
  const k = kernels();
  if (k === null && name === 'wasm-simd') {
    throw new ConfigError(`the 'wasm-simd' optimal-transport implementation cannot run here (${loadError}); use 'auto' or 'js'.`);
  }
  return k;
}

type Kind = 'f32' | 'f64';

/** Lays out named arrays in the module's memory (16-byte aligned) and grows it as needed. */
function layout<K extends string>(k: OtKernels, spec: Record<K, [Kind, number]>): Record<K, { ptr: number; view: Float32Array | Float64Array }> {
  let offset = (k.__heap_base.value as number) + 15 & ~15;
  const ptrs = {} as Record<K, number>;
  for (const name of Object.keys(spec) as K[]) {
    const [kind, length] = spec[name];
    ptrs[name] = offset;
    offset += ((length * (kind === 'f32' ? 4 : 8) + 15) & ~15) || 16;
  }
  const need = offset - k.memory.buffer.byteLength;
  if (need > 0) k.memory.grow(Math.ceil(need / 65536));
  const buffer = k.memory.buffer;
  const out = {} as Record<K, { ptr: number; view: Float32Array | Float64Array }>;
  for (const name of Object.keys(spec) as K[]) {
    const [kind, length] = spec[name];
    out[name] = { ptr: ptrs[name], view: kind === 'f32' ? new Float32Array(buffer, ptrs[name], length) : new Float64Array(buffer, ptrs[name], length) };
  }
  return out;
}

/** {@link sinkhornKernel}'s algorithm on the wasm kernels: same outputs (plan, potentials, iterations, change). */
export function wasmSinkhorn(k: OtKernels, input: SinkhornKernelInput): SinkhornKernelOutput {
  const { n, p, q, epsilon } = input;
  const size = n * p * q;
  const m = layout(k, {
    cost: ['f32', size], logMu: ['f64', n * p], logNu: ['f64', n * q], rowMin: ['f64', n * p], kernel: ['f64', size],
    f: ['f64', n * p], g: ['f64', n * q], expG: ['f64', q], expW: ['f64', p], colSum: ['f64', q], plan: ['f32', size], change: ['f64', 1],
  });
  m.cost.view.set(input.cost);
  m.logMu.view.set(input.logMu);
  m.logNu.view.set(input.logNu);
  const iterations = k.ot_sinkhorn(m.cost.ptr, n, p, q, m.logMu.ptr, m.logNu.ptr, epsilon, input.maxIterations, input.tolerance,
    m.rowMin.ptr, m.kernel.ptr, m.f.ptr, m.g.ptr, m.expG.ptr, m.expW.ptr, m.colSum.ptr, m.plan.ptr, m.change.ptr);
  const u = Float64Array.from(m.f.view, (x) => x * epsilon);
  const v = Float64Array.from(m.g.view, (x) => x * epsilon);
  return { plan: (m.plan.view as Float32Array).slice(), u, v, iterations, lastChange: m.change.view[0]! };
}

/** What the forward pass of the detached loss keeps for its backward pass. */
export interface OtForwardState {
  readonly xx: Float32Array;
  readonly yy: Float32Array;
  readonly r: Float64Array;
  readonly s: Float64Array;
  readonly cross: Float32Array;
  readonly cost: Float32Array;
}

/**
 * Forward pass of the detached loss on the wasm kernels: the normalised cost of `x [n,p,d]`,
 * `y [n,q,d]`, the Sinkhorn plan and `Σ plan·cost` (float64). When some cost is non-finite
 * (`nonFinite > 0`) the Sinkhorn step is skipped and `plan`/`total` are empty.
 */
export function wasmForward(
  k: OtKernels, x: Float32Array, y: Float32Array, n: number, p: number, q: number, d: number, floor: number,
  sink: Omit<SinkhornKernelInput, 'cost' | 'n' | 'p' | 'q'>,
): OtForwardState & { nonFinite: number; plan: Float32Array; iterations: number; total: number } {
  const size = n * p * q;
  const m = layout(k, {
    x: ['f32', n * p * d], y: ['f32', n * q * d], xx: ['f32', n * p], yy: ['f32', n * q], r: ['f64', n * p], s: ['f64', n * q],
    cross: ['f32', size], cost: ['f32', size], logMu: ['f64', n * p], logNu: ['f64', n * q], rowMin: ['f64', n * p], kernel: ['f64', size],
    f: ['f64', n * p], g: ['f64', n * q], expG: ['f64', q], expW: ['f64', p], colSum: ['f64', q], plan: ['f32', size], change: ['f64', 1],
  });
  m.x.view.set(x);
  m.y.view.set(y);
  const nonFinite = k.ot_cost(m.x.ptr, m.y.ptr, n, p, q, d, floor, m.xx.ptr, m.yy.ptr, m.r.ptr, m.s.ptr, m.cross.ptr, m.cost.ptr);
  const state = {
    xx: (m.xx.view as Float32Array).slice(), yy: (m.yy.view as Float32Array).slice(), r: (m.r.view as Float64Array).slice(), s: (m.s.view as Float64Array).slice(),
    cross: (m.cross.view as Float32Array).slice(), cost: (m.cost.view as Float32Array).slice(),
  };
  if (nonFinite > 0) return { ...state, nonFinite, plan: new Float32Array(0), iterations: 0, total: NaN };
  m.logMu.view.set(sink.logMu);
  m.logNu.view.set(sink.logNu);
  const iterations = k.ot_sinkhorn(m.cost.ptr, n, p, q, m.logMu.ptr, m.logNu.ptr, sink.epsilon, sink.maxIterations, sink.tolerance,
    m.rowMin.ptr, m.kernel.ptr, m.f.ptr, m.g.ptr, m.expG.ptr, m.expW.ptr, m.colSum.ptr, m.plan.ptr, m.change.ptr);
  const total = k.ot_dot(m.plan.ptr, m.cost.ptr, size);
  return { ...state, nonFinite, plan: (m.plan.view as Float32Array).slice(), iterations, total };
}

/** Gradients `[gx, gy]` of `scale·n·Σ plan·cost` (plan constant) on the wasm kernels. */
export function wasmBackward(
  k: OtKernels, x: Float32Array, y: Float32Array, n: number, p: number, q: number, d: number, floor: number,
  state: OtForwardState, plan: Float32Array, scale: number,
): [Float32Array, Float32Array] {
  const size = n * p * q;
  const m = layout(k, {
    x: ['f32', n * p * d], y: ['f32', n * q * d], xx: ['f32', n * p], yy: ['f32', n * q], r: ['f64', n * p], s: ['f64', n * q],
    cross: ['f32', size], cost: ['f32', size], plan: ['f32', size], dCross: ['f32', size], dxx: ['f64', n * p], dyy: ['f64', n * q],
    gx: ['f32', n * p * d], gy: ['f32', n * q * d],
  });
  m.x.view.set(x);
  m.y.view.set(y);
  m.xx.view.set(state.xx);
  m.yy.view.set(state.yy);
  m.r.view.set(state.r);
  m.s.view.set(state.s);
  m.cross.view.set(state.cross);
  m.cost.view.set(state.cost);
  m.plan.view.set(plan);
  k.ot_backward(m.x.ptr, m.y.ptr, n, p, q, d, floor, m.xx.ptr, m.yy.ptr, m.r.ptr, m.s.ptr, m.cross.ptr, m.cost.ptr, m.plan.ptr, scale,
    m.dCross.ptr, m.dxx.ptr, m.dyy.ptr, m.gx.ptr, m.gy.ptr);
  return [(m.gx.view as Float32Array).slice(), (m.gy.view as Float32Array).slice()];
}

import * as tf from '@tensorflow/tfjs-core';
import { CAN_BLOCK, startWorker } from '#node-builtins';
import { CONV_GRAD_RELAXED_WASM_BASE64, CONV_GRAD_SHARED_RELAXED_WASM_BASE64, CONV_GRAD_SHARED_WASM_BASE64, CONV_GRAD_WASM_BASE64 } from '../generated/conv-grad-wasm';
import { UnknownNameError } from '@lico/core';
import { wasmKernelBuild, type WasmKernelBuild } from './kernel-build';
import { heapMemory, type HeapMemory } from './heap-view';
import { wasmThreadsStarted } from './wasm-threads';

/** The exports of `csrc/conv-grad.c`. */
interface ConvGradExports {
  filter_grad_groups(...args: number[]): void;
  sum_groups(...args: number[]): void;
  input_grad_filter_size(kh: number, kw: number, c: number, co: number): number;
  input_grad_filter(w: number, wt: number, kh: number, kw: number, c: number, co: number): void;
  input_grad(...args: number[]): void;
  conv_forward_filter_size(kh: number, kw: number, c: number, co: number): number;
  conv_forward_filter(w: number, wt: number, kh: number, kw: number, c: number, co: number): void;
  conv_forward(...args: number[]): void;
  matmul_scratch_size(batchA: number, batchB: number, m: number, n: number, k: number, ta: number): number;
  matmul_prepare(a: number, b: number, scratch: number, batchA: number, batchB: number, m: number, n: number, k: number, ta: number, tb: number): void;
  matmul(...args: number[]): void;
  bn_stats(...args: number[]): void;
  bn_grad_stats(...args: number[]): void;
  bn_apply(...args: number[]): void;
  bn_grad_apply(...args: number[]): void;
  affine_act_grad(...args: number[]): void;
  add_same(...args: number[]): void;
  wino_filter_size(cin: number, cout: number): number;
  wino_filter(w: number, u: number, c: number, co: number, flip: number): void;
  wino_slot_size(c: number, co: number, tb: number): number;
  wino_forward(...args: number[]): void;
  wino4_filter_size(cin: number, cout: number): number;
  wino4_filter(w: number, u: number, c: number, co: number, flip: number): void;
  wino4_slot_size(c: number, co: number, tb: number): number;
  wino4_forward(...args: number[]): void;
  wino_s2_filter_size(c: number, co: number): number;
  wino_s2_filter(w: number, u: number, c: number, co: number): void;
  wino_s2_slot_size(c: number, co: number, tb: number): number;
  wino_s2_forward(...args: number[]): void;
  wino_filter_grad_groups(...args: number[]): void;
  wino_filter_grad_out(...args: number[]): void;
}

/** Sizes of a batched product `c[t] = op(a[t]) · op(b[t])` (a batch of 1 broadcasts). */
export interface MatMulDims {
  readonly batchA: number;
  readonly batchB: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
}

/** Shape and geometry of a conv2d (NHWC input `[nb, h, w, c]`, output `[nb, ho, wo, co]`, filter `[kh, kw, c, co]`). */
export interface ConvGeometry {
  readonly nb: number;
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly ho: number;
  readonly wo: number;
  readonly co: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly top: number;
  readonly left: number;
}

/** Which Winograd form of a filter: the conv's forward pass, or its input gradient (flipped, channels swapped). */
export type WinogradDirection = 'forward' | 'input';

/**
 * What a forward conv applies to each output after the bias (csrc's `Epilogue`), in this order:
 * `z·scale + shift` per output channel (one multiply-add), `+ residual`, then the activation.
 * Pointers are byte offsets in the wasm memory; `scalePtr` and `shiftPtr` come together.
 */
export interface ConvEpilogue {
  readonly scalePtr?: number;
  readonly shiftPtr?: number;
  /** A tensor of the output's shape. */
  readonly residualPtr?: number;
  /** `'relu'`: max(z, 0); `'leaky'`: z > 0 ? z : alpha·z. */
  readonly activation: 'none' | 'relu' | 'leaky';
  readonly alpha?: number;
}

/** Floats at the end of {@link ConvGradRunner.forwardScratch} that hold the epilogue's description (5 words). */
const EPILOGUE_FLOATS = 8;

/** Runs the SIMD conv-gradient kernels on byte offsets of one wasm memory, on one or more threads. */
export interface ConvGradRunner {
  /** Threads a call uses (the calling thread plus `threads − 1` workers). */
  readonly threads: number;
  /** The module build it runs: `'simd'` or `'relaxed-simd'` (fused multiply-adds). */
  readonly build: WasmKernelBuild;
  /** Resolves once every worker has started (a page's main thread runs alone until then). */
  whenReady(timeoutMs?: number): Promise<void>;
  /** Calls whose work the workers shared so far. */
  readonly parallelCalls: number;
  /** Workers running now (0 … threads − 1). */
  readonly workersReady: number;
  /** Floats of scratch memory {@link filterGrad} needs (the row groups' partial sums; 0 for one group). */
  filterGradScratch(g: ConvGeometry): number;
  /** Writes `dw` (`[kh, kw, c, co]`, float32 at byte offset `dwPtr`) from `x` and `dy` at `xPtr`, `dyPtr`, using `scratchPtr`. */
  filterGrad(xPtr: number, dyPtr: number, dwPtr: number, scratchPtr: number, g: ConvGeometry): void;
  /** Floats of scratch memory {@link inputGrad} needs (the rearranged filter). */
  inputGradScratch(g: ConvGeometry): number;
  /**
   * Writes `dx` (`[nb, h, w, c]` at `dxPtr`) from `dy` and the filter at `dyPtr`, `wPtr`, using
   * `scratchPtr`; `preparedPtr`: the filter's Winograd transform ({@link winogradFilter}, 'input'), used instead of transforming it.
   */
  inputGrad(dyPtr: number, wPtr: number, dxPtr: number, scratchPtr: number, g: ConvGeometry, preparedPtr?: number): void;
  /** Floats of the Winograd transform of the filter of `g` for a direction, 0 where Winograd does not run for it. */
  winogradFilterSize(g: ConvGeometry, direction: WinogradDirection): number;
  /** Writes the Winograd transform of the filter at `wPtr` (`[3, 3, c, co]` of `g`) for a direction at `uPtr`. */
  winogradFilter(wPtr: number, uPtr: number, g: ConvGeometry, direction: WinogradDirection): void;
  /** Floats of scratch memory {@link forward} needs (the rearranged filter, the epilogue's description). */
  forwardScratch(g: ConvGeometry): number;
  /**
   * Writes `y` (`[nb, ho, wo, co]` at `yPtr`) = conv(x, w) + bias (0: none), then `epilogue`
   * (undefined: none); `preparedPtr` as for {@link inputGrad} ('forward').
   */
  forward(xPtr: number, wPtr: number, biasPtr: number, yPtr: number, scratchPtr: number, g: ConvGeometry, epilogue: ConvEpilogue | undefined, preparedPtr?: number): void;
  /** Floats of scratch memory {@link matMul} needs (b packed, a transposed if asked). */
  matMulScratch(d: MatMulDims): number;
  /** Writes `c` (`[max(batchA, batchB), m, n]` at `cPtr`) = op(a) · op(b). */
  matMul(aPtr: number, bPtr: number, cPtr: number, scratchPtr: number, d: MatMulDims): void;
  /** Position groups of a batch-norm sum over `m` positions (a function of `m` only). */
  batchNormGroups(m: number): number;
  /**
   * Per-group float64 sums over `x` (`[m, c]`) into `sumsPtr` (`groups × 2c` doubles): Σx and Σx²
   * (forward), or with `dyPtr`/`yPtr` Σdz and Σdz·x, dz = y > 0 ? dy : alpha·dy (alpha = the float at `coefPtr`).
   */
  batchNormSums(xPtr: number, sumsPtr: number, m: number, c: number, grad?: { dyPtr: number; yPtr: number; coefPtr: number }): void;
  /** `y = act(x·scale + shift)`; `coefPtr`: scale (c floats), shift (c), alpha. */
  batchNormApply(xPtr: number, yPtr: number, coefPtr: number, m: number, c: number): void;
  /** `dx = dz·a + x·b + k`, dz = y > 0 ? dy : alpha·dy; `coefPtr`: a, b, k (c floats each), alpha. */
  batchNormGradApply(dyPtr: number, yPtr: number, xPtr: number, dxPtr: number, coefPtr: number, m: number, c: number): void;
  /** `dx = dz·scale`, dz = y > 0 ? dy : alpha·dy; `coefPtr`: scale (c floats), alpha. */
  affineActGrad(dyPtr: number, yPtr: number, dxPtr: number, coefPtr: number, m: number, c: number): void;
  /** `y = a + b` over `n` floats (same shape; each sum one rounding, as any add). */
  add(aPtr: number, bPtr: number, yPtr: number, n: number): void;
}

// Control block shared with the workers (Int32 slots; CLAIM is a BigUint64 slot).
const GENERATION = 0; // bumped by the caller for each job; workers wait on it
const COMPLETED = 1; // chunks of the current job finished (by any thread); the caller waits on it
const READY = 2; // workers that started (instantiated the module)
const FAILED = 3; // 1 once a worker could not start (permanent)
const JOB = 4; // index into JOB_FUNCTIONS
const TOTAL = 5; // units of work (row groups, rows or element ranges) the threads share
const ARGC = 6; // arguments before the work range
const TRAILING = 7; // arguments after it
const JOB_FAILED = 8; // 1 when a thread's chunk of the current job threw
const CHUNKS = 9; // chunks of the current job
const CHUNK = 10; // units per chunk
const THREAD_ARG = 11; // index in the arguments that each thread sets to its own index (a scratch slot), -1: none
const ARGS = 12; // the arguments, then the range, then the trailing arguments
const MAX_ARGS = 24;
/** BigUint64 index of the claim counter, after the Int32 slots: (generation << 32) + the next chunk not yet taken. */
const CLAIM = Math.ceil((ARGS + MAX_ARGS) / 2);
/** Bytes of the control block. */
const CONTROL_BYTES = 8 * (CLAIM + 1);
const JOB_FUNCTIONS = [
  'filter_grad_groups',
  'input_grad',
  'conv_forward',
  'matmul',
  'sum_groups',
  'bn_stats',
  'bn_grad_stats',
  'bn_apply',
  'bn_grad_apply',
  'wino_forward',
  'wino_filter_grad_groups',
  'wino_filter_grad_out',
  'affine_act_grad',
  'wino4_forward',
  'add_same',
  'wino_s2_forward',
] as const;

/**
 * Below this many multiply-adds (~50 µs of work) a call runs on the calling thread alone. Above
 * it, a worker still asleep costs the caller only the notify: the caller takes every chunk the
 * worker has not claimed, and never waits for it to wake.
 */
const PARALLEL_MIN_MACS = 1e6;
/** What one element of a memory-bound pass (batch-norm apply, sums) counts as in multiply-adds. */
const PASS_ELEMENT_MACS = 10;

/** Elements per unit of `add_same`'s work range (ADD_UNIT in csrc/conv-grad.c). */
const ADD_UNIT = 4096;

/**
 * Milliseconds a thread polls for an event (a new job, the last chunk) before it sleeps in
 * `Atomics.wait`. A sleeping thread's core may halt, and waking it can take from 0.05 ms to
 * several on a virtual machine whose host is busy (PyTorch's OpenMP threads spin ~200 ms for the
 * same reason); the next job of a network usually comes well within this.
 */
const SPIN_MS = 1;

/** Where {@link claimChunks} finds its slots (passed, not closed over: the workers run its source). */
export const SLOTS = { claim: CLAIM, completed: COMPLETED, jobFailed: JOB_FAILED } as const;

/**
 * Takes chunks of the job of generation `gen` until none is left (or another job has started),
 * running `fn(...a[0, argc), begin, end, ...a[argc, …))` on each (with `a[threadArg]`, if
 * `threadArg >= 0`, set to this thread's index `thread`: its own scratch slot): a claim is a compare-exchange
 * on the counter tagged with the generation, so a thread that read a job's arguments late claims
 * nothing once the job is over, and the caller never waits for a thread that has not woken yet
 * (it takes every chunk itself). A chunk that throws marks the job failed and still counts as
 * completed; the first such error is returned. Self-contained: the workers run its source.
 * Exported for its test only (not from the package).
 */
export function claimChunks(
  ctl: Int32Array,
  claim: BigUint64Array,
  slots: typeof SLOTS,
  gen: number,
  fn: (...a: number[]) => void,
  a: number[],
  argc: number,
  total: number,
  chunk: number,
  chunks: number,
  threadArg: number,
  thread: number,
): unknown {
  let error: unknown;
  const tag = BigInt(gen >>> 0) << 32n;
  if (threadArg >= 0) a[threadArg] = thread;
  const end = tag + BigInt(chunks);
  for (;;) {
    const v = Atomics.load(claim, slots.claim);
    if (v < tag || v >= end) return error;
    if (Atomics.compareExchange(claim, slots.claim, v, v + 1n) !== v) continue;
    const begin = Number(v - tag) * chunk;
    try {
      fn(...a.slice(0, argc), begin, Math.min(total, begin + chunk), ...a.slice(argc));
    } catch (e) {
      error ??= e;
      Atomics.store(ctl, slots.jobFailed, 1);
    }
    if (Atomics.add(ctl, slots.completed, 1) + 1 === chunks) Atomics.notify(ctl, slots.completed);
  }
}

/**
 * Closes the job of generation `gen` once all its chunks have completed: the claim counter goes to
 * the largest value of that generation, so that no claim of it can succeed any more, whatever chunk
 * count the claiming thread read. Without it, a worker slow to read a job's description could read
 * part of the next one's (the caller writes it once the job is over) — a larger chunk count — and
 * claim a chunk past the end with mixed arguments.
 */
export function closeJob(claim: BigUint64Array, slots: typeof SLOTS, gen: number): void {
  Atomics.store(claim, slots.claim, (BigInt(gen >>> 0) << 32n) | 0xffffffffn);
}

/**
 * The worker: instantiates the module on the shared memory, then for each job takes chunks of its
 * units (`fn(...args, begin, end, ...trailing)` over [begin, end)) as the calling thread does: a
 * thread slowed down by other processes takes fewer chunks.
 */
const WORKER_SOURCE = `
const claimChunks = (${claimChunks.toString()});
const slots = ${JSON.stringify(SLOTS)};
function main({ module, memory, control, index, threads, functions }) {
const ctl = new Int32Array(control);
const claim = new BigUint64Array(control);
let kernel;
try {
  kernel = new WebAssembly.Instance(module, { env: { memory } }).exports;
  Atomics.add(ctl, ${READY}, 1);
} catch (e) {
  Atomics.store(ctl, ${FAILED}, 1);
  Atomics.notify(ctl, ${COMPLETED});
  throw e;
}
let seen = 0;
for (;;) {
  let gen = Atomics.load(ctl, ${GENERATION});
  for (let i = 1, t0 = performance.now(); gen === seen; i++) {
    gen = Atomics.load(ctl, ${GENERATION});
    if ((i & 1023) === 0 && performance.now() - t0 > ${SPIN_MS}) break;
  }
  if (gen === seen) {
    Atomics.wait(ctl, ${GENERATION}, seen);
    gen = Atomics.load(ctl, ${GENERATION});
  }
  seen = gen;
  const argc = ctl[${ARGC}];
  const a = Array.from(ctl.subarray(${ARGS}, ${ARGS} + argc + ctl[${TRAILING}]));
  claimChunks(ctl, claim, slots, gen, kernel[functions[ctl[${JOB}]]], a, argc, ctl[${TOTAL}], ctl[${CHUNK}], ctl[${CHUNKS}], ctl[${THREAD_ARG}], index);
}
}
`;

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Output rows per filter-gradient block: x and dy rows of about 48 KiB together, so a block stays in cache. */
function blockRows(g: ConvGeometry): number {
  const rowBytes = 4 * (g.sh * g.w * g.c + g.wo * g.co);
  return Math.max(1, Math.min(g.nb * g.ho, Math.round(49152 / rowBytes)));
}

/**
 * Row groups of a filter gradient: a function of the problem only (never of the thread count), so
 * the grouped sums, and the result, are the same on any number of threads.
 */
function filterGroups(g: ConvGeometry): number {
  return Math.min(8, Math.max(1, Math.floor((g.nb * g.ho) / 32)));
}

/** Multiply-adds of the conv (the same for the forward pass and both gradients). */
const convMacs = (g: ConvGeometry): number => g.nb * g.ho * g.wo * g.kh * g.kw * g.c * g.co;

const geometryArgs = (g: ConvGeometry): number[] => [g.nb, g.h, g.w, g.c, g.ho, g.wo, g.co, g.kh, g.kw, g.sh, g.sw, g.top, g.left];

/**
 * How lico's wasm kernels compute stride-1 3×3 convolutions where Winograd applies:
 * `'winograd-4x4'` (F(4×4, 3×3) for the forward and input-gradient forms, 4× fewer multiply-adds;
 * F(2×2, 3×3) for the filter gradient), `'winograd'` (F(2×2, 3×3) for all three, 2.25× fewer: the
 * numbers of releases before F(4×4), bit for bit) or `'direct'` sums (those of earlier releases).
 */
export type WasmConvAlgorithm = 'winograd-4x4' | 'winograd' | 'direct';

/** What {@link selectWasmConvAlgorithm} and `LICO_WASM_CONV` accept. */
export const WASM_CONV_ALGORITHMS = ['winograd-4x4', 'winograd', 'direct'] as const;

let convAlgorithm: WasmConvAlgorithm | undefined;

/**
 * Selects how stride-1 3×3 convolutions (forward, input and filter gradients) run from now on:
 * `'winograd-4x4'` (the default; results within ~1e-5 of the direct sums' scale), `'winograd'`
 * (F(2×2) throughout, within float32 rounding) or `'direct'`; each gives the same numbers on any
 * thread count. `undefined` returns to the default (`LICO_WASM_CONV`, else `'winograd-4x4'`).
 */
export function selectWasmConvAlgorithm(algorithm: WasmConvAlgorithm | undefined): void {
  if (algorithm !== undefined && !(WASM_CONV_ALGORITHMS as readonly string[]).includes(algorithm)) throw new UnknownNameError('wasm conv algorithm', algorithm, WASM_CONV_ALGORITHMS);
  convAlgorithm = algorithm;
}

/** The algorithm stride-1 3×3 convolutions use now (see {@link selectWasmConvAlgorithm}). */
export function wasmConvAlgorithm(): WasmConvAlgorithm {
  if (convAlgorithm) return convAlgorithm;
  const env = typeof process === 'undefined' ? undefined : process.env?.LICO_WASM_CONV;
  if (!env) return 'winograd-4x4';
  if (!(WASM_CONV_ALGORITHMS as readonly string[]).includes(env)) throw new UnknownNameError('LICO_WASM_CONV value', env, WASM_CONV_ALGORITHMS);
  return env as WasmConvAlgorithm;
}

/** Whether the Winograd kernels compute this conv (and, by symmetry, its gradients). */
export function winogradApplies(g: ConvGeometry): boolean {
  return g.kh === 3 && g.kw === 3 && g.sh === 1 && g.sw === 1 && g.c >= WINOGRAD_MIN_CHANNELS && g.co >= WINOGRAD_MIN_CHANNELS && wasmConvAlgorithm() !== 'direct';
}

/** The output tile (2: F(2×2, 3×3), 4: F(4×4, 3×3)) of the Winograd forward form (forward and input gradient) now. */
const forwardTile = (): 2 | 4 => (wasmConvAlgorithm() === 'winograd' ? 2 : 4);

/**
 * Whether the stride-2 Winograd form (nested F(4, 2), 4×4 output tiles, 81 products per tile and
 * channel pair instead of 144) computes this conv's forward: 3×3, stride 2, at least 16 channels
 * each way, under the default `'winograd-4x4'` (`'winograd'` keeps the earlier default's direct
 * sums for it, bit for bit). Its gradients stay direct.
 */
export function winogradStride2Applies(g: ConvGeometry): boolean {
  return g.kh === 3 && g.kw === 3 && g.sh === 2 && g.sw === 2 && g.c >= WINOGRAD_MIN_CHANNELS && g.co >= WINOGRAD_MIN_CHANNELS && wasmConvAlgorithm() === 'winograd-4x4';
}

/** A Winograd forward form: 2 (F(2×2, 3×3)), 4 (F(4×4, 3×3)) or 8 (stride 2, 4×4 tiles); as `m` of csrc's wino_forward_m. */
type WinogradForm = 2 | 4 | 8;

/** The Winograd form of the forward-form conv `f` now (stride 1: forward and input gradient; stride 2: forward), or 0: direct sums. */
const winogradForm = (f: ConvGeometry): WinogradForm | 0 => (winogradApplies(f) ? forwardTile() : winogradStride2Applies(f) ? 8 : 0);

/** Output rows and columns of one tile of a form. */
const formTile = (form: WinogradForm): 2 | 4 => (form === 2 ? 2 : 4);

/** Transformed positions per tile of a form: (tile + 2)², or 9² for stride 2. */
const formPlanes = (form: WinogradForm): number => (form === 2 ? 16 : form === 4 ? 36 : 81);

/** Below this many input or output channels the transforms cost more than they save: direct sums. */
const WINOGRAD_MIN_CHANNELS = 16;

/** Tiles per Winograd block: the block's transformed input and products (16, 36 or 81 × tiles × (c + co) floats) about 128 KiB. */
function winogradBlockTiles(c: number, co: number, form: WinogradForm = 2): number {
  const pad = (n: number) => Math.ceil(n / 4) * 4;
  return Math.max(4, Math.min(64, Math.floor(32768 / formPlanes(form) / (pad(c) + pad(co)) / 4) * 4));
}

/**
 * Tiles per block of a Winograd filter gradient: its sums stay in registers only over a block, so
 * its blocks are longer than the forward's (32 measured best for 32–128 channels; the result does
 * not depend on it: each sum runs over the group's tiles in order).
 */
const WINOGRAD_FILTER_BLOCK_TILES = 32;

/** Output tiles (2×2 or 4×4) of a conv's output. */
const winogradTiles = (g: ConvGeometry, tile: 2 | 4 = 2): number => g.nb * Math.ceil(g.ho / tile) * Math.ceil(g.wo / tile);

/** Tile groups of a Winograd filter gradient: a function of the problem only, as {@link filterGroups}. */
function winogradGroups(g: ConvGeometry): number {
  return Math.min(8, Math.max(1, Math.floor(winogradTiles(g) / 64)));
}

/** The forward-conv geometry whose output is the input gradient of `g` (stride 1, 3×3: flipped filter, padding 2 − pad). */
function inputGradAsForward(g: ConvGeometry): ConvGeometry {
  return { ...g, h: g.ho, w: g.wo, c: g.co, ho: g.h, wo: g.w, co: g.c, top: g.kh - 1 - g.top, left: g.kw - 1 - g.left };
}

class Runner implements ConvGradRunner {
  private readonly control: Int32Array | undefined;
  private readonly claim: BigUint64Array | undefined;
  private failure: Error | undefined;
  /** Calls shared with the workers so far. */
  parallelCalls = 0;

  constructor(
    private readonly kernel: ConvGradExports,
    module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    readonly threads: number,
    readonly build: WasmKernelBuild,
  ) {
    if (threads > 1) {
      const shared = new SharedArrayBuffer(CONTROL_BYTES);
      this.control = new Int32Array(shared);
      this.claim = new BigUint64Array(shared);
      for (let index = 1; index < threads; index++) {
        const workerData = { module, memory, control: this.control.buffer, index, threads, functions: JOB_FUNCTIONS };
        startWorker(WORKER_SOURCE, workerData, (e) => (this.failure ??= e));
      }
    }
  }

  /**
   * Runs `fn(...args, begin, end, ...trailing)` over `total` units, in chunks taken by the threads
   * from a shared counter when `macs` is large enough (`chunksPerThread` chunks each on average).
   * Each unit's results do not depend on which thread computes it. `threadArg` (an index into
   * `[...args, ...trailing]`, -1: none): the argument each thread sets to its own index (0 … threads − 1).
   */
  private parallel(job: number, args: number[], total: number, trailing: number[], macs: number, chunksPerThread = 8, threadArg = -1): void {
    const fn = this.kernel[JOB_FUNCTIONS[job]!] as (...a: number[]) => void;
    const ctl = this.control;
    // A page's main thread cannot wait for workers that have not started: it runs alone until they have.
    if (!ctl || macs < PARALLEL_MIN_MACS || total < this.threads || (!CAN_BLOCK && Atomics.load(ctl, READY) < this.threads - 1)) {
      if (threadArg >= 0) (threadArg < args.length ? args : trailing)[threadArg < args.length ? threadArg : threadArg - args.length] = 0;
      fn(...args, 0, total, ...trailing);
      return;
    }
    this.parallelCalls += 1;
    const claim = this.claim!;
    const chunk = this.chunk(total, chunksPerThread);
    const chunks = Math.ceil(total / chunk);
    const a = [...args, ...trailing];
    // The previous job is closed (all its chunks completed, no claim of it can succeed): its slots are free.
    ctl[JOB] = job;
    ctl[TOTAL] = total;
    ctl[ARGC] = args.length;
    ctl[TRAILING] = trailing.length;
    ctl[CHUNK] = chunk;
    ctl[CHUNKS] = chunks;
    ctl[THREAD_ARG] = threadArg;
    ctl.set(a, ARGS);
    Atomics.store(ctl, COMPLETED, 0);
    Atomics.store(ctl, JOB_FAILED, 0);
    const gen = (Atomics.load(ctl, GENERATION) + 1) | 0;
    Atomics.store(claim, CLAIM, BigInt(gen >>> 0) << 32n);
    Atomics.store(ctl, GENERATION, gen);
    Atomics.notify(ctl, GENERATION);
    // This thread's chunks (one that throws is counted as completed; its error is thrown below).
    const mine = claimChunks(ctl, claim, SLOTS, gen, fn, a, args.length, total, chunk, chunks, threadArg, 0);
    // Only chunks a worker has taken and not finished remain: wait for them, spinning first.
    let done = Atomics.load(ctl, COMPLETED);
    for (let i = 1, t0 = performance.now(); done < chunks; i++) {
      done = Atomics.load(ctl, COMPLETED);
      if ((i & 1023) === 0 && performance.now() - t0 > SPIN_MS) break;
    }
    for (; done < chunks; done = Atomics.load(ctl, COMPLETED)) {
      if (Atomics.load(ctl, FAILED) || this.failure) throw new Error(`a lico wasm kernel worker could not start${this.failure ? `: ${this.failure.message}` : ''}`);
      // A page's main thread may not block: it spins (the workers run meanwhile).
      if (CAN_BLOCK) Atomics.wait(ctl, COMPLETED, done, 100);
    }
    closeJob(claim, SLOTS, gen);
    if (mine !== undefined) throw mine;
    if (Atomics.load(ctl, JOB_FAILED)) throw new Error(`a lico wasm kernel worker failed in ${JOB_FUNCTIONS[job]}`);
  }

  /** Units per chunk of a parallel job over `total` units. */
  private chunk(total: number, chunksPerThread = 8): number {
    return Math.max(1, Math.ceil(total / (this.threads * chunksPerThread)));
  }

  /** Floats of a form's transformed filter for c → co channels. */
  private formFilterSize(form: WinogradForm, c: number, co: number): number {
    return form === 2 ? this.kernel.wino_filter_size(c, co) : form === 4 ? this.kernel.wino4_filter_size(c, co) : this.kernel.wino_s2_filter_size(c, co);
  }

  /** Floats of the Winograd forward's scratch: the transformed filter, then one slot per thread (a slot stays in that thread's cache). */
  private winogradForwardScratch(f: ConvGeometry, form: WinogradForm): number {
    const tb = winogradBlockTiles(f.c, f.co, form);
    const slot = form === 2 ? this.kernel.wino_slot_size(f.c, f.co, tb) : form === 4 ? this.kernel.wino4_slot_size(f.c, f.co, tb) : this.kernel.wino_s2_slot_size(f.c, f.co, tb);
    return this.formFilterSize(form, f.c, f.co) + this.threads * slot;
  }

  /** The Winograd forward conv `f` of x with the filter at `wPtr` (flip: the input-gradient form of the flipped, swapped filter). */
  private winogradForward(xPtr: number, wPtr: number, biasPtr: number, yPtr: number, scratchPtr: number, f: ConvGeometry, epiPtr: number, flip: boolean, form: WinogradForm, preparedPtr?: number): void {
    const tb = winogradBlockTiles(f.c, f.co, form);
    const blocks = Math.ceil(winogradTiles(f, formTile(form)) / tb);
    const u = preparedPtr ?? scratchPtr;
    if (preparedPtr === undefined) this.transformFilter(wPtr, u, f, flip, form);
    const slots = scratchPtr + 4 * this.formFilterSize(form, f.c, f.co);
    const args = [xPtr, u, yPtr, slots, f.nb, f.h, f.w, f.c, f.ho, f.wo, f.co, f.top, f.left, tb];
    // Work counted as the products' multiply-adds: 4/9 (F(2×2)), 1/4 (F(4×4)) or 9/16 (stride 2) of the direct sums'.
    const share = form === 2 ? 4 / 9 : form === 4 ? 1 / 4 : 9 / 16;
    this.parallel(form === 2 ? 9 : form === 4 ? 13 : 15, args, blocks, [0, biasPtr, epiPtr], convMacs(f) * share, 8, args.length);
  }

  /** U of the forward-form conv `f` into `uPtr` (flip: from the filter of the conv whose input gradient `f` is; stride 1 only). */
  private transformFilter(wPtr: number, uPtr: number, f: ConvGeometry, flip: boolean, form: WinogradForm): void {
    if (form === 8) return this.kernel.wino_s2_filter(wPtr, uPtr, f.c, f.co);
    // The filter's own channels: flip swaps them back.
    const transform = form === 4 ? this.kernel.wino4_filter : this.kernel.wino_filter;
    if (flip) transform(wPtr, uPtr, f.co, f.c, 1);
    else transform(wPtr, uPtr, f.c, f.co, 0);
  }

  winogradFilterSize(g: ConvGeometry, direction: WinogradDirection): number {
    if (direction === 'forward') {
      const form = winogradForm(g);
      return form === 0 ? 0 : this.formFilterSize(form, g.c, g.co);
    }
    if (!winogradApplies(g)) return 0;
    const f = inputGradAsForward(g);
    return winogradApplies(f) ? this.formFilterSize(forwardTile(), f.c, f.co) : 0;
  }

  winogradFilter(wPtr: number, uPtr: number, g: ConvGeometry, direction: WinogradDirection): void {
    if (this.winogradFilterSize(g, direction) === 0) throw new Error(`winogradFilter: Winograd does not run for this ${direction} conv (${g.kh}×${g.kw}, stride ${g.sh}×${g.sw}, ${g.c} → ${g.co} channels)`);
    if (direction === 'input') this.transformFilter(wPtr, uPtr, inputGradAsForward(g), true, forwardTile());
    else this.transformFilter(wPtr, uPtr, g, false, winogradForm(g) as WinogradForm);
  }

  get workersReady(): number {
    return this.control ? Atomics.load(this.control, READY) : 0;
  }

  async whenReady(timeoutMs = 30_000): Promise<void> {
    const ctl = this.control;
    if (!ctl) return;
    const started = Date.now();
    while (Atomics.load(ctl, READY) < this.threads - 1) {
      if (Atomics.load(ctl, FAILED) || this.failure) throw new Error(`a lico wasm kernel worker could not start${this.failure ? `: ${this.failure.message}` : ''}`);
      if (Date.now() - started > timeoutMs) throw new Error(`the lico wasm kernel workers did not start within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  filterGradScratch(g: ConvGeometry): number {
    if (winogradApplies(g)) {
      const groups = winogradGroups(g);
      const size = 16 * g.c * Math.ceil(g.co / 4) * 4;
      return (groups > 1 ? groups + 1 : 1) * size + groups * this.kernel.wino_slot_size(g.c, g.co, WINOGRAD_FILTER_BLOCK_TILES);
    }
    const groups = filterGroups(g);
    return groups > 1 ? groups * g.kh * g.kw * g.c * g.co : 0;
  }

  filterGrad(xPtr: number, dyPtr: number, dwPtr: number, scratchPtr: number, g: ConvGeometry): void {
    if (winogradApplies(g)) {
      const groups = winogradGroups(g);
      const size = 16 * g.c * Math.ceil(g.co / 4) * 4;
      const sums = scratchPtr + 4 * (groups > 1 ? groups : 0) * size; // the summed dU (the only partial for one group)
      const slots = scratchPtr + 4 * (groups > 1 ? groups + 1 : 1) * size;
      const args = [xPtr, dyPtr, groups > 1 ? scratchPtr : sums, slots, g.nb, g.h, g.w, g.c, g.ho, g.wo, g.co, g.top, g.left, WINOGRAD_FILTER_BLOCK_TILES];
      this.parallel(10, args, groups, [groups], (convMacs(g) * 4) / 9, 1);
      if (groups > 1) this.parallel(4, [scratchPtr, sums, size], size, [groups], size * groups);
      this.parallel(11, [sums, dwPtr, g.c, g.co], g.c, [], 16 * g.c * g.co);
      return;
    }
    const groups = filterGroups(g);
    const size = g.kh * g.kw * g.c * g.co;
    // Threads take whole row groups (each reads only its rows of x and dy), then add the partials.
    this.parallel(0, [xPtr, dyPtr, groups > 1 ? scratchPtr : dwPtr, ...geometryArgs(g)], groups, [groups, blockRows(g)], convMacs(g));
    if (groups > 1) this.parallel(4, [scratchPtr, dwPtr, size], size, [groups], size * groups);
  }

  inputGradScratch(g: ConvGeometry): number {
    if (winogradApplies(g)) return this.winogradForwardScratch(inputGradAsForward(g), forwardTile());
    return this.kernel.input_grad_filter_size(g.kh, g.kw, g.c, g.co);
  }

  inputGrad(dyPtr: number, wPtr: number, dxPtr: number, scratchPtr: number, g: ConvGeometry, preparedPtr?: number): void {
    if (winogradApplies(g)) return this.winogradForward(dyPtr, wPtr, 0, dxPtr, scratchPtr, inputGradAsForward(g), 0, true, forwardTile(), preparedPtr);
    this.kernel.input_grad_filter(wPtr, scratchPtr, g.kh, g.kw, g.c, g.co);
    this.parallel(1, [dyPtr, scratchPtr, dxPtr, ...geometryArgs(g)], g.nb * g.h, [], convMacs(g));
  }

  /** Floats of the forward's scratch before the epilogue's description. */
  private forwardScratchBody(g: ConvGeometry): number {
    const form = winogradForm(g);
    if (form !== 0) return this.winogradForwardScratch(g, form);
    return this.kernel.conv_forward_filter_size(g.kh, g.kw, g.c, g.co);
  }

  forwardScratch(g: ConvGeometry): number {
    return this.forwardScratchBody(g) + EPILOGUE_FLOATS;
  }

  /** Writes csrc's `Epilogue` for `e` at `at` (bytes, 4-aligned) and returns `at`, or 0 for none. */
  private writeEpilogue(at: number, e: ConvEpilogue | undefined): number {
    if (!e || (e.activation === 'none' && !e.scalePtr && !e.residualPtr)) return 0;
    if (!e.scalePtr !== !e.shiftPtr) throw new Error('conv epilogue: scale and shift come together');
    const words = new Int32Array(this.memory.buffer, at, 5);
    words[0] = e.scalePtr ?? 0;
    words[1] = e.shiftPtr ?? 0;
    words[2] = e.residualPtr ?? 0;
    new Float32Array(this.memory.buffer, at + 12, 1)[0] = e.alpha ?? 0;
    words[4] = e.activation === 'relu' ? 1 : e.activation === 'leaky' ? 2 : 0;
    return at;
  }

  forward(xPtr: number, wPtr: number, biasPtr: number, yPtr: number, scratchPtr: number, g: ConvGeometry, epilogue: ConvEpilogue | undefined, preparedPtr?: number): void {
    const form = winogradForm(g);
    const epiPtr = this.writeEpilogue(scratchPtr + 4 * this.forwardScratchBody(g), epilogue);
    if (form !== 0) return this.winogradForward(xPtr, wPtr, biasPtr, yPtr, scratchPtr, g, epiPtr, false, form, preparedPtr);
    this.kernel.conv_forward_filter(wPtr, scratchPtr, g.kh, g.kw, g.c, g.co);
    this.parallel(2, [xPtr, scratchPtr, yPtr, ...geometryArgs(g)], g.nb * g.ho, [biasPtr, epiPtr], convMacs(g));
  }

  matMulScratch(d: MatMulDims): number {
    return this.kernel.matmul_scratch_size(d.batchA, d.batchB, d.m, d.n, d.k, d.transposeA ? 1 : 0);
  }

  matMul(aPtr: number, bPtr: number, cPtr: number, scratchPtr: number, d: MatMulDims): void {
    const ta = d.transposeA ? 1 : 0;
    this.kernel.matmul_prepare(aPtr, bPtr, scratchPtr, d.batchA, d.batchB, d.m, d.n, d.k, ta, d.transposeB ? 1 : 0);
    const batch = Math.max(d.batchA, d.batchB);
    this.parallel(3, [aPtr, scratchPtr, cPtr, d.batchA, d.batchB, d.m, d.n, d.k, ta], batch * d.m, [], batch * d.m * d.n * d.k);
  }

  batchNormGroups(m: number): number {
    return Math.min(8, Math.max(1, Math.floor(m / 2048)));
  }

  // Batch-norm passes are memory-bound: an element counts as PASS_ELEMENT_MACS multiply-adds.
  batchNormSums(xPtr: number, sumsPtr: number, m: number, c: number, grad?: { dyPtr: number; yPtr: number; coefPtr: number }): void {
    const groups = this.batchNormGroups(m);
    if (grad) this.parallel(6, [grad.dyPtr, grad.yPtr, xPtr, sumsPtr, grad.coefPtr, m, c], groups, [groups], PASS_ELEMENT_MACS * m * c, 1);
    else this.parallel(5, [xPtr, sumsPtr, m, c], groups, [groups], PASS_ELEMENT_MACS * m * c, 1);
  }

  batchNormApply(xPtr: number, yPtr: number, coefPtr: number, m: number, c: number): void {
    this.parallel(7, [xPtr, yPtr, coefPtr, m, c], m, [], PASS_ELEMENT_MACS * m * c);
  }

  batchNormGradApply(dyPtr: number, yPtr: number, xPtr: number, dxPtr: number, coefPtr: number, m: number, c: number): void {
    this.parallel(8, [dyPtr, yPtr, xPtr, dxPtr, coefPtr, m, c], m, [], PASS_ELEMENT_MACS * m * c);
  }

  add(aPtr: number, bPtr: number, yPtr: number, n: number): void {
    this.parallel(14, [aPtr, bPtr, yPtr, n], Math.ceil(n / ADD_UNIT), [], PASS_ELEMENT_MACS * n);
  }

  affineActGrad(dyPtr: number, yPtr: number, dxPtr: number, coefPtr: number, m: number, c: number): void {
    this.parallel(12, [dyPtr, yPtr, dxPtr, coefPtr, m, c], m, [], PASS_ELEMENT_MACS * m * c);
  }
}

const runners = new WeakMap<WebAssembly.Memory, Map<string, ConvGradRunner | null>>();

const MODULES: Record<WasmKernelBuild, { plain: string; shared: string }> = {
  simd: { plain: CONV_GRAD_WASM_BASE64, shared: CONV_GRAD_SHARED_WASM_BASE64 },
  'relaxed-simd': { plain: CONV_GRAD_RELAXED_WASM_BASE64, shared: CONV_GRAD_SHARED_RELAXED_WASM_BASE64 },
};

/**
 * The kernels for a wasm memory (tfjs-backend-wasm's), instantiated once per memory, thread count
 * and build (default: {@link wasmKernelBuild}): the shared-memory module with `threads − 1` Node
 * worker threads when the memory is shared (the multi-threaded wasm build), else the plain module
 * on the calling thread. `undefined` when the module cannot be instantiated on that memory (or
 * the engine lacks relaxed SIMD for that build).
 */
export function convGradRunner(memory: WebAssembly.Memory, threads: number, build: WasmKernelBuild = wasmKernelBuild()): ConvGradRunner | undefined {
  let byKey = runners.get(memory);
  if (!byKey) runners.set(memory, (byKey = new Map()));
  const key = `${threads}:${build}`;
  const known = byKey.get(key);
  if (known !== undefined) return known ?? undefined;
  let runner: ConvGradRunner | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const module = new WebAssembly.Module(decode(shared ? MODULES[build].shared : MODULES[build].plain));
    const kernel = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as ConvGradExports;
    runner = new Runner(kernel, module, memory, shared ? threads : 1, build);
  } catch {
    runner = null;
  }
  byKey.set(key, runner);
  return runner ?? undefined;
}

/** The geometry of a conv from tfjs's conv info. */
export function convGeometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    nb: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    c: info.inChannels,
    ho: info.outHeight,
    wo: info.outWidth,
    co: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/**
 * The wasm backend's memory and its kernels' runner (threads as the backend was started with), or
 * `undefined` for other backends or where the module cannot be instantiated.
 */
export function convGradRunnerFor(backend: unknown): { heap: HeapMemory; runner: ConvGradRunner } | undefined {
  const heap = heapMemory(backend);
  const runner = heap ? convGradRunner(heap.memory, Math.max(1, wasmThreadsStarted())) : undefined;
  return heap && runner ? { heap, runner } : undefined;
}

/**
 * Starts the worker threads of lico's kernels on the active wasm backend now and resolves once
 * they run (to the kernels' thread count; 1 where the backend's memory is not shared). Node starts
 * them on first use and waits there; a page's main thread cannot block, so `useBackend` calls this.
 */
export async function wasmKernelWorkersReady(): Promise<number> {
  const found = convGradRunnerFor(tf.backend());
  if (!found) return 1;
  await found.runner.whenReady();
  return found.runner.threads;
}

/**
 * What lico's kernels run on for the active wasm backend: their thread count, the workers running,
 * and how many calls the workers shared (`undefined` off wasm).
 */
export function wasmKernelThreads(): { threads: number; workersReady: number; parallelCalls: number } | undefined {
  const found = convGradRunnerFor(tf.backend());
  return found && { threads: found.runner.threads, workersReady: found.runner.workersReady, parallelCalls: found.runner.parallelCalls };
}

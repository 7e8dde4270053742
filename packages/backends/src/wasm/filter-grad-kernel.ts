import { Worker } from 'node:worker_threads';
import { CONV_FILTER_GRAD_SHARED_WASM_BASE64, CONV_FILTER_GRAD_WASM_BASE64 } from '../generated/conv-filter-grad-wasm';

/** The exports of `csrc/conv-filter-grad.c`. */
interface FilterGradExports {
  filter_grad_tiles(kh: number, kw: number, c: number, co: number): number;
  filter_grad(...args: number[]): void;
}

/** Shape and geometry of one filter gradient (NHWC input `[nb, h, w, c]`, output gradient `[nb, ho, wo, co]`). */
export interface FilterGradGeometry {
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

/** Runs the SIMD filter-gradient kernel on byte offsets of one wasm memory, on one or more threads. */
export interface FilterGradRunner {
  /** Threads a call uses (the calling thread plus `threads − 1` workers). */
  readonly threads: number;
  /** Writes `dw` (`[kh, kw, c, co]`, float32 at byte offset `dwPtr`) from `x` and `dy` at `xPtr`, `dyPtr`. */
  run(xPtr: number, dyPtr: number, dwPtr: number, g: FilterGradGeometry): void;
}

// Control block shared with the workers (Int32 slots).
const GENERATION = 0; // bumped by the caller for each job; workers wait on it
const DONE = 1; // workers that finished the current job
const READY = 2; // workers that started (instantiated the module)
const FAILED = 3; // 1 once a worker failed; its message is in the parent's error
const STOP = 4; // 1: workers exit
const ARGS = 8; // x, dy, dw, nb, h, w, c, ho, wo, co, kh, kw, sh, sw, top, left, tiles, blockRows
const ARG_COUNT = 18;

/** Below this many multiply-adds a call runs on the calling thread alone (waking a worker costs ~0.1 ms). */
const PARALLEL_MIN_MACS = 4e6;

/** The worker: instantiates the module on the shared memory, then runs its share of each job. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, index, threads } = workerData;
const ctl = new Int32Array(control);
let kernel;
try {
  kernel = new WebAssembly.Instance(module, { env: { memory } }).exports;
  Atomics.add(ctl, ${READY}, 1);
} catch (e) {
  Atomics.store(ctl, ${FAILED}, 1);
  Atomics.notify(ctl, ${DONE});
  throw e;
}
let seen = 0;
for (;;) {
  Atomics.wait(ctl, ${GENERATION}, seen);
  seen = Atomics.load(ctl, ${GENERATION});
  if (Atomics.load(ctl, ${STOP})) break;
  const a = Array.from(ctl.subarray(${ARGS}, ${ARGS + ARG_COUNT}));
  const tiles = a[16];
  const begin = Math.floor((index * tiles) / threads), end = Math.floor(((index + 1) * tiles) / threads);
  try {
    kernel.filter_grad(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], begin, end, a[17]);
  } catch (e) {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  Atomics.add(ctl, ${DONE}, 1);
  Atomics.notify(ctl, ${DONE});
}
`;

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Output rows per block: x and dy rows of about 48 KiB together, so a block stays in the L1/L2 cache. */
function blockRows(g: FilterGradGeometry): number {
  const rowBytes = 4 * (g.sh * g.w * g.c + g.wo * g.co);
  return Math.max(1, Math.min(g.nb * g.ho, Math.round(49152 / rowBytes)));
}

class Runner implements FilterGradRunner {
  private readonly control: Int32Array | undefined;
  private readonly workers: Worker[] = [];
  private failure: Error | undefined;

  constructor(
    private readonly kernel: FilterGradExports,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    readonly threads: number,
  ) {
    if (threads > 1) {
      this.control = new Int32Array(new SharedArrayBuffer(4 * (ARGS + ARG_COUNT)));
      for (let index = 1; index < threads; index++) {
        const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, control: this.control.buffer, index, threads } });
        worker.on('error', (e) => (this.failure ??= e));
        worker.unref();
        this.workers.push(worker);
      }
    }
  }

  run(xPtr: number, dyPtr: number, dwPtr: number, g: FilterGradGeometry): void {
    const tiles = this.kernel.filter_grad_tiles(g.kh, g.kw, g.c, g.co);
    const rows = blockRows(g);
    const args = [xPtr, dyPtr, dwPtr, g.nb, g.h, g.w, g.c, g.ho, g.wo, g.co, g.kh, g.kw, g.sh, g.sw, g.top, g.left];
    const macs = g.nb * g.ho * g.wo * g.kh * g.kw * g.c * g.co;
    const ctl = this.control;
    if (!ctl || macs < PARALLEL_MIN_MACS || tiles < this.threads) {
      this.kernel.filter_grad(...args, 0, tiles, rows);
      return;
    }
    ctl.set([...args, tiles, rows], ARGS);
    Atomics.store(ctl, DONE, 0);
    Atomics.add(ctl, GENERATION, 1);
    Atomics.notify(ctl, GENERATION);
    this.kernel.filter_grad(...args, 0, Math.floor(tiles / this.threads), rows);
    const others = this.threads - 1;
    const started = Date.now();
    for (let done = Atomics.load(ctl, DONE); done < others; done = Atomics.load(ctl, DONE)) {
      if (Atomics.load(ctl, FAILED) || this.failure) throw new Error(`the filter-gradient worker failed${this.failure ? `: ${this.failure.message}` : ''}`);
      // A worker that never started (its thread could not be created) must not hang the caller.
      if (Atomics.load(ctl, READY) < others && Date.now() - started > 60_000) throw new Error('the filter-gradient workers did not start within 60 s');
      Atomics.wait(ctl, DONE, done, 100);
    }
    if (Atomics.load(ctl, FAILED)) throw new Error('the filter-gradient worker failed');
  }
}

const runners = new WeakMap<WebAssembly.Memory, Map<number, FilterGradRunner | null>>();

/**
 * The kernel for a wasm memory (tfjs-backend-wasm's), instantiated once per memory and thread
 * count: the shared-memory build with `threads − 1` Node worker threads when the memory is shared
 * (the multi-threaded wasm build), else the plain build on the calling thread. `undefined` when
 * the module cannot be instantiated on that memory.
 */
export function filterGradRunner(memory: WebAssembly.Memory, threads: number): FilterGradRunner | undefined {
  let byThreads = runners.get(memory);
  if (!byThreads) runners.set(memory, (byThreads = new Map()));
  const known = byThreads.get(threads);
  if (known !== undefined) return known ?? undefined;
  let runner: FilterGradRunner | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const module = new WebAssembly.Module(decode(shared ? CONV_FILTER_GRAD_SHARED_WASM_BASE64 : CONV_FILTER_GRAD_WASM_BASE64));
    const kernel = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as FilterGradExports;
    runner = new Runner(kernel, module, memory, shared ? threads : 1);
  } catch {
    runner = null;
  }
  byThreads.set(threads, runner);
  return runner ?? undefined;
}

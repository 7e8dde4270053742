import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, MissingPeerError, UnknownNameError } from '@lico/core';
import { registerWasmTrainingKernels } from './wasm/register-wasm-training-kernels';
import { startThreadedWasm } from './wasm/wasm-threads';
import { selectWasmConvAlgorithm, wasmConvAlgorithm, wasmKernelWorkersReady, type WasmConvAlgorithm } from './wasm/conv-grad-kernels';
import { resolveWasmKernels, selectWasmKernelBuild, type WasmKernelBuild, type WasmKernelsOption } from './wasm/kernel-build';
import { IN_BROWSER, importModule } from '#node-builtins';

/** Backend names `useBackend` accepts. */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'webgl', 'webgpu', 'wasm', 'cpu'] as const;

/** A backend name `useBackend` accepts. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** A concrete backend `useBackend` can end up on. */
export type ChosenBackend = 'tensorflow' | 'webgl' | 'webgpu' | 'wasm' | 'cpu';

/** What `useBackend` did. */
export interface BackendChoice {
  /** The backend now active. */
  readonly backend: ChosenBackend;
  /** The package that provides it, e.g. `'@tensorflow/tfjs-node-gpu'`. */
  readonly packageName: string;
  /** One line for people: what was picked and why. */
  readonly message: string;
  /** When the backend is wasm with lico's training kernels: the build they run (see the `kernels` option). */
  readonly wasmKernels?: WasmKernelBuild;
  /** When the backend is wasm with lico's training kernels: how stride-1 3×3 convolutions run (see the `conv` option). */
  readonly wasmConv?: WasmConvAlgorithm;
}

/** Loads a module by name; tests pass a fake one. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

/** Options of {@link useBackend}. */
export interface UseBackendOptions {
  /** Print the choice (default: true for `'auto'`). */
  readonly log?: boolean | ((line: string) => void);
  /** How optional packages are imported (default: dynamic `import`). */
  readonly importer?: ModuleImporter;
  /**
   * Called after the wasm backend is registered and before it is activated; `@lico/backends`
   * uses it to register its training kernels. Exposed for tests.
   */
  readonly onWasm?: () => Promise<void> | void;
  /**
   * Register lico's wasm training kernels when the wasm backend is chosen (default true; see
   * `registerWasmTrainingKernels`).
   */
  readonly trainingKernels?: boolean;
  /**
   * Threads of the wasm backend (1 … 8). Default: the `LICO_WASM_THREADS` environment variable, else
   * 1 (the stock single-threaded build). Above 1, the multi-threaded SIMD build is started in Node
   * (see `startThreadedWasm`); in a page (cross-origin isolated: COOP/COEP headers) tfjs's own
   * threaded build gets that many threads and lico's kernels start Web Workers. Results are
   * identical to one thread.
   */
  readonly threads?: number;
  /**
   * Which build of lico's wasm kernels runs: `'auto'` (default; else `LICO_WASM_KERNELS`) picks
   * `'relaxed-simd'` (fused multiply-adds, faster where the CPU has FMA) when the engine runs
   * WebAssembly relaxed SIMD — Node ≥ 22, current browsers, Node 20 after `enableRelaxedSimd()` —
   * else `'simd'`. Each build gives the same numbers for any thread count; `'simd'` also gives the
   * same numbers on every CPU (relaxed SIMD rounds once where the CPU has FMA, twice elsewhere).
   */
  readonly kernels?: WasmKernelsOption;
  /**
   * How lico's wasm kernels compute stride-1 3×3 convolutions (forward and both gradients) with at
   * least 16 channels each way: `'winograd-4x4'` (default; else `LICO_WASM_CONV`): Winograd
   * F(4×4, 3×3) for the forward and input gradient (4× fewer multiply-adds), F(2×2, 3×3) for the
   * filter gradient, within ~1e-5 of the direct sums' scale; `'winograd'`: F(2×2, 3×3) throughout
   * (2.25× fewer; the numbers of releases before F(4×4), bit for bit); `'direct'`: the direct sums
   * of earlier releases, bit for bit. Each gives the same numbers for any thread count.
   */
  readonly conv?: WasmConvAlgorithm;
}

/** The wasm thread count from the option or `LICO_WASM_THREADS` (default 1). */
export function resolveWasmThreads(threads?: number): number {
  if (threads !== undefined) {
    if (!Number.isInteger(threads) || threads < 1 || threads > 8) throw new ConfigError(`threads must be an integer in [1, 8], got ${threads}`);
    return threads;
  }
  const env = typeof process === 'undefined' ? undefined : process.env?.LICO_WASM_THREADS;
  if (env === undefined || env === '') return 1;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new ConfigError(`LICO_WASM_THREADS must be an integer in [1, 8], got '${env}'`);
  return n;
}

const defaultImporter: ModuleImporter = importModule;

/** The peers that provide the native TensorFlow backend, most preferred first. */
export const TENSORFLOW_PEERS = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

async function tryImport(importer: ModuleImporter, specifier: string): Promise<{ ok: true } | { ok: false; error: unknown }> {
  try {
    await importer(specifier);
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

async function activate(name: ChosenBackend): Promise<boolean> {
  if (!tf.findBackendFactory(name)) return false;
  const ok = await tf.setBackend(name);
  await tf.ready();
  return ok && tf.getBackend() === name;
}

/**
 * In a page: activates the wasm backend that {@link startThreadedWasm} set to `threads` threads, with
 * at least `2·threads` cores reported while it starts (tfjs's threaded build caps XNNPACK's pool at
 * half of `navigator.hardwareConcurrency`, as in Node), then starts lico's kernel workers: a page's
 * main thread cannot wait for workers to start, so they must be running before the first kernel.
 */
async function activateThreadedWasmInPage(threads: number, kernels: boolean): Promise<boolean> {
  const nav = globalThis.navigator as { hardwareConcurrency: number };
  const spoof = nav.hardwareConcurrency < 2 * threads;
  if (spoof) Object.defineProperty(nav, 'hardwareConcurrency', { configurable: true, get: () => 2 * threads });
  let ok: boolean;
  try {
    ok = await activate('wasm');
  } finally {
    if (spoof) delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
  if (!ok || !kernels) return ok;
  const running = await wasmKernelWorkersReady();
  if (running !== threads) {
    throw new ConfigError(`wasm threads = ${threads}: the page's wasm backend did not start its multi-threaded build (lico's kernels run on ${running} thread(s)); it needs WebAssembly SIMD and threads, and tfjs's wasm files served beside the page (setWasmPaths).`);
  }
  return true;
}

async function activateTensorflow(importer: ModuleImporter): Promise<{ packageName: string } | { errors: unknown[] }> {
  const errors: unknown[] = [];
  for (const peer of TENSORFLOW_PEERS) {
    const loaded = await tryImport(importer, peer);
    if (!loaded.ok) {
      errors.push(loaded.error);
      continue;
    }
    if (await activate('tensorflow')) return { packageName: peer };
    errors.push(new Error(`${peer} loaded but did not register the 'tensorflow' backend`));
  }
  return { errors };
}

/**
 * Selects and activates a TensorFlow.js backend.
 *
 * - `'auto'` prefers `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node` (optional peers,
 *   tried in that order), then `'wasm'` (with lico's training kernels), then `'cpu'`, and says
 *   which it picked. In a browser (this package's `browser` build) it picks `'webgl'`, then
 *   `'wasm'`, then `'cpu'`, among the backends the page imported.
 * - `'webgl'` / `'webgpu'`: `@tensorflow/tfjs-backend-webgl` / `-webgpu`, imported by the page.
 *   In a browser every backend package must be imported by the page (a bundle cannot import a
 *   package by a name chosen at run time); lico's wasm kernels run on Web Workers there with
 *   `threads > 1` in a cross-origin isolated page.
 * - `'tensorflow'` needs one of the optional peers; without them it throws a
 *   {@link MissingPeerError} that says how to install one.
 * - An unknown name throws an {@link UnknownNameError} listing the valid names.
 *
 * ```ts
 * const { backend } = await useBackend('auto'); // e.g. 'wasm'
 * ```
 */
export async function useBackend(name: BackendName | (string & {}) = 'auto', options: UseBackendOptions = {}): Promise<BackendChoice> {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) throw new UnknownNameError('backend', name, BACKEND_NAMES);
  const importer = options.importer ?? defaultImporter;
  const log = options.log ?? name === 'auto';
  let kernels: WasmKernelBuild | undefined; // set when the wasm backend gets lico's kernels
  const say = (choice: BackendChoice): BackendChoice => {
    if (log) (typeof log === 'function' ? log : (line: string) => console.error(line))(choice.message);
    return choice.backend === 'wasm' && kernels ? { ...choice, wasmKernels: kernels, wasmConv: wasmConvAlgorithm() } : choice;
  };
  const wasm = async (): Promise<boolean> => {
    const loaded = await tryImport(importer, '@tensorflow/tfjs-backend-wasm');
    // In a page the app imports the backend itself (a bundle cannot import by a run-time name).
    if (!loaded.ok && !tf.findBackendFactory('wasm')) return false;
    const threads = resolveWasmThreads(options.threads);
    const build = (options.trainingKernels ?? true) ? resolveWasmKernels(options.kernels) : undefined;
    // With lico's kernels, XNNPACK is left one thread: see startThreadedWasm.
    if (threads > 1) await startThreadedWasm(threads, build && !IN_BROWSER ? { xnnpackThreads: 1 } : {});
    if (build) {
      if (options.conv !== undefined) selectWasmConvAlgorithm(options.conv);
      else wasmConvAlgorithm(); // an invalid LICO_WASM_CONV fails here, before any work
      selectWasmKernelBuild(build);
      registerWasmTrainingKernels();
      kernels = build;
    }
    await options.onWasm?.();
    return threads > 1 && IN_BROWSER ? activateThreadedWasmInPage(threads, build !== undefined) : activate('wasm');
  };
  const gpu = async (backend: 'webgl' | 'webgpu'): Promise<boolean> => {
    await tryImport(importer, `@tensorflow/tfjs-backend-${backend}`);
    return activate(backend);
  };
  const cpu = async (): Promise<boolean> => {
    await tryImport(importer, '@tensorflow/tfjs-backend-cpu');
    return activate('cpu');
  };

  switch (name as BackendName) {
    case 'tensorflow': {
      const result = await activateTensorflow(importer);
      if ('packageName' in result) {
        return say({ backend: 'tensorflow', packageName: result.packageName, message: `lico: using the 'tensorflow' backend from ${result.packageName}.` });
      }
      throw new MissingPeerError('@tensorflow/tfjs-node', "The 'tensorflow' backend", { cause: result.errors[0] });
    }
    case 'webgl':
    case 'webgpu': {
      const backend = name as 'webgl' | 'webgpu';
      if (await gpu(backend)) return say({ backend, packageName: `@tensorflow/tfjs-backend-${backend}`, message: `lico: using the '${backend}' backend.` });
      throw new MissingPeerError(`@tensorflow/tfjs-backend-${backend}`, `The '${backend}' backend (import it in the page first; it needs a browser with ${backend === 'webgl' ? 'WebGL 2' : 'WebGPU'})`);
    }
    case 'wasm':
      if (await wasm()) return say({ backend: 'wasm', packageName: '@tensorflow/tfjs-backend-wasm', message: "lico: using the 'wasm' backend." });
      throw new MissingPeerError('@tensorflow/tfjs-backend-wasm', "The 'wasm' backend");
    case 'cpu':
      if (await cpu()) return say({ backend: 'cpu', packageName: '@tensorflow/tfjs-backend-cpu', message: "lico: using the 'cpu' backend (pure JavaScript, slow for convolutions)." });
      throw new MissingPeerError('@tensorflow/tfjs-backend-cpu', "The 'cpu' backend");
    case 'auto': {
      if (IN_BROWSER) {
        if (await gpu('webgl')) return say({ backend: 'webgl', packageName: '@tensorflow/tfjs-backend-webgl', message: "lico: backend 'auto' picked 'webgl'." });
        if (await wasm()) return say({ backend: 'wasm', packageName: '@tensorflow/tfjs-backend-wasm', message: "lico: backend 'auto' picked 'wasm' (no WebGL backend was imported or it could not start)." });
        if (await cpu()) return say({ backend: 'cpu', packageName: '@tensorflow/tfjs-backend-cpu', message: "lico: backend 'auto' picked 'cpu' (neither WebGL nor wasm is available)." });
        throw new MissingPeerError('@tensorflow/tfjs-backend-webgl', 'Backend selection in a browser');
      }
      const native = await activateTensorflow(importer);
      if ('packageName' in native) {
        return say({ backend: 'tensorflow', packageName: native.packageName, message: `lico: backend 'auto' picked 'tensorflow' (${native.packageName}).` });
      }
      if (await wasm()) {
        return say({
          backend: 'wasm',
          packageName: '@tensorflow/tfjs-backend-wasm',
          message: "lico: backend 'auto' picked 'wasm' (neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed).",
        });
      }
      if (await cpu()) {
        return say({ backend: 'cpu', packageName: '@tensorflow/tfjs-backend-cpu', message: "lico: backend 'auto' picked 'cpu' (no native or wasm backend could be loaded)." });
      }
      throw new MissingPeerError('@tensorflow/tfjs-backend-wasm', 'Backend selection');
    }
  }
}

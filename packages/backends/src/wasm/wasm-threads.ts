import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '@lico/core';
import { createRequire, IN_BROWSER, mkdtempSync, os, path, writeFileSync } from '#node-builtins';

/** The Emscripten module of the wasm backend, as `BackendWasm` expects it. */
interface EmscriptenModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number;
  tfjs?: Record<string, (...args: number[]) => number>;
}

type ModuleFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

/**
 * The wasm code caps its thread pool at half the logical core count, which it reads from
 * `os.cpus()`: report at least `cores` while the module starts and the pool is created.
 */
function withCoresReported<T>(cores: number, f: () => T): T {
  const cpus = os.cpus;
  const real = cpus();
  os.cpus = () => (real.length >= cores ? real : Array.from({ length: cores }, (_, i) => real[i % real.length]!));
  try {
    return f();
  } finally {
    os.cpus = cpus;
  }
}

async function withCoresReportedAsync<T>(cores: number, f: () => Promise<T>): Promise<T> {
  const cpus = os.cpus;
  const real = cpus();
  os.cpus = () => (real.length >= cores ? real : Array.from({ length: cores }, (_, i) => real[i % real.length]!));
  try {
    return await f();
  } finally {
    os.cpus = cpus;
  }
}

let started: { threads: number } | undefined;

/**
 * The number of threads the multi-threaded wasm build was started with (0 when it was not).
 */
export function wasmThreadsStarted(): number {
  return started?.threads ?? 0;
}

/**
 * Re-registers the `'wasm'` backend with the multi-threaded SIMD build of tfjs-backend-wasm, which
 * tfjs never uses in Node (its thread-support probe answers false there, and its pthread worker is
 * a `blob:` URL that Node's `Worker` cannot load). This writes the pthread worker script to a
 * temporary file, starts the threaded build with `locateFile` pointing at it and at the `.wasm`
 * binary, and runs XNNPACK with `threads` threads (1 … 8; Emscripten's worker pool has 8).
 *
 * Call it before the wasm backend is first used: an already-initialised wasm backend is removed
 * (its tensors with it). Calling it again with the same count does nothing; with another count,
 * it throws (the thread pool cannot be resized). Returns the thread count XNNPACK reports.
 *
 * `options.xnnpackThreads` (default `threads`) sizes XNNPACK's own pool apart from `threads`, which
 * lico's kernels use: `useBackend` passes 1 when it registers lico's kernels, which then run the
 * heavy work on their own threads, because parked XNNPACK threads cost ~1.5–2 ms to wake for each
 * small stock op (see the backends README).
 */
export async function startThreadedWasm(threads: number, options: { readonly xnnpackThreads?: number } = {}): Promise<number> {
  if (!Number.isInteger(threads) || threads < 1 || threads > 8) throw new RangeError(`wasm threads must be an integer in [1, 8], got ${threads}`);
  const xnnpackThreads = options.xnnpackThreads ?? threads;
  if (!Number.isInteger(xnnpackThreads) || xnnpackThreads < 1 || xnnpackThreads > threads) {
    throw new RangeError(`xnnpackThreads must be an integer in [1, threads = ${threads}], got ${xnnpackThreads}`);
  }
  if (started) {
    if (started.threads !== threads) throw new Error(`The threaded wasm backend already runs with ${started.threads} threads; it cannot be restarted with ${threads}.`);
    return threads;
  }
  if (IN_BROWSER) return startThreadedWasmInPage(threads, xnnpackThreads);
  // Imported here, not at the top: loading tfjs-backend-wasm registers the 'wasm' backend, and
  // importing @lico/backends must not change the default backend.
  const { BackendWasm, setThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const script = path.join(dir, 'tfjs-backend-wasm-threaded-simd.js');
  const factory = require(script) as ModuleFactory;
  const { wasmWorkerContents } = require(path.join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  const workerFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'lico-wasm-')), 'tfjs-backend-wasm-threaded-simd.worker.cjs');
  // The exported string holds raw newlines inside string literals: escape them, as tfjs does.
  writeFileSync(workerFile, wasmWorkerContents.replace(/\n/g, '\\n'));
  // Emscripten installs process handlers that rethrow every uncaught exception (printing its whole
  // minified source); remove the ones it adds so Node's default reporting applies.
  const before = { uncaughtException: process.listeners('uncaughtException'), unhandledRejection: process.listeners('unhandledRejection') };
  const module = await withCoresReportedAsync(2 * threads, () => factory({
    locateFile: (file: string, prefix: string) => {
      if (file.endsWith('.worker.js')) return workerFile;
      if (file.endsWith('.wasm')) return path.join(dir, 'tfjs-backend-wasm-threaded-simd.wasm');
      return prefix + file;
    },
    mainScriptUrlOrBlob: script,
  }));
  for (const listener of process.listeners('uncaughtException')) if (!before.uncaughtException.includes(listener)) process.removeListener('uncaughtException', listener);
  for (const listener of process.listeners('unhandledRejection')) if (!before.unhandledRejection.includes(listener)) process.removeListener('unhandledRejection', listener);
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
  setThreadsCount(xnnpackThreads);
  let actual = 0;
  tf.registerBackend(
    'wasm',
    () => {
      const backend = withCoresReported(2 * threads, () => new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]));
      actual = module.tfjs!.getThreadsCount!();
      // XNNPACK's pool threads stay parked in their workers; let the process exit anyway.
      const pool = (module as { PThread?: { runningWorkers?: { unref?: () => void }[]; unusedWorkers?: { unref?: () => void }[] } }).PThread;
      for (const worker of [...(pool?.runningWorkers ?? []), ...(pool?.unusedWorkers ?? [])]) worker.unref?.();
      return backend;
    },
    2,
  );
  started = { threads };
  const previous = tf.getBackend();
  await tf.setBackend('wasm');
  if (previous && previous !== 'wasm') await tf.setBackend(previous);
  return actual;
}

/**
 * In a page, tfjs-backend-wasm starts its multi-threaded SIMD build itself where the page is cross-origin
 * isolated (COOP `same-origin` + COEP `require-corp`: shared memory is allowed); this sets its thread
 * count, before the backend's first use. lico's kernels then start `threads − 1` Web Workers on the
 * same memory (see {@link wasmKernelWorkersReady}).
 */
async function startThreadedWasmInPage(threads: number, xnnpackThreads: number): Promise<number> {
  if (!(globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) {
    throw new ConfigError(
      `wasm threads = ${threads} in a browser need a cross-origin isolated page (serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp): without them the page has no shared memory. Or use threads: 1.`,
    );
  }
  if (tf.engine().registry['wasm']) {
    throw new ConfigError(`The wasm backend of this page is already running: its thread count is fixed when it starts. Call useBackend('wasm', { threads: ${threads} }) before anything uses the wasm backend.`);
  }
  const { setThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
  setThreadsCount(xnnpackThreads);
  started = { threads };
  return xnnpackThreads;
}

// Per-kernel profiler for tools/bench/train-step.mjs: wraps every kernel registered for a backend
// with a timer. Kernels called from inside another kernel (lico's wasm training kernels run wasm
// ops) are charged to the outermost one, so the times add up to the step time.
import * as tf from '@tensorflow/tfjs-core';

export function createKernelProfiler(backendName) {
  const totals = new Map();
  let depth = 0;
  let enabled = false;
  const originals = [];
  for (const config of tf.getKernelsForBackend(backendName)) {
    const { kernelName, kernelFunc } = config;
    const wrapped = (args) => {
      if (!enabled || depth > 0) {
        depth++;
        try {
          return kernelFunc(args);
        } finally {
          depth--;
        }
      }
      depth++;
      const t0 = performance.now();
      try {
        return kernelFunc(args);
      } finally {
        depth--;
        const entry = totals.get(kernelName) ?? { ms: 0, calls: 0 };
        entry.ms += performance.now() - t0;
        entry.calls++;
        totals.set(kernelName, entry);
      }
    };
    originals.push(config);
    tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({ ...config, kernelFunc: wrapped });
  }
  return {
    start() {
      totals.clear();
      enabled = true;
    },
    stop() {
      enabled = false;
      const all = [...totals.entries()].map(([kernel, e]) => ({ kernel, ms: e.ms, calls: e.calls }));
      const sum = all.reduce((s, e) => s + e.ms, 0);
      return all.sort((a, b) => b.ms - a.ms).map((e) => ({ ...e, ms: Math.round(e.ms), share: Math.round((1000 * e.ms) / sum) / 1000 }));
    },
    restore() {
      for (const config of originals) {
        tf.unregisterKernel(config.kernelName, backendName);
        tf.registerKernel(config);
      }
    },
  };
}

import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { MissingPeerError, UnknownNameError } from '@lico/core';
import { afterEach, describe, expect, it } from 'vitest';
import { useBackend, type ModuleImporter } from './use-backend';

const realImport: ModuleImporter = (s) => import(s);

/** An importer on which the tfjs-node peers are missing, as on a machine that cannot install them. */
const withoutNativePeers: ModuleImporter = async (s) => {
  if (s.startsWith('@tensorflow/tfjs-node')) throw Object.assign(new Error(`Cannot find module '${s}'`), { code: 'ERR_MODULE_NOT_FOUND' });
  return realImport(s);
};

afterEach(() => {
  if (tf.findBackendFactory('tensorflow')) tf.removeBackend('tensorflow');
});

describe('useBackend', () => {
  it("rejects an unknown name and lists the valid ones", async () => {
    await expect(useBackend('gpu')).rejects.toThrow(UnknownNameError);
    await expect(useBackend('gpu')).rejects.toThrow("Unknown backend 'gpu'. Valid backends: 'auto', 'tensorflow', 'webgl', 'webgpu', 'wasm', 'cpu'.");
  });

  it("'tensorflow' without the optional peers says how to install one", async () => {
    const error = await useBackend('tensorflow', { importer: withoutNativePeers }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingPeerError);
    expect((error as Error).message).toContain('npm install @tensorflow/tfjs-node');
  });

  it("'auto' without the peers picks wasm and says so", async () => {
    const lines: string[] = [];
    const choice = await useBackend('auto', { importer: withoutNativePeers, log: (l) => lines.push(l) });
    expect(choice.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(lines[0]).toMatch(/picked 'wasm'/);
  });

  it("'auto' falls back to cpu when wasm cannot load", async () => {
    const noWasm: ModuleImporter = async (s) => {
      if (s.startsWith('@tensorflow/tfjs-node') || s === '@tensorflow/tfjs-backend-wasm') throw new Error('missing');
      return realImport(s);
    };
    const wasmFactory = tf.findBackendFactory('wasm');
    tf.removeBackend('wasm');
    try {
      const choice = await useBackend('auto', { importer: noWasm, log: false });
      expect(choice.backend).toBe('cpu');
      expect(tf.getBackend()).toBe('cpu');
    } finally {
      if (wasmFactory) tf.registerBackend('wasm', wasmFactory);
    }
  });

  it("'auto' prefers tfjs-node-gpu, then tfjs-node, when present", async () => {
    const seen: string[] = [];
    const fakeNative = (present: string): ModuleImporter => async (s) => {
      seen.push(s);
      if (s === present) {
        tf.registerBackend('tensorflow', () => new MathBackendCPU());
        return {};
      }
      if (s.startsWith('@tensorflow/tfjs-node')) throw new Error('missing');
      return realImport(s);
    };
    const gpu = await useBackend('auto', { importer: fakeNative('@tensorflow/tfjs-node-gpu'), log: false });
    expect(gpu).toMatchObject({ backend: 'tensorflow', packageName: '@tensorflow/tfjs-node-gpu' });
    expect(seen[0]).toBe('@tensorflow/tfjs-node-gpu');
    await tf.setBackend('cpu');
    tf.removeBackend('tensorflow');
    seen.length = 0;
    const node = await useBackend('auto', { importer: fakeNative('@tensorflow/tfjs-node'), log: false });
    expect(node).toMatchObject({ backend: 'tensorflow', packageName: '@tensorflow/tfjs-node' });
    expect(seen.slice(0, 2)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
  });

  it("'cpu' activates the cpu backend", async () => {
    expect((await useBackend('cpu', { log: false })).backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
});

describe('useBackend wasm options', () => {
  it("'wasm' registers lico's training kernels by default, and not with trainingKernels: false", async () => {
    const { WASM_TRAINING_KERNELS, wasmTrainingKernelsRegistered } = await import('./wasm/register-wasm-training-kernels');
    for (const k of WASM_TRAINING_KERNELS) if (tf.getKernel(k.kernelName, 'wasm')) tf.unregisterKernel(k.kernelName, 'wasm');
    await useBackend('wasm', { log: false, trainingKernels: false });
    expect(wasmTrainingKernelsRegistered()).toBe(false);
    await useBackend('wasm', { log: false });
    expect(wasmTrainingKernelsRegistered()).toBe(true);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('validates the thread count from the option and from LICO_WASM_THREADS', async () => {
    const { resolveWasmThreads } = await import('./use-backend');
    expect(resolveWasmThreads(3)).toBe(3);
    expect(() => resolveWasmThreads(0)).toThrow(/threads must be an integer in \[1, 8\], got 0/);
    const saved = process.env.LICO_WASM_THREADS;
    try {
      delete process.env.LICO_WASM_THREADS;
      expect(resolveWasmThreads()).toBe(1);
      process.env.LICO_WASM_THREADS = '2';
      expect(resolveWasmThreads()).toBe(2);
      process.env.LICO_WASM_THREADS = 'many';
      expect(() => resolveWasmThreads()).toThrow(/LICO_WASM_THREADS must be an integer in \[1, 8\], got 'many'/);
      await expect(useBackend('wasm', { log: false })).rejects.toThrow(/LICO_WASM_THREADS/);
    } finally {
      if (saved === undefined) delete process.env.LICO_WASM_THREADS;
      else process.env.LICO_WASM_THREADS = saved;
    }
  });

  it("the conv option picks how stride-1 3×3 convs run and the choice says which; a bad LICO_WASM_CONV fails before any work", async () => {
    const { selectWasmConvAlgorithm } = await import('./wasm/conv-grad-kernels');
    try {
      expect((await useBackend('wasm', { log: false, conv: 'direct' })).wasmConv).toBe('direct');
      expect((await useBackend('wasm', { log: false, conv: 'winograd-4x4' })).wasmConv).toBe('winograd-4x4');
      expect((await useBackend('wasm', { log: false, conv: 'winograd' })).wasmConv).toBe('winograd');
      await expect(useBackend('wasm', { log: false, conv: 'fft' as 'direct' })).rejects.toThrow(/Unknown wasm conv algorithm 'fft'/);
      selectWasmConvAlgorithm(undefined);
      const saved = process.env.LICO_WASM_CONV;
      process.env.LICO_WASM_CONV = 'gemm';
      try {
        await expect(useBackend('wasm', { log: false })).rejects.toThrow(/LICO_WASM_CONV value 'gemm'/);
      } finally {
        if (saved === undefined) delete process.env.LICO_WASM_CONV;
        else process.env.LICO_WASM_CONV = saved;
      }
      expect((await useBackend('wasm', { log: false })).wasmConv).toBe('winograd-4x4');
      expect((await useBackend('cpu', { log: false })).wasmConv).toBeUndefined();
    } finally {
      selectWasmConvAlgorithm(undefined);
    }
  });
});

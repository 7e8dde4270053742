import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, UnknownNameError } from '@lico/core';
import { buildSync } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { relaxedSimdSupported, resolveWasmKernels, WASM_KERNEL_OPTIONS } from './kernel-build';

const saved = process.env.LICO_WASM_KERNELS;
afterEach(() => {
  if (saved === undefined) delete process.env.LICO_WASM_KERNELS;
  else process.env.LICO_WASM_KERNELS = saved;
});

/** Runs `script` in a Node 20 child without --experimental-wasm-relaxed-simd, with kernel-build.ts bundled in as `k`. */
function inPlainNode(script: string): unknown {
  const bundle = buildSync({
    entryPoints: [fileURLToPath(new URL('./kernel-build.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    conditions: ['@lico/source'],
    external: ['@tensorflow/*', '@lico/core'], // @lico/core from its build (nx builds dependencies before tests)
  }).outputFiles[0]!.text;
  const code = `${bundle.replace(/export \{[^}]*\};?\s*$/, '')}\nconst k = { relaxedSimdSupported, enableRelaxedSimd, resolveWasmKernels };\n${script}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf-8', cwd: fileURLToPath(new URL('.', import.meta.url)), env: { ...process.env, LICO_WASM_KERNELS: '' } });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

describe('choosing the build of the wasm kernels', () => {
  it('these tests run with relaxed SIMD on (vitest.config.ts passes the flag)', () => {
    expect(relaxedSimdSupported()).toBe(true);
  });

  it("'auto' and no option pick relaxed SIMD where the engine has it; 'simd' forces the SIMD build", () => {
    delete process.env.LICO_WASM_KERNELS;
    expect(resolveWasmKernels()).toBe('relaxed-simd');
    expect(resolveWasmKernels('auto')).toBe('relaxed-simd');
    expect(resolveWasmKernels('simd')).toBe('simd');
    expect(resolveWasmKernels('relaxed-simd')).toBe('relaxed-simd');
    process.env.LICO_WASM_KERNELS = 'simd';
    expect(resolveWasmKernels()).toBe('simd');
    expect(resolveWasmKernels('auto')).toBe('relaxed-simd'); // the option wins over the environment
  });

  it('unknown names throw and list the valid ones', () => {
    expect(() => resolveWasmKernels('fma')).toThrow(UnknownNameError);
    expect(() => resolveWasmKernels('fma')).toThrow(/'auto', 'simd', 'relaxed-simd'/);
    process.env.LICO_WASM_KERNELS = 'avx';
    expect(() => resolveWasmKernels()).toThrow(/LICO_WASM_KERNELS value 'avx'/);
    expect(WASM_KERNEL_OPTIONS).toEqual(['auto', 'simd', 'relaxed-simd']);
  });

  it("in Node 20 without the flag: 'auto' falls back to SIMD, 'relaxed-simd' is a ConfigError that says how to enable it, and enableRelaxedSimd() turns it on", () => {
    const major = Number(process.versions.node.split('.')[0]);
    const out = inPlainNode(`
      const before = k.relaxedSimdSupported();
      const auto = k.resolveWasmKernels('auto');
      let error = null;
      try { k.resolveWasmKernels('relaxed-simd'); } catch (e) { error = { name: e.name, message: e.message }; }
      const enabled = k.enableRelaxedSimd();
      console.log(JSON.stringify({ before, auto, error, enabled, after: k.resolveWasmKernels('auto') }));
    `) as { before: boolean; auto: string; error: { name: string; message: string } | null; enabled: boolean; after: string };
    if (major < 22) {
      expect(out.before).toBe(false);
      expect(out.auto).toBe('simd');
      expect(out.error?.name).toBe(new ConfigError('x').name);
      expect(out.error?.message).toMatch(/--experimental-wasm-relaxed-simd/);
    } else expect(out.before).toBe(true);
    expect(out.enabled).toBe(true);
    expect(out.after).toBe('relaxed-simd');
  });
});

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useCpuBackend } from '@lico/testing';
import { LICO_STOCK_GRADIENT_CONFIGS, TFJS_GRADIENT_CONFIGS, registerMissingGradients } from './register-gradients';

const require = createRequire(import.meta.url);
await useCpuBackend();

describe('registerMissingGradients', () => {
  it("lists the same gradient modules as tfjs-core's register_all_gradients.js (so an update is noticed)", () => {
    const theirs = readFileSync(require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js'), 'utf-8');
    const ours = readFileSync(new URL('./register-gradients.ts', import.meta.url), 'utf-8');
    const modules = (text: string) => [...new Set([...text.matchAll(/gradients\/(\w+_grad)/g)].map((m) => m[1]))].sort();
    expect(modules(ours)).toEqual(modules(theirs.replace(/\/\/# sourceMappingURL=.*/s, '')));
    expect(modules(ours).length).toBeGreaterThan(90);
    const names = TFJS_GRADIENT_CONFIGS.map((c) => c.kernelName);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(tf.getGradient(name), name).toBeDefined();
  });

  it('leaves a gradient that is already registered as it is, and fills in one that is missing', () => {
    const original = tf.getGradient('Abs');
    const mine: tf.GradConfig = { kernelName: 'Abs', inputsToSave: ['x'], gradFunc: (dy) => ({ x: () => tf.mul(dy as tf.Tensor, 7) }) };
    tf.unregisterGradient('Abs');
    tf.registerGradient(mine);
    try {
      expect(registerMissingGradients()).toEqual([]);
      expect(tf.getGradient('Abs')).toBe(mine);
      const x = tf.tensor1d([-2, 3]);
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.abs(v)))(x);
      expect(Array.from(g.dataSync())).toEqual([7, 7]);
      tf.dispose([x, g]);
      tf.unregisterGradient('Abs');
      expect(registerMissingGradients()).toEqual(['Abs']);
      expect(tf.getGradient('Abs')).toBe(TFJS_GRADIENT_CONFIGS.find((c) => c.kernelName === 'Abs'));
    } finally {
      tf.unregisterGradient('Abs');
      tf.registerGradient(original);
    }
  });

  it("says what it registered on import: tfjs-core's 101 and lico's FusedConv2D in a fresh process, all but one already registered there (built ESM and CJS)", () => {
    const all = TFJS_GRADIENT_CONFIGS.length + LICO_STOCK_GRADIENT_CONFIGS.length;
    expect([TFJS_GRADIENT_CONFIGS.length, LICO_STOCK_GRADIENT_CONFIGS.map((c) => c.kernelName)]).toEqual([101, ['FusedConv2D']]);
    const run = (code: string) => execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf-8' }).trim();
    const fresh = run("const m = await import('./dist/index.js'); console.log(String(m.gradientsRegisteredOnImport.length))");
    expect(fresh).toBe(String(all));
    const withAbs = run(
      "import * as tf from '@tensorflow/tfjs-core'; import { createRequire } from 'node:module';" +
        "const mine = { kernelName: 'Abs', gradFunc: (dy) => ({ x: () => dy }) }; tf.registerGradient(mine);" +
        "const m = createRequire(import.meta.url)('./dist/index.cjs');" +
        "console.log([m.gradientsRegisteredOnImport.length, m.gradientsRegisteredOnImport.includes('Abs'), tf.getGradient('Abs') === mine].join(' '))",
    );
    expect(withAbs).toBe(`${all - 1} false true`);
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { expectClose, expectNoLeaks, useCpuBackend } from '@lico/testing';
import { createSgd } from './sgd';
import { licoCosineSchedule } from './schedules';
import { ConfigError } from '../errors';

await useCpuBackend();

interface GoldenCase {
  name: string;
  momentum: number;
  weightDecay: number;
  nesterov?: boolean;
  dampening?: number;
  decoupled?: boolean;
  exclude?: boolean;
  w: number[];
  b: number[];
}
const golden = JSON.parse(readFileSync(new URL('./__golden__/sgd.json', import.meta.url), 'utf-8')) as { cases: GoldenCase[] };

describe('createSgd matches torch.optim.SGD (golden from tools/reference/core-sgd.py)', () => {
  for (const c of golden.cases) {
    it(c.name, async () => {
      const w = tf.variable(tf.tensor2d([[0.5, -1.0, 2.0], [0.25, 0.75, -0.5]]), true, `sgd-w-${c.name}`);
      const b = tf.variable(tf.tensor1d([0.1, -0.2, 0.3]), true, `sgd-b-${c.name}`);
      const sgd = createSgd({
        momentum: c.momentum,
        weightDecay: c.weightDecay,
        nesterov: c.nesterov ?? false,
        dampening: c.dampening ?? 0,
        decoupled: c.decoupled ?? false,
        weightDecayExclude: c.exclude ? 'bias-and-norm' : 'none',
      });
      const schedule = licoCosineSchedule({ learningRate: 0.1 });
      sgd.init([{ name: 'w', variable: w }, { name: 'b', variable: b }]);
      await expectNoLeaks(() => {
        for (let k = 0; k < 4; k++) {
          const gw = tf.tensor2d(Array.from({ length: 2 }, (_r, i) => Array.from({ length: 3 }, (_c, j) => Math.sin(k + i * 3 + j))));
          const gb = tf.tensor1d(Array.from({ length: 3 }, (_, j) => Math.cos(k * 2 + j)));
          sgd.step([{ name: 'w', variable: w, grad: gw }, { name: 'b', variable: b, grad: gb }], schedule(k, 4));
          tf.dispose([gw, gb]);
        }
      });
      expectClose(w, c.w, { atol: 1e-6, rtol: 1e-5 });
      expectClose(b, c.b, { atol: 1e-6, rtol: 1e-5 });
      expect(Object.keys(sgd.namedVariables())).toEqual(c.momentum ? ['w/momentum', 'b/momentum'] : []);
      sgd.dispose();
      tf.dispose([w, b]);
    });
  }

  it('records its choices and rejects bad options', () => {
    expect(createSgd().config).toMatchObject({ momentum: 0.9, weightDecay: 1e-4, nesterov: false, weightDecayMode: 'l2-coupled (as torch.optim.SGD)', weightDecayExclude: 'none' });
    expect(createSgd({ decoupled: true }).config).toMatchObject({ weightDecayMode: 'decoupled' });
    expect(() => createSgd({ momentum: -1 })).toThrow(ConfigError);
    expect(() => createSgd({ nesterov: true, momentum: 0 })).toThrow(/Nesterov/);
    expect(() => createSgd({ weightDecayExclude: 'bn' as 'none' })).toThrow(/weightDecayExclude/);
  });

  it('a predicate excludes parameters by name', () => {
    const v = tf.variable(tf.tensor1d([1, 2]), true, 'sgd-pred-v');
    const sgd = createSgd({ momentum: 0, weightDecay: 0.5, weightDecayExclude: (name) => name === 'skip' });
    const g = tf.zeros([2]);
    sgd.step([{ name: 'skip', variable: v, grad: g }], 1);
    expectClose(v, [1, 2]);
    sgd.step([{ name: 'keep', variable: v, grad: g }], 1);
    expectClose(v, [0.5, 1]);
    tf.dispose([v, g]);
  });
});

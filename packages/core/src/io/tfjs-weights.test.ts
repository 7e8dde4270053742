import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadVariables, saveVariables } from './tfjs-weights';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('saveVariables / loadVariables', () => {
  it('round-trips named variables in the tfjs format', async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'lico-w-')), 'model');
    const a = tf.variable(tf.tensor2d([[1, 2], [3, 4]]), true, 'rt_a');
    const b = tf.variable(tf.tensor1d([5, 6, 7]), false, 'rt_b');
    await saveVariables(dir, { a, b }, { architecture: 'test' });
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf-8'));
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    const a2 = tf.variable(tf.zeros([2, 2]), true, 'rt_a2');
    const b2 = tf.variable(tf.zeros([3]), false, 'rt_b2');
    const before = tf.memory().numTensors;
    const meta = await loadVariables(dir, { a: a2, b: b2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(meta).toEqual({ architecture: 'test' });
    expect(Array.from(a2.dataSync())).toEqual([1, 2, 3, 4]);
    expect(Array.from(b2.dataSync())).toEqual([5, 6, 7]);
    const wrong = tf.variable(tf.zeros([3, 2]), true, 'rt_wrong');
    await expect(loadVariables(dir, { a: wrong, b: b2 })).rejects.toThrow(/weight 'a' has shape \[2,2\], the model expects \[3,2\]/);
    await expect(loadVariables(dir, { a: a2 })).rejects.toThrow(/unexpected weight 'b'/);
    writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(5));
    await expect(loadVariables(dir, { a: a2, b: b2 })).rejects.toThrow(/truncated or mismatched/);
    tf.dispose([a, b, a2, b2, wrong]);
  });
});

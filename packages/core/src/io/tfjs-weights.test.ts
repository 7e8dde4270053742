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

  it('refuses weights holding NaN/Infinity (naming the tensor) and keys named like Object members', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'lico-w-'));
    const good = tf.variable(tf.tensor1d([1, 2]), true, 'nf_good');
    const bad = tf.variable(tf.tensor1d([1, Number.NaN]), true, 'nf_bad');
    await saveVariables(path.join(root, 'nan'), { good, bad });
    const g2 = tf.variable(tf.zeros([2]), true, 'nf_g2');
    const b2 = tf.variable(tf.zeros([2]), true, 'nf_b2');
    await expect(loadVariables(path.join(root, 'nan'), { good: g2, bad: b2 })).rejects.toThrow(/model\.json: weight 'bad' holds NaN or Infinity/);
    expect(Array.from(g2.dataSync())).toEqual([0, 0]); // nothing assigned
    await saveVariables(path.join(root, 'proto'), { constructor: good } as unknown as Record<string, tf.Variable>);
    await expect(loadVariables(path.join(root, 'proto'), {})).rejects.toThrow(/unexpected weight 'constructor'/);
    await saveVariables(path.join(root, 'plain'), { good });
    await expect(loadVariables(path.join(root, 'plain'), { good: g2, toString: b2 } as unknown as Record<string, tf.Variable>)).rejects.toThrow(/missing weight 'toString'/);
    tf.dispose([good, bad, g2, b2]);
  });
});

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { numbersFrom, runExample } from '../../tools/run-example.mjs';

describe('example bring-your-own-model (--tiny)', () => {
  it('wraps a tf.LayersModel, trains it, measures accuracy and Grad-CAM insertion/deletion', () => {
    const out = runExample(fileURLToPath(new URL('.', import.meta.url)));
    const [params] = numbersFrom(out, /wrapped '.+': (\d+) parameters/);
    expect(params).toBeGreaterThan(0);
    const [images, accuracy] = numbersFrom(out, /test accuracy on (\d+) images: ([\d.]+) %/);
    expect(images).toBe(64);
    expect(accuracy).toBeGreaterThanOrEqual(0);
    expect(accuracy).toBeLessThanOrEqual(100);
    const [insertion, deletion] = numbersFrom(out, /insertion ([\d.]+), deletion ([\d.]+)/);
    for (const v of [insertion, deletion]) expect(v > 0 && v < 1).toBe(true);
    expect(out).toContain('bring-your-own-model example OK');
  });
});

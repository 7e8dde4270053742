import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { numbersFrom, runExample } from '../../tools/run-example.mjs';

describe('example sequential-loop (--tiny)', () => {
  it('trains a tf.sequential CNN with tf.train.sgd and the LICO losses, reads every term, explains it', () => {
    const out = runExample(fileURLToPath(new URL('.', import.meta.url)));
    const steps = [...out.matchAll(/step (\d+): loss (-?[\d.]+) \(ce (-?[\d.]+), mm (-?[\d.e+-]+), ot (-?[\d.]+)\)/g)];
    expect(steps).toHaveLength(4);
    for (const m of steps) {
      const [total, ce, mm, ot] = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
      expect(total).toBeCloseTo(ce + 10 * mm + ot, 3); // alpha 10, beta 1
      expect(ce).toBeGreaterThan(0);
    }
    expect(out).toContain('Grad-CAM maps [4,28,28], range [0.00, 1.00]');
    expect(numbersFrom(out, /sequential-loop example OK: (\d+) steps/)).toEqual([4]);
  });
});

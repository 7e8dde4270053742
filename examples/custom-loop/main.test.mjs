import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { numbersFrom, runExample } from '../../tools/run-example.mjs';

describe('example custom-loop (--tiny)', () => {
  it('runs 4 steps of an existing loop with the LICO losses added, finite losses', () => {
    const out = runExample(fileURLToPath(new URL('.', import.meta.url)));
    const losses = [...out.matchAll(/step (\d+): loss (-?[\d.]+)/g)].map((m) => Number(m[2]));
    expect(losses).toHaveLength(4);
    for (const l of losses) expect(Number.isFinite(l) && l > 0).toBe(true);
    expect(numbersFrom(out, /custom-loop example OK: (\d+) steps/)).toEqual([4]);
  });
});

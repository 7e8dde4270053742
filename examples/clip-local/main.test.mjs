import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { numbersFrom, runExample } from '../../tools/run-example.mjs';

describe('example clip-local (--tiny)', () => {
  it('loads a local CLIP directory, trains with CLIP prompts (both LICO terms non-zero) and leaks nothing', () => {
    const out = runExample(fileURLToPath(new URL('.', import.meta.url)));
    expect(out).toMatch(/loaded CLIP text encoder '.+' from .+: width \d+, features \d+/);
    const [steps, ce, mm, ot] = numbersFrom(out, /trained (\d+) steps with CLIP prompts: ce (-?[\d.]+), mm (-?[\d.]+), ot (-?[\d.]+)/);
    expect(steps).toBe(2); // 16 labels, batch 8, one epoch
    for (const v of [ce, mm, ot]) expect(Number.isFinite(v) && v !== 0).toBe(true);
    expect(numbersFrom(out, /clip-local example OK \(tensors left: (\d+)\)/)).toEqual([0]);
  });
});

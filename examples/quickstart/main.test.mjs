import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runExample } from '../../tools/run-example.mjs';

describe('example quickstart (--tiny)', () => {
  it('trains both models, evaluates them and writes a report and results.json', () => {
    const out = runExample(fileURLToPath(new URL('.', import.meta.url)));
    const reportFile = out.match(/example quickstart OK: (.+report\.html)/)?.[1];
    expect(reportFile).toBeDefined();
    expect(existsSync(reportFile)).toBe(true);
    const results = JSON.parse(readFileSync(reportFile.replace(/report\.html$/, 'results.json'), 'utf-8'));
    for (const mode of ['baseline', 'lico']) {
      expect(results[mode].accuracy).toBeGreaterThanOrEqual(0);
      expect(results[mode].accuracy).toBeLessThanOrEqual(1);
      expect(Object.keys(results[mode].saliency).length).toBeGreaterThan(0);
    }
    expect(readFileSync(reportFile, 'utf-8')).toContain('<html');
  });
});

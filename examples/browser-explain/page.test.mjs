// The example page in a real Chromium (Debian's /usr/bin/chromium through playwright-core, which
// downloads no browser), on WebGL (SwiftShader) and on wasm: no console errors, no request beyond
// its own origin, the same probabilities and maps as Node (cpu backend) within stated tolerances,
// a flat tensor count over repeated explains, and a screenshot in test-artifacts/.
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadClassifier } from '@lico/backbones';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrowser, watchedPage } from './browser.mjs';
import { explainImage } from './src/explain.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const RISE_MASKS = 100;
/**
 * Tolerances (absolute), float32 on both sides with other summation orders: probabilities 1e-5,
 * maps (in [0,1]) 1e-4, insertion + deletion AUC 1e-5. Measured here: ≤ 3e-7, ≤ 1.6e-6, ≤ 8e-8.
 */
const TOL = { probs: 1e-5, maps: 1e-4, auc: 1e-5 };
const SAMPLES = [0, 3, 6];

let chromium;
let reference;

beforeAll(async () => {
  await import('./build.mjs');
  chromium = await startBrowser();
  await tf.setBackend('cpu');
  const model = await loadClassifier(`${here}assets/model`);
  const data = JSON.parse(readFileSync(`${here}assets/samples.json`, 'utf-8'));
  reference = [];
  for (const i of SAMPLES) {
    const { tensors, ...out } = await explainImage(model, data.samples[i].pixels, data.normalization, { riseMasks: RISE_MASKS });
    tf.dispose(Object.values(tensors));
    reference.push(out);
  }
  model.dispose();
}, 600_000);

afterAll(() => chromium?.close());

const maxAbs = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe.each(['webgl', 'wasm'])('the page on %s', (backend) => {
  it('loads without errors or foreign requests, matches Node, keeps its tensor count flat', async () => {
    const { page, errors, foreign } = await watchedPage(chromium.browser, chromium.server.url);
    await page.goto(`${chromium.server.url}?backend=${backend}&riseMasks=${RISE_MASKS}`);
    await page.waitForFunction(() => window.licoReady || window.licoError, null, { timeout: 300_000 });
    expect(await page.evaluate(() => window.licoError ?? null)).toBeNull();
    const results = await page.evaluate(async (samples) => {
      const out = [];
      for (const index of samples) out.push(await window.lico.explain({ index }));
      return out;
    }, SAMPLES);
    const report = [];
    results.forEach((r, k) => {
      const ref = reference[k];
      expect(r.backend).toBe(backend);
      expect(r.predicted).toBe(ref.predicted);
      const d = { probs: maxAbs(r.probs, ref.probs), auc: Math.abs(r.insertionAuc - ref.insertionAuc) + Math.abs(r.deletionAuc - ref.deletionAuc) };
      for (const name of Object.keys(ref.maps)) d[name] = maxAbs(r.maps[name], ref.maps[name]);
      report.push(d);
      expect(d.probs).toBeLessThan(TOL.probs);
      expect(d.auc).toBeLessThan(TOL.auc);
      for (const name of Object.keys(ref.maps)) expect(d[name], `${name} on sample ${SAMPLES[k]}`).toBeLessThan(TOL.maps);
    });
    console.log(`${backend}: max |page − Node| per sample ${JSON.stringify(report)}`);
    // Repeated explains hold no tensors beyond the first one's.
    const counts = await page.evaluate(async () => {
      const n = [];
      for (let i = 0; i < 3; i++) n.push((await window.lico.explain({ index: i })).numTensors);
      return n;
    });
    expect(new Set(counts).size).toBe(1);
    mkdirSync(`${here}test-artifacts`, { recursive: true });
    await page.screenshot({ path: `${here}test-artifacts/browser-explain-${backend}.png`, fullPage: true });
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.close();
  }, 600_000);
});

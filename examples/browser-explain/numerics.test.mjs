// The golden checks of Node's tests, run in a real Chromium (Debian's /usr/bin/chromium through
// playwright-core) on WebGL (SwiftShader): the losses' PyTorch goldens
// (packages/losses/src/__golden__/losses-golden-checks.ts: OT and MM values, iteration counts and
// gradients) and pytorch-grad-cam parity (packages/cam/src/testing/pytorch-grad-cam-checks.ts: the
// ResNet-18 of the Node test, its weights fetched with fetchTorchWeights), each with the active
// backend's tolerances. The same check code runs in vitest on cpu and wasm.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeSafetensors } from '@lico/core';
import { useBackend } from '@lico/backends';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createParityResNet, parityStateDict } from '../../packages/cam/src/testing/pytorch-grad-cam-checks.ts';
import { openNumericsPage } from './numerics/harness.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
let chromium;

beforeAll(async () => {
  chromium = await openNumericsPage(async () => {
    // The parity model's weights as the Node test has them: the formula state dict as .safetensors.
    await useBackend('wasm', { threads: 1 });
    const resnet = createParityResNet();
    writeFileSync(`${here}dist/numerics/fixtures/resnet18-formula.safetensors`, encodeSafetensors(parityStateDict(resnet)));
    resnet.dispose();
  });
}, 600_000);
afterAll(() => chromium?.close());

/** Asserts that every check passed on `backend`; returns the largest measured value per quantity. */
function passed(reports, backend) {
  for (const r of reports) {
    expect(r.backend).toBe(backend);
    expect(r.error, r.name).toBeUndefined();
  }
  const maxima = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.measured)) maxima[k] = Math.max(maxima[k] ?? 0, v);
  return maxima;
}

const ms = (reports) => reports.reduce((a, r) => a + r.ms, 0);

describe('golden checks in Chromium', () => {
  it.each(['webgl', 'wasm'])("the losses' PyTorch goldens on %s: OT and MM values, iterations, gradients, no leaks", async (backend) => {
    const reports = await chromium.page.evaluate((b) => window.licoNumerics.lossGoldens(b), backend);
    expect(reports).toHaveLength(10);
    console.log(`losses on ${backend}: ${reports.length} checks passed, max |Δ| ${JSON.stringify(passed(reports, backend))} (${ms(reports)} ms)`);
  });

  // Score-CAM (1024 ResNet-18 forward passes) takes ~6 min on SwiftShader here: it runs on the
  // page's wasm backend; every other map, and the logits, on WebGL.
  it('pytorch-grad-cam parity on webgl (the logits, Grad-CAM, Grad-CAM++, XGrad-CAM, LayerCAM, Eigen-CAM) and Score-CAM on wasm', async () => {
    const gl = await chromium.page.evaluate(() => window.licoNumerics.camParity('webgl', ['gradCam', 'gradCamPlusPlus', 'xGradCam', 'layerCam', 'eigenCamSignAligned']));
    expect(gl.reports.map((r) => r.name.split(' ')[0])).toEqual(['the', 'gradCam', 'gradCamPlusPlus', 'xGradCam', 'layerCam', 'eigenCamSignAligned']);
    console.log(`cam on webgl: max |Δ| ${JSON.stringify(passed(gl.reports, 'webgl'))} (${ms(gl.reports)} ms)`);
    const wasm = await chromium.page.evaluate(() => window.licoNumerics.camParity('wasm', ['scoreCam']));
    expect(wasm.reports.map((r) => r.name.split(' ')[0])).toEqual(['the', 'scoreCam']);
    console.log(`cam on wasm: max |Δ| ${JSON.stringify(passed(wasm.reports, 'wasm'))} (${ms(wasm.reports)} ms)`);
    expect([gl.leaked, wasm.leaked]).toEqual([0, 0]);
  });

  it('left no console errors and made no request beyond its origin', () => {
    expect(chromium.errors).toEqual([]);
    expect(chromium.foreign).toEqual([]);
  });
});

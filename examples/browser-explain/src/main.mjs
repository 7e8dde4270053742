// The page: loads the classifier (fetchClassifier), explains a sample or a dropped image with
// Grad-CAM, Grad-CAM++ and RISE, draws the overlays and the Grad-CAM insertion/deletion curves.
// `window.lico.explain(...)` returns the numbers (the Chromium test compares them with Node's).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { useBackend } from '@lico/backends';
import { fetchClassifier } from '@lico/backbones';
import { renderOverlay } from '@lico/cam';
import { explainImage } from './explain.mjs';

const params = new URLSearchParams(location.search);
const RISE_MASKS = Number(params.get('riseMasks') ?? 500);
const $ = (id) => document.getElementById(id);
setWasmPaths(new URL('wasm/', location.href).href);

let model;
let data;
let current = { pixels: null, index: 0 };

/** Switches to `backend` ('webgl' | 'wasm') and (re)loads the classifier on it. */
async function start(backend) {
  $('status').textContent = `starting ${backend}…`;
  model?.dispose();
  const choice = await useBackend(backend, { threads: 1 });
  model = await fetchClassifier(new URL('model/', location.href).href);
  $('backend').value = backend;
  $('status').textContent = `${choice.message} Model: ${model.name}.`;
  return choice.backend;
}

/**
 * Explains one image: sample `index` of samples.json, or `pixels` (784 grey values). Returns the
 * class probabilities, the three maps (flat, 28×28), the Grad-CAM insertion/deletion curves and
 * the tensor count afterwards; draws the overlays.
 */
async function explain({ index, pixels } = {}) {
  const grey = pixels ?? data.samples[index ?? 0].pixels;
  const { tensors, ...out } = await explainImage(model, grey, data.normalization, { riseMasks: RISE_MASKS });
  out.className = data.classNames[out.predicted];
  const image = tf.tidy(() => tf.div(tf.tensor3d(Float32Array.from(grey), [28, 28, 1]), 255));
  for (const [name, m] of Object.entries(tensors)) {
    const map2d = tf.squeeze(m, [0]);
    const png = await renderOverlay(image, map2d);
    map2d.dispose();
    const img = $(`map-${name}`);
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(new Blob([png], { type: 'image/png' }));
  }
  tf.dispose([image, ...Object.values(tensors)]);
  draw(grey, out);
  out.numTensors = tf.memory().numTensors;
  return out;
}

function draw(grey, out) {
  const ctx = $('input').getContext('2d');
  const img = ctx.createImageData(28, 28);
  grey.forEach((v, i) => img.data.set([v, v, v, 255], i * 4));
  ctx.putImageData(img, 0, 0);
  const top = out.probs.map((p, k) => [p, k]).sort((a, b) => b[0] - a[0]).slice(0, 3);
  $('probs').innerHTML = `<tr><th>class</th><th>p</th></tr>${top.map(([p, k]) => `<tr><td>${data.classNames[k]}</td><td>${p.toFixed(3)}</td></tr>`).join('')}<tr><td>insertion AUC</td><td>${out.insertionAuc.toFixed(3)}</td></tr><tr><td>deletion AUC</td><td>${out.deletionAuc.toFixed(3)}</td></tr>`;
  const line = (ys, colour) => `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${ys.map((y, i) => `${20 + (280 * i) / (ys.length - 1)},${180 - 160 * y}`).join(' ')}"/>`;
  $('curves').innerHTML = `<rect x="20" y="20" width="280" height="160" fill="none" stroke="#ccc"/>${line(out.insertion, '#36c')}${line(out.deletion, '#d33')}`;
}

function samplesRow() {
  data.samples.forEach((s, i) => {
    const b = document.createElement('button');
    b.title = s.className;
    const c = document.createElement('canvas');
    c.width = c.height = 28;
    const ctx = c.getContext('2d');
    const img = ctx.createImageData(28, 28);
    s.pixels.forEach((v, j) => img.data.set([v, v, v, 255], j * 4));
    ctx.putImageData(img, 0, 0);
    b.append(c);
    b.onclick = () => run({ index: i });
    $('samples').append(b);
  });
}

async function run(input) {
  current = input;
  document.querySelectorAll('#samples button').forEach((b, i) => b.classList.toggle('on', i === input.index));
  $('status').textContent = 'explaining…';
  const t0 = performance.now();
  const out = await explain(input);
  $('status').textContent = `${out.className} (${(out.probs[out.predicted] * 100).toFixed(1)} %) on ${out.backend}, ${Math.round(performance.now() - t0)} ms`;
  return out;
}

/** 784 grey values of an image file, drawn into 28×28. */
async function fileToPixels(file) {
  const bitmap = await createImageBitmap(file);
  const c = new OffscreenCanvas(28, 28);
  const ctx = c.getContext('2d');
  ctx.drawImage(bitmap, 0, 0, 28, 28);
  const rgba = ctx.getImageData(0, 0, 28, 28).data;
  const invert = $('invert').checked;
  return Array.from({ length: 784 }, (_, i) => {
    const v = Math.round((rgba[i * 4] + rgba[i * 4 + 1] + rgba[i * 4 + 2]) / 3);
    return invert ? 255 - v : v;
  });
}

async function main() {
  data = await (await fetch('samples.json')).json();
  samplesRow();
  await start(params.get('backend') ?? 'webgl');
  $('backend').onchange = async (e) => {
    await start(e.target.value);
    await run(current);
  };
  $('file').onchange = async (e) => e.target.files[0] && run({ pixels: await fileToPixels(e.target.files[0]) });
  $('drop').ondragover = (e) => e.preventDefault();
  $('drop').ondrop = async (e) => {
    e.preventDefault();
    const f = e.dataTransfer.files[0];
    if (f) await run({ pixels: await fileToPixels(f) });
  };
  await run({ index: 0 });
  window.lico = { explain: (input) => explain(input), start, samples: data.samples };
  window.licoReady = true;
}

main().catch((error) => {
  $('status').textContent = `error: ${error.message}`;
  console.error(error);
  window.licoError = String(error?.stack ?? error);
});

#!/usr/bin/env node
// Benchmark `ot-loss`: @lico/losses optimalTransportLoss forward + backward (gradients to both
// inputs) at LICO's sizes (N=64 samples, P=128 channels, Q=12 prompts, D=64 positions; ε 0.1,
// ≤100 iterations, tolerance 1e-3) against PyTorch's log-domain Sinkhorn on the same inputs, same
// iterations and tolerance (tools/bench/ot-loss-reference.py), with the same thread count.
// Runs alternate between ours and the reference (a persistent Python child answering 'run'
// lines), so that both see the same load on a shared machine; medians and minimums are reported.
// Usage: npm run bench -- ot-loss [--json] [--backend wasm|cpu] [--runs 30] [--threads 1]
import { machine, referenceEnv } from './lib/machine.mjs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { createRng } from '@lico/core';
import { optimalTransportLoss, optimalTransportLossWithPlan, otWasmAvailable } from '@lico/losses';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { median } from './lib/stats.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const json = args.includes('--json');
const backend = opt('backend', 'wasm');
const runs = Number(opt('runs', '30'));
const threads = Number(opt('threads', '1'));
const [N, P, Q, D] = [64, 128, 12, 64];
const log = (...m) => console.error('[ot-loss]', ...m);
const round = (v) => Number(v.toFixed(3));

const rng = createRng(2023);
const xData = Float32Array.from({ length: N * P * D }, () => rng.normal());
const yData = Float32Array.from({ length: N * Q * D }, () => rng.normal());

// The reference, started first so its warm-up overlaps nothing of ours.
const dir = mkdtempSync(path.join(os.tmpdir(), 'lico-ot-bench-'));
const input = path.join(dir, 'points.f32');
const both = new Float32Array(xData.length + yData.length);
both.set(xData);
both.set(yData, xData.length);
writeFileSync(input, Buffer.from(both.buffer));
const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ot-loss-reference.py');
const child = spawn('/usr/bin/python3', [script, '--serve', '--input', input, '--shape', `${N},${P},${Q},${D}`, '--threads', String(threads)], {
  stdio: ['pipe', 'pipe', 'inherit'],
  env: { ...referenceEnv(), OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) },
});
const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
const nextLine = async () => {
  const { value, done } = await lines.next();
  if (done) throw new Error('the PyTorch reference exited early (its message is above; status 3: it refused the netlib reference BLAS)');
  return value;
};
const ready = JSON.parse(await nextLine());
if (!ready.ready) throw new Error(`the PyTorch reference did not start: ${JSON.stringify(ready)}`);

await tf.setBackend(backend);
await tf.ready();
log(`backend ${tf.getBackend()}, ${runs} interleaved runs, N=${N} P=${P} Q=${Q} D=${D}, ${threads} thread(s); PyTorch ${ready.torch}`);
const x = tf.tensor3d(xData, [N, P, D]);
const y = tf.tensor3d(yData, [N, Q, D]);
const f = (a, b) => optimalTransportLoss(a, b);
// cpu and wasm are synchronous: the gradients are complete when tf.grads returns, as x.grad is
// after PyTorch's backward(); they are not copied out (a training step would not read them).
const step = () => {
  const [gx, gy] = tf.grads(f)([x, y]);
  tf.dispose([gx, gy]);
};
for (let i = 0; i < 3; i++) step();
const ours = [];
const reference = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  step();
  ours.push(performance.now() - t);
  child.stdin.write('run\n');
  reference.push(Number(await nextLine()));
}
child.stdin.end();
rmSync(dir, { recursive: true, force: true });
const check = optimalTransportLossWithPlan(x, y);
const ourLoss = check.loss.dataSync()[0];
const ourIterations = check.iterations;
tf.dispose([check.loss, check.plan]);
const forward = [];
for (let i = 0; i < 10; i++) {
  const t = performance.now();
  tf.tidy(() => f(x, y).dataSync());
  forward.push(performance.now() - t);
}
// the TypeScript fallback path (implementation 'js'), for comparison
const jsStep = () => tf.dispose(tf.grads((a, b) => optimalTransportLoss(a, b, { implementation: 'js' }))([x, y]));
jsStep();
const jsTimes = [];
for (let i = 0; i < 10; i++) {
  const t = performance.now();
  jsStep();
  jsTimes.push(performance.now() - t);
}
x.dispose();
y.dispose();
const oursMs = median(ours);
const refMs = median(reference);
log(`ours (implementation ${otWasmAvailable() ? 'wasm-simd' : 'js'}): median ${oursMs.toFixed(2)} ms (min ${Math.min(...ours).toFixed(2)}), forward only ${median(forward).toFixed(2)} ms, ${ourIterations} iterations, loss ${ourLoss}`);
log(`PyTorch: median ${refMs.toFixed(2)} ms (min ${Math.min(...reference).toFixed(2)}), ${ready.iterations} iterations, loss ${ready.loss}`);
const result = {
  bench: 'ot-loss',
  unit: 'ms per forward+backward (median of interleaved runs; ratio = reference/ours, higher is better)',
  ours: round(oursMs),
  reference: round(refMs),
  ratio: round(refMs / oursMs),
  referenceName: `PyTorch ${ready.torch} log-domain Sinkhorn (no_grad plan) + autograd, ${threads} thread(s)`,
  backend,
  implementation: otWasmAvailable() ? 'wasm-simd' : 'js',
  threads,
  runs,
  sizes: { N, P, Q, D },
  iterations: { ours: ourIterations, reference: ready.iterations },
  loss: { ours: ourLoss, reference: ready.loss },
  minMs: { ours: round(Math.min(...ours)), reference: round(Math.min(...reference)), ratio: round(Math.min(...reference) / Math.min(...ours)) },
  oursForwardMs: round(median(forward)),
  oursJsImplementationMs: round(median(jsTimes)),
  loadAverage: os.loadavg().map(round),
  machine: machine(),
  referenceEnv: ready.env ?? null,
  note: 'runs interleaved (ours, then the reference, per run), so both see the same load',
};
if (json) console.log(JSON.stringify(result));
else console.log(result);

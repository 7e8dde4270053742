#!/usr/bin/env node
// Benchmark `quickstart-step`: the training step time of the quickstart's model — WRN-16-1 on
// Fashion-MNIST, batch 64, the quickstart's LICO settings — as `lico train` reports it
// (the wall-time difference of a long and a short `lico train` run over their difference in steps),
// for the baseline and the LICO objective, on wasm.
// With `--before <path to an older build's packages/cli/dist/bin.js>` it also times that build,
// in alternating rounds (before, after), and reports after/before speed-ups: how a change of
// kernels moved the step. `--before-env NAME=VALUE` runs the before side with that environment
// variable set (and, without `--before`, on this build): `--before-env LICO_WASM_CONV=direct` times
// the direct convolutions against Winograd in one run. There is no PyTorch reference here;
// `train-step` and `lico-step` have one.
//
//   npm run bench -- quickstart-step --json [--before /tmp/old/packages/cli/dist/bin.js]
//                                           [--before-env NAME=VALUE] [--rounds 2] [--labels 1920] [--threads 2]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.mjs';
import { machine } from './lib/machine.mjs';
import { median } from './lib/stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { argv, arg, text, threads } = benchArgs();
const beforeAt = argv.indexOf('--before');
const beforeEnv = text('before-env', null);
if (beforeEnv !== null && !/^[A-Z_][A-Z0-9_]*=/.test(beforeEnv)) {
  console.error(`--before-env takes NAME=VALUE, got '${beforeEnv}'`);
  process.exit(2);
}
const before = beforeAt >= 0 ? argv[beforeAt + 1] : beforeEnv !== null ? path.resolve(here, '../../packages/cli/dist/bin.js') : null;
const envOf = (name) => (name === 'before' && beforeEnv !== null ? { ...process.env, [beforeEnv.split('=')[0]]: beforeEnv.slice(beforeEnv.indexOf('=') + 1) } : process.env);
const rounds = arg('rounds', 2);
const labels = arg('labels', 1920); // 30 steps of 64
const after = path.resolve(here, '../../packages/cli/dist/bin.js');
const log = (...a) => console.error('[quickstart-step]', ...a);

/** Wall seconds and steps of one `lico train` run (1 epoch of `n` labels) with `bin`, mode baseline or lico. */
function trainRun(bin, mode, n, env) {
  const out = mkdtempSync(path.join(os.tmpdir(), 'lico-qs-bench-'));
  try {
    const args = ['--experimental-wasm-relaxed-simd', bin, 'train', '--dataset', 'fashion-mnist', '--backbone', 'wrn-16-1', '--mode', mode, '--labels', String(n), '--epochs', '1', '--batch-size', '64', '--eval-size', '200', '--seed', '0', '--backend', 'wasm', '--threads', String(threads), '--augment', 'none', '--out', path.join(out, 'run')];
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { encoding: 'utf-8', stdio: ['ignore', 'ignore', 'pipe'], env });
    const seconds = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`lico train (${bin}) failed with status ${r.status}:\n${r.stderr}`);
    const results = JSON.parse(readFileSync(path.join(out, 'run', 'results.json'), 'utf-8'));
    return { seconds, steps: results.final.steps, wasmKernels: results.backend.wasmKernels ?? 'simd (not recorded by this build)', wasmConv: results.backend.wasmConv ?? 'direct (not recorded by this build)' };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * ms per training step: the wall-time difference of a run of `labels` and one of a third as many
 * labels, over their difference in steps (start-up, data loading and the evaluation cancel out).
 */
function stepMs(bin, mode, env) {
  const short = trainRun(bin, mode, Math.round(labels / 3), env);
  const long = trainRun(bin, mode, labels, env);
  return { ms: (1000 * (long.seconds - short.seconds)) / (long.steps - short.steps), steps: long.steps - short.steps, wasmKernels: long.wasmKernels, wasmConv: long.wasmConv };
}

const times = { after: { baseline: [], lico: [] }, before: { baseline: [], lico: [] } };
let kernels = {};
let convs = {};
for (let round = 0; round < rounds; round++) {
  for (const [name, bin] of before ? [['before', before], ['after', after]] : [['after', after]]) {
    for (const mode of ['baseline', 'lico']) {
      const t = stepMs(bin, mode, envOf(name));
      times[name][mode].push(t.ms);
      kernels[name] = t.wasmKernels;
      convs[name] = t.wasmConv;
      log(`round ${round + 1}: ${name} ${mode} ${t.ms.toFixed(0)} ms/step (${t.steps} steps, ${t.wasmKernels}, ${t.wasmConv})`);
    }
  }
}
const summary = (name) => ({ baselineMsPerStep: Math.round(median(times[name].baseline)), licoMsPerStep: Math.round(median(times[name].lico)), all: times[name], wasmKernels: kernels[name], wasmConv: convs[name] });
const result = {
  bench: 'quickstart-step',
  unit: 'ms per training step (WRN-16-1, Fashion-MNIST 28×28, batch 64, wasm)',
  after: summary('after'),
  before: before ? { ...summary('before'), cli: before, env: beforeEnv } : null,
  speedup: before ? { baseline: median(times.before.baseline) / median(times.after.baseline), lico: median(times.before.lico) / median(times.after.lico) } : null,
  threads,
  labels,
  rounds,
  machine: machine(),
};
console.log(JSON.stringify(result));

#!/usr/bin/env node
// The training length of a study from baseline pilot runs: for each pilot (a `lico train` directory
// with --validation), the 5-epoch moving average s_e of its validation accuracy, and its plateau
// epoch E* = the first epoch e after which s never rises more than 0.5 points above s_e for the
// rest of the pilot. Prints each E*, and E = the largest, rounded up to a multiple of 5.
//
//   node tools/study/plateau.mjs DIR|results.json... [--window 5] [--delta 0.005]
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const window = opt('window', 5);
const delta = opt('delta', 0.005);
if (args.length === 0) {
  console.error('usage: node tools/study/plateau.mjs DIR... [--window 5] [--delta 0.005]');
  process.exit(2);
}
const out = [];
for (const dir of args) {
  const results = JSON.parse(readFileSync(statSync(dir).isDirectory() ? join(dir, 'results.json') : dir, 'utf8'));
  const curve = results.history.map((h) => h.validationAccuracy);
  if (curve.some((v) => typeof v !== 'number')) throw new Error(`${dir}: the run has no validation accuracy per epoch (train it with --validation N).`);
  const smooth = curve.map((_, e) => {
    const from = Math.max(0, e - window + 1);
    const part = curve.slice(from, e + 1);
    return part.reduce((a, b) => a + b, 0) / part.length;
  });
  let plateau = curve.length;
  for (let e = window - 1; e < curve.length; e++) {
    const later = smooth.slice(e + 1);
    if (later.every((v) => v <= smooth[e] + delta)) {
      plateau = e + 1;
      break;
    }
  }
  out.push({ dir, epochs: curve.length, plateauEpoch: plateau, smoothedAtPlateau: smooth[plateau - 1], bestSmoothed: Math.max(...smooth.slice(window - 1)) });
}
const E = Math.ceil(Math.max(...out.map((o) => o.plateauEpoch)) / 5) * 5;
console.log(JSON.stringify({ criterion: { window, delta }, pilots: out, epochs: E }, null, 2));

// The quickstart from code: `quickstartRun` trains a baseline and a LICO model on Fashion-MNIST,
// evaluates both (accuracy, insertion/deletion per interpreter) and writes report.html and
// results.json. `node main.mjs` runs the full default (a few minutes); `--tiny` runs it in seconds.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quickstartRun } from '@lico/cli';

const tiny = process.argv.includes('--tiny');
const io = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), isTty: Boolean(process.stderr.isTTY) };
const options = tiny
  ? {
      out: mkdtempSync(join(tmpdir(), 'lico-example-quickstart-')),
      backbone: 'wrn-10-1',
      labels: 40,
      epochs: 1,
      batchSize: 8,
      evalSize: 64,
      saliencyImages: 4,
      stepSize: 196,
      explainImages: 2,
      threads: 1,
      backend: 'wasm',
      quiet: true,
    }
  : { out: 'lico-runs/example-quickstart' };
const { results, reportFile } = await quickstartRun(options, io);
for (const mode of ['baseline', 'lico']) {
  const r = results[mode];
  if (!(r.accuracy >= 0 && r.accuracy <= 1)) throw new Error(`${mode}: accuracy ${r.accuracy} is not a fraction`);
  for (const [name, s] of Object.entries(r.saliency)) {
    if (!(s.insertion > 0 && s.insertion < 1 && s.deletion > 0 && s.deletion < 1)) throw new Error(`${mode} ${name}: AUCs out of range`);
  }
}
console.log(`example quickstart OK: ${reportFile}`);
process.exit(0);

/**
 * End-to-end tests of the built `lico` binary (`dist/bin.js`, built by nx before this target) as a
 * person runs it: train, Ctrl-C, resume (bitwise equal to an uninterrupted run), and the whole
 * quickstart at a tiny size with its report opened in headless Chromium.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import type { QuickstartResults, TrainResults } from './results/results-schema';
import { checkReportInBrowser } from './testing/check-report-in-browser';
import { BIN, lico } from './testing/run-lico';
import { encodePng } from './report/encode-png';
import type { EvaluationResults } from './results/results-schema';

const FASHION = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** A localisation folder: grey noise with a bright square (the object) and its mask. */
function writeLocalisationFolder(dir: string, count: number): void {
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'masks'), { recursive: true });
  const rows = ['file,label'];
  for (let i = 0; i < count; i++) {
    const img = new Uint8Array(28 * 28);
    const mask = new Uint8Array(28 * 28);
    const x0 = 3 + 5 * i;
    for (let p = 0; p < img.length; p++) img[p] = (p * 37 + i * 11) % 64;
    for (let y = 8; y < 18; y++) {
      for (let x = x0; x < x0 + 10; x++) {
        img[y * 28 + x] = 230;
        mask[y * 28 + x] = 255;
      }
    }
    writeFileSync(join(dir, 'images', `${i}.png`), encodePng(img, 28, 28, 1));
    writeFileSync(join(dir, 'masks', `${i}.png`), encodePng(mask, 28, 28, 1));
    rows.push(`${i}.png,${i % 10}`);
  }
  writeFileSync(join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
  writeFileSync(join(dir, 'classes.txt'), `${FASHION.join('\n')}\n`);
}

const root = mkdtempSync(join(tmpdir(), 'lico-e2e-'));

const TRAIN = ['train', '--dataset', 'fashion-mnist', '--backbone', 'wrn-10-1', '--mode', 'lico', '--labels', '40', '--epochs', '2', '--batch-size', '8', '--eval-size', '40', '--backend', 'wasm', '--threads', '1', '--seed', '3'];

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the CLI first (npx nx run @lico/cli:build); nx does it before 'test'.`);
});

describe('lico train: Ctrl-C and --resume', () => {
  it('an interrupted and resumed run ends with exactly the weights and metrics of an uninterrupted one', async () => {
    const a = join(root, 'uninterrupted');
    const b = join(root, 'interrupted');
    const [full, stopped] = await Promise.all([lico([...TRAIN, '--out', a]), lico([...TRAIN, '--out', b], /epoch 1\/2\s.*\b1\/5\b/)]);
    expect(full.code, full.stderr).toBe(0);
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain('lico: interrupted. Checkpoint saved in');
    expect(stopped.stderr).toContain('To continue, run the same command with --resume');
    expect(stopped.stderr).toContain(`--out ${b} --resume`);
    expect(existsSync(join(b, 'results.json'))).toBe(false);

    // Resuming with other options is refused; the same options continue.
    const wrong = await lico([...TRAIN.map((x) => (x === '3' ? '4' : x)), '--out', b, '--resume']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/started with other options \(seed: 3 now 4\)/);
    const resumed = await lico([...TRAIN, '--out', b, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming from step [1-9]/);

    const ra = JSON.parse(readFileSync(join(a, 'results.json'), 'utf8')) as TrainResults;
    const rb = JSON.parse(readFileSync(join(b, 'results.json'), 'utf8')) as TrainResults;
    expect(rb.final).toEqual(ra.final);
    expect(rb.history).toEqual(ra.history);
    expect(rb.resumed).toBe(true);
    expect(ra.final.steps).toBe(10);
    expect(readFileSync(join(b, 'model', 'weights.bin')).equals(readFileSync(join(a, 'model', 'weights.bin')))).toBe(true);
    // results.json records the choices.
    expect(ra.mode).toBe('lico');
    expect(ra.backbone.name).toBe('wrn-10-1');
    expect(ra.dataset.classNames).toContain('Ankle boot');
    expect(ra.text?.encoder).toBeTruthy();
    expect(ra.objective).toMatchObject({ alpha: 10, beta: 1 });
    expect(ra.versions['@lico/cli']).toBe('0.1.0');
    expect(ra.backend.used).toBe('wasm');
    expect(ra.backend.wasmKernels).toBe('relaxed-simd'); // the binary turns relaxed SIMD on (run-process.ts)
    expect(ra.backend.wasmConv).toBe('winograd-4x4'); // stride-1 3×3 convs by Winograd F(4×4) unless LICO_WASM_CONV says otherwise

    // A finished directory is not overwritten; --resume without a checkpoint is explained.
    const again = await lico([...TRAIN, '--out', a]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already holds a run. Pass --resume to continue it');
    const none = await lico([...TRAIN, '--out', join(root, 'nothing'), '--resume']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('there is no checkpoint');
  });

  it('what a user can get wrong ends in a named error: outputs, label counts, divergence, a damaged checkpoint', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const outFile = await lico([...TRAIN, '--out', file]);
    expect(outFile.code).toBe(2);
    expect(outFile.stderr).toContain(`--out ${file}: this is a file`);
    const under = await lico([...TRAIN, '--out', join(file, 'run')]);
    expect(under.code).toBe(2);
    expect(under.stderr).toContain('is a file, so nothing can be created under it');
    const reportDir = await lico(['report', '--run', root, '--out', root]);
    expect(reportDir.code).toBe(2);
    expect(reportDir.stderr).toContain('this is a directory; give a file name');
    // Configuration errors exit 2, like usage errors.
    const ema = await lico([...TRAIN, '--ema', '2', '--out', join(root, 'ema')]);
    expect(ema.code).toBe(2);
    expect(ema.stderr).toContain('EMA decay must be in [0, 1), got 2');
    const threads = await lico([...TRAIN.filter((x, i, all) => x !== '--threads' && all[i - 1] !== '--threads'), '--threads', '100', '--out', join(root, 'threads')]);
    expect(threads.code).toBe(2);
    expect(threads.stderr).toContain('threads must be an integer in [1, 8], got 100');
    const labels = await lico(['train', '--dataset', 'fashion-mnist', '--labels', '70000', '--out', join(root, 'labels')]);
    expect(labels.code).toBe(2);
    expect(labels.stderr).toContain('--labels 70000 is more than the 60000 training images');
    const diverged = join(root, 'diverged');
    const lr = await lico([...TRAIN.map((x) => (x === '2' ? '1' : x)), '--lr', '1e30', '--out', diverged]);
    expect(lr.code).toBe(1);
    expect(lr.stderr).toMatch(/non-finite|NaN|diverged/); // the step that blew up, or the final check
    expect(lr.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(diverged, 'results.json'))).toBe(false);
    // A checkpoint without its weights file: resuming names the file.
    const damaged = join(root, 'damaged');
    const stopped = await lico([...TRAIN, '--out', damaged], /epoch 1\/2\s.*\b1\/5\b/);
    expect(stopped.code, stopped.stderr).toBe(130);
    rmSync(join(damaged, 'checkpoint', 'weights', 'weights.bin'));
    const resumed = await lico([...TRAIN, '--out', damaged, '--resume']);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain("its weight file 'weights.bin' cannot be read (ENOENT)");
    expect(resumed.stderr).not.toMatch(/\n\s+at /);
  });

  it("'npx lico' works in the checkout (npm links bin/lico.js at install time; it runs the built CLI)", () => {
    const repo = join(BIN, '..', '..', '..', '..');
    const r = spawnSync('npx', ['--no-install', 'lico', '--version'], { cwd: repo, encoding: 'utf-8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('0.1.0');
  });

  it('usage errors exit with code 2 and list the valid choices', async () => {
    const r = await lico(['train', '--dataset', 'imagenet', '--out', join(root, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown --dataset value 'imagenet'. Valid --dataset values: 'fashion-mnist'");
    const e = await lico(['evaluate', '--model', join(root, 'nowhere'), '--dataset', 'fashion-mnist']);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain('is not a finished training run');
    // Without the data, the quickstart says what to do.
    const q = await lico(['quickstart', '--out', join(root, 'q-nodata'), '--data-dir', join(root, 'no-such-dir')]);
    expect(q.code).toBe(1);
    expect(q.stderr).toContain('could neither find a copy nor download one');
    expect(q.stderr).toContain('apt-get install -y dataset-fashion-mnist');
    expect(q.stderr).toContain('--data-dir DIR');
  });

  it('evaluate on a localisation folder adds the pointing game and energy in the mask; report shows them', async () => {
    const model = join(root, 'uninterrupted');
    expect(existsSync(join(model, 'results.json'))).toBe(true);
    const data = join(root, 'boxes <&>');
    writeLocalisationFolder(data, 4);
    const out = join(root, 'loc-eval.json');
    const r = await lico(['evaluate', '--model', model, '--dataset', `localisation:${data}`, '--saliency-images', '4', '--step-size', '196', '--threads', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const ev = JSON.parse(readFileSync(out, 'utf8')) as EvaluationResults;
    expect(ev.numImages).toBe(4);
    for (const name of ['gradCam', 'gradCamPlusPlus']) {
      const l = ev.localisation![name]!;
      expect(l.numImages).toBe(4);
      expect(l.pointingGame).toBeGreaterThanOrEqual(0);
      expect(l.pointingGame).toBeLessThanOrEqual(1);
      expect(l.energyInMask).toBeGreaterThanOrEqual(0);
      expect(l.energyInMask).toBeLessThanOrEqual(1);
      expect(ev.saliency[name]!.insertionCurve).toHaveLength(Math.ceil(784 / 196) + 1);
    }
  });
});

describe('lico quickstart (tiny)', () => {
  it('trains baseline and LICO, evaluates both and writes report.html and results.json that render in Chromium', async () => {
    const out = join(root, 'quickstart');
    const r = await lico([
      'quickstart',
      '--out',
      out,
      '--backbone',
      'wrn-10-1',
      '--labels',
      '40',
      '--epochs',
      '1',
      '--batch-size',
      '8',
      '--eval-size',
      '64',
      '--saliency-images',
      '4',
      '--step-size',
      '196',
      '--explain-images',
      '2',
      '--threads',
      '1',
      '--backend',
      'wasm',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Report:  ${join(out, 'report.html')}`);
    expect(r.stdout).toContain(`Results: ${join(out, 'results.json')}`);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as QuickstartResults;
    for (const mode of ['baseline', 'lico'] as const) {
      const m = results[mode];
      expect(m.accuracy).toBeGreaterThanOrEqual(0);
      expect(m.accuracy).toBeLessThanOrEqual(1);
      for (const name of ['gradCam', 'gradCamPlusPlus']) {
        expect(m.saliency[name]!.insertion).toBeGreaterThan(0);
        expect(m.saliency[name]!.insertion).toBeLessThan(1);
        expect(m.saliency[name]!.deletion).toBeGreaterThan(0);
        expect(m.saliency[name]!.deletion).toBeLessThan(1);
      }
      const train = JSON.parse(readFileSync(join(out, mode, 'results.json'), 'utf8')) as TrainResults;
      expect(train.mode).toBe(mode);
      expect(train.final.accuracy).toBe(m.accuracy);
    }
    const check = await checkReportInBrowser(join(out, 'report.html'));
    // 2 inputs + 2 images × 2 interpreters × 2 runs, all decoded.
    expect(check.images).toHaveLength(2 + 8);
    for (const img of check.images) expect(img.naturalWidth).toBe(28);
    // insertion + deletion per interpreter, plus the two training plots.
    expect(check.plots.length).toBe(2 * 2 + 2);
    for (const p of check.plots) for (const n of p.pathLengths) expect(n).toBeGreaterThan(0);
    expect(check.plots.every((p) => p.pathLengths.length === 2)).toBe(true);
    expect(check.externalRequests).toEqual([]);
    expect(check.errors).toEqual([]);
    expect(check.text).toContain('baseline');
  });
});

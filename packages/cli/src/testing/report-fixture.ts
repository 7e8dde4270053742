/**
 * Test support (not exported): report runs with every section filled, hostile names included.
 */
import type { ReportRun } from '../report/render-report';
import { encodePng } from '../report/encode-png';
import type { EvaluationResults, ExplanationsIndex, TrainResults } from '../results/results-schema';

/** Class names that would break a page that forgot to escape. */
export const HOSTILE_NAMES = ['<script>window.__pwned=1</script>', `"&'`, '</td></tr></table><h1>x', "<img src=x onerror='window.__pwned=2'>"];

function gradientPng(size: number, seed: number): Uint8Array {
  const px = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const o = (y * size + x) * 4;
      px[o] = (x * 255) / (size - 1);
      px[o + 1] = (y * 255) / (size - 1);
      px[o + 2] = (seed * 60) % 256;
      px[o + 3] = 255;
    }
  }
  return encodePng(px, size, size, 4);
}

function curve(n: number, f: (t: number) => number): number[] {
  return Array.from({ length: n }, (_, k) => f(k / (n - 1)));
}

/** A training record with the given mode and accuracy. */
export function fakeTrainResults(mode: 'baseline' | 'lico', accuracy: number, classNames: readonly string[]): TrainResults {
  return {
    schema: 'lico.train-results/1',
    command: `lico train --mode ${mode} --out "runs/<${mode}>"`,
    mode,
    dataset: { spec: 'folder:/data/<evil & "dir">', name: 'folder', trainSize: 100, testSize: 40, classNames, imageShape: [8, 8, 1], labels: 'all', labelSeed: 0 },
    backbone: { name: 'wrn-16-1', config: { depth: 16, widen: 1 }, params: 1234 },
    text: mode === 'lico' ? { spec: 'word-vectors', encoder: 'word-vectors', promptLearner: {}, mappingNet: {} } : null,
    objective: { alpha: mode === 'lico' ? 10 : 0, beta: mode === 'lico' ? 1 : 0 },
    training: { epochs: 2, batchSize: 8, seed: 0 },
    backend: { requested: 'cpu', used: 'cpu', packageName: '@tensorflow/tfjs-backend-cpu' },
    versions: { '@lico/cli': '0.1.0' },
    history: [
      { epoch: 1, loss: 2.1, terms: { ce: 2.1 }, trainAccuracy: 0.4, steps: 10, seconds: 1 },
      { epoch: 2, loss: 1.2, terms: { ce: 1.2 }, trainAccuracy: 0.7, steps: 10, seconds: 1 },
    ],
    resumed: false,
    final: { accuracy, evalSize: 40, loss: 1.2, epochs: 2, steps: 20 },
  };
}

/** An evaluation record with curves for two interpreters (one hostile name). */
export function fakeEvaluation(shift: number): EvaluationResults {
  const saliency: Record<string, EvaluationResults['saliency'][string]> = {};
  for (const name of ['gradCam', '<b>cam</b>']) {
    const insertionCurve = curve(9, (t) => Math.min(1, 0.1 + t * (0.9 + shift)));
    const deletionCurve = curve(9, (t) => Math.max(0, 0.9 - t * (1.2 + shift)));
    saliency[name] = { insertion: 0.6 + shift, deletion: 0.2 - shift / 2, insertionCurve, deletionCurve, stepSize: 8, numImages: 4, seconds: 0.5 };
  }
  return {
    schema: 'lico.evaluation/1',
    model: 'runs/x',
    dataset: 'folder:/data/<evil>',
    accuracy: 0.8 + shift,
    numImages: 40,
    saliency,
    localisation: { gradCam: { pointingGame: 0.5, energyInMask: 0.4, numImages: 4 } },
    metrics: {
      gradCam: { roadCombined: 0.03 + shift, roadMorf: -0.05, roadLerf: 0.01, roadPercentiles: [10, 50, 90], sparseness: 0.42, maxSensitivity: 0.12, maxSensitivitySamples: 10, maxSensitivityRadius: 0.2, numImages: 4, seconds: 1 },
      '<b>cam</b>': { sparseness: 0.3, numImages: 4, seconds: 0.1 },
    },
    protocol: { deletionBaseline: 0 },
    backend: 'cpu',
  };
}

/** Explanations of three images with hostile file names and class names. */
export function fakeExplanations(seed: number, classNames: readonly string[]): NonNullable<ReportRun['explanations']> {
  const files = new Map<string, Uint8Array>();
  const items: ExplanationsIndex['items'][number][] = [];
  for (let i = 0; i < 3; i++) {
    const input = `${i}-input "<x>".png`;
    files.set(input, gradientPng(8, i));
    const overlays: Record<string, string> = {};
    for (const interp of ['gradCam', '<b>cam</b>']) {
      const f = `${i}-${interp.replace(/[^\w]/g, '_')} &amp; '.png`;
      files.set(f, gradientPng(16, seed + i));
      overlays[interp] = f;
    }
    items.push({ index: i * 7, label: i, labelName: classNames[i % classNames.length]!, predicted: i, predictedName: classNames[(i + 1) % classNames.length]!, input, overlays });
  }
  return { index: { schema: 'lico.explanations/1', model: 'm', dataset: 'd', interpreters: ['gradCam', '<b>cam</b>'], items }, files };
}

/** Two runs (baseline and LICO) with every section, names hostile. */
export function fakeRuns(): ReportRun[] {
  return [
    { name: 'baseline <run>', results: fakeTrainResults('baseline', 0.81, HOSTILE_NAMES), evaluation: fakeEvaluation(0), explanations: fakeExplanations(0, HOSTILE_NAMES) },
    { name: `lico "&'`, results: fakeTrainResults('lico', 0.83, HOSTILE_NAMES), evaluation: fakeEvaluation(0.05), explanations: fakeExplanations(3, HOSTILE_NAMES) },
  ];
}

/**
 * The JSON files lico writes: a training run's `results.json`, an evaluation's `evaluation.json`,
 * the index of an `explain` run, and the quickstart's summary. Each carries a `schema` tag.
 */
import { FileFormatError } from '@lico/core';

/** One epoch of training. */
export interface EpochRecord {
  readonly epoch: number;
  /** Mean total loss over the epoch's steps. */
  readonly loss: number;
  /** Mean of each loss term (`ce`, `mm`, `ot`) over the epoch, as the objective reports them. */
  readonly terms: Readonly<Record<string, number>>;
  /** Training accuracy over the epoch's batches (training mode). */
  readonly trainAccuracy: number;
  readonly steps: number;
  /** Wall time of the epoch, when known (not across a resume). */
  readonly seconds?: number;
  /** Accuracy on the held-out validation split after the epoch (runs with `--validation`). */
  readonly validationAccuracy?: number;
  /** Mean cross-entropy on the validation split after the epoch. */
  readonly validationLoss?: number;
}

/** What `lico train` records in `DIR/results.json`. */
export interface TrainResults {
  readonly schema: 'lico.train-results/1';
  /** The command line that made the run. */
  readonly command: string;
  readonly mode: 'baseline' | 'lico';
  readonly dataset: {
    readonly spec: string;
    readonly name: string;
    readonly trainSize: number;
    readonly testSize: number;
    readonly classNames: readonly string[];
    readonly imageShape: readonly number[];
    readonly labels: number | 'all';
    readonly labelSeed: number;
    readonly source?: string;
  };
  readonly backbone: { readonly name: string; readonly config: Readonly<Record<string, unknown>>; readonly params: number };
  /** The text side (lico mode only). */
  readonly text: null | {
    readonly spec: string;
    readonly encoder: string;
    readonly promptLearner: Readonly<Record<string, unknown>>;
    readonly mappingNet: Readonly<Record<string, unknown>>;
  };
  /** The objective's and the trainer's full configuration. */
  readonly objective: Readonly<Record<string, unknown>>;
  readonly training: Readonly<Record<string, unknown>> & { readonly epochs: number; readonly batchSize: number; readonly seed: number };
  /** The backend asked for and used; `wasmKernels`: the build of lico's wasm kernels that ran (`'simd'`, `'relaxed-simd'`; null off wasm; absent in older results); `wasmConv`: how its stride-1 3×3 convs ran (`'winograd-4x4'`, `'winograd'` — F(2×2), the default before 'winograd-4x4' existed — or `'direct'`; null off wasm; absent in older results). */
  readonly backend: { readonly requested: string; readonly used: string; readonly packageName: string; readonly wasmKernels?: string | null; readonly wasmConv?: string | null };
  /** Versions of lico's packages, tfjs and Node. */
  readonly versions: Readonly<Record<string, string>>;
  readonly history: readonly EpochRecord[];
  /** Whether any part of the run was resumed from a checkpoint. */
  readonly resumed: boolean;
  readonly final: {
    /** Top-1 accuracy on the test split (or `evalSize` of it). */
    readonly accuracy: number;
    readonly evalSize: number;
    readonly loss: number;
    readonly epochs: number;
    readonly steps: number;
  };
}

/** Insertion/deletion of one interpreter. */
export interface SaliencyRecord {
  /** Insertion AUC (higher is better). */
  readonly insertion: number;
  /** Deletion AUC (lower is better). */
  readonly deletion: number;
  /** Mean insertion and deletion curves (probability of the target class per step). */
  readonly insertionCurve: readonly number[];
  readonly deletionCurve: readonly number[];
  /** Pixels changed per step. */
  readonly stepSize: number;
  readonly numImages: number;
  readonly seconds: number;
}

/** Localisation against ground-truth masks for one interpreter. */
export interface LocalisationRecord {
  /** Fraction of images whose saliency maximum lies in the mask. */
  readonly pointingGame: number;
  /** Mean fraction of saliency mass inside the mask. */
  readonly energyInMask: number;
  readonly numImages: number;
}

/** The extra metrics of one interpreter (`lico evaluate --metrics`); each only when asked for. */
export interface ExtraMetricsRecord {
  /** ROAD combined, `(LeRF − MoRF)/2` of the averages over `roadPercentiles` (higher is better). */
  readonly roadCombined?: number;
  /** ROAD most-relevant-first average change of the target logit (lower is better). */
  readonly roadMorf?: number;
  /** ROAD least-relevant-first average change of the target logit (higher is better). */
  readonly roadLerf?: number;
  readonly roadPercentiles?: readonly number[];
  /** Sparseness, the Gini index of the maps (higher is sparser). */
  readonly sparseness?: number;
  /** Max-sensitivity, `max ‖e(x) − e(x+δ)‖/‖e(x)‖` over `maxSensitivitySamples` perturbations (lower is better). */
  readonly maxSensitivity?: number;
  readonly maxSensitivitySamples?: number;
  readonly maxSensitivityRadius?: number;
  readonly numImages: number;
  readonly seconds: number;
}

/** What `lico evaluate` writes. */
export interface EvaluationResults {
  readonly schema: 'lico.evaluation/1';
  readonly model: string;
  readonly dataset: string;
  readonly accuracy: number;
  readonly numImages: number;
  readonly saliency: Readonly<Record<string, SaliencyRecord>>;
  readonly localisation?: Readonly<Record<string, LocalisationRecord>>;
  /** ROAD, sparseness, max-sensitivity per interpreter, when `--metrics` asked for them. */
  readonly metrics?: Readonly<Record<string, ExtraMetricsRecord>>;
  /** Protocol choices (baseline values, blur, target class). */
  readonly protocol: Readonly<Record<string, unknown>>;
  readonly backend: string;
}

/** One explained image. */
export interface ExplanationItem {
  /** Index in the dataset. */
  readonly index: number;
  readonly label: number;
  readonly labelName: string;
  readonly predicted: number;
  readonly predictedName: string;
  /** File name (in the same directory) of the input image as PNG. */
  readonly input: string;
  /** File name of the overlay PNG per interpreter. */
  readonly overlays: Readonly<Record<string, string>>;
}

/** What `lico explain` writes as `explanations.json`. */
export interface ExplanationsIndex {
  readonly schema: 'lico.explanations/1';
  readonly model: string;
  readonly dataset: string;
  readonly interpreters: readonly string[];
  readonly items: readonly ExplanationItem[];
}

/** One mode's summary in the quickstart's `results.json`. */
export interface ModeSummary {
  readonly accuracy: number;
  readonly saliency: Readonly<Record<string, { readonly insertion: number; readonly deletion: number }>>;
  /** The run directory, relative to the quickstart directory. */
  readonly run: string;
  readonly trainSeconds: number;
}

/** The quickstart's `results.json`. */
export interface QuickstartResults {
  readonly schema: 'lico.quickstart/1';
  readonly baseline: ModeSummary;
  readonly lico: ModeSummary;
  readonly config: Readonly<Record<string, unknown>>;
  readonly seconds: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses JSON text and checks its `schema` tag; `file` names the file in errors. */
export function parseResultsFile<T extends { schema: string }>(text: string, file: string, schema: T['schema']): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FileFormatError(file, `not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) throw new FileFormatError(file, 'expected a JSON object');
  if (value.schema !== schema) throw new FileFormatError(file, `expected schema '${schema}', found '${String(value.schema)}'`);
  return value as unknown as T;
}

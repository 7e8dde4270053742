import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, createRng, type ImageClassifier, type Interpreter, type InterpreterOptions } from '@lico/core';
import { checkImages, checkPositiveInteger, resolveTargets } from '../common';
import { spearman } from './spearman';
import { ssim } from './ssim';

/** An interpreter object or a method with the interpreter signature. */
export type ExplainFunction = (model: ImageClassifier, images: tf.Tensor4D, options?: InterpreterOptions) => Promise<tf.Tensor3D>;

/** An interpreter object as a plain {@link ExplainFunction} (a function is returned as it is). */
export function asExplainFunction(interpreter: Interpreter | ExplainFunction): ExplainFunction {
  return typeof interpreter === 'function' ? interpreter : (m, x, o) => interpreter.explain(m, x, o);
}

/** Options of {@link cascadingRandomization}. */
export interface CascadingRandomizationOptions {
  /** Seed of the random weights (default 0). */
  readonly seed?: number;
  /** Target class per image, kept fixed through the cascade (default: the original model's prediction). */
  readonly targets?: readonly number[];
  /** Layer to explain, passed to the interpreter. */
  readonly layer?: string;
  /**
   * Groups of variable names (keys of `namedVariables()`) in cascade order, output side first.
   * Default: the trainable variables grouped by name prefix (the name up to its last `/` or `.`),
   * in reverse order of `namedVariables()`.
   */
  readonly groups?: readonly (readonly string[])[];
  /** Stop after this many groups (default: all). */
  readonly maxSteps?: number;
}

/**
 * How alike two sets of maps are, per image and averaged over images (NaN entries skipped), with
 * the three measures Adebayo et al. (2018) report.
 */
export interface MapSimilarity {
  /** Spearman rank correlation of each image's two maps. */
  readonly correlations: number[];
  readonly meanCorrelation: number;
  /** Structural similarity ({@link ssim}: 7×7 windows, data range of both maps) of each image's two maps. */
  readonly ssim: number[];
  readonly meanSsim: number;
  /** Mean absolute difference `mean_p |a_p − b_p|` of each image's two maps (in the maps' units, [0,1] for normalised maps). */
  readonly absoluteDifferences: number[];
  readonly meanAbsoluteDifference: number;
}

/**
 * One step of the cascade: the similarity of the maps after this step with the original maps
 * (Adebayo et al.'s cascading comparison; the fields of {@link MapSimilarity}) and, in
 * `versusPrevious`, with the maps just before this group was randomised (the effect of this
 * layer alone; for the first step that is the original too).
 */
export interface RandomizationStep extends MapSimilarity {
  /** The group randomised at this step (its prefix, or the joined names of an explicit group). */
  readonly group: string;
  readonly variables: readonly string[];
  /** The same measures against the maps of the step before (the maps before randomising this group). */
  readonly versusPrevious: MapSimilarity;
}

/** Flat map values as `Tensor.data()` returns them. */
export type MapValues = Float32Array | Int32Array | Uint8Array;

function meanDefined(values: readonly number[]): number {
  const defined = values.filter((c) => !Number.isNaN(c));
  return defined.length === 0 ? Number.NaN : defined.reduce((a, b) => a + b, 0) / defined.length;
}

/** Spearman, SSIM and mean absolute difference of `n` pairs of `[h,w]` maps (flat, image after image). */
export function mapSimilarity(reference: MapValues, maps: MapValues, n: number, h: number, w: number): MapSimilarity {
  const correlations: number[] = [];
  const ssims: number[] = [];
  const absoluteDifferences: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = reference.subarray(i * h * w, (i + 1) * h * w);
    const b = maps.subarray(i * h * w, (i + 1) * h * w);
    correlations.push(spearman(a, b));
    ssims.push(ssim(a, b, h, w));
    let d = 0;
    for (let p = 0; p < h * w; p++) d += Math.abs(a[p]! - b[p]!);
    absoluteDifferences.push(d / (h * w));
  }
  return {
    correlations,
    meanCorrelation: meanDefined(correlations),
    ssim: ssims,
    meanSsim: meanDefined(ssims),
    absoluteDifferences,
    meanAbsoluteDifference: meanDefined(absoluteDifferences),
  };
}

/** The result of {@link cascadingRandomization}. */
export interface CascadingRandomizationResult {
  readonly steps: RandomizationStep[];
  readonly targets: number[];
}

function prefix(name: string): string {
  const cut = Math.max(name.lastIndexOf('/'), name.lastIndexOf('.'));
  return cut > 0 ? name.slice(0, cut) : name;
}

/** The default cascade: trainable variables grouped by name prefix, output side first. */
export function defaultRandomizationGroups(model: ImageClassifier): { group: string; variables: string[] }[] {
  const trainable = new Set(model.trainableVariables());
  const groups: { group: string; variables: string[] }[] = [];
  for (const [name, variable] of Object.entries(model.namedVariables())) {
    if (!trainable.has(variable)) continue;
    const p = prefix(name);
    const last = groups[groups.length - 1];
    if (last && last.group === p) last.variables.push(name);
    else groups.push({ group: p, variables: [name] });
  }
  return groups.map((_, i) => groups[groups.length - 1 - i]!);
}

/**
 * Model-parameter randomisation test (Adebayo et al. 2018, cascading form): re-draws the model's
 * weights group by group from the output side down (each weight tensor from a normal with its own
 * mean and standard deviation, or `max(|mean|, 0.01)` when it is constant), explains the images after
 * every step and reports, per step, how alike the maps are to the original maps and to the maps just
 * before that group was randomised: Spearman rank correlation, SSIM and mean absolute difference
 * ({@link MapSimilarity}). A method that passes the sanity check decorrelates quickly (low
 * correlation and SSIM, large difference). The original weights are restored afterwards, also on
 * error.
 */
export async function cascadingRandomization(
  model: ImageClassifier,
  images: tf.Tensor4D,
  interpreter: Interpreter | ExplainFunction,
  options: CascadingRandomizationOptions = {},
): Promise<CascadingRandomizationResult> {
  checkImages(model, images);
  checkPositiveInteger(options.maxSteps, 'maxSteps');
  const explain = asExplainFunction(interpreter);
  const named = model.namedVariables();
  const groups = options.groups
    ? options.groups.map((g) => ({ group: g.join(','), variables: [...g] }))
    : defaultRandomizationGroups(model);
  for (const g of groups) {
    for (const v of g.variables) if (!Object.hasOwn(named, v)) throw new ConfigError(`randomisation group names unknown variable '${v}'.`);
  }
  const steps = groups.slice(0, options.maxSteps ?? groups.length);
  const targets = await resolveTargets(model, images, options.targets);
  const call: InterpreterOptions = { targets, ...(options.layer === undefined ? {} : { layer: options.layer }) };
  const rng = createRng(options.seed ?? 0);
  const originalMaps = await explain(model, images, call);
  const original = (await originalMaps.data()).slice();
  originalMaps.dispose();
  let previous = original;
  const [n, h, w] = images.shape;
  const saved = new Map<string, tf.Tensor>();
  const result: RandomizationStep[] = [];
  try {
    for (const step of steps) {
      for (const name of step.variables) {
        const variable = named[name]!;
        if (!saved.has(name)) saved.set(name, tf.clone(variable));
        const seed = rng.seed32();
        tf.tidy(() => {
          const { mean, variance } = tf.moments(variable);
          const m = mean.dataSync()[0]!;
          const sd = Math.sqrt(variance.dataSync()[0]!);
          const scale = sd > 0 ? sd : Math.max(Math.abs(m), 0.01);
          variable.assign(tf.cast(tf.randomNormal(variable.shape, m, scale, 'float32', seed), variable.dtype));
        });
      }
      const maps = await explain(model, images, call);
      const data = (await maps.data()).slice();
      maps.dispose();
      result.push({ group: step.group, variables: step.variables, ...mapSimilarity(original, data, n, h, w), versusPrevious: mapSimilarity(previous, data, n, h, w) });
      previous = data;
    }
  } finally {
    for (const [name, value] of saved) {
      named[name]!.assign(value);
      value.dispose();
    }
  }
  return { steps: result, targets };
}

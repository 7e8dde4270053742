import { ConfigError } from '@lico/core';
import type { InMemoryDataset, LicoDataset } from './dataset';
import { derivedRng } from './seeds';
import { subset } from './subset';

/** Options of {@link limitedLabels}: give `labelsTotal` or `perClass`. */
export interface LimitedLabelsOptions {
  /** Total labelled samples, spread evenly over the classes (e.g. 40, 250, 4000 on CIFAR-10). */
  readonly labelsTotal?: number;
  /** Labelled samples per class. */
  readonly perClass?: number;
  /** Seed of the draw. */
  readonly seed: number;
  /** Size of a class-balanced held-out validation split, disjoint from the labelled one (default 0). */
  readonly validation?: number;
}

/** The result of {@link limitedLabels}. */
export interface LimitedLabelsSplit<D extends LicoDataset> {
  /** The class-balanced labelled subset. */
  readonly labelled: D;
  /** The held-out validation subset (undefined when `validation` is 0). */
  readonly validation: D | undefined;
  /** Everything else (for semi-supervised methods), disjoint from both; built on first access. */
  readonly unlabelled: D | undefined;
  /** Parent indices of the labelled samples (sorted by class, then draw order). */
  readonly labelledIndices: Int32Array;
  readonly validationIndices: Int32Array;
  readonly unlabelledIndices: Int32Array;
}

function spread(total: number, classes: number, rngSeed: number[]): Int32Array {
  const counts = new Int32Array(classes).fill(Math.floor(total / classes));
  const extra = total % classes;
  if (extra > 0) {
    const perm = derivedRng(...rngSeed).permutation(classes);
    for (let k = 0; k < extra; k++) counts[perm[k]!]! += 1;
  }
  return counts;
}

/**
 * Draws a class-balanced labelled subset (and a class-balanced validation split) with a seed, as
 * in the semi-supervised literature. When the total does not divide by the number of classes, a
 * seeded choice of classes gets one more. Throws if a class has too few samples.
 */
export function limitedLabels(dataset: InMemoryDataset, options: LimitedLabelsOptions): LimitedLabelsSplit<InMemoryDataset>;
export function limitedLabels(dataset: LicoDataset, options: LimitedLabelsOptions): LimitedLabelsSplit<LicoDataset>;
export function limitedLabels(dataset: LicoDataset, options: LimitedLabelsOptions): LimitedLabelsSplit<LicoDataset> {
  const k = dataset.classNames.length;
  const { seed } = options;
  if (!Number.isFinite(seed)) throw new ConfigError(`limitedLabels: seed must be a finite number, got ${seed}.`);
  if ((options.labelsTotal === undefined) === (options.perClass === undefined)) {
    throw new ConfigError('limitedLabels: give exactly one of labelsTotal and perClass.');
  }
  const total = options.labelsTotal ?? options.perClass! * k;
  if (!Number.isInteger(total) || total <= 0) throw new ConfigError(`limitedLabels: the number of labels must be a positive integer, got ${total}.`);
  const nVal = options.validation ?? 0;
  if (!Number.isInteger(nVal) || nVal < 0) throw new ConfigError(`limitedLabels: validation must be an integer >= 0, got ${nVal}.`);
  const byClass: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < dataset.size; i++) byClass[dataset.label(i)]!.push(i);
  const labCounts = spread(total, k, [seed, 1]);
  const valCounts = spread(nVal, k, [seed, 2]);
  const lab: number[] = [];
  const val: number[] = [];
  const taken = new Uint8Array(dataset.size);
  for (let c = 0; c < k; c++) {
    const members = byClass[c]!;
    const need = labCounts[c]! + valCounts[c]!;
    if (members.length < need) {
      throw new ConfigError(`limitedLabels: class ${c} ('${dataset.classNames[c]}') has ${members.length} samples but ${labCounts[c]} labelled + ${valCounts[c]} validation are asked for.`);
    }
    const perm = derivedRng(seed, 3, c).permutation(members.length);
    for (let j = 0; j < need; j++) {
      const i = members[perm[j]!]!;
      (j < labCounts[c]! ? lab : val).push(i);
      taken[i] = 1;
    }
  }
  const rest: number[] = [];
  for (let i = 0; i < dataset.size; i++) if (taken[i] === 0) rest.push(i);
  const labelledIndices = Int32Array.from(lab);
  const validationIndices = Int32Array.from(val);
  const unlabelledIndices = Int32Array.from(rest);
  let unlabelled: LicoDataset | undefined;
  return {
    labelled: subset(dataset, labelledIndices, `${dataset.name}/labelled-${total}-seed${seed}`),
    validation: nVal > 0 ? subset(dataset, validationIndices, `${dataset.name}/validation-${nVal}-seed${seed}`) : undefined,
    get unlabelled() {
      if (rest.length === 0) return undefined;
      unlabelled ??= subset(dataset, unlabelledIndices, `${dataset.name}/unlabelled-seed${seed}`);
      return unlabelled;
    },
    labelledIndices,
    validationIndices,
    unlabelledIndices,
  };
}

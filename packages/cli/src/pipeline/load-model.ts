/**
 * Loads the classifier a `lico train` run exported: its architecture from `results.json`, its
 * weights from `model/`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadVariables, NotFoundError, type ImageClassifier } from '@lico/core';
import { parseResultsFile, type TrainResults } from '../results/results-schema';
import { createBackbone } from './components';

/** A trained classifier with its run's record. */
export interface LoadedModel {
  readonly model: ImageClassifier;
  readonly results: TrainResults;
  readonly dir: string;
}

/** Loads `DIR/results.json` and `DIR/model/` (written by `lico train`). */
export async function loadTrainedModel(dir: string): Promise<LoadedModel> {
  const root = resolve(dir);
  const resultsFile = join(root, 'results.json');
  const modelDir = join(root, 'model');
  if (!existsSync(resultsFile) || !existsSync(join(modelDir, 'model.json'))) {
    throw new NotFoundError(`'${root}' is not a finished training run: it needs results.json and model/model.json (written by 'lico train' when it completes).`);
  }
  const results = parseResultsFile<TrainResults>(readFileSync(resultsFile, 'utf8'), resultsFile, 'lico.train-results/1');
  const model = createBackbone(results.backbone.name, {
    numClasses: results.dataset.classNames.length,
    inputChannels: results.dataset.imageShape[2] ?? 3,
    seed: results.training.seed,
  });
  try {
    await loadVariables(modelDir, model.namedVariables());
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { model, results, dir: root };
}

/** Where a run gets its backend and data; shared by the commands that load a trained model. */
export interface RunEnvironmentOptions {
  /** Backend name for `useBackend` (`auto`, `wasm`, `cpu`, `tensorflow`). */
  readonly backend: string;
  /** Dataset root (else LICO_DATA_DIR, the cache, Debian's files). */
  readonly dataDir?: string;
  /** Allow downloading the dataset into the cache. */
  readonly download?: boolean;
  /** wasm threads. */
  readonly threads?: number;
  /** No progress output. */
  readonly quiet: boolean;
  /** Skip selecting the backend (the caller already did). */
  readonly backendReady?: boolean;
}

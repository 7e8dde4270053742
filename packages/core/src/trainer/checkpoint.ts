import { fs, path } from '#node-builtins';
import * as tf from '@tensorflow/tfjs-core';
import { recoverAtomicDir, writeDirAtomic } from '../io/atomic-write';
import { assignNamed, readWeights, saveVariables } from '../io/tfjs-weights';
import { FileFormatError, NotFoundError } from '../errors';
import type { NamedVariables } from '../spec';

/** The format tag of `state.json`. */
export const CHECKPOINT_FORMAT = 'lico-checkpoint';

/** Everything a checkpoint stores besides the weights (`state.json`). */
export interface CheckpointState {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly version: 1;
  /** Steps done. */
  readonly step: number;
  /** The epoch in progress (or the next one when `batchInEpoch` is 0). */
  readonly epoch: number;
  /** Batches of `epoch` already done. */
  readonly batchInEpoch: number;
  readonly [key: string]: unknown;
}

/**
 * Writes a checkpoint directory atomically: `weights/` (tfjs format, every variable of
 * `variables`) and `state.json`. The previous checkpoint at `dir` stays intact until the new one
 * is complete, and is replaced by a rename.
 */
export async function writeCheckpoint(dir: string, variables: NamedVariables, state: CheckpointState): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    await saveVariables(path.join(tmp, 'weights'), variables, { step: state.step });
    await fs.writeFile(path.join(tmp, 'state.json'), `${JSON.stringify(state, null, 1)}\n`);
  });
}

/** Reads `dir/state.json` (validated) without touching any variable. */
export async function readCheckpointState(dir: string): Promise<CheckpointState> {
  await recoverAtomicDir(dir); // a writer killed between its renames leaves a complete copy beside dir
  const file = path.join(dir, 'state.json');
  let raw: string;
  try {
    raw = await fs.readFile(file, 'utf-8');
  } catch {
    throw new NotFoundError(`No checkpoint at '${dir}' (state.json missing).`);
  }
  let state: CheckpointState;
  try {
    state = JSON.parse(raw) as CheckpointState;
  } catch (error) {
    throw new FileFormatError(file, `not valid JSON (${(error as Error).message})`);
  }
  if (state.format !== CHECKPOINT_FORMAT || state.version !== 1) throw new FileFormatError(file, `not a ${CHECKPOINT_FORMAT} v1 state (format '${String(state.format)}', version ${String(state.version)})`);
  for (const k of ['step', 'epoch', 'batchInEpoch'] as const) {
    if (!Number.isInteger(state[k]) || state[k] < 0) throw new FileFormatError(file, `'${k}' must be an integer >= 0, got ${String(state[k])}`);
  }
  return state;
}

/**
 * Loads a checkpoint into `variables` (names and shapes must match exactly) and returns its state.
 */
export async function readCheckpoint(dir: string, variables: NamedVariables): Promise<CheckpointState> {
  const state = await readCheckpointState(dir);
  const { tensors } = await readWeights(path.join(dir, 'weights'));
  try {
    assignNamed(variables, tensors, path.join(dir, 'weights', 'model.json'));
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return state;
}

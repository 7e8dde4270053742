import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors';
import type { NamedVariables } from '../spec';

/** Options of {@link createEma}. */
export interface EmaOptions {
  /** Decay (default 0.999): `shadow ← decay·shadow + (1−decay)·θ`. */
  readonly decay?: number;
}

/** An exponential moving average of a set of variables (weights and batch-norm statistics). */
export interface Ema {
  readonly config: Readonly<Record<string, unknown>>;
  /** Updates every shadow from the current variable values. */
  update(): void;
  /** Runs `fn` with the shadows swapped into the variables, then restores the variables exactly. */
  withAveraged<T>(fn: () => Promise<T>): Promise<T>;
  /** Copies the shadows into the variables (for export of the averaged weights). */
  copyTo(): void;
  /** The shadow variables by the tracked names. */
  namedVariables(): NamedVariables;
  dispose(): void;
}

/** Creates an EMA tracking `variables` (shadows start equal to the current values). */
export function createEma(variables: NamedVariables, options: EmaOptions = {}): Ema {
  const decay = options.decay ?? 0.999;
  if (!(decay >= 0 && decay < 1)) throw new ConfigError(`EMA decay must be in [0, 1), got ${decay}.`);
  const entries = Object.entries(variables).map(([name, v]) => ({ name, v, shadow: tf.tidy(() => tf.variable(tf.clone(v), false, `ema-${name}-${Math.random().toString(36).slice(2)}`)) }));
  return {
    config: { decay, tracks: 'trainable variables and batch-norm statistics (every named model variable)', init: 'copy of the initial weights' },
    update() {
      tf.tidy(() => {
        for (const { v, shadow } of entries) {
          if (v.dtype !== 'float32') {
            shadow.assign(v);
            continue;
          }
          shadow.assign(tf.add(tf.mul(shadow, decay), tf.mul(v, 1 - decay)));
        }
      });
    },
    async withAveraged(fn) {
      const backup: Tensor[] = entries.map(({ v }) => tf.clone(v));
      try {
        for (const { v, shadow } of entries) v.assign(shadow);
        return await fn();
      } finally {
        entries.forEach(({ v }, i) => v.assign(backup[i]!));
        tf.dispose(backup);
      }
    },
    copyTo() {
      for (const { v, shadow } of entries) v.assign(shadow);
    },
    namedVariables() {
      const out: Record<string, Variable> = {};
      for (const { name, shadow } of entries) out[name] = shadow;
      return out;
    },
    dispose() {
      for (const { shadow } of entries) shadow.dispose();
    },
  };
}

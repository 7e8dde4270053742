import * as tf from '@tensorflow/tfjs-core';
import { type NamedVariables, assertFiniteNumber } from '@lico/core';

/** Options of {@link createTemperature}. */
export interface TemperatureOptions {
  /** Initial value (default `log(1/0.07) ≈ 2.659`, as LICO). */
  readonly init?: number;
  /** Whether the optimiser updates it (default true). */
  readonly trainable?: boolean;
}

/** LICO's learnable temperature `τ`: one scalar variable, used as a plain divisor by the losses. */
export interface Temperature {
  /** The scalar variable. */
  readonly value: tf.Variable<tf.Rank.R0>;
  /** `[value]` when trainable, else `[]`. */
  trainableVariables(): tf.Variable[];
  /** `{ temperature: value }`. */
  namedVariables(): NamedVariables;
  /** A JSON description. */
  readonly config: Readonly<Record<string, unknown>>;
  dispose(): void;
}

/** Creates the learnable temperature `τ` (a trainable scalar variable). */
export function createTemperature(options: TemperatureOptions = {}): Temperature {
  const init = options.init ?? Math.log(1 / 0.07);
  assertFiniteNumber(init, 'temperature init');
  const trainable = options.trainable ?? true;
  const initTensor = tf.scalar(init);
  const value = tf.variable(initTensor, trainable) as tf.Variable<tf.Rank.R0>;
  initTensor.dispose();
  return {
    value,
    trainableVariables: () => (trainable ? [value] : []),
    namedVariables: () => ({ temperature: value }),
    config: { init, trainable },
    dispose: () => value.dispose(),
  };
}

import * as tf from '@tensorflow/tfjs-core';
import { type ForwardOptions, type MappingNet, SPECIFICATION_VERSION, ShapeError, assertPositiveInteger, assertRank, createRng, formatShape, ConfigError } from '@lico/core';

/** Options of {@link createMappingNet}. */
export interface MappingNetOptions {
  /** Input width `D` (the text feature width). */
  readonly inputDim: number;
  /** Output width: the number of spatial positions `H*W` of the backbone's last feature map. */
  readonly outputDim: number;
  /** Hidden width (default 512). */
  readonly hidden?: number;
  /** Dropout rate after the first linear layer (default 0.5). */
  readonly dropout?: number;
  /** Seed of the initialisation and of the dropout masks (default 0). */
  readonly seed?: number;
}

/**
 * The mapping net `h_ψ` of LICO: `Linear(D, hidden) → Dropout(p) → ReLU → Linear(hidden, H*W)`,
 * initialised as PyTorch's `nn.Linear` (weights and biases uniform in `±1/√fan_in`). Dropout
 * masks come from a seeded generator, one draw per training call.
 */
export function createMappingNet(options: MappingNetOptions): MappingNet {
  const { inputDim, outputDim } = options;
  const hidden = options.hidden ?? 512;
  const dropout = options.dropout ?? 0.5;
  const seed = options.seed ?? 0;
  assertPositiveInteger(inputDim, 'inputDim');
  assertPositiveInteger(outputDim, 'outputDim');
  assertPositiveInteger(hidden, 'hidden');
  if (!(dropout >= 0 && dropout < 1)) throw new ConfigError(`dropout must be in [0, 1), got ${dropout}.`);
  const rng = createRng(seed);
  const uniform = (n: number, bound: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * bound;
    return a;
  };
  const b1 = 1 / Math.sqrt(inputDim);
  const b2 = 1 / Math.sqrt(hidden);
  // stored [in,out]
  const variable = (data: Float32Array, shape: number[]): tf.Variable => {
    const t = tf.tensor(data, shape, 'float32');
    const v = tf.variable(t, true);
    t.dispose();
    return v;
  };
  const w1 = variable(uniform(inputDim * hidden, b1), [inputDim, hidden]);
  const bias1 = variable(uniform(hidden, b1), [hidden]);
  const w2 = variable(uniform(hidden * outputDim, b2), [hidden, outputDim]);
  const bias2 = variable(uniform(outputDim, b2), [outputDim]);
  const dropRng = rng.fork();
  return {
    specificationVersion: SPECIFICATION_VERSION,
    inputDim,
    outputDim,
    config: { inputDim, outputDim, hidden, dropout, seed },
    apply(promptFeatures, forward: ForwardOptions) {
      assertRank(promptFeatures, 3, 'promptFeatures');
      const [m, k, d] = promptFeatures.shape;
      if (d !== inputDim) throw new ShapeError(`promptFeatures must have shape [M,K,${inputDim}], got ${formatShape(promptFeatures.shape)}.`);
      // A seed in the forward options (the trainer draws one per step) makes resumed runs exact.
      const dropSeed = forward.training && dropout > 0 ? (forward.seed ?? dropRng.seed32()) : 0;
      return tf.tidy(() => {
        let h: tf.Tensor = tf.add(tf.matMul(tf.reshape(promptFeatures, [m * k, d]), w1), bias1);
        if (forward.training && dropout > 0) h = tf.dropout(h, dropout, undefined, dropSeed);
        h = tf.relu(h);
        const out = tf.add(tf.matMul(h as tf.Tensor2D, w2), bias2);
        return tf.reshape(out, [m, k, outputDim]) as tf.Tensor3D;
      });
    },
    trainableVariables: () => [w1, bias1, w2, bias2],
    namedVariables: () => ({ 'mapping.fc1.weight': w1, 'mapping.fc1.bias': bias1, 'mapping.fc2.weight': w2, 'mapping.fc2.bias': bias2 }),
    dispose() {
      tf.dispose([w1, bias1, w2, bias2]);
    },
  };
}

import * as tf from '@tensorflow/tfjs-core';
import { assertOneOf, assertPositiveInteger, ConfigError } from '@lico/core';
import { applyBatchNorm, applyConv, applyConvBatchNorm, applyConvResidual, ParamStore, updateBatchNormStats, type BatchNorm, type Conv } from './params';
import { createStagedClassifier, type BackboneClassifier, type Stage } from './staged-classifier';

/** Named WideResNet sizes. */
export const WIDE_RESNET_PRESETS = {
  'wrn-28-2': { depth: 28, widen: 2 },
  'wrn-28-8': { depth: 28, widen: 8 },
  'wrn-16-1': { depth: 16, widen: 1 },
  'wrn-16-2': { depth: 16, widen: 2 },
  'wrn-10-1': { depth: 10, widen: 1 },
} as const;

/** A WideResNet preset name. */
export type WideResNetPreset = keyof typeof WIDE_RESNET_PRESETS;

/** Options of {@link createWideResNet}. */
export interface WideResNetOptions {
  /** A named size; `depth`/`widen` override it. */
  readonly preset?: WideResNetPreset;
  /** Depth `6n+4` (default 28). */
  readonly depth?: number;
  /** Widening factor `k` (default 2). */
  readonly widen?: number;
  readonly numClasses: number;
  /** Input channels (default 3). */
  readonly inputChannels?: number;
  /** Input `[H,W]` if fixed (default any size: `[null,null]`). */
  readonly inputSize?: readonly [number | null, number | null];
  /** Dropout rate between the two convolutions of each block in training mode (default 0). */
  readonly dropout?: number;
  /** Seed of the weight initialisation and of dropout (default 0). */
  readonly seed?: number;
  /**
   * Draw the initial weights (default true). `false` leaves convolution and linear weights at
   * zero: much faster for large models whose weights are loaded right after.
   */
  readonly initialize?: boolean;
}

const EPSILON = 1e-3;
const MOMENTUM = 0.001;
const SLOPE = 0.1;

interface Block {
  bn1: BatchNorm;
  conv1: Conv;
  bn2: BatchNorm;
  conv2: Conv;
  shortcut: Conv | null;
  activateBeforeResidual: boolean;
}

/**
 * WideResNet-`depth`-`widen` in the FixMatch (TorchSSL/USB `wrn.py`) variant: pre-activation basic
 * blocks, batch norm with decay 0.999 and ε 1e-3, LeakyReLU 0.1, convolutions with bias,
 * Kaiming-normal fan-out init, optional dropout. Variable names equal the PyTorch state-dict keys
 * (`conv1`, `block1.layer.0.bn1`, `block1.layer.0.convShortcut`, `bn1`, `fc`).
 *
 * As in that implementation, the first block of stages 2 and 3 (channels change, no
 * activate-before-residual) feeds the raw input to both `conv1` and the shortcut; its `bn1` then
 * only updates its running statistics. Layer names: `conv1`, `block1`, `block2`, `block3`,
 * `features` (after the final batch norm + LeakyReLU; the feature map).
 */
export function createWideResNet(options: WideResNetOptions): BackboneClassifier {
  const preset = options.preset === undefined ? undefined : WIDE_RESNET_PRESETS[assertOneOf(options.preset, Object.keys(WIDE_RESNET_PRESETS) as WideResNetPreset[], 'WideResNet preset')];
  const depth = options.depth ?? preset?.depth ?? 28;
  const widen = options.widen ?? preset?.widen ?? 2;
  const inputChannels = options.inputChannels ?? 3;
  const dropout = options.dropout ?? 0;
  const seed = options.seed ?? 0;
  assertPositiveInteger(options.numClasses, 'numClasses');
  assertPositiveInteger(inputChannels, 'inputChannels');
  assertPositiveInteger(widen, 'widen');
  if (!Number.isInteger(depth) || depth < 10 || (depth - 4) % 6 !== 0) throw new ConfigError(`WideResNet depth must be 6n+4 with n >= 1 (10, 16, 22, 28, …), got ${depth}.`);
  if (!(dropout >= 0 && dropout < 1)) throw new ConfigError(`dropout must be in [0, 1), got ${dropout}.`);
  const n = (depth - 4) / 6;
  const channels = [16, 16 * widen, 32 * widen, 64 * widen] as const;
  const store = new ParamStore(seed, options.initialize ?? true);
  const dropoutRng = store.rng.fork();
  const conv1 = store.conv('conv1', inputChannels, channels[0], 3, 1, true);
  const groups: Block[][] = [];
  for (let g = 0; g < 3; g++) {
    const blocks: Block[] = [];
    for (let i = 0; i < n; i++) {
      const cin = i === 0 ? channels[g]! : channels[g + 1]!;
      const cout = channels[g + 1]!;
      const stride = i === 0 && g > 0 ? 2 : 1;
      const p = `block${g + 1}.layer.${i}`;
      blocks.push({
        bn1: store.batchNorm(`${p}.bn1`, cin, EPSILON, MOMENTUM),
        conv1: store.conv(`${p}.conv1`, cin, cout, 3, stride, true),
        bn2: store.batchNorm(`${p}.bn2`, cout, EPSILON, MOMENTUM),
        conv2: store.conv(`${p}.conv2`, cout, cout, 3, 1, true),
        shortcut: cin === cout ? null : store.conv(`${p}.convShortcut`, cin, cout, 1, stride, true),
        activateBeforeResidual: g === 0,
      });
    }
    groups.push(blocks);
  }
  const bnFinal = store.batchNorm('bn1', channels[3], EPSILON, MOMENTUM);
  const fc = store.linear('fc', channels[3], options.numClasses, 'xavier-normal');

  const applyBlock = (x: tf.Tensor4D, b: Block, training: boolean): tf.Tensor4D => {
    let input = x;
    let out: tf.Tensor4D;
    if (b.shortcut && b.activateBeforeResidual) {
      input = applyBatchNorm(x, b.bn1, training, SLOPE);
      out = input;
    } else if (b.shortcut) {
      // bn1/relu1 run but their output is unused in the reference; keep its running stats in step.
      if (training) updateBatchNormStats(x, b.bn1);
      out = x;
    } else {
      out = applyBatchNorm(x, b.bn1, training, SLOPE);
    }
    out = applyConvBatchNorm(out, b.conv1, b.bn2, training, SLOPE);
    if (training && dropout > 0) out = tf.dropout(out, dropout, undefined, dropoutRng.seed32()) as tf.Tensor4D;
    return applyConvResidual(out, b.conv2, () => (b.shortcut ? applyConv(input, b.shortcut, training) : input), training);
  };
  const stages: Stage[] = [
    { name: 'conv1', channels: channels[0], apply: (x, training) => applyConv(x, conv1, training) },
    ...groups.map((blocks, g) => ({
      name: `block${g + 1}`,
      channels: channels[g + 1]!,
      apply: (x: tf.Tensor4D, training: boolean) => blocks.reduce((h, b) => applyBlock(h, b, training), x),
    })),
    { name: 'features', channels: channels[3], apply: (x, training) => applyBatchNorm(x, bnFinal, training, SLOPE) },
  ];
  const name = `wrn-${depth}-${widen}`;
  return createStagedClassifier({
    name,
    numClasses: options.numClasses,
    inputShape: [options.inputSize?.[0] ?? null, options.inputSize?.[1] ?? null, inputChannels],
    config: { architecture: 'wide-resnet', depth, widen, numClasses: options.numClasses, inputChannels, inputSize: options.inputSize ?? null, dropout, seed },
    store,
    stages,
    head: fc,
  });
}

import * as tf from '@tensorflow/tfjs-core';
import { assertPositiveInteger, ConfigError } from '@lico/core';
import { applyBatchNorm, applyConv, applyConvBatchNorm, applyConvResidual, ParamStore, type BatchNorm, type Conv } from './params';
import { createStagedClassifier, type BackboneClassifier, type Stage } from './staged-classifier';

/** Options of {@link createPreActResNet}. */
export interface PreActResNetOptions {
  /** Only 18 (default). */
  readonly depth?: 18;
  readonly numClasses: number;
  /** Input channels (default 3). */
  readonly inputChannels?: number;
  /** Input `[H,W]` if fixed (default any size). */
  readonly inputSize?: readonly [number | null, number | null];
  /** Seed of the weight initialisation (default 0). */
  readonly seed?: number;
  /**
   * Draw the initial weights (default true). `false` leaves convolution and linear weights at
   * zero: much faster for large models whose weights are loaded right after.
   */
  readonly initialize?: boolean;
}

interface Block {
  bn1: BatchNorm;
  conv1: Conv;
  bn2: BatchNorm;
  conv2: Conv;
  shortcut: Conv | null;
}

/**
 * PreActResNet-18 for 32×32 inputs as in kuangliu/pytorch-cifar (He et al. 2016, identity
 * mappings): a 3×3 stride-1 stem conv, pre-activation basic blocks (BN-ReLU-conv twice, a 1×1
 * conv shortcut applied to the activated input when the shape changes), no final BN, global
 * average pooling (kuangliu's `avg_pool2d(out, 4)` equals it at 32×32) and `linear`. Batch norm
 * ε 1e-5, momentum 0.1; PyTorch's default initialisation. Variable names equal that repository's
 * state-dict keys (`conv1`, `layer1.0.bn1`, `layer2.0.shortcut.0`, `linear`).
 *
 * Layer names: `conv1`, `layer1` … `layer4` (the feature map: the last block's sum, which in this
 * architecture is not followed by an activation).
 */
export function createPreActResNet(options: PreActResNetOptions): BackboneClassifier {
  if ((options.depth ?? 18) !== 18) throw new ConfigError(`PreActResNet depth must be 18, got ${options.depth}.`);
  const inputChannels = options.inputChannels ?? 3;
  const seed = options.seed ?? 0;
  assertPositiveInteger(options.numClasses, 'numClasses');
  assertPositiveInteger(inputChannels, 'inputChannels');
  const store = new ParamStore(seed, options.initialize ?? true);
  const conv1 = store.conv('conv1', inputChannels, 64, 3, 1, false, 'torch-default');
  let inplanes = 64;
  const stages: Block[][] = [];
  for (let s = 0; s < 4; s++) {
    const planes = 64 * 2 ** s;
    const blocks: Block[] = [];
    for (let i = 0; i < 2; i++) {
      const stride = i === 0 && s > 0 ? 2 : 1;
      const p = `layer${s + 1}.${i}`;
      blocks.push({
        bn1: store.batchNorm(`${p}.bn1`, inplanes, 1e-5, 0.1),
        conv1: store.conv(`${p}.conv1`, inplanes, planes, 3, stride, false, 'torch-default'),
        bn2: store.batchNorm(`${p}.bn2`, planes, 1e-5, 0.1),
        conv2: store.conv(`${p}.conv2`, planes, planes, 3, 1, false, 'torch-default'),
        shortcut: stride !== 1 || inplanes !== planes ? store.conv(`${p}.shortcut.0`, inplanes, planes, 1, stride, false, 'torch-default') : null,
      });
      inplanes = planes;
    }
    stages.push(blocks);
  }
  const linear = store.linear('linear', 512, options.numClasses, 'torch-default');
  const applyBlock = (x: tf.Tensor4D, b: Block, training: boolean): tf.Tensor4D => {
    const out = applyBatchNorm(x, b.bn1, training, 0);
    const shortcut = b.shortcut ? applyConv(out, b.shortcut, training) : x;
    return applyConvResidual(applyConvBatchNorm(out, b.conv1, b.bn2, training, 0), b.conv2, () => shortcut, training);
  };
  const stageList: Stage[] = [
    { name: 'conv1', channels: 64, apply: (x, training) => applyConv(x, conv1, training) },
    ...stages.map((blocks, s) => ({
      name: `layer${s + 1}`,
      channels: 64 * 2 ** s,
      apply: (x: tf.Tensor4D, training: boolean) => blocks.reduce((h, b) => applyBlock(h, b, training), x),
    })),
  ];
  return createStagedClassifier({
    name: 'preact-resnet18',
    numClasses: options.numClasses,
    inputShape: [options.inputSize?.[0] ?? null, options.inputSize?.[1] ?? null, inputChannels],
    config: { architecture: 'preact-resnet', depth: 18, numClasses: options.numClasses, inputChannels, inputSize: options.inputSize ?? null, seed },
    store,
    stages: stageList,
    head: linear,
  });
}

import * as tf from '@tensorflow/tfjs-core';
import { assertOneOf, assertPositiveInteger, ConfigError } from '@lico/core';
import { applyConvBatchNorm, ParamStore, type BatchNorm, type Conv } from './params';
import { createStagedClassifier, type BackboneClassifier, type Stage } from './staged-classifier';

/** Supported ResNet depths and their blocks per stage. */
export const RESNET_DEPTHS = {
  18: { block: 'basic', layers: [2, 2, 2, 2] },
  34: { block: 'basic', layers: [3, 4, 6, 3] },
  50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
  101: { block: 'bottleneck', layers: [3, 4, 23, 3] },
} as const;

/** A ResNet depth. */
export type ResNetDepth = keyof typeof RESNET_DEPTHS;

/** The stem of a ResNet. */
export type ResNetStem = 'imagenet' | 'cifar';

/** Options of {@link createResNet}. */
export interface ResNetOptions {
  /** 18, 34, 50 or 101. */
  readonly depth: ResNetDepth;
  readonly numClasses: number;
  /** `'imagenet'` (7×7 stride-2 conv + 3×3 stride-2 max pool, default) or `'cifar'` (3×3 stride-1 conv, no pool). */
  readonly stem?: ResNetStem;
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

const EPSILON = 1e-5;
const MOMENTUM = 0.1;

interface Block {
  convs: Conv[];
  bns: BatchNorm[];
  downsample: { conv: Conv; bn: BatchNorm } | null;
}

/**
 * ResNet-18/34/50/101 as torchvision builds it (v1.5: the stride of a bottleneck sits on its 3×3
 * conv; batch norm ε 1e-5, momentum 0.1; convolutions without bias, Kaiming-normal fan-out init;
 * the fc layer with PyTorch's default init). Variable names equal torchvision's state-dict keys
 * (`conv1`, `bn1`, `layer1.0.conv1`, `layer2.0.downsample.0`/`.1`, `fc`), so torchvision weights
 * load with {@link loadTorchWeights}. The CIFAR stem replaces `conv1` by a 3×3 stride-1 conv and
 * drops the max pool (same key names).
 *
 * Layer names: `stem` (conv1 + bn1 + ReLU [+ max pool]), `layer1` … `layer4` (the feature map).
 */
export function createResNet(options: ResNetOptions): BackboneClassifier {
  const depth = Number(assertOneOf(String(options.depth), Object.keys(RESNET_DEPTHS), 'ResNet depth')) as ResNetDepth;
  const stem = assertOneOf(options.stem ?? 'imagenet', ['imagenet', 'cifar'] as const, 'ResNet stem');
  const inputChannels = options.inputChannels ?? 3;
  const seed = options.seed ?? 0;
  assertPositiveInteger(options.numClasses, 'numClasses');
  assertPositiveInteger(inputChannels, 'inputChannels');
  if (!Number.isFinite(seed)) throw new ConfigError(`seed must be a finite number, got ${seed}.`);
  const { block: kind, layers } = RESNET_DEPTHS[depth];
  const expansion = kind === 'bottleneck' ? 4 : 1;
  const store = new ParamStore(seed, options.initialize ?? true);
  const conv1 = stem === 'imagenet' ? store.conv('conv1', inputChannels, 64, 7, 2, false) : store.conv('conv1', inputChannels, 64, 3, 1, false);
  const bn1 = store.batchNorm('bn1', 64, EPSILON, MOMENTUM);
  let inplanes = 64;
  const stages: Block[][] = [];
  layers.forEach((count, s) => {
    const planes = 64 * 2 ** s;
    const blocks: Block[] = [];
    for (let i = 0; i < count; i++) {
      const stride = i === 0 && s > 0 ? 2 : 1;
      const p = `layer${s + 1}.${i}`;
      const convs: Conv[] = [];
      const bns: BatchNorm[] = [];
      if (kind === 'basic') {
        convs.push(store.conv(`${p}.conv1`, inplanes, planes, 3, stride, false));
        bns.push(store.batchNorm(`${p}.bn1`, planes, EPSILON, MOMENTUM));
        convs.push(store.conv(`${p}.conv2`, planes, planes, 3, 1, false));
        bns.push(store.batchNorm(`${p}.bn2`, planes, EPSILON, MOMENTUM));
      } else {
        convs.push(store.conv(`${p}.conv1`, inplanes, planes, 1, 1, false));
        bns.push(store.batchNorm(`${p}.bn1`, planes, EPSILON, MOMENTUM));
        convs.push(store.conv(`${p}.conv2`, planes, planes, 3, stride, false));
        bns.push(store.batchNorm(`${p}.bn2`, planes, EPSILON, MOMENTUM));
        convs.push(store.conv(`${p}.conv3`, planes, planes * 4, 1, 1, false));
        bns.push(store.batchNorm(`${p}.bn3`, planes * 4, EPSILON, MOMENTUM));
      }
      const downsample =
        stride !== 1 || inplanes !== planes * expansion
          ? { conv: store.conv(`${p}.downsample.0`, inplanes, planes * expansion, 1, stride, false), bn: store.batchNorm(`${p}.downsample.1`, planes * expansion, EPSILON, MOMENTUM) }
          : null;
      blocks.push({ convs, bns, downsample });
      inplanes = planes * expansion;
    }
    stages.push(blocks);
  });
  const fc = store.linear('fc', 512 * expansion, options.numClasses, 'torch-default');

  const applyBlock = (x: tf.Tensor4D, b: Block, training: boolean): tf.Tensor4D => {
    let out = x;
    const last = b.convs.length - 1;
    b.convs.slice(0, last).forEach((c, i) => {
      out = applyConvBatchNorm(out, c, b.bns[i]!, training, 0);
    });
    const identity = () => (b.downsample ? applyConvBatchNorm(x, b.downsample.conv, b.downsample.bn, training) : x);
    // relu(bn(conv(out)) + identity)
    return applyConvBatchNorm(out, b.convs[last]!, b.bns[last]!, training, 0, identity);
  };
  const stageList: Stage[] = [
    {
      name: 'stem',
      channels: 64,
      apply: (x, training) => {
        const y = applyConvBatchNorm(x, conv1, bn1, training, 0);
        return stem === 'imagenet' ? tf.maxPool(y, 3, 2, 1) : y;
      },
    },
    ...stages.map((blocks, s) => ({
      name: `layer${s + 1}`,
      channels: 64 * 2 ** s * expansion,
      apply: (x: tf.Tensor4D, training: boolean) => blocks.reduce((h, b) => applyBlock(h, b, training), x),
    })),
  ];
  return createStagedClassifier({
    name: `resnet${depth}${stem === 'cifar' ? '-cifar' : ''}`,
    numClasses: options.numClasses,
    inputShape: [options.inputSize?.[0] ?? null, options.inputSize?.[1] ?? null, inputChannels],
    config: { architecture: 'resnet', depth, stem, numClasses: options.numClasses, inputChannels, inputSize: options.inputSize ?? null, seed },
    store,
    stages: stageList,
    head: fc,
  });
}

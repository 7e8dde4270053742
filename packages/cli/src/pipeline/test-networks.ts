import { createPreActResNet, createResNet, createWideResNet } from '@lico/backbones';

/** Test helper: a model as the pipeline tests drive it. */
export type TestModel = ReturnType<typeof createWideResNet>;

/**
 * Test helper: three small networks that cover every batch-norm + activation form of
 * @lico/backbones (LeakyReLU 0.1, ReLU, batch norm without activation), with their input sizes.
 */
export const BATCH_NORM_TEST_NETWORKS: { name: string; make: () => TestModel; size: number; channels: number }[] = [
  { name: 'WRN-10-1 (LeakyReLU 0.1)', make: () => createWideResNet({ preset: 'wrn-10-1', numClasses: 10, inputChannels: 1, seed: 3 }), size: 28, channels: 1 },
  { name: 'ResNet-18 CIFAR stem (ReLU, and BN without activation)', make: () => createResNet({ depth: 18, numClasses: 10, stem: 'cifar', seed: 3 }) as unknown as TestModel, size: 16, channels: 3 },
  { name: 'PreAct-ResNet-18 (ReLU)', make: () => createPreActResNet({ depth: 18, numClasses: 10, seed: 3 }) as unknown as TestModel, size: 16, channels: 3 },
];

export { createWideResNet, WIDE_RESNET_PRESETS, type WideResNetOptions, type WideResNetPreset } from './wide-resnet';
export { batchNormTraining, batchNormActTraining, batchNormActInference, fusedBatchNormAvailable, affineActAvailable, type BatchStats } from './batch-norm';
export { type BackboneClassifier } from './staged-classifier';
export { validateImages } from './validate';
export { loadTorchWeights, fetchTorchWeights, torchStateDictShapes } from './torch-import';
export { createResNet, RESNET_DEPTHS, type ResNetOptions, type ResNetDepth, type ResNetStem } from './resnet';
export { createPreActResNet, type PreActResNetOptions } from './preact-resnet';
export { saveClassifier, loadClassifier, fetchClassifier, createFromConfig, ARCHITECTURES } from './save-load';
export { wrapLayersModel, type WrapLayersModelOptions } from './wrap-layers-model';

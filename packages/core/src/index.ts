import './register-gradients';
export {
  SPECIFICATION_VERSION,
  type SpecificationVersion,
  type NamedVariables,
  type ForwardOptions,
  type ClassifierOutput,
  type ImageClassifier,
  type BiasLayer,
  type BiasTap,
  type TextEncoder,
  type PromptFeatures,
  type PromptLearner,
  type MappingNet,
  type AlignmentInputs,
  type AlignmentLoss,
  type InterpreterOptions,
  type Interpreter,
  type Batch,
  type BatchOptions,
  type Dataset,
} from './spec';
export {
  LicoError,
  isLicoError,
  type LicoErrorCode,
  ShapeError,
  DTypeError,
  NonFiniteError,
  ConfigError,
  UnknownNameError,
  FileFormatError,
  NotFoundError,
  MissingPeerError,
  NodeOnlyError,
} from './errors';
export {
  formatShape,
  assertRank,
  assertShape,
  assertDType,
  assertFinite,
  assertFiniteNumber,
  assertPositive,
  assertPositiveInteger,
  assertOneOf,
} from './assert';
export { createRng, type Rng, type RngState } from './rng';
export { writeFileAtomic, writeDirAtomic, recoverAtomicDir, type DirWriteStep, type WriteDirAtomicOptions } from './io/atomic-write';
export {
  SAFETENSORS_DTYPES,
  MAX_SAFETENSORS_HEADER,
  type SafetensorsDType,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type LoadedTensor,
  type ReadSafetensorsOptions,
  type TensorToWrite,
  parseSafetensorsHeader,
  parseSafetensorsBytes,
  readSafetensorsHeader,
  checkSafetensorsKeys,
  readSafetensors,
  decodeSafetensors,
  decodeSafetensorsData,
  halfToFloat,
  floatToHalf,
  encodeSafetensors,
  writeSafetensors,
} from './io/safetensors';
export {
  type WeightsModelJson,
  type WeightFileReader,
  type FetchWeightsOptions,
  saveVariables,
  readWeights,
  decodeWeightFiles,
  fetchWeights,
  fetchFound,
  loadVariables,
  assignNamed,
} from './io/tfjs-weights';
export { defaultCacheDir, downloadToCache, hashFile, type DownloadOptions } from './io/download';
export { createProgressBar, formatDuration, type ProgressBar, type ProgressBarOptions, type ProgressStream } from './progress';
export {
  createLicoObjective,
  createBaselineObjective,
  DEFAULT_TEMPERATURE,
  type LicoObjective,
  type LicoObjectiveOptions,
  type ComputeLossOptions,
  type LossTerms,
  type TemperatureLike,
} from './objective/lico-objective';
export { softmaxCrossEntropy, countCorrect } from './objective/cross-entropy';
export { createSgd, type Sgd, type SgdOptions, type SgdState, type ParamGrad, type WeightDecayExclude } from './optim/sgd';
export { constantSchedule, cosineSchedule, licoCosineSchedule, type Schedule, type ScheduleOptions } from './optim/schedules';
export { createEma, type Ema, type EmaOptions } from './optim/ema';
export { globalNorm, clipFactor } from './optim/clip';
export {
  createTrainer,
  NonFiniteLossError,
  type Trainer,
  type TrainerOptions,
  type FitOptions,
  type FitResult,
  type StepMetrics,
  type EpochMetrics,
  type EvaluationMetrics,
  type TrainerPosition,
} from './trainer/trainer';
export { CHECKPOINT_FORMAT, writeCheckpoint, readCheckpoint, readCheckpointState, type CheckpointState } from './trainer/checkpoint';
export { featurePositions } from './objective/feature-positions';
export { selectRows } from './objective/select-rows';
export { BATCH_NORM_ACT, BATCH_NORM_ACT_GRAD, AFFINE_ACT, AFFINE_ACT_GRAD, BATCH_NORM_FOLD, CONV_AFFINE_ACT, CONV_ADD_ACT, type BatchNormActAttrs, type AffineActAttrs, type BatchNormFoldAttrs, type ConvEpilogueAttrs } from './ops/kernel-names';
export { convAffineActGradConfig } from './ops/conv-affine-act-grad';
export { convAddActGradConfig } from './ops/conv-add-act-grad';
export { affineActGradConfig } from './ops/affine-act-grad';
export { batchNormFoldGradConfig } from './ops/batch-norm-fold-grad';
export { fusedConv2DGradConfig } from './ops/fused-conv2d-grad';
export { nodeOnly, nodeOnlyFunction } from './platform/node-only';
export { registerMissingGradients, gradientsRegisteredOnImport, LICO_GRADIENT_CONFIGS, LICO_STOCK_GRADIENT_CONFIGS } from './register-gradients';

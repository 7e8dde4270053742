/**
 * @lico/cam: post-hoc saliency interpreters (Grad-CAM family, Score-CAM, RISE, Eigen-CAM,
 * Eigen-Grad-CAM, Ablation-CAM, FullGrad, gradient, SmoothGrad, Integrated Gradients, Occlusion) for any
 * `ImageClassifier`, the metrics that judge them, and heatmap rendering.
 */
export {
  type CamOptions,
  type Upsampling,
  type TargetScore,
  NORMALIZE_EPSILON,
  minMaxNormalize,
  resizeMaps,
  predictedClasses,
} from './common';
export { activationsAndGradients, type ActivationsAndGradients } from './interpreters/activations-and-gradients';
export { gradCam, type GradCamOptions } from './interpreters/grad-cam';
export { gradCamPlusPlus, type GradCamPlusPlusOptions, type GradCamPlusPlusVariant } from './interpreters/grad-cam-plus-plus';
export { xGradCam, type XGradCamOptions } from './interpreters/x-grad-cam';
export { layerCam, type LayerCamOptions } from './interpreters/layer-cam';
export { eigenCam, type EigenCamOptions } from './interpreters/eigen-cam';
export { scoreCam, type ScoreCamOptions, type ScoreCamVariant } from './interpreters/score-cam';
export { rise, riseMasks, riseMasksFromArray, type RiseOptions, type RiseMaskSource } from './interpreters/rise';
export { hiResCam, type HiResCamOptions } from './interpreters/hi-res-cam';
export { gradCamElementWise, type GradCamElementWiseOptions } from './interpreters/grad-cam-element-wise';
export { eigenGradCam, type EigenGradCamOptions } from './interpreters/eigen-grad-cam';
export { ablationCam, ABLATION_OFFSET, type AblationCamOptions } from './interpreters/ablation-cam';
export { fullGrad, fullGradients, supportsBiasTaps, type FullGradOptions, type FullGradients, type BiasGradient } from './interpreters/full-grad';
export { type ChannelReduction, type AttributionSign, type InputAttributionOptions } from './interpreters/input-attribution';
export { gradient, type GradientOptions } from './interpreters/gradient';
export { smoothGrad, type SmoothGradOptions } from './interpreters/smooth-grad';
export {
  integratedGradients,
  integratedGradientsAttributions,
  integrationPoints,
  gaussLegendre,
  type IntegratedGradientsOptions,
  type IntegratedGradientsResult,
  type IntegrationMethod,
  type CompletenessReport,
} from './interpreters/integrated-gradients';
export { occlusion, occlusionStarts, type OcclusionOptions } from './interpreters/occlusion';
export {
  createGradCam,
  createGradCamPlusPlus,
  createXGradCam,
  createLayerCam,
  createScoreCam,
  createRise,
  createEigenCam,
  createHiResCam,
  createGradCamElementWise,
  createEigenGradCam,
  createAblationCam,
  createFullGrad,
  createGradient,
  createIntegratedGradients,
  createSmoothGrad,
  createOcclusion,
  interpreters,
  INTERPRETER_NAMES,
  createInterpreter,
  type InterpreterName,
  type InterpreterOptionsByName,
} from './interpreters/plugins';
export { gaussianBlur, blurWeights1d, type BlurOptions } from './metrics/blur';
export { saliencyRanks } from './metrics/saliency-order';
export {
  insertionDeletion,
  trapezoidAuc,
  RISE_BLUR,
  LICO_REPRODUCTION_BLUR,
  type InsertionDeletionOptions,
  type InsertionDeletionPreset,
  type InsertionDeletionResult,
  type CausalCurves,
} from './metrics/insertion-deletion';
export { averageDropIncrease, type AverageDropOptions, type AverageDropResult } from './metrics/average-drop';
export {
  pointingGame,
  energyInMask,
  type PointingGameOptions,
  type PointingGameResult,
  type EnergyInMaskResult,
} from './metrics/localization';
export { spearman, averageRanks } from './metrics/spearman';
export { sparseness, giniIndex, type SparsenessResult } from './metrics/sparseness';
export {
  relevanceMassAccuracy,
  relevanceRankAccuracy,
  type RelevanceAccuracyResult,
} from './metrics/relevance-accuracy';
export {
  road,
  roadPerturb,
  roadKeepMask,
  noisyLinearImpute,
  linearImputation,
  numpyPercentile,
  ROAD_NEIGHBOR_WEIGHTS,
  ROAD_PERCENTILES,
  ROAD_DEFAULT_NOISE,
  type RoadOptions,
  type RoadResult,
  type RoadOrder,
  type RoadPerturbOptions,
  type NoisyLinearImputeOptions,
} from './metrics/road';
export { maxSensitivity, uniformPerturbation, type MaxSensitivityOptions, type MaxSensitivityResult } from './metrics/max-sensitivity';
export { ssim, type SsimOptions } from './metrics/ssim';
export {
  cascadingRandomization,
  defaultRandomizationGroups,
  mapSimilarity,
  type MapSimilarity,
  type MapValues,
  type CascadingRandomizationOptions,
  type CascadingRandomizationResult,
  type RandomizationStep,
  type ExplainFunction,
} from './metrics/cascading-randomization';
export { colormap, COLORMAPS, type ColormapName } from './render/colormap';
export { renderOverlay, renderGrid, type OverlayOptions, type GridOptions } from './render/overlay';
export { encodePng, decodePng } from './render/png';

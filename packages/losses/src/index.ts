/** `@lico/losses`: LICO's log-domain Sinkhorn optimal-transport and manifold-matching losses. */
export { NORM_EPSILON, l2Normalize } from './l2-normalize';
export { planMarginalError, checkPlanMarginals, MARGINAL_FAILURE, SinkhornFailedError } from './marginals';
export { MAX_INPUT_MAGNITUDE } from './validate';
export { squaredEuclideanCost } from './squared-euclidean-cost';
export {
  SINKHORN_DEFAULTS,
  type SinkhornOptions,
  type SinkhornResult,
  type ResolvedSinkhornOptions,
  resolveSinkhornOptions,
  sinkhorn,
} from './sinkhorn';
export { type OtImplementation, OT_IMPLEMENTATIONS, otWasmAvailable, prepareOtKernels } from './ot-wasm';
export { type SinkhornKernelInput, type SinkhornKernelOutput, sinkhornKernel } from './sinkhorn-kernel';
export {
  type OptimalTransportLossOptions,
  type OptimalTransportLossResult,
  optimalTransportLoss,
  optimalTransportLossWithPlan,
} from './optimal-transport-loss';
export {
  type ManifoldMatchingSign,
  type ManifoldMatchingLossOptions,
  type TemperatureMode,
  MANIFOLD_MATCHING_SIGNS,
  TEMPERATURE_MODES,
  CLIP_SCALE_MAX,
  SQUARED_DISTANCE_FLOOR,
  DEFAULT_TEMPERATURE,
  pairwiseDistances,
  manifoldMatchingLoss,
} from './manifold-matching-loss';
export { type OptimalTransportPluginOptions, type OtGradient, OT_GRADIENTS, createOptimalTransportLoss, optimalTransport, withoutGradient } from './optimal-transport-plugin';
export { type ManifoldMatchingPluginOptions, createManifoldMatchingLoss, manifoldMatching } from './manifold-matching-plugin';

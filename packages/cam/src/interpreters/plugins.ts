import type * as tf from '@tensorflow/tfjs-core';
import { SPECIFICATION_VERSION, UnknownNameError, type ImageClassifier, type Interpreter } from '@lico/core';
import { ablationCam, type AblationCamOptions } from './ablation-cam';
import { eigenCam, type EigenCamOptions } from './eigen-cam';
import { eigenGradCam, type EigenGradCamOptions } from './eigen-grad-cam';
import { fullGrad, type FullGradOptions } from './full-grad';
import { gradCam, type GradCamOptions } from './grad-cam';
import { gradCamElementWise, type GradCamElementWiseOptions } from './grad-cam-element-wise';
import { gradCamPlusPlus, type GradCamPlusPlusOptions } from './grad-cam-plus-plus';
import { gradient, type GradientOptions } from './gradient';
import { hiResCam, type HiResCamOptions } from './hi-res-cam';
import { integratedGradients, type IntegratedGradientsOptions } from './integrated-gradients';
import { layerCam, type LayerCamOptions } from './layer-cam';
import { occlusion, type OcclusionOptions } from './occlusion';
import { rise, type RiseOptions } from './rise';
import { scoreCam, type ScoreCamOptions } from './score-cam';
import { smoothGrad, type SmoothGradOptions } from './smooth-grad';
import { xGradCam, type XGradCamOptions } from './x-grad-cam';

type Method<O> = (model: ImageClassifier, images: tf.Tensor4D, options?: O) => Promise<tf.Tensor3D>;

function plugin<O extends object>(name: string, method: Method<O>, defaults: O): Interpreter<O> {
  return {
    specificationVersion: SPECIFICATION_VERSION,
    name,
    explain: (model, images, options) => method(model, images, { ...defaults, ...options }),
  };
}

/** Grad-CAM as an {@link Interpreter}; `options` are defaults that each `explain` call may override. */
export function createGradCam(options: GradCamOptions = {}): Interpreter<GradCamOptions> {
  return plugin('gradCam', gradCam, options);
}
/** Grad-CAM++ as an {@link Interpreter}. */
export function createGradCamPlusPlus(options: GradCamPlusPlusOptions = {}): Interpreter<GradCamPlusPlusOptions> {
  return plugin('gradCamPlusPlus', gradCamPlusPlus, options);
}
/** XGrad-CAM as an {@link Interpreter}. */
export function createXGradCam(options: XGradCamOptions = {}): Interpreter<XGradCamOptions> {
  return plugin('xGradCam', xGradCam, options);
}
/** Layer-CAM as an {@link Interpreter}. */
export function createLayerCam(options: LayerCamOptions = {}): Interpreter<LayerCamOptions> {
  return plugin('layerCam', layerCam, options);
}
/** Score-CAM as an {@link Interpreter}. */
export function createScoreCam(options: ScoreCamOptions = {}): Interpreter<ScoreCamOptions> {
  return plugin('scoreCam', scoreCam, options);
}
/** RISE as an {@link Interpreter}. */
export function createRise(options: RiseOptions = {}): Interpreter<RiseOptions> {
  return plugin('rise', rise, options);
}
/** Eigen-CAM as an {@link Interpreter}. */
export function createEigenCam(options: EigenCamOptions = {}): Interpreter<EigenCamOptions> {
  return plugin('eigenCam', eigenCam, options);
}
/** HiResCAM as an {@link Interpreter}. */
export function createHiResCam(options: HiResCamOptions = {}): Interpreter<HiResCamOptions> {
  return plugin('hiResCam', hiResCam, options);
}
/** Grad-CAM element-wise as an {@link Interpreter}. */
export function createGradCamElementWise(options: GradCamElementWiseOptions = {}): Interpreter<GradCamElementWiseOptions> {
  return plugin('gradCamElementWise', gradCamElementWise, options);
}
/** Eigen-Grad-CAM as an {@link Interpreter}. */
export function createEigenGradCam(options: EigenGradCamOptions = {}): Interpreter<EigenGradCamOptions> {
  return plugin('eigenGradCam', eigenGradCam, options);
}
/** Ablation-CAM as an {@link Interpreter}. */
export function createAblationCam(options: AblationCamOptions = {}): Interpreter<AblationCamOptions> {
  return plugin('ablationCam', ablationCam, options);
}
/** FullGrad as an {@link Interpreter} (needs the model's optional `forwardWithBiasTaps`). */
export function createFullGrad(options: FullGradOptions = {}): Interpreter<FullGradOptions> {
  return plugin('fullGrad', fullGrad, options);
}
/** Vanilla gradient saliency as an {@link Interpreter}. */
export function createGradient(options: GradientOptions = {}): Interpreter<GradientOptions> {
  return plugin('gradient', gradient, options);
}
/** Integrated Gradients as an {@link Interpreter}. */
export function createIntegratedGradients(options: IntegratedGradientsOptions = {}): Interpreter<IntegratedGradientsOptions> {
  return plugin('integratedGradients', integratedGradients, options);
}
/** SmoothGrad as an {@link Interpreter}. */
export function createSmoothGrad(options: SmoothGradOptions = {}): Interpreter<SmoothGradOptions> {
  return plugin('smoothGrad', smoothGrad, options);
}
/** Occlusion as an {@link Interpreter}. */
export function createOcclusion(options: OcclusionOptions = {}): Interpreter<OcclusionOptions> {
  return plugin('occlusion', occlusion, options);
}

/** Options of any interpreter in {@link interpreters}, by name. */
export interface InterpreterOptionsByName {
  gradCam: GradCamOptions;
  gradCamPlusPlus: GradCamPlusPlusOptions;
  xGradCam: XGradCamOptions;
  layerCam: LayerCamOptions;
  scoreCam: ScoreCamOptions;
  rise: RiseOptions;
  eigenCam: EigenCamOptions;
  hiResCam: HiResCamOptions;
  gradCamElementWise: GradCamElementWiseOptions;
  eigenGradCam: EigenGradCamOptions;
  ablationCam: AblationCamOptions;
  fullGrad: FullGradOptions;
  gradient: GradientOptions;
  integratedGradients: IntegratedGradientsOptions;
  smoothGrad: SmoothGradOptions;
  occlusion: OcclusionOptions;
}

/** A name in the interpreter registry. */
export type InterpreterName = keyof InterpreterOptionsByName;

/** The interpreter factories by name (what the CLI's `--method` accepts). */
export const interpreters: { readonly [K in InterpreterName]: (options?: InterpreterOptionsByName[K]) => Interpreter<InterpreterOptionsByName[K]> } = {
  gradCam: createGradCam,
  gradCamPlusPlus: createGradCamPlusPlus,
  xGradCam: createXGradCam,
  layerCam: createLayerCam,
  scoreCam: createScoreCam,
  rise: createRise,
  eigenCam: createEigenCam,
  hiResCam: createHiResCam,
  gradCamElementWise: createGradCamElementWise,
  eigenGradCam: createEigenGradCam,
  ablationCam: createAblationCam,
  fullGrad: createFullGrad,
  gradient: createGradient,
  integratedGradients: createIntegratedGradients,
  smoothGrad: createSmoothGrad,
  occlusion: createOcclusion,
};

/** The registry's names. */
export const INTERPRETER_NAMES = Object.keys(interpreters) as InterpreterName[];

/** Creates an interpreter by name; unknown names throw an `UnknownNameError` listing the valid ones. */
export function createInterpreter<K extends InterpreterName>(name: K, options?: InterpreterOptionsByName[K]): Interpreter<InterpreterOptionsByName[K]>;
export function createInterpreter(name: string, options?: Record<string, unknown>): Interpreter;
export function createInterpreter(name: string, options: Record<string, unknown> = {}): Interpreter {
  if (!Object.hasOwn(interpreters, name)) throw new UnknownNameError('interpreter', name, INTERPRETER_NAMES);
  const factory = interpreters[name as InterpreterName] as (options: Record<string, unknown>) => Interpreter;
  return factory(options);
}

import type * as tf from '@tensorflow/tfjs-core';
import { SPECIFICATION_VERSION, UnknownNameError, type ImageClassifier, type Interpreter } from '@lico/core';
import { eigenCam, type EigenCamOptions } from './eigen-cam';
import { gradCam, type GradCamOptions } from './grad-cam';
import { gradCamPlusPlus, type GradCamPlusPlusOptions } from './grad-cam-plus-plus';
import { layerCam, type LayerCamOptions } from './layer-cam';
import { rise, type RiseOptions } from './rise';
import { scoreCam, type ScoreCamOptions } from './score-cam';
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

/** Options of any interpreter in {@link interpreters}, by name. */
export interface InterpreterOptionsByName {
  gradCam: GradCamOptions;
  gradCamPlusPlus: GradCamPlusPlusOptions;
  xGradCam: XGradCamOptions;
  layerCam: LayerCamOptions;
  scoreCam: ScoreCamOptions;
  rise: RiseOptions;
  eigenCam: EigenCamOptions;
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

/**
 * Parity with pytorch-grad-cam as framework-free checks (`@lico/testing/checks`), so that Node and a
 * browser page run the same comparisons: the torchvision ResNet-18 with the formula state dict of
 * `tools/reference/backbones-torch-weights.py` (a `.safetensors` file, loaded by `loadTorchWeights`
 * from a path in Node and by `fetchTorchWeights` over HTTP in a page), the input of
 * `__golden__/pytorch-grad-cam.json`, and one check per golden map.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createResNet, torchStateDictShapes, type BackboneClassifier } from '@lico/backbones';
import type { ImageClassifier } from '@lico/core';
import { checkClose, checkNoLeaks, readValues, toleranceFor, type NamedCheck } from '@lico/testing/checks';
import { formulaInputNHWC, formulaStateDict, type FormulaTensor } from '@lico/testing/torch-weights';
import { eigenCam } from '../interpreters/eigen-cam';
import { gradCam } from '../interpreters/grad-cam';
import { gradCamPlusPlus } from '../interpreters/grad-cam-plus-plus';
import { layerCam } from '../interpreters/layer-cam';
import { scoreCam } from '../interpreters/score-cam';
import { xGradCam } from '../interpreters/x-grad-cam';

/** The part of `__golden__/pytorch-grad-cam.json` these checks read. */
export interface PytorchGradCamGolden {
  readonly input_shape_nchw: [number, number, number, number];
  readonly targets: number[];
  readonly logits: number[];
  /** The goldens keep every `stride`-th value of the flat `[2,64,64]` maps. */
  readonly stride: number;
  readonly maps: Readonly<Record<string, number[]>>;
}

/** The parity model without weights (load {@link parityStateDict} into it). */
export function createParityResNet(): BackboneClassifier {
  return createResNet({ depth: 18, numClasses: 10, initialize: false });
}

/** The formula state dict of `model` (PyTorch keys and layout), for `writeSafetensors` / `encodeSafetensors`. */
export function parityStateDict(model: BackboneClassifier): Record<string, FormulaTensor> {
  return formulaStateDict(torchStateDictShapes(model));
}

/** The golden's input, NHWC. */
export function parityInput(golden: PytorchGradCamGolden): tf.Tensor4D {
  const [n, c, h, w] = golden.input_shape_nchw;
  return tf.tensor4d(formulaInputNHWC(golden.input_shape_nchw), [n, h, w, c]);
}

/**
 * Tolerances per backend (max absolute difference of maps in [0,1]; logits relative to the largest
 * |logit|). cpu and wasm: maps 1e-4 (float32 on other kernels; min–max normalisation magnifies the
 * raw CAM's errors), logits 1e-4. WebGL (float32 in shaders, SwiftShader in the tests): maps 1e-3,
 * logits 1e-4.
 */
export const PARITY_TOLERANCES = {
  cpu: { maps: 1e-4, logits: 1e-4 },
  wasm: { maps: 1e-4, logits: 1e-4 },
  webgl: { maps: 1e-3, logits: 1e-4 },
} satisfies Record<string, { maps: number; logits: number }>;

type Method = (m: ImageClassifier, x: tf.Tensor4D, o: { targets: number[]; batchSize?: number }) => Promise<tf.Tensor3D>;

/** The golden maps (layer4) these checks compare, with the interpreter that makes each. */
export const PARITY_METHODS: readonly (readonly [string, Method])[] = [
  ['gradCam', gradCam],
  ['gradCamPlusPlus', gradCamPlusPlus],
  ['xGradCam', xGradCam],
  ['layerCam', layerCam],
  // Score-CAM: 512 forward passes per image, in batches of 128 masked inputs
  ['scoreCam', (m, x, o) => scoreCam(m, x, { ...o, batchSize: 128 })],
  // pytorch-grad-cam's SVD projection with its arbitrary sign aligned by our documented rule
  ['eigenCamSignAligned', eigenCam],
];

/** `max |ours[i·stride] − expected[i]|` (the goldens keep every stride-th value). */
export async function stridedMaxAbsDiff(ours: tf.Tensor, expected: readonly number[], stride: number): Promise<number> {
  const a = await readValues(ours);
  let worst = 0;
  expected.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(a[i * stride]! - v));
  });
  return worst;
}

/**
 * The checks: the model's logits (relative error), then each map of {@link PARITY_METHODS} against
 * the golden (shape `[2,64,64]`, max |Δ| within {@link PARITY_TOLERANCES} of the active backend, no
 * tensor left behind). `model` and `x` are read when a check runs.
 */
export function pytorchGradCamChecks(golden: PytorchGradCamGolden, subject: () => { model: ImageClassifier; x: tf.Tensor4D }): NamedCheck[] {
  const logits: NamedCheck = {
    name: 'the imported model gives the same logits',
    async run() {
      const { model, x } = subject();
      const out = tf.tidy(() => model.forward(x, { training: false }).logits);
      try {
        const scale = Math.max(...golden.logits.map(Math.abs));
        const { maxAbsError } = await checkClose(out, golden.logits, { atol: toleranceFor(PARITY_TOLERANCES).logits * scale, rtol: 0 }, 'logits');
        return { logitsRelative: maxAbsError / scale };
      } finally {
        out.dispose();
      }
    },
  };
  const maps = PARITY_METHODS.map(([name, method]): NamedCheck => ({
    name: `${name} within ${PARITY_TOLERANCES.wasm.maps} (wasm, cpu) / ${PARITY_TOLERANCES.webgl.maps} (webgl)`,
    async run() {
      const { model, x } = subject();
      const tolerance = toleranceFor(PARITY_TOLERANCES).maps;
      const expected = golden.maps[name];
      if (!expected) throw new Error(`the golden has no map '${name}'`);
      let diff = Number.NaN;
      await checkNoLeaks(async () => {
        const m = await method(model, x, { targets: golden.targets });
        try {
          if (m.shape.join() !== '2,64,64') throw new Error(`${name}: shape [${m.shape.join(',')}], expected [2,64,64]`);
          diff = await stridedMaxAbsDiff(m, expected, golden.stride);
        } finally {
          m.dispose();
        }
      });
      if (!(diff <= tolerance)) throw new Error(`${name}: max |ours − pytorch-grad-cam| = ${diff} > ${tolerance}`);
      return { [name]: diff };
    },
  }));
  return [logits, ...maps];
}

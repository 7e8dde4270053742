/**
 * Parity with pytorch-grad-cam as framework-free checks (`@lico/testing/checks`), so that Node and a
 * browser page run the same comparisons: the torchvision ResNet-18 with the formula state dict of
 * `tools/reference/backbones-torch-weights.py` (a `.safetensors` file, loaded by `loadTorchWeights`
 * from a path in Node and by `fetchTorchWeights` over HTTP in a page), the input of
 * `__golden__/pytorch-grad-cam.json`, and one check per golden map.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createResNet, loadTorchWeights, torchStateDictShapes, type BackboneClassifier } from '@lico/backbones';
import { encodeSafetensors, type ImageClassifier } from '@lico/core';
import { checkClose, checkNoLeaks, readValues, toleranceFor, type NamedCheck } from '@lico/testing/checks';
import { formulaInputNHWC, formulaStateDict, type FormulaTensor } from '@lico/testing/torch-weights';
import { ablationCam } from '../interpreters/ablation-cam';
import { eigenCam } from '../interpreters/eigen-cam';
import { eigenGradCam } from '../interpreters/eigen-grad-cam';
import { gradCam } from '../interpreters/grad-cam';
import { gradCamElementWise } from '../interpreters/grad-cam-element-wise';
import { gradCamPlusPlus } from '../interpreters/grad-cam-plus-plus';
import { hiResCam } from '../interpreters/hi-res-cam';
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

/**
 * The parity model with its formula weights, imported through `loadTorchWeights` from in-memory
 * `.safetensors` bytes (`encodeSafetensors`, no file). The caller disposes it.
 */
export async function loadParityResNet(): Promise<BackboneClassifier> {
  const resnet = createParityResNet();
  await loadTorchWeights(resnet, encodeSafetensors(parityStateDict(resnet)));
  return resnet;
}

/** The golden's input, NHWC. */
export function parityInput(golden: PytorchGradCamGolden): tf.Tensor4D {
  const [n, c, h, w] = golden.input_shape_nchw;
  return tf.tensor4d(formulaInputNHWC(golden.input_shape_nchw), [n, h, w, c]);
}

/**
 * Tolerances per backend (max absolute difference of maps in [0,1]; logits relative to the largest
 * |logit|). cpu and wasm: layer4 maps 1e-4, layer3 maps 5e-4 (float32 on other kernels; min–max
 * normalisation magnifies the raw CAM's errors, more so on layer3's smaller activations), logits
 * 1e-4. WebGL (float32 in shaders; SwiftShader in the tests): ten times the map tolerances, to
 * leave room for GPUs whose shaders approximate exp/log; logits 1e-4.
 */
export const PARITY_TOLERANCES = {
  cpu: { layer4: 1e-4, layer3: 5e-4, logits: 1e-4 },
  wasm: { layer4: 1e-4, layer3: 5e-4, logits: 1e-4 },
  webgl: { layer4: 1e-3, layer3: 5e-3, logits: 1e-4 },
} satisfies Record<string, { layer4: number; layer3: number; logits: number }>;

type Method = (m: ImageClassifier, x: tf.Tensor4D, o: { targets: number[]; layer?: string }) => Promise<tf.Tensor3D>;

/** The golden maps these checks compare: golden key, the interpreter that makes it, its layer (default layer4). */
export const PARITY_METHODS: readonly (readonly [string, Method, 'layer3'?])[] = [
  ['gradCam', gradCam],
  ['gradCamPlusPlus', gradCamPlusPlus],
  ['xGradCam', xGradCam],
  ['layerCam', layerCam],
  // Score-CAM: 512 forward passes per image, in batches of 128 masked inputs (~7 s an image on wasm)
  ['scoreCam', (m, x, o) => scoreCam(m, x, { ...o, batchSize: 128 })],
  ['gradCamLayer3', gradCam, 'layer3'],
  // pytorch-grad-cam's SVD projection with its arbitrary sign aligned by our documented rule
  ['eigenCamSignAligned', eigenCam],
  // layer4 feeds a global average pool, so there HiResCAM equals Grad-CAM; layer3 tells them apart.
  ['hiResCam', hiResCam],
  ['gradCamElementWise', gradCamElementWise],
  ['hiResCamLayer3', hiResCam, 'layer3'],
  // the same sign rule on g ⊙ A (pytorch-grad-cam's EigenGradCAM projects grads * activations)
  ['eigenGradCamSignAligned', eigenGradCam],
  ['eigenGradCamSignAlignedLayer3', eigenGradCam, 'layer3'],
  // pytorch-grad-cam's AblationCAM (batch_size 32; ReLU outputs, so the ablation value is 0)
  ['ablationCam', ablationCam],
  ['ablationCamLayer3', ablationCam, 'layer3'],
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
 * the golden (shape `[2,64,64]`, max |Δ| within {@link PARITY_TOLERANCES} of the active backend and
 * the map's layer, no tensor left behind). `model` and `x` are read when a check runs.
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
  const maps = PARITY_METHODS.map(([name, method, layer]): NamedCheck => ({
    name: `${name} within ${PARITY_TOLERANCES.wasm[layer ?? 'layer4']} (wasm, cpu) / ${PARITY_TOLERANCES.webgl[layer ?? 'layer4']} (webgl)`,
    async run() {
      const { model, x } = subject();
      const tolerance = toleranceFor(PARITY_TOLERANCES)[layer ?? 'layer4'];
      const expected = golden.maps[name];
      if (!expected) throw new Error(`the golden has no map '${name}'`);
      let diff = Number.NaN;
      await checkNoLeaks(async () => {
        const m = await method(model, x, { targets: golden.targets, ...(layer ? { layer } : {}) });
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

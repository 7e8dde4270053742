// The numbers of one explanation (no DOM): class probabilities, Grad-CAM, Grad-CAM++ and RISE maps
// and Grad-CAM's insertion/deletion curves. The page and the Node reference of its test share it.
import * as tf from '@tensorflow/tfjs-core';
import { gradCam, gradCamPlusPlus, insertionDeletion, rise } from '@lico/cam';

/** Normalised input `[1,28,28,1]` from 784 grey values in 0…255. */
export function toInput(pixels, { mean, std }) {
  return tf.tensor4d(Float32Array.from(pixels, (v) => (v / 255 - mean[0]) / std[0]), [1, 28, 28, 1]);
}

/**
 * Explains `pixels` (784 grey values) with `model`; returns plain numbers and the map tensors
 * `[1,28,28]` (the caller disposes them). RISE uses `riseMasks` seeded masks.
 */
export async function explainImage(model, pixels, normalization, { riseMasks = 500 } = {}) {
  const x = toInput(pixels, normalization);
  try {
    const probsT = tf.tidy(() => tf.softmax(model.forward(x, { training: false }).logits));
    const probs = Array.from(await probsT.data());
    probsT.dispose();
    const predicted = probs.indexOf(Math.max(...probs));
    const targets = [predicted];
    const tensors = {
      gradCam: await gradCam(model, x, { targets }),
      gradCamPlusPlus: await gradCamPlusPlus(model, x, { targets }),
      rise: await rise(model, x, { targets, numMasks: riseMasks, seed: 0, batchSize: 50 }),
    };
    const curves = await insertionDeletion(model, x, tensors.gradCam, { targets, stepSize: 28 });
    const maps = {};
    for (const [name, m] of Object.entries(tensors)) maps[name] = Array.from(await m.data());
    return {
      backend: tf.getBackend(),
      probs,
      predicted,
      maps,
      tensors,
      insertion: curves.insertion.curves[0],
      deletion: curves.deletion.curves[0],
      insertionAuc: curves.insertion.auc[0],
      deletionAuc: curves.deletion.auc[0],
    };
  } finally {
    x.dispose();
  }
}

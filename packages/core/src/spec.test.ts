import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import type { AlignmentLoss, Dataset, ImageClassifier, Interpreter, PromptLearner } from './spec';
import { SPECIFICATION_VERSION } from './spec';

/** A tiny conforming classifier: one 1×1 conv, pooling, a dense head. */
function tinyClassifier(): ImageClassifier {
  const w = tf.variable(tf.ones([1, 1, 1, 2]), true, 'tiny_w');
  const head = tf.variable(tf.tensor2d([[1, 0, 0], [0, 1, 1]]), true, 'tiny_head');
  const from = (a: tf.Tensor4D) => ({ featureMap: a, embedding: tf.mean(a, [1, 2]) as tf.Tensor2D, logits: tf.matMul(tf.mean(a, [1, 2]) as tf.Tensor2D, head as tf.Tensor2D) as tf.Tensor2D });
  const to = (x: tf.Tensor4D) => tf.relu(tf.conv2d(x, w as tf.Tensor4D, 1, 'same'));
  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: 'tiny',
    numClasses: 3,
    inputShape: [null, null, 1],
    config: { architecture: 'tiny' },
    layerNames: ['conv'],
    forward: (x) => from(to(x)),
    forwardTo: (x) => to(x),
    forwardFrom: (a) => from(a),
    trainableVariables: () => [w, head],
    nonTrainableVariables: () => [],
    namedVariables: () => ({ w, head }),
    countParams: () => 2 + 6,
    dispose: () => tf.dispose([w, head]),
  };
}

describe('spec v1', () => {
  it('a tiny implementation conforms and composes', async () => {
    const model = tinyClassifier();
    const loss: AlignmentLoss = {
      specificationVersion: 'v1',
      name: 'mean-embedding',
      config: {},
      compute: (inputs) => tf.mean(inputs.imageEmbeddings),
    };
    const interpreter: Interpreter = {
      specificationVersion: 'v1',
      name: 'identity',
      explain: async (m, images) => tf.tidy(() => tf.squeeze(tf.slice(m.forwardTo(images, m.layerNames.at(-1)!, { training: false }), [0, 0, 0, 0], [-1, -1, -1, 1]), [3]) as tf.Tensor3D),
    };
    const dataset: Dataset = {
      specificationVersion: 'v1',
      name: 'two',
      size: 2,
      classNames: ['a', 'b', 'c'],
      imageShape: [2, 2, 1],
      numBatches: ({ batchSize }) => Math.ceil(2 / batchSize),
      async *batches() {
        yield { images: tf.ones([2, 2, 2, 1]) as tf.Tensor4D, labels: tf.tensor1d([0, 2], 'int32'), indices: Int32Array.from([0, 1]) };
      },
    };
    const learner: Pick<PromptLearner, 'numVariants' | 'specificationVersion'> = { specificationVersion: 'v1', numVariants: 1 };
    expect(learner.numVariants).toBe(1);
    for await (const batch of dataset.batches({ batchSize: 2, seed: 0 })) {
      const out = model.forward(batch.images, { training: false });
      expect(out.featureMap.shape).toEqual([2, 2, 2, 2]);
      expect(Array.from(out.logits.dataSync())).toEqual([1, 1, 1, 1, 1, 1]);
      const value = loss.compute({
        imageEmbeddings: out.embedding,
        textEmbeddings: out.embedding,
        imagePoints: tf.zeros([2, 2, 4]),
        textPoints: tf.zeros([2, 1, 4]),
        labels: batch.labels,
        temperature: tf.scalar(1),
      });
      expect(value.dataSync()[0]).toBe(1);
      const map = await interpreter.explain(model, batch.images);
      expect(map.shape).toEqual([2, 2, 2]);
    }
    expect(model.countParams()).toBe(8);
    model.dispose();
  });
});

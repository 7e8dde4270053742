// Stand-in WRN-28-2 (FixMatch variant) for tools/bench/train-step.mjs, used only when the built
// @lico/backbones is not available: pre-activation basic blocks, batch norm (training mode,
// ε 1e-3, hand-written backward as in @lico/backbones), LeakyReLU 0.1, convolutions with bias,
// global average pooling, linear head. Same shapes and FLOPs as the PyTorch reference.
import * as tf from '@tensorflow/tfjs-core';

// Per-channel x·scale + shift as a 1×1 depthwise convolution with bias (as @lico/backbones).
const channelAffine = (x, scale, shift) => tf.fused.depthwiseConv2d({ x, filter: tf.reshape(scale, [1, 1, x.shape[3], 1]), strides: 1, pad: 'valid', ...(shift ? { bias: shift } : {}) });

function batchNormTraining(x, gamma, beta, epsilon) {
  const [n, h, w] = x.shape;
  const count = n * h * w;
  return tf.customGrad((xIn, g, b, save) => {
    const mean = tf.mean(xIn, [0, 1, 2]);
    const centered = tf.sub(xIn, mean);
    const variance = tf.mean(tf.square(centered), [0, 1, 2]);
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const scale = tf.mul(g, invStd);
    save([centered, invStd, scale]);
    return {
      value: channelAffine(centered, scale, b),
      gradFunc: (dy, [c, inv, sc]) => {
        const dBeta = tf.sum(dy, [0, 1, 2]);
        const dyc = tf.sum(tf.mul(dy, c), [0, 1, 2]);
        const k = tf.div(tf.mul(dyc, tf.square(inv)), count);
        return [channelAffine(tf.add(dy, channelAffine(c, tf.neg(k), tf.neg(tf.div(dBeta, count)))), sc), tf.mul(dyc, inv), dBeta];
      },
    };
  })(x, gamma, beta);
}

export function createStandInWrn({ depth = 28, widen = 2, numClasses = 10, seed = 0 } = {}) {
  let s = seed;
  const vars = [];
  const conv = (cin, cout, k, stride) => {
    const weight = tf.variable(tf.randomNormal([k, k, cin, cout], 0, Math.sqrt(2 / (k * k * cout)), 'float32', ++s));
    const bias = tf.variable(tf.zeros([cout]));
    vars.push(weight, bias);
    return (x) => tf.fused.conv2d({ x, filter: weight, bias, strides: stride, pad: k === 1 ? 'valid' : 'same' });
  };
  const bn = (c) => {
    const gamma = tf.variable(tf.ones([c]));
    const beta = tf.variable(tf.zeros([c]));
    vars.push(gamma, beta);
    return (x) => batchNormTraining(x, gamma, beta, 1e-3);
  };
  const act = (x) => tf.leakyRelu(x, 0.1);
  const n = (depth - 4) / 6;
  const ch = [16, 16 * widen, 32 * widen, 64 * widen];
  const stem = conv(3, ch[0], 3, 1);
  const blocks = [];
  for (let g = 0; g < 3; g++) {
    for (let i = 0; i < n; i++) {
      const cin = i === 0 ? ch[g] : ch[g + 1];
      const cout = ch[g + 1];
      const stride = i === 0 && g > 0 ? 2 : 1;
      const b = { bn1: bn(cin), conv1: conv(cin, cout, 3, stride), bn2: bn(cout), conv2: conv(cout, cout, 3, 1), shortcut: cin === cout ? null : conv(cin, cout, 1, stride), abr: g === 0 };
      blocks.push(b);
    }
  }
  const bnFinal = bn(ch[3]);
  const fcW = tf.variable(tf.randomNormal([ch[3], numClasses], 0, Math.sqrt(2 / (ch[3] + numClasses)), 'float32', ++s));
  const fcB = tf.variable(tf.zeros([numClasses]));
  vars.push(fcW, fcB);
  const block = (x, b) => {
    let input = x;
    let out;
    if (b.shortcut && b.abr) {
      input = act(b.bn1(x));
      out = input;
    } else if (b.shortcut) out = x;
    else out = act(b.bn1(x));
    out = b.conv2(act(b.bn2(b.conv1(out))));
    return tf.add(b.shortcut ? b.shortcut(input) : input, out);
  };
  return {
    name: `stand-in wrn-${depth}-${widen}`,
    trainableVariables: () => vars,
    forward(x) {
      const features = act(bnFinal(blocks.reduce(block, stem(x))));
      return { logits: tf.add(tf.matMul(tf.mean(features, [1, 2]), fcW), fcB) };
    },
    dispose: () => tf.dispose(vars),
  };
}

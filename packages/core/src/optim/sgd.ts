import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors';
import type { NamedVariables } from '../spec';

/** Which parameters weight decay skips. */
export type WeightDecayExclude = 'none' | 'bias-and-norm' | ((name: string, variable: Variable) => boolean);

/** Options of {@link createSgd}. */
export interface SgdOptions {
  /** Momentum (default 0.9). */
  readonly momentum?: number;
  /** Nesterov momentum (default false), as PyTorch's `nesterov`. */
  readonly nesterov?: boolean;
  /** Dampening (default 0), as PyTorch's. */
  readonly dampening?: number;
  /** Weight decay (default 1e-4; the authors' script uses 5e-4). */
  readonly weightDecay?: number;
  /**
   * `false` (default): L2 as PyTorch's `SGD` — `wd·θ` is added to the gradient before momentum.
   * `true`: decoupled (SGDW) — `θ ← θ − lr·wd·θ` separately, momentum sees the plain gradient.
   */
  readonly decoupled?: boolean;
  /**
   * Parameters without weight decay: `'none'` (default: decay everything, as the authors' script),
   * `'bias-and-norm'` (skip every parameter of rank ≤ 1: biases, batch-norm γ/β, the temperature),
   * or a predicate on (name, variable) returning true to skip.
   */
  readonly weightDecayExclude?: WeightDecayExclude;
}

/** A parameter and its gradient for one step. */
export interface ParamGrad {
  readonly name: string;
  readonly variable: Variable;
  readonly grad: Tensor;
}

/** SGD with momentum and weight decay, written to match `torch.optim.SGD` step for step. */
export interface Sgd {
  /** Every choice, JSON-serialisable. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Applies one update with learning rate `lr` (momentum buffers are created on first use, as zeros). */
  step(params: readonly ParamGrad[], lr: number): void;
  /** Momentum buffers by parameter name, for checkpoints (`<name>/momentum`). */
  namedVariables(): NamedVariables;
  /** Creates (zero) buffers for `params` now so a checkpoint can be loaded into them. */
  init(params: readonly { name: string; variable: Variable }[]): void;
  /** Which buffers have taken their first step (PyTorch starts a buffer at `d`, not `μ·0 + (1−dampening)·d`). */
  getState(): SgdState;
  /** Restores {@link Sgd.getState}. */
  setState(state: SgdState): void;
  dispose(): void;
}

/** Serialisable optimiser state besides the buffers. */
export interface SgdState {
  readonly started: readonly string[];
}

/**
 * Creates an SGD optimiser. With the defaults the update of each parameter `θ` with gradient `g`
 * is PyTorch's: `d = g + wd·θ; b = μ·b + (1−dampening)·d; θ ← θ − lr·b`, with `b = d` on a
 * buffer's first step (as PyTorch).
 */
export function createSgd(options: SgdOptions = {}): Sgd {
  const momentum = options.momentum ?? 0.9;
  const dampening = options.dampening ?? 0;
  const weightDecay = options.weightDecay ?? 1e-4;
  const nesterov = options.nesterov ?? false;
  const decoupled = options.decoupled ?? false;
  const exclude = options.weightDecayExclude ?? 'none';
  for (const [k, v] of [['momentum', momentum], ['dampening', dampening], ['weightDecay', weightDecay]] as const) {
    if (!Number.isFinite(v) || v < 0) throw new ConfigError(`SGD ${k} must be a finite number >= 0, got ${v}.`);
  }
  if (nesterov && (momentum <= 0 || dampening !== 0)) throw new ConfigError('Nesterov momentum requires momentum > 0 and dampening 0 (as PyTorch).');
  if (exclude !== 'none' && exclude !== 'bias-and-norm' && typeof exclude !== 'function') {
    throw new ConfigError(`weightDecayExclude must be 'none', 'bias-and-norm' or a function, got '${String(exclude)}'.`);
  }
  const buffers = new Map<string, Variable>();
  const started = new Set<string>();
  const decays = (name: string, v: Variable): boolean => {
    if (weightDecay === 0) return false;
    if (exclude === 'none') return true;
    if (exclude === 'bias-and-norm') return v.rank > 1;
    return !exclude(name, v);
  };
  const bufferFor = (name: string, v: Variable): Variable => {
    let b = buffers.get(name);
    if (!b) {
      b = tf.tidy(() => tf.variable(tf.zerosLike(v), false, `sgd-momentum-${name}-${Math.random().toString(36).slice(2)}`));
      buffers.set(name, b);
    }
    return b;
  };
  return {
    config: {
      name: 'sgd',
      momentum,
      dampening,
      nesterov,
      weightDecay,
      weightDecayMode: decoupled ? 'decoupled' : 'l2-coupled (as torch.optim.SGD)',
      weightDecayExclude: typeof exclude === 'function' ? 'custom' : exclude,
    },
    init(params) {
      if (momentum === 0) return;
      for (const p of params) bufferFor(p.name, p.variable);
    },
    step(params, lr) {
      if (!Number.isFinite(lr)) throw new ConfigError(`learning rate must be finite, got ${lr}.`);
      for (const { name, variable, grad } of params) {
        const wd = decays(name, variable);
        tf.tidy(() => {
          let d: Tensor = grad;
          if (wd && !decoupled) d = tf.add(d, tf.mul(variable, weightDecay));
          if (momentum !== 0) {
            const b = bufferFor(name, variable);
            const first = !started.has(name);
            started.add(name);
            const next = first ? tf.clone(d) : dampening === 0 ? tf.add(tf.mul(b, momentum), d) : tf.add(tf.mul(b, momentum), tf.mul(d, 1 - dampening));
            b.assign(next);
            d = nesterov ? tf.add(d, tf.mul(next, momentum)) : next;
          }
          let theta: Tensor = variable;
          if (wd && decoupled) theta = tf.mul(variable, 1 - lr * weightDecay);
          variable.assign(tf.sub(theta, tf.mul(d, lr)));
        });
      }
    },
    getState: () => ({ started: [...started].sort() }),
    setState(state) {
      started.clear();
      for (const n of state.started) started.add(n);
    },
    namedVariables() {
      const out: Record<string, Variable> = {};
      for (const [name, b] of buffers) out[`${name}/momentum`] = b;
      return out;
    },
    dispose() {
      for (const b of buffers.values()) b.dispose();
      buffers.clear();
      started.clear();
    },
  };
}

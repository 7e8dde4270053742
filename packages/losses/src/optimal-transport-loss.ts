import * as tf from '@tensorflow/tfjs-core';
import { assertFinite, assertRank, formatShape, NonFiniteError, ShapeError } from '@lico/core';
import { NORM_EPSILON } from './l2-normalize';
import { normalizedSquaredCost } from './normalized-squared-cost';
import { detachedOptimalTransportLoss } from './detached-ot-loss';
import { resolveSinkhornOptions, sinkhorn, type SinkhornOptions } from './sinkhorn';
import { checkSameDim } from './validate';
import { checkPlanMarginals } from './marginals';

/** Options of {@link optimalTransportLoss}: the Sinkhorn options plus `differentiablePlan`. */
export interface OptimalTransportLossOptions extends Omit<SinkhornOptions, 'differentiable'> {
  /** Back-propagate through the Sinkhorn iterations (default false: the plan is a constant). */
  readonly differentiablePlan?: boolean;
  /**
   * What to do with a plan whose marginals are off by more than {@link MARGINAL_FAILURE}:
   * `'throw'` (default) a `SinkhornFailedError`; `'ignore'` use it anyway (diagnostics only).
   */
  readonly onUnconverged?: 'throw' | 'ignore';
}

function checkPoints(imagePoints: tf.Tensor3D, textPoints: tf.Tensor3D): void {
  assertRank(imagePoints, 3, 'imagePoints');
  assertRank(textPoints, 3, 'textPoints');
  checkSameDim(imagePoints, 0, 'imagePoints', textPoints, 0, 'textPoints', 'batch size N');
  checkSameDim(imagePoints, 2, 'imagePoints', textPoints, 2, 'textPoints', 'point dimension D (spatial positions)');
  if (imagePoints.size === 0 || textPoints.size === 0) {
    throw new ShapeError(`optimal transport needs at least one sample and one point on each side, got imagePoints ${formatShape(imagePoints.shape)} and textPoints ${formatShape(textPoints.shape)}.`);
  }
}

/** Result of {@link optimalTransportLossWithPlan}. */
export interface OptimalTransportLossResult {
  /** The loss, a scalar. */
  readonly loss: tf.Scalar;
  /** The transport plan `[N,P,Q]`. */
  readonly plan: tf.Tensor3D;
  /** Sinkhorn iterations run. */
  readonly iterations: number;
}

/**
 * LICO's optimal-transport loss with the plan it used. See {@link optimalTransportLoss}. The
 * caller owns (and must dispose) both returned tensors.
 */
export function optimalTransportLossWithPlan(
  imagePoints: tf.Tensor3D,
  textPoints: tf.Tensor3D,
  options: OptimalTransportLossOptions = {},
): OptimalTransportLossResult {
  checkPoints(imagePoints, textPoints);
  const { differentiablePlan, onUnconverged, ...sinkhornOptions } = options;
  const checkMarginals = onUnconverged !== 'ignore';
  if (differentiablePlan !== true) {
    const resolved = resolveSinkhornOptions(sinkhornOptions);
    const out = detachedOptimalTransportLoss(imagePoints, textPoints, resolved, sinkhornOptions, checkMarginals);
    return { loss: out.loss, plan: tf.tensor3d(out.plan, [imagePoints.shape[0], imagePoints.shape[1], textPoints.shape[1]]), iterations: out.iterations };
  }
  let iterations = 0;
  let plan: tf.Tensor3D | undefined;
  const loss = tf.tidy(() => {
    const cost = normalizedSquaredCost(imagePoints, textPoints, NORM_EPSILON);
    let solved;
    try {
      solved = sinkhorn(cost, { ...sinkhornOptions, differentiable: differentiablePlan === true });
    } catch (error) {
      // A non-finite input makes the cost non-finite; name the input (reads it only on this path).
      if (error instanceof NonFiniteError && error.message.startsWith('cost ')) {
        assertFinite(imagePoints, 'imagePoints');
        assertFinite(textPoints, 'textPoints');
        throw new NonFiniteError(
          'imagePoints/textPoints are finite but their cost is not: a squared norm overflows float32 (values above ~1.8e19); scale the inputs down.',
        );
      }
      throw error;
    }
    iterations = solved.iterations;
    if (checkMarginals) checkPlanMarginals(solved.marginalError, solved.iterations, resolveSinkhornOptions(sinkhornOptions).epsilon, [4]);
    plan = tf.keep(solved.plan);
    return tf.div(tf.sum(tf.mul(solved.plan, cost)), imagePoints.shape[0]) as tf.Scalar;
  });
  return { loss, plan: plan!, iterations };
}

/**
 * LICO's optimal-transport loss `L_OT = (1/N) Σ_i Σ_ab P_i[a,b] C_i[a,b]`: image points
 * `[N,P,D]` and text points `[N,Q,D]` are L2-normalised along `D` (a zero-norm point stays at the
 * origin, so its cost to every unit point is 1), `C` is the squared Euclidean cost and `P` the
 * log-domain Sinkhorn plan with uniform (or given) marginals. The plan is a constant unless
 * `differentiablePlan` is true; gradients flow through `C` into both inputs. NaN/Inf inputs throw
 * a `NonFiniteError` naming the argument; shape mismatches throw a `ShapeError` printing shapes; a
 * plan whose marginals are off by more than 25 % (costs far from the scale of ε) throws a
 * `SinkhornFailedError` unless `onUnconverged: 'ignore'`.
 */
export function optimalTransportLoss(
  imagePoints: tf.Tensor3D,
  textPoints: tf.Tensor3D,
  options: OptimalTransportLossOptions = {},
): tf.Scalar {
  if (options.differentiablePlan !== true) {
    checkPoints(imagePoints, textPoints);
    const { differentiablePlan: _unused, onUnconverged, ...sinkhornOptions } = options;
    return detachedOptimalTransportLoss(imagePoints, textPoints, resolveSinkhornOptions(sinkhornOptions), sinkhornOptions, onUnconverged !== 'ignore').loss;
  }
  const { loss, plan } = optimalTransportLossWithPlan(imagePoints, textPoints, options);
  plan.dispose();
  return loss;
}

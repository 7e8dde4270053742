import * as tf from '@tensorflow/tfjs-core';
import { l2Normalize } from './l2-normalize';
import { sinkhorn, type SinkhornOptions } from './sinkhorn';
import { squaredEuclideanCost } from './squared-euclidean-cost';
import { checkInput, checkSameDim } from './validate';

/** Options of {@link optimalTransportLoss}: the Sinkhorn options plus `differentiablePlan`. */
export interface OptimalTransportLossOptions extends Omit<SinkhornOptions, 'differentiable'> {
  /** Back-propagate through the Sinkhorn iterations (default false: the plan is a constant). */
  readonly differentiablePlan?: boolean;
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
  checkInput(imagePoints, 3, 'imagePoints');
  checkInput(textPoints, 3, 'textPoints');
  checkSameDim(imagePoints, 0, 'imagePoints', textPoints, 0, 'textPoints', 'batch size N');
  checkSameDim(imagePoints, 2, 'imagePoints', textPoints, 2, 'textPoints', 'point dimension D (spatial positions)');
  const { differentiablePlan, ...sinkhornOptions } = options;
  let iterations = 0;
  let plan: tf.Tensor3D | undefined;
  const loss = tf.tidy(() => {
    const cost = squaredEuclideanCost(l2Normalize(imagePoints), l2Normalize(textPoints));
    const solved = sinkhorn(cost, { ...sinkhornOptions, differentiable: differentiablePlan === true });
    iterations = solved.iterations;
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
 * a `NonFiniteError` naming the argument; shape mismatches throw a `ShapeError` printing shapes.
 */
export function optimalTransportLoss(
  imagePoints: tf.Tensor3D,
  textPoints: tf.Tensor3D,
  options: OptimalTransportLossOptions = {},
): tf.Scalar {
  const { loss, plan } = optimalTransportLossWithPlan(imagePoints, textPoints, options);
  plan.dispose();
  return loss;
}

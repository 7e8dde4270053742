import { NonFiniteError } from '@lico/core';

/**
 * Largest relative error of a plan's marginals: `max |Σ_b P[a,b] − μ_a| / μ_a` over rows and
 * `max |Σ_a P[a,b] − ν_b| / ν_b` over columns, over the batch (`plan` `[N,P,Q]` row-major, `logMu`
 * `[N,P]`, `logNu` `[N,Q]`). 0 for an exact plan; NaN if the plan holds NaN.
 */
export function planMarginalError(plan: ArrayLike<number>, n: number, p: number, q: number, logMu: ArrayLike<number>, logNu: ArrayLike<number>): number {
  let worst = 0;
  const cols = new Float64Array(q);
  for (let k = 0; k < n; k++) {
    cols.fill(0);
    for (let a = 0; a < p; a++) {
      let row = 0;
      const o = (k * p + a) * q;
      for (let b = 0; b < q; b++) {
        const v = plan[o + b]!;
        row += v;
        cols[b]! += v;
      }
      const mu = Math.exp(logMu[k * p + a]!);
      const e = Math.abs(row - mu) / mu;
      if (!(e <= worst)) worst = e; // also takes NaN
    }
    for (let b = 0; b < q; b++) {
      const nu = Math.exp(logNu[k * q + b]!);
      const e = Math.abs(cols[b]! - nu) / nu;
      if (!(e <= worst)) worst = e;
    }
  }
  return worst;
}

/**
 * A relative marginal error above this means the plan is wrong, not just loosely converged (the
 * spec's stopping rule leaves errors of a few per cent): {@link SinkhornFailedError}.
 */
export const MARGINAL_FAILURE = 0.25;

/** Sinkhorn returned a plan whose marginals are far from the requested ones (it overflowed or did not converge). */
export class SinkhornFailedError extends NonFiniteError {
  /** Largest relative error of a row or column sum. */
  readonly marginalError: number;
  readonly iterations: number;
  constructor(marginalError: number, iterations: number, epsilon: number, maxCost: number) {
    super(
      `Sinkhorn's plan is wrong: a row or column sum is off by ${Number.isFinite(marginalError) ? `${(100 * marginalError).toPrecision(3)} %` : marginalError} of its marginal after ${iterations} iterations ` +
        `(epsilon ${epsilon}, costs up to ${maxCost.toPrecision(3)}, i.e. cost/epsilon up to ${(maxCost / epsilon).toPrecision(3)}). ` +
        'Bring the costs to a scale near epsilon (normalise the points), or raise epsilon or maxIterations.',
    );
    this.marginalError = marginalError;
    this.iterations = iterations;
  }
}

/** Throws a {@link SinkhornFailedError} when the plan's marginals are off by more than {@link MARGINAL_FAILURE}. */
export function checkPlanMarginals(marginalError: number, iterations: number, epsilon: number, cost: ArrayLike<number>): void {
  if (marginalError <= MARGINAL_FAILURE) return;
  let maxCost = 0;
  for (let i = 0; i < cost.length; i++) maxCost = Math.max(maxCost, Math.abs(cost[i]!));
  throw new SinkhornFailedError(marginalError, iterations, epsilon, maxCost);
}

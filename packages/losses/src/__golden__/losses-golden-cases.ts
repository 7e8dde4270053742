import { describeChecks } from '@lico/testing';
import { manifoldMatchingGoldenChecks, optimalTransportGoldenChecks } from './losses-golden-checks';
import { lossesGolden } from './losses-golden';

/** A tfjs backend the golden cases run on; the calling test file sets it in `beforeAll`. */
export type GoldenBackend = 'cpu' | 'wasm';

/**
 * Registers one vitest case per optimal-transport golden of `losses.json` (PyTorch float64): the
 * checks of `losses-golden-checks.ts` (the ones the browser page runs on WebGL too), each first
 * checking that `backend` is active.
 */
export function describeOptimalTransportGoldens(backend: GoldenBackend): void {
  describeChecks(`optimalTransportLoss: goldens (PyTorch float64) on ${backend}`, backend, () => optimalTransportGoldenChecks(lossesGolden.optimalTransport));
}

/** The same for the manifold-matching goldens. */
export function describeManifoldMatchingGoldens(backend: GoldenBackend): void {
  describeChecks(`manifoldMatchingLoss: goldens (PyTorch float64) on ${backend}`, backend, () => manifoldMatchingGoldenChecks(lossesGolden.manifoldMatching));
}

import { loadGolden } from '@lico/testing';
import type { ManifoldMatchingSign } from '../manifold-matching-loss';

/** One optimal-transport case of `__golden__/losses.json` (tools/reference/losses-golden.py). */
export interface OtGoldenCase {
  shape: [number, number, number, number];
  epsilon: number;
  maxIterations: number;
  tolerance: number;
  differentiablePlan: boolean;
  imagePoints: number[];
  textPoints: number[];
  cost: number[];
  plan: number[];
  loss: number;
  iterations: number;
  gradImagePoints: number[];
  gradTextPoints: number[];
  sourceWeights?: number[];
  targetWeights?: number[];
}

/** One manifold-matching case of `__golden__/losses.json`. */
export interface MmGoldenCase {
  shape: [number, number, number];
  temperature: number;
  sign: ManifoldMatchingSign;
  imageEmbeddings: number[];
  textEmbeddings: number[];
  loss: number;
  gradImageEmbeddings: number[];
  gradTextEmbeddings: number[];
  gradTemperature: number;
}

/** The PyTorch float64 goldens of both losses, typed (tests only). */
export const lossesGolden = loadGolden<{ optimalTransport: OtGoldenCase[]; manifoldMatching: MmGoldenCase[] }>(new URL('./losses.json', import.meta.url));

/**
 * Convergence sweeps on the exact model: every solver's final x0 against a very fine
 * reference solution of the same guided ODE, as the step count doubles. Shared by the
 * tests, docs/solvers.md's generator and the engine benchmark.
 */
import path from 'node:path';
import type { GridSpacing } from '../diffusersGrid';
import { TorchGenerator, torchRandn } from '../noise/torchRandn';
import { sample } from '../sampler';
import { DEFAULT_SCHEDULER_CONFIG, alphasCumprod } from '../schedule';
import { closedFormClassifier, closedFormPredictor } from './closedForm';
import { type GaussianMixture, loadGaussianMixture } from './gaussianMixture';
import { solveGuidedOdeReference } from './referenceOde';

export interface Problem {
  gmm: GaussianMixture;
  rows: number;
  labels: number[];
  classifierScale: number;
  /** x_T, rows * D. */
  initial: Float32Array;
  reference: Float64Array;
}

export function exactModelDir(name: 'gmm-3x8x8' | 'gmm-3x32x32', root: string): string {
  return path.join(root, 'resources', 'exact', name);
}

/** `rows` samples from seed `seed`, labels cycling through the classes. */
export function makeProblem(gmm: GaussianMixture, classifierScale: number, rows = 4, seed = 0): Problem {
  const initial = torchRandn(seed, [rows, gmm.channels, gmm.height, gmm.width]);
  const labels = Array.from({ length: rows }, (_, i) => i % gmm.numComponents);
  const reference = solveGuidedOdeReference(gmm, initial, { classifierScale, labels });
  return { gmm, rows, labels, classifierScale, initial, reference };
}

export function loadProblem(dir: string, classifierScale: number, rows = 4, seed = 0): Problem {
  return makeProblem(loadGaussianMixture(dir), classifierScale, rows, seed);
}

export interface RunOutcome {
  /** Root-mean-square error of the final x0 against the reference. */
  error: number;
  nfe: number;
  guidanceEvaluations: number;
  classifierCalls: number;
  wallMs: number;
  x: Float32Array;
}

const schedule = alphasCumprod(DEFAULT_SCHEDULER_CONFIG);

/** One run of `solver` on the problem; `spacing` defaults to the model's (linspace), ancestral noise from seed 0. */
export async function runOnProblem(problem: Problem, solver: string, steps: number, spacing?: GridSpacing): Promise<RunOutcome> {
  const { gmm } = problem;
  const result = await sample({
    predictor: closedFormPredictor(gmm, schedule),
    classifier: closedFormClassifier(gmm, schedule),
    scheduler: DEFAULT_SCHEDULER_CONFIG,
    shape: { channels: gmm.channels, height: gmm.height, width: gmm.width },
    rows: problem.rows,
    solver,
    steps,
    spacing,
    noise: new TorchGenerator(0),
    guidance: problem.classifierScale > 0 ? { classifier: { scale: problem.classifierScale, labels: problem.labels } } : {},
    initial: Float32Array.from(problem.initial),
  });
  let sum = 0;
  for (let i = 0; i < result.x.length; i++) sum += (result.x[i] - problem.reference[i]) ** 2;
  return {
    error: Math.sqrt(sum / result.x.length),
    nfe: result.cost.nfe,
    guidanceEvaluations: result.cost.guidanceEvaluations,
    classifierCalls: result.cost.classifierCalls,
    wallMs: result.wallMs,
    x: result.x,
  };
}

/** Observed order between step counts n and 2n: log2(err(n) / err(2n)). */
export const observedOrder = (coarse: number, fine: number): number => Math.log2(coarse / fine);

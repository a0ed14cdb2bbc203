/**
 * The exact Gaussian-mixture model behind the engine's NoisePredictor / ClassifierGradient
 * interfaces, evaluated in closed form (float64) at the schedule's abar[timestep]. Lets the
 * solver tests run without ONNX; a separate test shows the ONNX folders agree with it. Like the
 * exact model's ONNX graphs, it takes a training timestep: a fractional one (the Euler family's
 * grids) is rounded half to even.
 */
import type { ClassifierGradient, NoisePredictor } from '../model';
import { roundHalfEven } from '../spacing';
import type { GaussianMixture } from './gaussianMixture';

const trainingStep = (timestep: number) => (Number.isInteger(timestep) ? timestep : roundHalfEven(timestep));

export function closedFormPredictor(gmm: GaussianMixture, alphasCumprod: Float64Array): NoisePredictor {
  return {
    sampleSize: gmm.dim,
    supportsUnconditional: false,
    async predict(x, rows, timestep, branches, out) {
      if (branches.length !== 1 || branches[0] !== 'cond') throw new Error('the exact model has no unconditional branch');
      gmm.eps(x.subarray(0, rows * gmm.dim), alphasCumprod[trainingStep(timestep)], out.subarray(0, rows * gmm.dim));
    },
  };
}

export function closedFormClassifier(gmm: GaussianMixture, alphasCumprod: Float64Array): ClassifierGradient {
  return {
    numClasses: gmm.numComponents,
    async gradLogProb(x, rows, timestep, labels, out) {
      gmm.classGrad(x.subarray(0, rows * gmm.dim), alphasCumprod[trainingStep(timestep)], labels, out.subarray(0, rows * gmm.dim));
    },
  };
}

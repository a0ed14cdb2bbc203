/**
 * DDIM (Song et al. 2021, eq. 12; docs/samplers.md §6.1). With eta = 0 it is exactly Euler on
 * d xb/d sb = f + g, with the guidance folded into eps. With eta > 0 (eq. 16) each step keeps
 * part of the noise and draws the rest afresh, as diffusers' DDIMScheduler.step does:
 *   sigma_t = eta sqrt((1 - abar_prev)/(1 - abar) (1 - abar/abar_prev))
 *   x_prev  = sqrt(abar_prev) x0 + sqrt(1 - abar_prev - sigma_t^2) e + sigma_t z,  z ~ N(0, I)
 * with z from the run's generator, one draw every step (the last too, where sigma_t = 0).
 */
import type { PlannedStep } from '../plan';
import type { SolverContext } from './types';

/** x0 = x/sqrt(abar) - sb*e; x_prev = sqrt(abar_prev)*x0 + sqrt(1-abar_prev)*e. */
export function ddimStep(x: Float32Array, e: Float32Array, step: PlannedStep, x0Out: Float32Array, xOut: Float32Array): void {
  const invA = 1 / step.sqrtAbar;
  const { sb, sqrtAbarPrev, sqrtOneMinusAbarPrev } = step;
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i] * invA - sb * e[i];
    x0Out[i] = x0;
    xOut[i] = sqrtAbarPrev * x0 + sqrtOneMinusAbarPrev * e[i];
  }
}

/** DDIM's sigma_t (Song et al. 2021, eq. 16) for a step from abar to abar_prev. */
export function ddimSigma(step: PlannedStep, eta: number): number {
  const abar = step.point.abar;
  const variance = ((1 - step.abarPrev) / (1 - abar)) * (1 - abar / step.abarPrev);
  return eta * Math.sqrt(Math.max(variance, 0));
}

/** The stochastic step: the eta = 0 step's x0 and direction, the direction shortened by sigma_t^2, plus sigma_t z. */
export function ddimEtaStep(x: Float32Array, e: Float32Array, step: PlannedStep, sigmaT: number, z: Float32Array, x0Out: Float32Array, xOut: Float32Array): void {
  const invA = 1 / step.sqrtAbar;
  const { sb, sqrtAbarPrev } = step;
  const direction = Math.sqrt(Math.max(1 - step.abarPrev - sigmaT * sigmaT, 0));
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i] * invA - sb * e[i];
    x0Out[i] = x0;
    xOut[i] = sqrtAbarPrev * x0 + direction * e[i] + sigmaT * z[i];
  }
}

export async function sampleDdim(ctx: SolverContext): Promise<void> {
  const { x, model, eta } = ctx;
  const e = new Float32Array(model.size);
  const x0 = new Float32Array(model.size);
  for (const step of ctx.plan.steps) {
    await model.guided(x, step.point, e);
    if (eta > 0) ddimEtaStep(x, e, step, ddimSigma(step, eta), ctx.drawNoise(), x0, x);
    else ddimStep(x, e, step, x0, x);
    await ctx.endStep(step, x0);
  }
}

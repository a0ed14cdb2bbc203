/**
 * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", Algorithm 2), multistep, data
 * prediction, midpoint form as in the reference implementation and diffusers:
 *   x_t = (sigma_t/sigma_s) x - alpha_t (e^{-h} - 1) D0 - 0.5 alpha_t (e^{-h} - 1) D1,
 *   h = lambda_t - lambda_s, r = h_prev/h, D0 = x0_s, D1 = (x0_s - x0_prev)/r,
 * with lambda = log(alpha/sigma). First step first order (warm-up); the last step first
 * order when it ends at sigma = 0 or the run is shorter than 15 steps (lower_order_final).
 * x0 comes from the guided eps.
 */
import { predictX0 } from '../prediction';
import type { PlannedStep } from '../plan';
import type { SolverContext } from './types';

/** One DPM-Solver++ update; x0Prev = null for first order. */
export function dpmSolverPPStep(x: Float32Array, x0: Float32Array, x0Prev: Float32Array | null, hPrev: number, step: PlannedStep, out: Float32Array): void {
  const alphaT = step.sqrtAbarPrev;
  const sigmaT = step.sqrtOneMinusAbarPrev;
  if (sigmaT === 0) {
    // lambda_t = infinity: e^{-h} = 0 and sigma_t/sigma_s = 0, so x_t = alpha_t * x0.
    for (let i = 0; i < x.length; i++) out[i] = alphaT * x0[i];
    return;
  }
  const h = step.lambdaPrev - step.lambda;
  const ratio = sigmaT / step.sqrtOneMinusAbar;
  const phi = Math.expm1(-h);
  if (x0Prev === null) {
    for (let i = 0; i < x.length; i++) out[i] = ratio * x[i] - alphaT * phi * x0[i];
    return;
  }
  const r = hPrev / h;
  const c = (0.5 * alphaT * phi) / r;
  for (let i = 0; i < x.length; i++) out[i] = ratio * x[i] - alphaT * phi * x0[i] - c * (x0[i] - x0Prev[i]);
}

export async function sampleDpmSolverPP2M(ctx: SolverContext): Promise<void> {
  const { x, model, plan } = ctx;
  const n = model.size;
  const e = new Float32Array(n);
  let x0 = new Float32Array(n);
  let x0Prev = new Float32Array(n);
  const lowerOrderFinal = plan.steps.length < 15;
  let hPrev = 0;
  for (const step of plan.steps) {
    await model.guided(x, step.point, e);
    predictX0(x, e, step.point.abar, x0);
    const firstOrder = step.isFirst || (step.isLast && (lowerOrderFinal || step.sqrtOneMinusAbarPrev === 0));
    dpmSolverPPStep(x, x0, firstOrder ? null : x0Prev, hPrev, step, x);
    await ctx.endStep(step, x0);
    hPrev = step.lambdaPrev - step.lambda;
    [x0, x0Prev] = [x0Prev, x0];
  }
}

/**
 * Heun's second-order method in sigma (Karras et al. 2022, Algorithm 1 without churn;
 * docs/samplers.md §6.10), as diffusers' HeunDiscreteScheduler runs it: from sigma_i an Euler
 * stage to sigma_{i+1}, a second network call there, and the step redone with the mean of the
 * two derivatives,
 *   d1 = (latents - x0(latents, sigma_i))/sigma_i,   latents' = latents + (sigma_{i+1} - sigma_i) d1
 *   d2 = (latents' - x0(latents', sigma_{i+1}))/sigma_{i+1}
 *   latents_{i+1} = latents + (sigma_{i+1} - sigma_i)(d1 + d2)/2
 * except on the last step, to sigma = 0, which is the Euler stage alone: 2N - 1 network calls.
 * The second call is at the next grid point (the timestep diffusers repeats in its list), with
 * the input latents' / (sigma_{i+1}^2 + 1)^0.5. State handling as in euler.ts.
 */
import { f32 } from '../float32';
import { SigmaLatents, eulerDerivative, inputDivisor } from './euler';
import type { SolverContext } from './types';

export async function sampleHeun(ctx: SolverContext): Promise<void> {
  const { x, model } = ctx;
  const n = model.size;
  const state = new SigmaLatents(ctx);
  const { latents } = state;
  const e = new Float32Array(n);
  const x0 = new Float32Array(n);
  const x0Second = new Float32Array(n);
  const d1 = new Float32Array(n);
  const d2 = new Float32Array(n);
  const stage = new Float32Array(n);
  const stageInput = new Float32Array(n);
  for (const step of ctx.plan.steps) {
    state.begin(step);
    await model.guided(x, step.point, e);
    const sigma = f32(step.sb);
    const sigmaNext = f32(step.sbPrev);
    const dt = f32(sigmaNext - sigma);
    eulerDerivative(latents, e, sigma, x0, d1);
    if (sigmaNext === 0) {
      for (let i = 0; i < n; i++) latents[i] = f32(latents[i] + f32(d1[i] * dt));
    } else {
      const dNext = inputDivisor(sigmaNext);
      for (let i = 0; i < n; i++) {
        stage[i] = f32(latents[i] + f32(d1[i] * dt));
        stageInput[i] = f32(stage[i] / dNext);
      }
      await model.guided(stageInput, step.nextPoint, e);
      eulerDerivative(stage, e, sigmaNext, x0Second, d2);
      for (let i = 0; i < n; i++) latents[i] = f32(latents[i] + f32(f32(f32(d1[i] + d2[i]) / 2) * dt));
    }
    state.toState(inputDivisor(sigmaNext));
    await ctx.endStep(step, x0);
  }
}

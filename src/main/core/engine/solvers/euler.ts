/**
 * The Euler family in sigma (docs/samplers.md §6.8-6.9), as diffusers' EulerDiscreteScheduler and
 * EulerAncestralDiscreteScheduler run it on their own grids (diffusersGrid.ts). Their state is
 * the latents of the variance-exploding form, `latents = x sqrt(sigma^2 + 1)` (x the engine's VP
 * state, which is what diffusers' scale_model_input hands the network), and the ODE is
 * d latents / d sigma = (latents - x0)/sigma = eps (Karras et al. 2022, eq. 4 and Alg. 1):
 *
 *   euler:    x0 = latents - sigma e;  latents' = latents + (sigma_next - sigma)(latents - x0)/sigma
 *   euler-a:  sigma_up = sqrt(sigma_next^2 (sigma^2 - sigma_next^2)/sigma^2),
 *             sigma_down = sqrt(sigma_next^2 - sigma_up^2),
 *             latents' = latents + (sigma_down - sigma)(latents - x0)/sigma + sigma_up z
 *
 * (Euler ancestral: Ho et al. 2020's ancestral step written in sigma, as in k-diffusion and
 * diffusers), with z from the run's generator, drawn every step (the last too, times 0). Each
 * operation is rounded to float32 in diffusers' order, and a fresh run starts from diffusers'
 * latents, noise * init_noise_sigma (sigma_max on linspace/trailing grids, so the first network
 * input is noise * sigma_max / sqrt(sigma_max^2 + 1), not the noise itself).
 */
import { f32 } from '../float32';
import type { PlannedStep } from '../plan';
import type { SolverContext } from './types';

/** diffusers' scale_model_input divisor (sigma^2 + 1)^0.5, in float32. */
export const inputDivisor = (sigma: number): number => f32(Math.sqrt(f32(f32(sigma * sigma) + 1)));

/**
 * The latents the Euler family steps, kept across steps so that, without a state hook, the run
 * is diffusers' to the float32 bit; the engine's x is always latents / (sigma^2 + 1)^0.5, the
 * network's input. When the state hook changed x, the latents are taken from it again.
 */
export class SigmaLatents {
  readonly latents: Float32Array;
  private readonly written: Float32Array;
  private started = false;

  constructor(private readonly ctx: SolverContext) {
    this.latents = new Float32Array(ctx.model.size);
    this.written = new Float32Array(ctx.model.size);
  }

  /** Before a step's first network call: brings the latents and x to the step's sigma. */
  begin(step: PlannedStep): void {
    const { x, plan } = this.ctx;
    const d = inputDivisor(step.sb);
    if (!this.started && plan.initNoiseSigma !== null) {
      // A fresh run: diffusers' latents are noise * init_noise_sigma, the input latents / d.
      for (let i = 0; i < x.length; i++) this.latents[i] = f32(x[i] * plan.initNoiseSigma);
      this.toState(d);
    } else if (!this.started || !sameValues(x, this.written)) {
      for (let i = 0; i < x.length; i++) this.latents[i] = f32(x[i] * d);
    }
    this.started = true;
  }

  /** After the step moved the latents to `sigma`: x = latents / (sigma^2 + 1)^0.5. */
  toState(d: number): void {
    const { x } = this.ctx;
    for (let i = 0; i < x.length; i++) x[i] = f32(this.latents[i] / d);
    this.written.set(x);
  }
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** x0 = latents - sigma e and the derivative (latents - x0)/sigma, as diffusers rounds them. */
export function eulerDerivative(latents: Float32Array, e: Float32Array, sigma: number, x0Out: Float32Array, derivativeOut: Float32Array): void {
  for (let i = 0; i < latents.length; i++) {
    const x0 = f32(latents[i] - f32(sigma * e[i]));
    x0Out[i] = x0;
    derivativeOut[i] = f32(f32(latents[i] - x0) / sigma);
  }
}

export function euler(ancestral: boolean) {
  return async (ctx: SolverContext): Promise<void> => {
    const { x, model } = ctx;
    const n = model.size;
    const state = new SigmaLatents(ctx);
    const { latents } = state;
    const e = new Float32Array(n);
    const x0 = new Float32Array(n);
    const derivative = new Float32Array(n);
    for (const step of ctx.plan.steps) {
      state.begin(step);
      await model.guided(x, step.point, e);
      const sigma = f32(step.sb);
      const sigmaNext = f32(step.sbPrev);
      eulerDerivative(latents, e, sigma, x0, derivative);
      if (!ancestral) {
        const dt = f32(sigmaNext - sigma);
        for (let i = 0; i < n; i++) latents[i] = f32(latents[i] + f32(derivative[i] * dt));
      } else {
        const from2 = f32(sigma * sigma);
        const to2 = f32(sigmaNext * sigmaNext);
        const sigmaUp = f32(Math.sqrt(f32(f32(to2 * f32(from2 - to2)) / from2)));
        const sigmaDown = f32(Math.sqrt(f32(to2 - f32(sigmaUp * sigmaUp))));
        const dt = f32(sigmaDown - sigma);
        const z = ctx.drawNoise();
        for (let i = 0; i < n; i++) latents[i] = f32(f32(latents[i] + f32(derivative[i] * dt)) + f32(z[i] * sigmaUp));
      }
      state.toState(inputDivisor(sigmaNext));
      await ctx.endStep(step, x0);
    }
  };
}

export const sampleEuler = euler(false);
export const sampleEulerAncestral = euler(true);

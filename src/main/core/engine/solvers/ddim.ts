/**
 * DDIM, eta = 0 (Song et al. 2021, eq. 12): exactly Euler on d xb/d sb = f + g, with the
 * guidance folded into eps (docs/samplers.md §6.1).
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

export async function sampleDdim(ctx: SolverContext): Promise<void> {
  const { x, model } = ctx;
  const e = new Float32Array(model.size);
  const x0 = new Float32Array(model.size);
  for (const step of ctx.plan.steps) {
    await model.guided(x, step.point, e);
    ddimStep(x, e, step, x0, x);
    await ctx.endStep(step, x0);
  }
}

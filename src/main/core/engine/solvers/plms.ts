/**
 * PLMS-k, the baseline as in the reference code (Liu et al. 2022; split-diffusion's
 * plms_sample): the history holds *guided* eps; the first step is a pseudo improved Euler
 * step (two network calls); later steps mix with Adams–Bashforth and transfer with DDIM;
 * the final step returns the x0 prediction of the current single guided eps. N+1 calls.
 */
import { predictX0 } from '../prediction';
import { AdamsBashforthHistory } from './adamsBashforth';
import { ddimStep } from './ddim';
import type { Solver, SolverContext } from './types';

export function plms(order: number): Solver {
  return async (ctx: SolverContext) => {
    const { x, model } = ctx;
    const n = model.size;
    const history = new AdamsBashforthHistory(order, n);
    const e = new Float32Array(n);
    const mixed = new Float32Array(n);
    const x0 = new Float32Array(n);
    const moved = new Float32Array(n);
    for (const step of ctx.plan.steps) {
      await model.guided(x, step.point, e);
      if (step.isLast) {
        // Reference: sample = pred_xstart of the single guided eps at t = 0.
        predictX0(x, e, step.point.abar, x0);
        x.set(x0);
        await ctx.endStep(step, x0);
        break;
      }
      if (step.isFirst) {
        // Pseudo improved Euler: DDIM to x', eps at (x', next timestep), average.
        ddimStep(x, e, step, x0, moved);
        await model.guided(moved, step.nextPoint, mixed);
        for (let i = 0; i < n; i++) mixed[i] = (e[i] + mixed[i]) / 2;
        history.push(e);
        history.dropOldestIfFull();
      } else {
        history.pushAndMix(e, mixed);
      }
      ddimStep(x, mixed, step, x0, x);
      await ctx.endStep(step, x0);
    }
  };
}

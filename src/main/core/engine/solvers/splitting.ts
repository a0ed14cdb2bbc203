/**
 * Operator-splitting samplers (Wizadwongsa & Suwajanakorn, ICLR 2023, sec. 4; reference
 * code: split-diffusion's ltsp_sample / stsp_sample). The guided ODE d xb/d sb = f + g is
 * split into the diffusion part f, solved with pseudo linear multistep (AB-k on f's
 * history), and the condition part g, solved with Euler:
 *
 *  LTSP (Lie–Trotter, eq. 9):  condition step over the whole Delta, then diffusion step.
 *  STSP (Strang, eq. 10):      half condition step, diffusion step, half condition step
 *                               evaluated at the new point and the destination timestep,
 *                               weighted with sqrt(1 - abar_mid).
 *
 * Both work on x = sqrt(abar) xb as the reference does: an xb increment d becomes an x
 * increment sqrt(abar) d at the level where the state currently sits.
 *
 * `conditionAt` only matters when g needs the denoising network (CFG, consistency):
 *  - 'exact': f is evaluated where the splitting puts it (the moved point), costing an
 *    extra network call per step; g is evaluated where the splitting puts it.
 *  - 'same-point': one network call at x_i gives f and g together (AB-k on f, Euler on g),
 *    the cost of plain guidance. Strang's two half steps then use the same g, so STSP and
 *    LTSP coincide in this variant.
 */
import type { ConditionPlacement } from '../../../../shared/solvers';
import { predictX0 } from '../prediction';
import { AdamsBashforthHistory } from './adamsBashforth';
import type { Solver, SolverContext } from './types';

export type SplittingScheme = 'lie-trotter' | 'strang';

export interface SplittingOptions {
  scheme: SplittingScheme;
  order: number;
  conditionAt: ConditionPlacement;
}

/** x += c * g (an Euler step of the condition part, already scaled to x's level). */
function addScaled(x: Float32Array, g: Float32Array, c: number): void {
  for (let i = 0; i < x.length; i++) x[i] += c * g[i];
}

export function splitting(options: SplittingOptions): Solver {
  const { scheme, order } = options;
  return async (ctx: SolverContext) => {
    const { x, model } = ctx;
    const n = model.size;
    const history = new AdamsBashforthHistory(order, n);
    const f = new Float32Array(n);
    const g = new Float32Array(n);
    const mixed = new Float32Array(n);
    const x0 = new Float32Array(n);
    const samePoint = options.conditionAt === 'same-point' && model.conditionNeedsNetwork;
    const conditioned = model.hasCondition;
    const firstFraction = scheme === 'strang' ? 0.5 : 1;

    for (const step of ctx.plan.steps) {
      const { point, delta, sqrtAbar, sqrtAbarPrev } = step;
      // (1) condition part over firstFraction * Delta, at (x_i, tau_i), weight sqrt(1 - abar_i).
      if (samePoint) {
        await model.diffusionAndCondition(x, point, point.abar, f, g);
        addScaled(x, g, firstFraction * delta * sqrtAbar);
      } else {
        if (conditioned) {
          await model.condition(x, point, point.abar, g);
          addScaled(x, g, firstFraction * delta * sqrtAbar);
        }
        // (2) diffusion term at the moved point, unguided.
        await model.diffusion(x, point, f);
      }
      predictX0(x, f, point.abar, x0);
      history.pushAndMix(f, mixed);
      // (2) diffusion step: xb_{i-1} = xb + Delta * AB-k(f); x_{i-1} = sqrt(abar_prev) xb_{i-1}.
      const invA = 1 / sqrtAbar;
      for (let i = 0; i < n; i++) x[i] = (x[i] * invA + delta * mixed[i]) * sqrtAbarPrev;
      // (3) Strang's second half: g at (x_{i-1}, tau_{i-1}) weighted at the midpoint.
      if (scheme === 'strang' && conditioned) {
        if (!samePoint) await model.condition(x, step.nextPoint, step.abarMid, g);
        addScaled(x, g, 0.5 * delta * sqrtAbarPrev);
      }
      await ctx.endStep(step, x0);
    }
  };
}

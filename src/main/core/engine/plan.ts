/**
 * The sampling plan: every per-step scalar, computed once in float64 before the loop
 * (docs/samplers.md §4.2). Solvers read it; they never touch the schedule.
 */
import { abarFromSigmaBar, sigmaBar } from './schedule';

/** A point at which a network (or classifier) is evaluated. */
export interface StepPoint {
  /** Original training timestep handed to the network. */
  readonly timestep: number;
  /** Its cumulative alpha product. */
  readonly abar: number;
}

export interface PlannedStep {
  /** 0-based position in execution order (0 = the noisiest step). */
  readonly index: number;
  readonly isFirst: boolean;
  readonly isLast: boolean;
  /** Where the step starts: tau_i and abar_i. */
  readonly point: StepPoint;
  /**
   * The next grid point tau_{i-1} (tau_0 again on the last step): where PLMS's
   * improved-Euler warm-up and STSP's second half condition step evaluate.
   */
  readonly nextPoint: StepPoint;
  /** abar at the destination: abar_{i-1}, or the final abar (1 with set_alpha_to_one). */
  readonly abarPrev: number;
  readonly sqrtAbar: number;
  readonly sqrtAbarPrev: number;
  readonly sqrtOneMinusAbar: number;
  readonly sqrtOneMinusAbarPrev: number;
  /** sigma-bar at the start and the destination; delta = sbPrev - sb < 0. */
  readonly sb: number;
  readonly sbPrev: number;
  readonly delta: number;
  /** Strang splitting's midpoint: sb_mid = (sb + sbPrev)/2, abar_mid = 1/(sb_mid^2 + 1). */
  readonly abarMid: number;
  /** log-SNR half: lambda = log(alpha/sigma) = -log(sb) (DPM-Solver, UniPC); +Infinity at sb = 0. */
  readonly lambda: number;
  readonly lambdaPrev: number;
}

export interface SamplingPlan {
  readonly timesteps: readonly number[];
  readonly steps: readonly PlannedStep[];
  /** abar after the last step. */
  readonly finalAbar: number;
}

export function makePlan(alphasCumprod: Float64Array, timesteps: readonly number[], setAlphaToOne: boolean): SamplingPlan {
  const finalAbar = setAlphaToOne ? 1 : alphasCumprod[0];
  const n = timesteps.length;
  const steps: PlannedStep[] = timesteps.map((t, index) => {
    const isLast = index === n - 1;
    const abar = alphasCumprod[t];
    const abarPrev = isLast ? finalAbar : alphasCumprod[timesteps[index + 1]];
    const nextTimestep = isLast ? t : timesteps[index + 1];
    const sb = sigmaBar(abar);
    const sbPrev = sigmaBar(abarPrev);
    return {
      index,
      isFirst: index === 0,
      isLast,
      point: { timestep: t, abar },
      nextPoint: { timestep: nextTimestep, abar: alphasCumprod[nextTimestep] },
      abarPrev,
      sqrtAbar: Math.sqrt(abar),
      sqrtAbarPrev: Math.sqrt(abarPrev),
      sqrtOneMinusAbar: Math.sqrt(1 - abar),
      sqrtOneMinusAbarPrev: Math.sqrt(1 - abarPrev),
      sb,
      sbPrev,
      delta: sbPrev - sb,
      abarMid: abarFromSigmaBar((sb + sbPrev) / 2),
      lambda: -Math.log(sb),
      lambdaPrev: sbPrev === 0 ? Infinity : -Math.log(sbPrev),
    };
  });
  return { timesteps: [...timesteps], steps, finalAbar };
}

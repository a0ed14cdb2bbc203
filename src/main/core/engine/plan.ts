/**
 * The sampling plan: every per-step scalar, computed once in float64 before the loop
 * (docs/samplers.md §4.2). Solvers read it; they never touch the schedule. Two kinds: the
 * paper's grid of training timesteps (makePlan) and diffusers' sigma grids (makeSigmaPlan,
 * docs/samplers.md §4.4), where a point's level comes from the scheduler's float32 sigma and the
 * network may be told a fractional timestep.
 */
import type { SigmaGrid } from './diffusersGrid';
import { abarFromSigmaBar, sigmaBar } from './schedule';
import { roundHalfEven } from './spacing';

/** A point at which a network (or classifier) is evaluated. */
export interface StepPoint {
  /** The timestep handed to the network: a training timestep, or a fractional one on the Euler family's grids. */
  readonly timestep: number;
  /** The state's noise level there (abar = 1/(sigma^2 + 1) on a sigma grid). */
  readonly abar: number;
  /**
   * The level the guidance terms are weighted with (docs/samplers.md §3.5): the training table's
   * abar at the timestep the networks are told, rounded half to even when it is fractional (a
   * network given a training step is at that step's level). Absent: `abar`.
   */
  readonly weightAbar?: number;
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
  /** The timestep of each step's (first) network evaluation. */
  readonly timesteps: readonly number[];
  readonly steps: readonly PlannedStep[];
  /** abar after the last step. */
  readonly finalAbar: number;
  /**
   * diffusers' init_noise_sigma when the run starts from pure noise on an Euler-family grid: its
   * latents are noise * initNoiseSigma, which the solver turns into the network's first input
   * (docs/samplers.md §6.8). null on the other grids and after skipped steps (img2img), where the
   * state is already at the first step's level.
   */
  readonly initNoiseSigma: number | null;
}

/** What a step derives from its two noise levels sigma-bar (sb) and sigma-bar of the next point (sbPrev). */
function sigmaFields(sb: number, sbPrev: number): Pick<PlannedStep, 'sb' | 'sbPrev' | 'delta' | 'abarMid' | 'lambda' | 'lambdaPrev'> {
  return {
    sb,
    sbPrev,
    delta: sbPrev - sb,
    abarMid: abarFromSigmaBar((sb + sbPrev) / 2),
    lambda: -Math.log(sb),
    lambdaPrev: sbPrev === 0 ? Infinity : -Math.log(sbPrev),
  };
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
      ...sigmaFields(sb, sbPrev),
    };
  });
  return { timesteps: [...timesteps], steps, finalAbar, initNoiseSigma: null };
}

/**
 * A plan on one of diffusers' sigma grids: step i goes from sigma_i to sigma_{i+1} (the last to
 * 0). In VP terms abar = 1/(sigma^2 + 1), sqrt(abar) = 1/sqrt(sigma^2 + 1) and sqrt(1 - abar) =
 * sigma sqrt(abar) (diffusers' `_sigma_to_alpha_sigma_t`), sb = sigma and lambda = -log(sigma).
 * `trainingAbar` is the float64 table the guidance weights read (StepPoint.weightAbar).
 */
export function makeSigmaPlan(grid: SigmaGrid, trainingAbar: Float64Array, initNoiseSigma: number | null): SamplingPlan {
  const n = grid.timesteps.length;
  const points: StepPoint[] = grid.timesteps.map((timestep, i) => ({
    timestep,
    abar: abarFromSigmaBar(grid.sigmas[i]),
    weightAbar: trainingAbar[Math.min(trainingAbar.length - 1, Math.max(0, roundHalfEven(timestep)))],
  }));
  const steps: PlannedStep[] = points.map((point, index) => {
    const isLast = index === n - 1;
    const sb = grid.sigmas[index];
    const sbPrev = grid.sigmas[index + 1];
    const abarPrev = abarFromSigmaBar(sbPrev);
    const sqrtAbar = 1 / Math.sqrt(sb * sb + 1);
    const sqrtAbarPrev = 1 / Math.sqrt(sbPrev * sbPrev + 1);
    return {
      index,
      isFirst: index === 0,
      isLast,
      point,
      nextPoint: isLast ? point : points[index + 1],
      abarPrev,
      sqrtAbar,
      sqrtAbarPrev,
      sqrtOneMinusAbar: sb * sqrtAbar,
      sqrtOneMinusAbarPrev: sbPrev * sqrtAbarPrev,
      ...sigmaFields(sb, sbPrev),
    };
  });
  return { timesteps: [...grid.timesteps], steps, finalAbar: 1, initNoiseSigma };
}

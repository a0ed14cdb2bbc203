import type { GuidedDenoiser } from '../guidance/denoiser';
import type { PlannedStep, SamplingPlan } from '../plan';

export interface SolverContext {
  readonly plan: SamplingPlan;
  readonly model: GuidedDenoiser;
  /** The state x (not xb), updated in place; on return it holds the final sample. */
  readonly x: Float32Array;
  /** DDIM's eta (docs/samplers.md §6.1); 0 for every other solver. */
  readonly eta: number;
  /**
   * One standard normal draw of the state's shape from the run's generator, continuing the
   * stream that gave the initial noise (ancestral steps, DDIM with eta > 0).
   */
  drawNoise(): Float32Array;
  /**
   * Called once at the end of every step, after x holds the step's result: the sampler's state
   * hook may change x here (the solver must read x afresh afterwards), then progress is
   * reported with a copy of the step's x0 prediction (a scratch buffer of the solver's).
   */
  endStep(step: PlannedStep, x0: Float32Array): void | Promise<void>;
}

export type Solver = (ctx: SolverContext) => Promise<void>;

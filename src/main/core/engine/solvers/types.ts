import type { GuidedDenoiser } from '../guidance/denoiser';
import type { PlannedStep, SamplingPlan } from '../plan';

export interface SolverContext {
  readonly plan: SamplingPlan;
  readonly model: GuidedDenoiser;
  /** The state x (not xb), updated in place; on return it holds the final sample. */
  readonly x: Float32Array;
  /** After each step: the step and the x0 prediction it made (a scratch buffer: copy to keep). */
  onStep(step: PlannedStep, x0: Float32Array): void | Promise<void>;
}

export type Solver = (ctx: SolverContext) => Promise<void>;

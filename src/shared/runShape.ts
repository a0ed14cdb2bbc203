/**
 * What a run will do, derived from its settings alone: which guidance the engine applies and
 * how many steps it runs. One definition for the renderer's cost preview, the service's
 * progress totals and the CLI's report. No Node, no DOM.
 */
import type { Settings } from './contract';
import type { Task } from './settings';
import type { GuidanceTerms } from './solvers';

/**
 * Tasks whose known part is a measurement y = A x of the picture (gray image, low-resolution
 * image): data-consistency guidance applies to them. Inpainting keeps its known pixels by
 * blending them in at every step instead (pipelines/knownRegion.ts).
 */
export function usesConsistency(task: Task): boolean {
  return task === 'colorize' || task === 'super-resolution';
}

/** The guidance terms the engine will add up; scales of 0 (and CFG at w = 1) are absent. */
export function guidanceTerms(s: Pick<Settings, 'classLabel' | 'classifierScale' | 'guidance' | 'task' | 'consistencyScale'>): GuidanceTerms {
  return {
    cfg: s.guidance !== 1,
    classifier: s.classLabel !== null && s.classifierScale > 0,
    consistency: usesConsistency(s.task) && s.consistencyScale > 0,
  };
}

/** Steps the sampler will run: img2img runs the last int(N * strength) (diffusers' rule). */
export function runSteps(s: Pick<Settings, 'spacing' | 'steps' | 'task' | 'strength'>): number {
  const steps = Array.isArray(s.spacing) ? s.spacing.length : s.steps;
  if (s.task !== 'img2img') return steps;
  return Math.min(Math.floor(steps * s.strength), steps);
}

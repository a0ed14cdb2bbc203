/**
 * What a run will do, derived from its settings alone: which guidance the engine applies and
 * how many steps it runs. One definition for the renderer's cost preview, the service's
 * progress totals and the CLI's report. No Node, no DOM.
 */
import type { Settings } from './contract';
import type { Task } from './settings';
import type { GuidanceKind } from './solvers';

export function isRestoration(task: Task): boolean {
  return task === 'inpaint' || task === 'colorize' || task === 'super-resolution';
}

/** The guidance the engine will apply; scales of 0 (and CFG at w = 1) count as none. */
export function guidanceKind(s: Pick<Settings, 'classLabel' | 'classifierScale' | 'guidance' | 'task' | 'consistencyScale'>): GuidanceKind {
  if (s.classLabel !== null && s.classifierScale > 0) return 'classifier';
  if (s.guidance !== 1) return 'cfg';
  if (isRestoration(s.task) && s.consistencyScale > 0) return 'consistency';
  return 'none';
}

/** Steps the sampler will run: img2img runs the last int(N * strength) (diffusers' rule). */
export function runSteps(s: Pick<Settings, 'spacing' | 'steps' | 'task' | 'strength'>): number {
  const steps = Array.isArray(s.spacing) ? s.spacing.length : s.steps;
  if (s.task !== 'img2img') return steps;
  return Math.min(Math.floor(steps * s.strength), steps);
}

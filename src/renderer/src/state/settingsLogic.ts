/**
 * Plain settings logic for the form: per-model defaults, the effective guidance kind, the
 * cost a run will have (with the shared cost formulas), and small helpers. No DOM, no runes.
 */
import type { Settings } from '../../../shared/contract';
import { MAX_IMAGE_SIDE, MIN_STEPS, type Task, stepCountProblem } from '../../../shared/settings';
import { type FieldName, SETTINGS_LIMITS, withinLimits } from '../../../shared/settingsFields';
import { type CostReport, type GuidanceTerms, conditionPlacementMatters, expectedCost, solverInfo } from '../../../shared/solvers';
import { guidanceTerms, runSteps, usesConsistency } from '../../../shared/runShape';

export { guidanceTerms, runSteps, usesConsistency };
export type { FieldName };
export { STEPS_MAX, baseSettings, defaultsFor, fitSettings, fitToModel, tasksFor } from '../../../shared/modelSettings';

export const TASK_LABELS: Record<Task, string> = {
  txt2img: 'Text to image',
  img2img: 'Image to image',
  inpaint: 'Inpainting',
  colorize: 'Colorize',
  'super-resolution': 'Super-resolution',
};

export const GUIDANCE_MAX = 20;
export const CLASSIFIER_SCALE_MAX = 50;

/** Tasks that start from a picture the user chooses. */
export function needsInitImage(task: Task): boolean {
  return task !== 'txt2img';
}

/** "classifier-free + classifier guidance", "no guidance": the terms a run adds up, in words. */
export function guidanceLabel(terms: GuidanceTerms): string {
  const names = [terms.cfg && 'classifier-free', terms.classifier && 'classifier', terms.consistency && 'data-consistency'].filter(Boolean);
  return names.length === 0 ? 'no guidance' : `${names.join(' + ')} guidance`;
}

export type CostEstimate = { ok: true; cost: CostReport; steps: number } | { ok: false; message: string };

export function estimateCost(s: Settings): CostEstimate {
  const steps = runSteps(s);
  if (steps < 1) return { ok: false, message: `strength ${s.strength} with ${s.steps} steps runs no step` };
  try {
    return { ok: true, cost: expectedCost(s.solver, steps, guidanceTerms(s), s.conditionAt), steps };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

/** Numbers the form's inputs can leave empty or out of range, checked before a run. */
export function numberProblems(s: Settings): Partial<Record<FieldName, string>> {
  const problems: Partial<Record<FieldName, string>> = {};
  const check = (field: FieldName, value: unknown, ok: (n: number) => boolean, what: string) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) problems[field] = what;
  };
  check('width', s.width, (n) => withinLimits(n, SETTINGS_LIMITS.width), `width: a whole number of pixels from 1 to ${MAX_IMAGE_SIDE}`);
  check('height', s.height, (n) => withinLimits(n, SETTINGS_LIMITS.height), `height: a whole number of pixels from 1 to ${MAX_IMAGE_SIDE}`);
  check('consistencyScale', s.consistencyScale, (n) => n >= 0, 'the data-consistency scale is a number >= 0');
  check('classifierScale', s.classifierScale, (n) => n >= 0, 'the classifier scale is a number >= 0');
  if (!Array.isArray(s.spacing)) check('steps', s.steps, (n) => stepCountProblem(n) === null, stepCountProblem(s.steps) ?? `steps: a whole number from ${MIN_STEPS}`);
  return problems;
}

/** "NFE 20 · 40 classifier calls" (and network rows when a CFG pair doubles them). */
export function formatCost(cost: Pick<CostReport, 'nfe' | 'networkRows' | 'classifierCalls'>): string {
  const parts = [`NFE ${cost.nfe}`];
  if (cost.classifierCalls > 0) parts.push(`${cost.classifierCalls} classifier call${cost.classifierCalls === 1 ? '' : 's'}`);
  if (cost.networkRows !== cost.nfe) parts.push(`${cost.networkRows} network rows`);
  return parts.join(' · ');
}

/** Whether the form offers the condition placement (an unknown solver: no). */
export function conditionAtRelevant(s: Settings): boolean {
  try {
    return conditionPlacementMatters(solverInfo(s.solver).family, guidanceTerms(s));
  } catch {
    return false;
  }
}

/** Whole super-resolution factors >= 2 that divide the output size. */
export function superResolutionFactors(width: number, height: number): number[] {
  const out: number[] = [];
  for (let f = 2; f <= Math.min(width, height, 64); f++) if (width % f === 0 && height % f === 0) out.push(f);
  return out;
}

/** The size the user's picture is converted to before it is sent. */
export function initImageSize(s: Pick<Settings, 'task' | 'width' | 'height'>, factor: number): { width: number; height: number } {
  if (s.task === 'super-resolution') return { width: Math.max(1, Math.round(s.width / factor)), height: Math.max(1, Math.round(s.height / factor)) };
  return { width: s.width, height: s.height };
}

/** Fields whose errors are shown beside their own control (others go beside Generate). */
export const CONTROLLED_FIELDS: ReadonlySet<string> = new Set<string>([
  'task', 'prompt', 'negativePrompt', 'classLabel', 'classifierScale', 'solver', 'steps', 'guidance', 'conditionAt', 'consistencyScale',
  'seed', 'spacing', 'strength', 'eta', 'initImage', 'mask',
]);

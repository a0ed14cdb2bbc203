/**
 * What a sweep will run: every combination of seed, guidance, classifier scale, solver, grid and
 * step count, with step counts either given or derived from a network-call budget through the
 * catalogue's exact cost formula (expectedCost), so that solvers are compared at equal cost.
 * Pure: no Node, no ONNX; shared by the CLI and a future studio Lab view.
 */
import type { OdeKey, PlannedRun, SweepSpec } from '../../../shared/lab';
import { MIN_STEPS } from '../../../shared/settings';
import { type ConditionPlacement, type GuidanceTerms, expectedCost, solverInfo, spacingProblem, termsOf } from '../../../shared/solvers';

export type { OdeKey, PlannedRun, SweepSpec };

export class SweepPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepPlanError';
  }
}

/** The guidance terms a run uses (CFG at w = 1 and scales of 0 are absent, as in runShape.ts). */
export function sweepTerms(spec: Pick<SweepSpec, 'classLabel'>, key: Pick<OdeKey, 'guidance' | 'classifierScale'>): GuidanceTerms {
  const names: ('cfg' | 'classifier')[] = [];
  if (key.guidance !== 1) names.push('cfg');
  if (spec.classLabel !== null && key.classifierScale > 0) names.push('classifier');
  return termsOf(...names);
}

/**
 * The most steps whose network calls fit in `nfe`: the cost grows with the steps for every
 * solver (PLMS N + 1, Heun 2N - 1, STSP with exact CFG 3N, ...), so the first step count over
 * budget ends the search. Fewer than MIN_STEPS is refused: the engine does not run it.
 */
export function stepsForNfe(solver: string, nfe: number, terms: GuidanceTerms, conditionAt: ConditionPlacement): number {
  let steps = 0;
  while (expectedCost(solver, steps + 1, terms, conditionAt).nfe <= nfe) steps++;
  if (steps < MIN_STEPS) {
    const least = expectedCost(solver, MIN_STEPS, terms, conditionAt).nfe;
    throw new SweepPlanError(`--nfe ${nfe} is too few network calls for ${solver}: its fewest steps (${MIN_STEPS}) take ${least}`);
  }
  return steps;
}

/** Every combination, in the order a sweep runs them: by seed, guidance, classifier scale (one reference each), then solver, grid, steps. */
export function planSweep(spec: SweepSpec): { runs: PlannedRun[]; skipped: string[] } {
  for (const id of spec.solvers) solverInfo(id);
  const runs: PlannedRun[] = [];
  const skipped = new Set<string>();
  for (const id of spec.solvers) {
    const able = spec.spacings.filter((s) => spacingProblem(id, s) === null);
    if (able.length === 0) throw new SweepPlanError(spacingProblem(id, spec.spacings[0])!);
    for (const s of spec.spacings) if (!able.includes(s)) skipped.add(`${id} on ${s}: ${spacingProblem(id, s)}`);
  }
  for (const seed of spec.seeds) {
    for (const guidance of spec.guidances) {
      for (const classifierScale of spec.classifierScales) {
        const terms = sweepTerms(spec, { guidance, classifierScale });
        for (const solver of spec.solvers) {
          for (const spacing of spec.spacings) {
            if (spacingProblem(solver, spacing) !== null) continue;
            for (const value of spec.budget.values) {
              const steps = spec.budget.kind === 'steps' ? value : stepsForNfe(solver, value, terms, spec.conditionAt);
              if (steps < MIN_STEPS) throw new SweepPlanError(`--steps ${steps}: at least ${MIN_STEPS}`);
              const targetNfe = spec.budget.kind === 'nfe' ? value : null;
              runs.push({ seed, guidance, classifierScale, solver, spacing, steps, targetNfe, expectedNfe: expectedCost(solver, steps, terms, spec.conditionAt).nfe });
            }
          }
        }
      }
    }
  }
  return { runs, skipped: [...skipped] };
}

export const odeKeyOf = (k: OdeKey): string => `${k.seed}/${k.guidance}/${k.classifierScale}`;

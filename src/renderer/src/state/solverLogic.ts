/**
 * How the studio presents the solver catalogue (src/shared/solvers.ts): the two groups of the
 * picker, each solver's name there, its calls per step and grid in short, and whether its
 * picture depends on the seed's whole noise stream. Plain logic, no DOM, no runes.
 */
import type { Settings } from '../../../shared/contract';
import { spacingForSolver } from '../../../shared/modelSettings';
import { a1111SamplerName } from '../../../shared/samplerNames';
import type { SpacingName } from '../../../shared/settings';
import { SOLVERS, type SolverInfo } from '../../../shared/solvers';

export interface SolverGroup {
  readonly label: string;
  readonly solvers: readonly SolverInfo[];
}

/** The classical samplers in the order artists meet them (A1111's list); any others after. */
const CLASSICAL_ORDER = ['euler', 'euler-a', 'heun', 'dpmpp2m', 'unipc2'];
/** This studio's own solvers: no other tool has them, so they are named by their labels. */
const isOurs = (s: SolverInfo) => s.family === 'expsplit';

const classicalRank = (s: SolverInfo) => {
  const i = CLASSICAL_ORDER.indexOf(s.id);
  return i < 0 ? CLASSICAL_ORDER.length : i;
};

/**
 * The picker's groups: the paper's solvers on its grid (DDIM, PLMS, LTSP, STSP), the classical
 * samplers as diffusers runs them, then this studio's own guided solvers (beyond the paper).
 */
export const SOLVER_GROUPS: readonly SolverGroup[] = [
  { label: 'Guided-sampling solvers (the paper)', solvers: SOLVERS.filter((s) => s.grid === 'paper') },
  { label: 'Classical samplers', solvers: SOLVERS.filter((s) => s.grid === 'diffusers' && !isOurs(s)).sort((a, b) => classicalRank(a) - classicalRank(b)) },
  { label: 'Beyond the paper (ours)', solvers: SOLVERS.filter(isOurs) },
];

/** The name in the picker: the classical samplers by the names artists know (A1111's), the paper's by their labels. */
export function pickerName(s: SolverInfo): string {
  return s.grid === 'diffusers' && !isOurs(s) ? a1111SamplerName(s.id) : s.label;
}

/** Network calls per step, the usual number only: "2" of "2 (1 on the last step, ...)". */
export function callsPerStepShort(s: SolverInfo): string {
  return s.callsPerStep.split(' ')[0];
}

/** One option of the picker: "Heun · 2 NFE/step". */
export function optionText(s: SolverInfo): string {
  return `${pickerName(s)} · ${callsPerStepShort(s)} NFE/step`;
}

/** The grid in a few words: the grid note up to its first explanation ("diffusers' EulerDiscreteScheduler grid"). */
export function shortGrid(s: SolverInfo): string {
  return s.gridNote.split(/[:;]| \(/)[0].trim();
}

/** Whether the run draws fresh noise at every step: ancestral samplers, and DDIM with eta > 0. */
export function drawsStepNoise(s: SolverInfo, settings: Pick<Settings, 'eta'>): boolean {
  return s.stochastic || (s.family === 'ddim' && (settings.eta ?? 0) > 0);
}

/** What a named spacing means, for its option's tooltip. */
export const SPACING_TITLES: Record<string, string> = {
  linspace: 'evenly spaced timesteps from the last to the first',
  leading: 'every T/N-th timestep from 0, shifted by the scheduler’s steps_offset (Stable Diffusion’s own)',
  trailing: 'every T/N-th timestep counted down from the last',
  karras: 'Karras et al. (2022) sigmas, rho = 7: dense near the clean end (A1111’s “Karras”)',
  logsnr: 'evenly spaced in log signal-to-noise ratio',
};

/**
 * What else changes when a gallery run is re-run with another solver: a named spacing the new
 * solver cannot use moves (to the model's own spacing, else the solver's first) and DDIM's eta
 * goes to 0 for the others; `notes` says so, one line each.
 */
export function solverChangeFollowers(settings: Settings, solver: string, modelSpacing: SpacingName = 'linspace'): { changes: Partial<Settings>; notes: string[] } {
  const changes: Partial<Settings> = {};
  const notes: string[] = [];
  const fitted = spacingForSolver(solver, settings.spacing, modelSpacing);
  if (fitted.change) {
    changes.spacing = fitted.spacing;
    notes.push(fitted.change);
  }
  const info = SOLVERS.find((s) => s.id === solver);
  if ((settings.eta ?? 0) !== 0 && info && info.family !== 'ddim') {
    changes.eta = 0;
    notes.push(`eta ${settings.eta} is DDIM's; ${info.label} runs without it`);
  }
  return { changes, notes };
}

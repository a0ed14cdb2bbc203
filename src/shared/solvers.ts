/**
 * The solver catalogue: names, families, orders, the time grid each walks and what each costs
 * per run. Shared by the engine, the CLI and the renderer (which shows the cost before a run).
 * No Node, no DOM.
 */

export type SolverFamily = 'ddim' | 'plms' | 'ltsp' | 'stsp' | 'dpmpp' | 'unipc' | 'euler' | 'euler-a' | 'heun' | 'expsplit';

/**
 * Named timestep spacings (docs/samplers.md §4): the three of diffusers' timestep_spacing, and
 * two sigma schedules for the solvers that step in sigma or log-SNR: karras (Karras et al. 2022,
 * rho = 7; diffusers' use_karras_sigmas) and logsnr (uniform in lambda = log(alpha/sigma)).
 */
export const SPACING_NAMES = ['linspace', 'leading', 'trailing', 'karras', 'logsnr'] as const;
export type SpacingName = (typeof SPACING_NAMES)[number];
const ALL_SPACINGS: readonly SpacingName[] = SPACING_NAMES;
const PAPER_SPACINGS: readonly SpacingName[] = ['linspace', 'leading', 'trailing'];

export interface SolverInfo {
  readonly id: string;
  readonly family: SolverFamily;
  readonly order: number;
  readonly label: string;
  readonly description: string;
  /**
   * Whose time grid the solver walks: 'paper', split-diffusion's (integer timesteps, its linspace
   * keeps t = 0; docs/samplers.md §4.1), or 'diffusers', the set_timesteps of the diffusers
   * scheduler class it reproduces (§4.4), for every spacing.
   */
  readonly grid: 'paper' | 'diffusers';
  /** One line: which grid it uses by default (the model's timestep_spacing) and what the network is told. */
  readonly gridNote: string;
  /** The named spacings it can use (an explicit timestep list works with every solver). */
  readonly spacings: readonly SpacingName[];
  /** Fresh noise at every step from the seed's generator (ancestral sampling; DDIM with eta > 0 too). */
  readonly stochastic: boolean;
  /** Network calls per step, in words. */
  readonly callsPerStep: string;
}

const PAPER_GRID = "split-diffusion's grid for the model's timestep_spacing (linspace keeps t = 0); whole-number timesteps";

const multistep = (family: 'plms' | 'ltsp' | 'stsp', order: number): SolverInfo => {
  const what = {
    plms: ['PLMS', 'pseudo linear multistep on the guided eps (Liu et al. 2022), improved-Euler start'],
    ltsp: ['LTSP', 'Lie–Trotter splitting: Euler on the guidance, AB-k on the diffusion (Wizadwongsa & Suwajanakorn 2023)'],
    stsp: ['STSP', 'Strang splitting: half guidance steps around an AB-k diffusion step (Wizadwongsa & Suwajanakorn 2023)'],
  }[family];
  const calls = { plms: '1 (2 on the first step)', ltsp: '1 (2 with CFG, exact placement)', stsp: '1 (3 with CFG, exact placement)' }[family];
  return {
    id: `${family}${order}`, family, order, label: `${what[0]}-${order}`, description: what[1],
    grid: 'paper', gridNote: PAPER_GRID, spacings: PAPER_SPACINGS, stochastic: false, callsPerStep: calls,
  };
};

const EULER_GRID = "diffusers' EulerDiscreteScheduler grid: linspace unrounded, so the network is told fractional timesteps; karras/logsnr span the spaced grid's sigmas";

export const SOLVERS: readonly SolverInfo[] = [
  {
    id: 'ddim', family: 'ddim', order: 1, label: 'DDIM', description: 'DDIM (Song et al. 2021): Euler on the guided ODE at eta = 0; with eta > 0 it adds fresh noise every step',
    grid: 'paper', gridNote: PAPER_GRID, spacings: PAPER_SPACINGS, stochastic: false, callsPerStep: '1',
  },
  ...[1, 2, 3, 4].map((k) => multistep('plms', k)),
  ...[1, 2, 3, 4].map((k) => multistep('ltsp', k)),
  ...[1, 2, 3, 4].map((k) => multistep('stsp', k)),
  {
    id: 'dpmpp2m', family: 'dpmpp', order: 2, label: 'DPM-Solver++(2M)', description: "multistep data-prediction solver (Lu et al. 2022), as diffusers' DPMSolverMultistepScheduler",
    grid: 'diffusers', gridNote: "diffusers' DPMSolverMultistepScheduler grid: linspace over N+1 points without t = 0, then a last step to sigma 0; karras/logsnr span the whole table, timesteps rounded", spacings: ALL_SPACINGS, stochastic: false, callsPerStep: '1',
  },
  {
    id: 'unipc2', family: 'unipc', order: 2, label: 'UniPC-2 (bh2)', description: "unified predictor-corrector, no extra calls (Zhao et al. 2023), as diffusers' UniPCMultistepScheduler",
    grid: 'diffusers', gridNote: "diffusers' UniPCMultistepScheduler grid (the same as DPM-Solver++'s)", spacings: ALL_SPACINGS, stochastic: false, callsPerStep: '1',
  },
  {
    id: 'euler', family: 'euler', order: 1, label: 'Euler', description: "Euler in sigma (Karras et al. 2022), as diffusers' EulerDiscreteScheduler",
    grid: 'diffusers', gridNote: EULER_GRID, spacings: ALL_SPACINGS, stochastic: false, callsPerStep: '1',
  },
  {
    id: 'euler-a', family: 'euler-a', order: 1, label: 'Euler a', description: "Euler ancestral, as diffusers' EulerAncestralDiscreteScheduler: fresh noise from the seed's generator every step",
    grid: 'diffusers', gridNote: EULER_GRID, spacings: ALL_SPACINGS, stochastic: true, callsPerStep: '1',
  },
  {
    id: 'heun', family: 'heun', order: 2, label: 'Heun', description: "Heun's second-order method in sigma (Karras et al. 2022, Alg. 1), as diffusers' HeunDiscreteScheduler: 2N - 1 calls",
    grid: 'diffusers', gridNote: EULER_GRID, spacings: ALL_SPACINGS, stochastic: false, callsPerStep: '2 (1 on the last step, an Euler step to sigma 0)',
  },
  {
    id: 'split-pc3', family: 'expsplit', order: 3, label: 'Split PC-3',
    description: 'ours: exponential predictor-corrector on the guided x0 split into diffusion and condition parts, each a polynomial in sigma-bar over its last 3 steps (variable-step weights), UniC-style corrector at no extra call (above CFG 3.5 on the diffusion part only); a classifier gradient is held on long steps',
    grid: 'diffusers', gridNote: "DPMSolverMultistepScheduler's grid (as dpmpp2m); measured best: karras under CFG on the default model, logsnr under classifier guidance on the exact model", spacings: ALL_SPACINGS, stochastic: false, callsPerStep: '1',
  },
];

export const SOLVER_IDS = SOLVERS.map((s) => s.id);

export function solverInfo(id: string): SolverInfo {
  const info = SOLVERS.find((s) => s.id === id);
  if (!info) throw new Error(`unknown solver "${id}"; choose one of: ${SOLVER_IDS.join(', ')}`);
  return info;
}

/** Why a solver cannot use a named spacing, or null (explicit timestep lists: always null). */
export function spacingProblem(id: string, spacing: SpacingName | readonly number[]): string | null {
  if (typeof spacing !== 'string') return null;
  const info = solverInfo(id);
  if (info.spacings.includes(spacing)) return null;
  const able = SOLVERS.filter((s) => s.spacings.includes(spacing)).map((s) => s.id);
  return `${info.label} walks the paper's grid of whole training timesteps and cannot use the ${spacing} spacing (a sigma schedule); use ${info.spacings.join(', ')}, or one of ${able.join(', ')}`;
}

/** DDIM's eta (Song et al. 2021, eq. 16): the other solvers have none. */
export function etaProblem(id: string, eta: number | undefined): string | null {
  if (eta === undefined || eta === 0) return null;
  if (!(eta >= 0 && eta <= 1)) return `eta must be from 0 to 1, got ${eta}`;
  return solverInfo(id).family === 'ddim' ? null : `eta applies to DDIM only (${solverInfo(id).label} has none); leave it at 0`;
}

/** Which guidance terms a run uses (they add up: g = g_cfg + g_classifier + g_consistency). */
export interface GuidanceTerms {
  readonly cfg: boolean;
  readonly classifier: boolean;
  readonly consistency: boolean;
}
export const NO_GUIDANCE_TERMS: GuidanceTerms = Object.freeze({ cfg: false, classifier: false, consistency: false });

/** The terms named: termsOf('cfg', 'classifier'). */
export function termsOf(...names: (keyof GuidanceTerms)[]): GuidanceTerms {
  return { cfg: names.includes('cfg'), classifier: names.includes('classifier'), consistency: names.includes('consistency') };
}

/** How splitting solvers place the condition term when it needs the network (CFG, consistency). */
export const CONDITION_PLACEMENTS = ['exact', 'same-point'] as const;
export type ConditionPlacement = (typeof CONDITION_PLACEMENTS)[number];

/**
 * Where the condition term is placed matters only to splitting solvers, and only when the term
 * needs the denoising network (CFG, consistency): a classifier term alone costs the same and
 * gives the same result either way.
 */
export function conditionPlacementMatters(family: SolverFamily, terms: GuidanceTerms): boolean {
  return (family === 'ltsp' || family === 'stsp') && (terms.cfg || terms.consistency);
}

/** What a run costs: the engine counts it, expectedCost predicts it, the gallery keeps it. */
export interface CostReport {
  /** Network (UNet) calls. */
  nfe: number;
  /** Samples through the UNet per image (a CFG pair counts 2). */
  networkRows: number;
  /** Condition-term evaluations (one per term per evaluation of g). */
  guidanceEvaluations: number;
  classifierCalls: number;
}

/**
 * What a run will cost, exactly as the engine counts it (tests hold the engine to this).
 * `terms` are the effective ones: CFG at w = 1 and scales of 0 are absent.
 */
export function expectedCost(id: string, steps: number, terms: GuidanceTerms, conditionAt: ConditionPlacement): CostReport {
  const { family } = solverInfo(id);
  const N = steps;
  const termCount = Number(terms.cfg) + Number(terms.classifier) + Number(terms.consistency);
  const guided = termCount > 0;
  const rowsPerGuided = terms.cfg ? 2 : 1;
  // Calls of the guided eps f + g at one point: DDIM, DPM-Solver++, UniPC, Euler, Euler a: N;
  // PLMS: N + 1; Heun: 2N - 1 (two per step, one on the last, an Euler step to sigma 0).
  // Each call evaluates every term once (consistency reuses that call's eps).
  if (family !== 'ltsp' && family !== 'stsp') {
    const calls = family === 'plms' && N > 1 ? N + 1 : family === 'heun' ? 2 * N - 1 : N;
    return {
      nfe: calls,
      networkRows: calls * rowsPerGuided,
      guidanceEvaluations: calls * termCount,
      classifierCalls: terms.classifier ? calls : 0,
    };
  }
  const networkCondition = conditionPlacementMatters(family, terms);
  // Splitting: evaluations of g per step (Strang: two half steps). In the same-point variant
  // one network call at x_i gives f and g, and Strang's halves share that g.
  const conditionsPerStep = !guided ? 0 : networkCondition && conditionAt === 'same-point' ? 1 : family === 'stsp' ? 2 : 1;
  const conditionEvaluations = N * conditionsPerStep;
  const result = { guidanceEvaluations: conditionEvaluations * termCount, classifierCalls: terms.classifier ? conditionEvaluations : 0 };
  if (networkCondition && conditionAt === 'same-point') return { nfe: N, networkRows: N * rowsPerGuided, ...result };
  if (networkCondition) {
    // Each evaluation of g is a network call of its own (a CFG pair, or eps for x0_hat),
    // plus the diffusion term at the moved point (one row).
    return { nfe: N + conditionEvaluations, networkRows: N + conditionEvaluations * rowsPerGuided, ...result };
  }
  return { nfe: N, networkRows: N, ...result };
}

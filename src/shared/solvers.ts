/**
 * The solver catalogue: names, families, orders and what each costs per run. Shared by the
 * engine, the CLI and the renderer (which shows the cost before a run). No Node, no DOM.
 */

export type SolverFamily = 'ddim' | 'plms' | 'ltsp' | 'stsp' | 'dpmpp' | 'unipc';

export interface SolverInfo {
  readonly id: string;
  readonly family: SolverFamily;
  readonly order: number;
  readonly label: string;
  readonly description: string;
}

const multistep = (family: 'plms' | 'ltsp' | 'stsp', order: number): SolverInfo => {
  const what = {
    plms: ['PLMS', 'pseudo linear multistep on the guided eps (Liu et al. 2022), improved-Euler start'],
    ltsp: ['LTSP', 'Lie–Trotter splitting: Euler on the guidance, AB-k on the diffusion (Wizadwongsa & Suwajanakorn 2023)'],
    stsp: ['STSP', 'Strang splitting: half guidance steps around an AB-k diffusion step (Wizadwongsa & Suwajanakorn 2023)'],
  }[family];
  return { id: `${family}${order}`, family, order, label: `${what[0]}-${order}`, description: what[1] };
};

export const SOLVERS: readonly SolverInfo[] = [
  { id: 'ddim', family: 'ddim', order: 1, label: 'DDIM', description: 'DDIM, eta = 0 (Song et al. 2021): Euler on the guided ODE' },
  ...[1, 2, 3, 4].map((k) => multistep('plms', k)),
  ...[1, 2, 3, 4].map((k) => multistep('ltsp', k)),
  ...[1, 2, 3, 4].map((k) => multistep('stsp', k)),
  { id: 'dpmpp2m', family: 'dpmpp', order: 2, label: 'DPM-Solver++(2M)', description: 'multistep data-prediction solver (Lu et al. 2022)' },
  { id: 'unipc2', family: 'unipc', order: 2, label: 'UniPC-2 (bh2)', description: 'unified predictor-corrector, no extra calls (Zhao et al. 2023)' },
];

export const SOLVER_IDS = SOLVERS.map((s) => s.id);

export function solverInfo(id: string): SolverInfo {
  const info = SOLVERS.find((s) => s.id === id);
  if (!info) throw new Error(`unknown solver "${id}"; choose one of: ${SOLVER_IDS.join(', ')}`);
  return info;
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
  // Calls of the guided eps f + g at one point: DDIM, DPM-Solver++, UniPC: N; PLMS: N + 1.
  // Each call evaluates every term once (consistency reuses that call's eps).
  if (family === 'ddim' || family === 'dpmpp' || family === 'unipc' || family === 'plms') {
    const calls = family === 'plms' && N > 1 ? N + 1 : N;
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

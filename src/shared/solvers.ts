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

export type GuidanceKind = 'none' | 'classifier' | 'cfg' | 'consistency';
/** How splitting solvers place the condition term when it needs the network (CFG, consistency). */
export type ConditionPlacement = 'exact' | 'same-point';

export interface RunCost {
  /** Network (UNet) calls. */
  nfe: number;
  /** Samples through the UNet per image (a CFG pair counts 2). */
  networkRows: number;
  /** Condition-term evaluations. */
  guidanceEvaluations: number;
  classifierCalls: number;
}

/**
 * What a run will cost, exactly as the engine counts it (tests hold the engine to this).
 * `guidance` is the effective kind: CFG at w = 1 and scales of 0 are 'none'.
 */
export function expectedCost(id: string, steps: number, guidance: GuidanceKind, conditionAt: ConditionPlacement): RunCost {
  const { family } = solverInfo(id);
  const N = steps;
  const cfg = guidance === 'cfg';
  const guided = guidance !== 'none';
  const rowsPerGuided = cfg ? 2 : 1;
  // Calls of the guided eps f + g at one point: DDIM, DPM-Solver++, UniPC: N; PLMS: N + 1.
  if (family === 'ddim' || family === 'dpmpp' || family === 'unipc' || family === 'plms') {
    const calls = family === 'plms' && N > 1 ? N + 1 : N;
    return {
      nfe: calls,
      networkRows: calls * rowsPerGuided,
      guidanceEvaluations: guided ? calls : 0,
      classifierCalls: guidance === 'classifier' ? calls : 0,
    };
  }
  const conditionsPerStep = guided ? (family === 'stsp' ? 2 : 1) : 0;
  const networkCondition = cfg || guidance === 'consistency';
  if (networkCondition && conditionAt === 'same-point') {
    return { nfe: N, networkRows: N * rowsPerGuided, guidanceEvaluations: N, classifierCalls: 0 };
  }
  if (networkCondition) {
    // Each condition evaluation is a network call of its own (a CFG pair, or eps for x0_hat),
    // plus the diffusion term at the moved point.
    const conditionCalls = N * conditionsPerStep;
    return {
      nfe: N + conditionCalls,
      networkRows: N + conditionCalls * rowsPerGuided,
      guidanceEvaluations: conditionCalls,
      classifierCalls: 0,
    };
  }
  return {
    nfe: N,
    networkRows: N,
    guidanceEvaluations: N * conditionsPerStep,
    classifierCalls: guidance === 'classifier' ? N * conditionsPerStep : 0,
  };
}

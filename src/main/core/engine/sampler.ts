/**
 * The sampling loop's frame: builds the plan (on the grid the solver walks: the paper's, or its
 * diffusers scheduler's), the guided model and the solver, counts cost, draws ancestral noise
 * from the run's generator, reports progress, honours cancellation (checked before every
 * network call).
 */
import { type ConditionPlacement, SOLVER_IDS, etaProblem, solverInfo, spacingProblem } from '../../../shared/solvers';
import { type GridSpacing, type SigmaGridKind, diffusersSigmaGrid } from './diffusersGrid';
import { type Guidance, makeGuidedDenoiser } from './guidance/denoiser';
import type { ImageShape } from './guidance/consistency';
import { type ClassifierGradient, type CostCounter, type NoisePredictor, countingClassifier, countingPredictor, newCostCounter } from './model';
import type { NoiseSource } from './noise/torchRandn';
import { type SamplingPlan, makePlan, makeSigmaPlan } from './plan';
import type { SchedulerConfig } from './schedule';
import { alphasCumprod } from './schedule';
import { checkStepCount, samplingTimesteps } from './spacing';
import { sampleDdim } from './solvers/ddim';
import { sampleDpmSolverPP2M } from './solvers/dpmSolverPP';
import { sampleEuler, sampleEulerAncestral } from './solvers/euler';
import { sampleHeun } from './solvers/heun';
import { plms } from './solvers/plms';
import { splitting } from './solvers/splitting';
import type { Solver } from './solvers/types';
import { sampleUniPC2 } from './solvers/unipc';
import { SPLIT_PC3, expSplit } from './solvers/expSplit';
import { SettingsError } from './errors';

function checkedSolver(id: string) {
  if (!SOLVER_IDS.includes(id)) throw new SettingsError(`unknown solver "${id}"; choose one of: ${SOLVER_IDS.join(', ')}`, { field: 'solver', kind: 'unsupported' });
  return solverInfo(id);
}

export function makeSolver(id: string, conditionAt: ConditionPlacement): Solver {
  const info = checkedSolver(id);
  switch (info.family) {
    case 'ddim':
      return sampleDdim;
    case 'plms':
      return plms(info.order);
    case 'ltsp':
      return splitting({ scheme: 'lie-trotter', order: info.order, conditionAt });
    case 'stsp':
      return splitting({ scheme: 'strang', order: info.order, conditionAt });
    case 'dpmpp':
      return sampleDpmSolverPP2M;
    case 'unipc':
      return sampleUniPC2;
    case 'euler':
      return sampleEuler;
    case 'euler-a':
      return sampleEulerAncestral;
    case 'heun':
      return sampleHeun;
    case 'expsplit':
      return expSplit(SPLIT_PC3);
  }
}

export interface StepProgress {
  /** 1-based count of finished steps. */
  step: number;
  steps: number;
  timestep: number;
  sigmaBar: number;
  nfe: number;
  guidanceEvaluations: number;
  /** x0 prediction of this step: the reporter's own copy (changing it changes nothing in the run). */
  x0: Float32Array;
}

/**
 * Changes the state x in place after step `stepIndex` (0-based, of the plan being run), before
 * the next step and before progress is reported: how inpainting keeps its known region and
 * ILVR-style restorations their measurement (pipelines/knownRegion.ts). Every solver keeps
 * stepping from the changed state: multistep history holds model outputs, never x.
 */
export type StateHook = (x: Float32Array, stepIndex: number) => void;

export interface SampleOptions {
  predictor: NoisePredictor;
  classifier?: ClassifierGradient;
  scheduler: SchedulerConfig;
  shape: ImageShape;
  rows: number;
  solver: string;
  steps: number;
  /** The timestep spacing (default: the scheduler config's); which a solver takes: SolverInfo.spacings. */
  spacing?: GridSpacing;
  /** DDIM's eta (0, the default: deterministic DDIM). */
  eta?: number;
  /**
   * The run's generator, continuing after the initial noise (docs/samplers.md §6.9): every
   * ancestral step (euler-a, DDIM with eta > 0) draws its noise from it. Required by those.
   */
  noise?: NoiseSource;
  guidance: Guidance;
  conditionAt?: ConditionPlacement;
  /** Override the scheduler's clip_sample (pixel models only). */
  clipX0?: boolean;
  /** Initial state x_T (rows * C*H*W), consumed: it becomes the result. */
  initial: Float32Array;
  /** Start later than the first grid step (img2img strength): skip this many steps. */
  skipSteps?: number;
  signal?: AbortSignal;
  stateHook?: StateHook;
  /** Progress after each step (after the state hook); it cannot change the run. */
  onStep?: (progress: StepProgress) => void | Promise<void>;
}

export interface SampleResult {
  x: Float32Array;
  plan: SamplingPlan;
  cost: CostCounter;
  wallMs: number;
}

const GRID_KIND: Record<string, SigmaGridKind> = { dpmpp: 'dpm', unipc: 'unipc', euler: 'sigma', 'euler-a': 'sigma', heun: 'sigma', expsplit: 'dpm' };

/**
 * The plan of an N-step run of `solver` (docs/samplers.md §4): the paper's solvers on the
 * paper's grid (spacing.ts), the diffusers-compatible ones on their scheduler class's own grid
 * (diffusersGrid.ts). A named spacing the solver cannot use is refused, naming the field.
 */
export function planFor(scheduler: SchedulerConfig, steps: number, spacing: GridSpacing = scheduler.timestepSpacing, solver = 'ddim'): SamplingPlan {
  const info = checkedSolver(solver);
  if (typeof spacing === 'string') {
    const problem = spacingProblem(solver, spacing);
    if (problem) throw new SettingsError(problem, { field: 'spacing', kind: 'unsupported' });
  }
  const T = scheduler.numTrainTimesteps;
  const table = alphasCumprod(scheduler);
  if (info.grid === 'paper') {
    const timesteps = samplingTimesteps(spacing as Exclude<GridSpacing, 'karras' | 'logsnr'>, steps, T, scheduler.stepsOffset);
    return makePlan(table, timesteps, scheduler.setAlphaToOne);
  }
  let gridSpacing = spacing;
  if (typeof spacing === 'object') {
    // An explicit list is checked as on the paper's grid; its length is the step count.
    gridSpacing = { explicit: samplingTimesteps(spacing, steps, T) };
    steps = spacing.explicit.length;
  } else {
    checkStepCount(steps, T);
  }
  const kind = GRID_KIND[info.family];
  const grid = diffusersSigmaGrid(kind, gridSpacing, steps, scheduler);
  return makeSigmaPlan(grid, table, kind === 'sigma' ? grid.initNoiseSigma : null);
}

export async function sample(opts: SampleOptions): Promise<SampleResult> {
  const started = performance.now();
  const info = checkedSolver(opts.solver);
  const fullPlan = planFor(opts.scheduler, opts.steps, opts.spacing, opts.solver);
  const plan = opts.skipSteps ? skipPlan(fullPlan, opts.skipSteps) : fullPlan;
  const eta = opts.eta ?? 0;
  const etaRefusal = etaProblem(opts.solver, eta);
  if (etaRefusal) throw new SettingsError(etaRefusal, { field: 'eta', kind: eta >= 0 && eta <= 1 ? 'unsupported' : 'range' });
  const cost = newCostCounter();
  const clip = opts.clipX0 ?? opts.scheduler.clipSample;
  const model = makeGuidedDenoiser({
    predictor: countingPredictor(opts.predictor, cost, opts.signal),
    classifier: opts.classifier && countingClassifier(opts.classifier, cost, opts.signal),
    rows: opts.rows,
    shape: opts.shape,
    conversion: { predictionType: opts.scheduler.predictionType, clipRange: clip ? opts.scheduler.clipSampleRange : null },
    guidance: opts.guidance,
    cost,
  });
  if (opts.initial.length !== model.size) {
    throw new SettingsError(`initial noise has ${opts.initial.length} values, expected ${model.size}`, { field: 'initNoise', kind: 'format' });
  }
  const solver = makeSolver(opts.solver, opts.conditionAt ?? 'exact');
  const x = opts.initial;
  const { stateHook, onStep, noise } = opts;
  if ((info.stochastic || eta > 0) && !noise) throw new Error(`${info.label}${eta > 0 ? ` with eta ${eta}` : ''} draws noise at every step: sample() needs the run's generator (noise)`);
  const noiseShape = [opts.rows, opts.shape.channels, opts.shape.height, opts.shape.width];
  await solver({
    plan,
    model,
    x,
    eta,
    drawNoise: () => noise!.randn(noiseShape),
    endStep: async (step, x0) => {
      stateHook?.(x, step.index);
      if (!onStep) return;
      await onStep({
        step: step.index + 1,
        steps: plan.steps.length,
        timestep: step.point.timestep,
        sigmaBar: step.sb,
        nfe: cost.nfe,
        guidanceEvaluations: cost.guidanceEvaluations,
        x0: Float32Array.from(x0),
      });
    },
  });
  return { x, plan, cost, wallMs: performance.now() - started };
}

/** The tail of a plan after `skip` steps (img2img: start at a lower noise level). */
export function skipPlan(plan: SamplingPlan, skip: number): SamplingPlan {
  if (!Number.isInteger(skip) || skip < 0 || skip >= plan.steps.length) {
    throw new SettingsError(`cannot skip ${skip} of ${plan.steps.length} steps`, { field: 'strength', kind: 'range' });
  }
  const steps = plan.steps.slice(skip).map((s, i, all) => ({ ...s, index: i, isFirst: i === 0, isLast: i === all.length - 1 }));
  // The state starts at the first kept step's level (the picture noised to it), not at pure noise.
  return { timesteps: plan.timesteps.slice(skip), steps, finalAbar: plan.finalAbar, initNoiseSigma: null };
}

/**
 * The sampling loop's frame: builds the plan and the guided model, picks the solver,
 * counts cost, reports progress, honours cancellation (checked before every network call).
 */
import { type ConditionPlacement, SOLVER_IDS, solverInfo } from '../../../shared/solvers';
import { type Guidance, makeGuidedDenoiser } from './guidance/denoiser';
import type { ImageShape } from './guidance/consistency';
import { type ClassifierGradient, type CostCounter, type NoisePredictor, countingClassifier, countingPredictor, newCostCounter } from './model';
import { type SamplingPlan, makePlan } from './plan';
import type { SchedulerConfig } from './schedule';
import { alphasCumprod } from './schedule';
import { type Spacing, samplingTimesteps } from './spacing';
import { sampleDdim } from './solvers/ddim';
import { sampleDpmSolverPP2M } from './solvers/dpmSolverPP';
import { plms } from './solvers/plms';
import { splitting } from './solvers/splitting';
import type { Solver } from './solvers/types';
import { sampleUniPC2 } from './solvers/unipc';
import { SettingsError } from './errors';

export function makeSolver(id: string, conditionAt: ConditionPlacement): Solver {
  if (!SOLVER_IDS.includes(id)) throw new SettingsError(`unknown solver "${id}"; choose one of: ${SOLVER_IDS.join(', ')}`, { field: 'solver', kind: 'unsupported' });
  const info = solverInfo(id);
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
  spacing?: Spacing;
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

export function planFor(scheduler: SchedulerConfig, steps: number, spacing: Spacing = scheduler.timestepSpacing): SamplingPlan {
  const timesteps = samplingTimesteps(spacing, steps, scheduler.numTrainTimesteps, scheduler.stepsOffset);
  return makePlan(alphasCumprod(scheduler), timesteps, scheduler.setAlphaToOne);
}

export async function sample(opts: SampleOptions): Promise<SampleResult> {
  const started = performance.now();
  const fullPlan = planFor(opts.scheduler, opts.steps, opts.spacing);
  const plan = opts.skipSteps ? skipPlan(fullPlan, opts.skipSteps) : fullPlan;
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
  const { stateHook, onStep } = opts;
  await solver({
    plan,
    model,
    x,
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
  return { timesteps: plan.timesteps.slice(skip), steps, finalAbar: plan.finalAbar };
}

/**
 * The sweep itself: one opened model, every planned run from the seed's shared x_T, each
 * measured against the reference of its guided ODE (reference.ts; computed once per
 * seed, guidance and classifier scale, kept in memory for the sweep). Runs are reported as they
 * finish; the caller may stop the sweep between runs (what finished is kept) or abort the run
 * in progress through the signal.
 */
import type { Settings } from '../../../shared/settings';
import { torchRandn } from '../engine/noise/torchRandn';
import type { StepProgress } from '../engine/sampler';
import type { Pipeline, PipelineResult } from '../pipelines/pipeline';
import type { OdeKey, PlannedRun, ReferenceRecord, SweepRecord } from '../../../shared/lab';
import { odeKeyOf } from './plan';
import type { Reference, ReferenceSolver } from './reference';

/**
 * A run diverged when its x0 has a non-finite value or an RMS error above 1: the data lie in
 * [-1, 1], so an error of half that range everywhere is no longer an inaccurate solution of the
 * ODE but a different picture.
 */
export const DIVERGENCE_RMS = 1;

export type { ReferenceRecord, SweepRecord };

/** RMS of a - b; NaN when either has a non-finite value. */
export function rmsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) throw new Error(`cannot compare ${a.length} values with ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return Math.sqrt(sum / a.length);
}

/** PSNR (dB) of two pictures in [-1, 1], each clamped and mapped to [0, 1] (peak 1); Infinity when equal. */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const unit = (v: number) => (Math.min(1, Math.max(-1, v)) + 1) / 2;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (unit(a[i]) - unit(b[i])) ** 2;
  return -10 * Math.log10(sum / a.length);
}

/** The shape of x_T: the picture for pixel models, the VAE latent (4 channels, 1/8 the size) for latent ones. */
export function noiseShape(pipeline: Pick<Pipeline, 'kind' | 'image'>, width: number, height: number): [number, number, number, number] {
  return pipeline.kind === 'latent' ? [1, 4, Math.floor(height / 8), Math.floor(width / 8)] : [1, pipeline.image.channels, height, width];
}

export interface SweepOptions {
  pipeline: Pipeline;
  runs: PlannedRun[];
  /** What every run shares (task, prompt, class, size, condition placement); the plan fills in the rest. */
  base: Settings;
  reference: ReferenceSolver;
  onReference?: (record: ReferenceRecord) => void;
  onRecord?: (record: SweepRecord, index: number) => void;
  /** Each step of each run (the CLI's --trajectory writes them out): the run's index in `runs` and the sampler's progress; the sampler awaits a promise it returns. */
  onStep?: (index: number, progress: StepProgress) => void | Promise<void>;
  /** The picture (a [C, H, W] array in about [-1, 1]) to keep with a run or a reference, as a base64 PNG; undefined keeps none. */
  keepPicture?: (of: PlannedRun | OdeKey, picture: ArrayLike<number>) => string | undefined;
  /** Asked before each run: true ends the sweep there (Ctrl+C), keeping what finished. */
  shouldStop?: () => boolean;
  /** Aborts the run in progress (CancelledError). */
  signal?: AbortSignal;
}

export interface SweepOutcome {
  records: SweepRecord[];
  references: ReferenceRecord[];
  /** False when it was stopped before every planned run. */
  complete: boolean;
}

/** Milliseconds to 0.01: the timer's noise is far larger. */
const roundMs = (ms: number) => Math.round(ms * 100) / 100;

/** RMS distance of a step's x0 prediction (a picture) from the reference's picture; null when not finite. */
export function stepError(x0: ArrayLike<number>, reference: Reference): number | null {
  const error = rmsError(x0, reference.picture);
  return Number.isFinite(error) ? error : null;
}

export function measure(run: PlannedRun, result: PipelineResult, reference: Reference, stepErrors?: (number | null)[]): SweepRecord {
  const finite = result.x.every(Number.isFinite);
  const rms = finite ? rmsError(result.x, reference.x) : null;
  const picturePsnr = finite ? psnr(result.decoded, reference.picture) : null;
  return {
    ...run,
    nfe: result.cost.nfe,
    networkRows: result.cost.networkRows,
    classifierCalls: result.cost.classifierCalls,
    wallMs: roundMs(result.samplingMs),
    rmsError: rms,
    psnr: picturePsnr,
    diverged: rms === null || rms > DIVERGENCE_RMS,
    referenceAccuracy: reference.accuracy,
    ...(stepErrors ? { stepErrors } : {}),
  };
}

export async function runSweep(options: SweepOptions): Promise<SweepOutcome> {
  const { pipeline, base, runs } = options;
  const shape = noiseShape(pipeline, base.width, base.height);
  // x_T drawn once per seed, exactly as a run with that seed draws it (torch.randn with a
  // generator seeded by the seed), and handed to every solver and to the reference.
  const noises = new Map<number, Float32Array>();
  const noiseOf = (seed: number) => noises.get(seed) ?? noises.set(seed, torchRandn(seed, shape)).get(seed)!;
  const references = new Map<string, Reference>();
  const referenceRecords: ReferenceRecord[] = [];
  const records: SweepRecord[] = [];
  for (const [index, run] of runs.entries()) {
    if (options.shouldStop?.()) return { records, references: referenceRecords, complete: false };
    const key = odeKeyOf(run);
    let reference = references.get(key);
    if (!reference) {
      const odeKey: OdeKey = { seed: run.seed, guidance: run.guidance, classifierScale: run.classifierScale };
      reference = await options.reference({ ...odeKey, noise: noiseOf(run.seed), base, signal: options.signal });
      references.set(key, reference);
      const record: ReferenceRecord = { ...odeKey, method: reference.method, steps: reference.steps, accuracy: reference.accuracy, wallMs: roundMs(reference.wallMs), nfe: reference.nfe, ...(reference.reused ? { reused: true } : {}) };
      const picture = options.keepPicture?.(odeKey, reference.picture);
      if (picture !== undefined) record.picture = picture;
      referenceRecords.push(record);
      options.onReference?.(record);
      if (options.shouldStop?.()) return { records, references: referenceRecords, complete: false };
    }
    const settings: Settings = {
      ...base, seed: run.seed, guidance: run.guidance, classifierScale: run.classifierScale, solver: run.solver, steps: run.steps, spacing: run.spacing,
    };
    const stepErrors: (number | null)[] = [];
    const known = reference;
    const onStep = (progress: StepProgress) => {
      stepErrors.push(stepError(progress.x0, known));
      return options.onStep?.(index, progress);
    };
    const result = await pipeline.generate(settings, { initNoise: noiseOf(run.seed), signal: options.signal, onStep });
    const record = measure(run, result, reference, stepErrors);
    const picture = options.keepPicture?.(run, result.decoded);
    if (picture !== undefined) record.picture = picture;
    records.push(record);
    options.onRecord?.(record, index);
  }
  return { records, references: referenceRecords, complete: true };
}

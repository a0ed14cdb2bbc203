/**
 * The sweep itself: one opened model, every planned run from the seed's shared x_T, each
 * measured against the reference of its guided ODE (reference.ts; computed once per
 * seed, guidance and classifier scale, kept in memory for the sweep). Runs are reported as they
 * finish; the caller may stop the sweep between runs (what finished is kept) or abort the run
 * in progress through the signal.
 */
import type { Settings } from '../../../shared/settings';
import { torchRandn } from '../engine/noise/torchRandn';
import type { Pipeline, PipelineResult } from '../pipelines/pipeline';
import { type OdeKey, type PlannedRun, odeKeyOf } from './plan';
import type { Reference, ReferenceSolver } from './reference';

/**
 * A run diverged when its x0 has a non-finite value or an RMS error above 1: the data lie in
 * [-1, 1], so an error of half that range everywhere is no longer an inaccurate solution of the
 * ODE but a different picture.
 */
export const DIVERGENCE_RMS = 1;

export interface SweepRecord extends PlannedRun {
  nfe: number;
  networkRows: number;
  classifierCalls: number;
  wallMs: number;
  /** RMS of x0 - reference over every value, in model space; null when x0 is not finite. */
  rmsError: number | null;
  /** PSNR in dB of the picture (clamped to [-1, 1], mapped to [0, 1]) against the reference's; null when not finite. */
  psnr: number | null;
  diverged: boolean;
  /** The reference's own estimated RMS error (reference.ts). */
  referenceAccuracy: number;
}

export interface ReferenceRecord extends OdeKey {
  method: Reference['method'];
  steps: number;
  accuracy: number;
  wallMs: number;
  nfe: number;
}

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

export function measure(run: PlannedRun, result: PipelineResult, reference: Reference): SweepRecord {
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
      const record: ReferenceRecord = { ...odeKey, method: reference.method, steps: reference.steps, accuracy: reference.accuracy, wallMs: roundMs(reference.wallMs), nfe: reference.nfe };
      referenceRecords.push(record);
      options.onReference?.(record);
      if (options.shouldStop?.()) return { records, references: referenceRecords, complete: false };
    }
    const settings: Settings = {
      ...base, seed: run.seed, guidance: run.guidance, classifierScale: run.classifierScale, solver: run.solver, steps: run.steps, spacing: run.spacing,
    };
    const result = await pipeline.generate(settings, { initNoise: noiseOf(run.seed), signal: options.signal });
    const record = measure(run, result, reference);
    records.push(record);
    options.onRecord?.(record, index);
  }
  return { records, references: referenceRecords, complete: true };
}

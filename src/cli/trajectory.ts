/**
 * `split-studio sweep --trajectory DIR`: every step's x0 prediction of every run, as float32 .npy
 * files (docs/sweep.md, "Trajectories"):
 *
 *   DIR/index.json                                     the runs (the plan's fields), each with its `trajectory`: step, timestep, sigmaBar, nfe, file
 *   DIR/run0007-seed0-w1-s10-stsp4-linspace-10steps/   run 7 (its index in the JSON's runs and the CSV's rows)
 *       x0-0001.npy ... x0-0010.npy                    the x0 prediction of step 1 ... 10, shape [1, C, H, W]
 *       final.npy                                      the run's result, the x0 its rmsError measures
 *   DIR/reference-seed0-w1-s10.npy                     the reference that run is measured against
 *
 * The sampler reports each step's x0 prediction (StepProgress), a picture; it does not report the
 * state x, so x is not written. The last step's prediction is the run's result for DDIM (its last
 * update lands on it); a multistep or splitting solver's last update combines it with earlier
 * evaluations, so its result (final.npy) differs from it. Every array is a picture, [1, C, H, W] in
 * about [-1, 1]: model space for pixel models, the decoded picture (x0 previews) for latent ones.
 */
import { existsSync, mkdirSync, readdirSync, statSync, accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { OdeKey, PlannedRun, SweepRecord } from '../shared/lab';
import type { StepProgress } from '../main/core/engine/sampler';
import { encodeNpy } from '../main/core/io/npy';
import { UsageError } from './args';
import { stageFile } from './run';

/** DIR must be a new folder in an existing, writable one, or an empty folder: files of two sweeps are never mixed. */
export function checkTrajectoryDir(dir: string): void {
  const target = path.resolve(dir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new UsageError(`--trajectory ${dir}: is not a folder`);
    if (readdirSync(target).length > 0) throw new UsageError(`--trajectory ${dir}: the folder is not empty; give a new or empty one`);
    try {
      accessSync(target, constants.W_OK);
    } catch {
      throw new UsageError(`--trajectory ${dir}: folder is not writable`);
    }
    return;
  }
  const parent = path.dirname(target);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) throw new UsageError(`--trajectory ${dir}: folder ${parent} does not exist`);
  try {
    accessSync(parent, constants.W_OK);
  } catch {
    throw new UsageError(`--trajectory ${dir}: folder ${parent} is not writable`);
  }
}

interface StepEntry {
  step: number;
  timestep: number;
  sigmaBar: number;
  nfe: number;
  file: string;
}

interface RunEntry {
  index: number;
  folder: string;
  run: PlannedRun;
  steps: StepEntry[];
  record?: SweepRecord;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** The folder of run `index`: its index (4 digits at least), then what tells it apart. */
export function trajectoryRunFolder(index: number, run: PlannedRun, runs = 0): string {
  const width = Math.max(4, String(Math.max(0, runs - 1)).length);
  return `run${pad(index, width)}-seed${run.seed}-w${run.guidance}-s${run.classifierScale}-${run.solver}-${run.spacing}-${run.steps}steps`;
}

export const trajectoryReferenceFile = (k: OdeKey) => `reference-seed${k.seed}-w${k.guidance}-s${k.classifierScale}.npy`;

export const trajectoryStepFile = (step: number) => `x0-${pad(step, 4)}.npy`;

export class TrajectoryWriter {
  private readonly runs = new Map<number, RunEntry>();
  private readonly references: (OdeKey & { file: string })[] = [];

  constructor(
    private readonly dir: string,
    /** The shape of x_T and x0, [1, C, H, W]. */
    private readonly shape: number[],
    private readonly plannedRuns: number,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** One step of run `index`: its x0 prediction, written as it comes. */
  step(index: number, run: PlannedRun, progress: StepProgress): void {
    let entry = this.runs.get(index);
    if (!entry) {
      entry = { index, folder: trajectoryRunFolder(index, run, this.plannedRuns), run, steps: [] };
      mkdirSync(path.join(this.dir, entry.folder), { recursive: true });
      this.runs.set(index, entry);
    }
    const shape = this.shapeOf(progress.x0.length);
    const file = path.join(entry.folder, trajectoryStepFile(progress.step));
    stageFile(path.join(this.dir, file), encodeNpy(progress.x0, shape), '--trajectory').commit();
    entry.steps.push({ step: progress.step, timestep: progress.timestep, sigmaBar: progress.sigmaBar, nfe: progress.nfe, file: file.split(path.sep).join('/') });
  }

  /** The run's result as a picture (final.npy). */
  final(index: number, picture: ArrayLike<number>): void {
    const entry = this.runs.get(index);
    if (!entry) return;
    stageFile(path.join(this.dir, entry.folder, 'final.npy'), encodeNpy(Float32Array.from(picture), this.shapeOf(picture.length)), '--trajectory').commit();
  }

  /** A reference's picture, written when the sweep first solves it. */
  reference(key: OdeKey, picture: ArrayLike<number>): void {
    const file = trajectoryReferenceFile(key);
    this.references.push({ ...key, file });
    stageFile(path.join(this.dir, file), encodeNpy(Float32Array.from(picture), this.shapeOf(picture.length)), '--trajectory').commit();
  }

  private shapeOf(length: number): number[] {
    return length === this.shape.reduce((a, b) => a * b, 1) ? this.shape : [length];
  }

  /** The run's measurement, for the index. */
  finishRun(record: SweepRecord, index: number): void {
    const entry = this.runs.get(index);
    if (entry) entry.record = record;
  }

  /** DIR/index.json: every run that reported a step, in run order. */
  writeIndex(modelName: string): void {
    const runs = [...this.runs.values()].sort((a, b) => a.index - b.index).map((e) => ({
      index: e.index,
      folder: e.folder,
      ...e.run,
      finished: e.record !== undefined,
      nfe: e.record?.nfe ?? null,
      rmsError: e.record?.rmsError ?? null,
      final: e.record !== undefined ? `${e.folder}/final.npy` : null,
      reference: trajectoryReferenceFile(e.run),
      trajectory: e.steps,
    }));
    const index = {
      model: modelName,
      shape: this.shape,
      dtype: 'float32',
      what: "per run, each step's x0 prediction (the sampler does not report the state x) and the run's result (final); per guided ODE, the reference",
      references: this.references,
      runs,
    };
    stageFile(path.join(this.dir, 'index.json'), new TextEncoder().encode(JSON.stringify(index, null, 2) + '\n'), '--trajectory').commit();
  }
}

/**
 * The engine process's side of a Lab sweep: the planned runs on the opened model, each measured
 * against its reference (core/lab), every reference and run sent to main as it finishes, then
 * the whole outcome. Cancel aborts the run in progress and stops the sweep; what finished before
 * it still ends the sweep ('sweepDone', complete false), so that main saves it.
 */
import { SettingsError } from '../core/engine/errors';
import { CancelledError } from '../core/engine/model';
import { encodePng } from '../core/io/png';
import { ModelFolderError } from '../core/models/modelFolder';
import { type Reference, exactMixture, exactReference, reusingReference, richardsonReference } from '../core/lab/reference';
import { odeKeyOf } from '../core/lab/plan';
import { runSweep } from '../core/lab/sweep';
import { ModelInputError } from '../core/pipelines/errors';
import { tensorToImage } from '../core/pipelines/images';
import type { Pipeline } from '../core/pipelines/pipeline';
import type { OdeKey, PlannedRun, ReferenceRecord, SweepRecord } from '../../shared/lab';
import type { FromEngine, SweepJob } from './messages';

/** Pictures kept with a sweep's runs are at most this wide or high (larger images keep none): one per run stays a few KiB. */
export const LAB_PICTURE_MAX_SIDE = 128;

/** The 'failed' message for an error a job ended with: the user's settings or inputs, a cancel, or something broken. */
export function failedMessage(jobId: string, error: unknown): Extract<FromEngine, { type: 'failed' }> {
  const kind = error instanceof CancelledError ? 'cancelled' : error instanceof SettingsError || error instanceof ModelInputError || error instanceof ModelFolderError ? 'settings' : 'internal';
  return { type: 'failed', jobId, kind, message: (error as Error).message, field: error instanceof SettingsError ? error.field : undefined };
}

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function sweep(job: SweepJob, open: () => Promise<Pipeline>, controller: AbortController, send: (m: FromEngine) => void): Promise<void> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const references: ReferenceRecord[] = [];
  const runs: SweepRecord[] = [];
  let kind: 'exact' | 'network' = 'network';
  try {
    const model = await open();
    const gmm = exactMixture(job.modelDir);
    if (gmm) kind = 'exact';
    const { width, height } = job.base;
    const small = width <= LAB_PICTURE_MAX_SIDE && height <= LAB_PICTURE_MAX_SIDE;
    const keepPicture = (of: PlannedRun | OdeKey, picture: ArrayLike<number>): string | undefined => {
      if (!small || of.seed !== job.pictureSeed) return undefined;
      const png = encodePng({ ...tensorToImage(Float32Array.from(picture), model.image.channels, width, height), channels: 4 });
      return Buffer.from(png).toString('base64');
    };
    // A reference computed now goes back with its record, for main to keep (lab.sqlite).
    let computed: { key: string; reference: Reference } | undefined;
    const solve = gmm ? exactReference(gmm) : richardsonReference(model, job.referenceSteps);
    const stored = job.references;
    const reference = stored
      ? reusingReference(solve, (request) => stored.keys[odeKeyOf(request)]!, (key) => stored.stored[key] ?? null, (key, r) => void (computed = { key, reference: r }))
      : solve;
    const outcome = await runSweep({
      pipeline: model,
      runs: job.runs,
      base: job.base,
      reference,
      keepPicture,
      onReference: (record) => {
        references.push(record);
        send({ type: 'sweepReference', jobId: job.jobId, reference: record, elapsedMs: elapsed(), ...(computed ? { keep: computed } : {}) });
        computed = undefined;
      },
      onRecord: (record) => {
        runs.push(record);
        send({ type: 'sweepRecord', jobId: job.jobId, record, elapsedMs: elapsed() });
      },
      // Lets 'cancel' messages in during a run: awaiting resolved promises never yields to the event loop.
      onStep: nextTick,
      shouldStop: () => controller.signal.aborted,
      signal: controller.signal,
    });
    if (!outcome.complete && runs.length === 0) throw new CancelledError();
    send({ type: 'sweepDone', jobId: job.jobId, references, runs, complete: outcome.complete, kind, elapsedMs: elapsed() });
  } catch (error) {
    // Cancelled during a run: the runs before it are kept, and the sweep ends as a stopped one.
    if (error instanceof CancelledError && runs.length > 0) {
      send({ type: 'sweepDone', jobId: job.jobId, references, runs, complete: false, kind, elapsedMs: elapsed() });
      return;
    }
    send(failedMessage(job.jobId, error));
  }
}

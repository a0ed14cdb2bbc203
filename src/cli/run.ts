/**
 * What `generate`, `gallery rerun` and `import --run` share: reading --provider and the model
 * folder, opening a model, sampling (an engine refusal named by its flag), the
 * settings check against the contract (what the gallery accepts), recording the result in the
 * gallery through GalleryStore (the only writer) with the studio's fingerprint, the user's
 * copy of the PNG with the same metadata chunks, and the JSON report.
 */
import { accessSync, constants, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { type Settings, settingsSchema } from '../shared/contract';
import { guidanceTerms, runSteps } from '../shared/runShape';
import { countOf } from '../shared/settings';
import { flagOf, isFieldName } from '../shared/settingsFields';
import { expectedCost } from '../shared/solvers';
import { ensureDataDir } from '../main/core/dataDir';
import { SettingsError } from '../main/core/engine/errors';
import { CancelledError, costReport } from '../main/core/engine/model';
import { makeFingerprint } from '../main/core/gallery/fingerprint';
import { encodeGalleryImage } from '../main/core/gallery/galleryImage';
import { type Fingerprint, GalleryStore, type NewInputs } from '../main/core/gallery/store';
import { InputFileError, readFileBounded } from '../main/core/io/files';
import { encodeNpy } from '../main/core/io/npy';
import { type ModelFolder, ModelFolderError, readModelFolder } from '../main/core/models/modelFolder';
import { modelHashes, shortModelHash } from '../main/core/models/modelHashes';
import type { RgbaImage } from '../main/core/pipelines/images';
import { ModelInputError } from '../main/core/pipelines/errors';
import { openPipeline } from '../main/core/pipelines/open';
import type { Pipeline, PipelineResult } from '../main/core/pipelines/pipeline';
import { type ProviderName, defaultProviders, parseProviders } from '../main/core/runtime/sessions';
import { type ParsedFlags, UsageError, stringFlag } from './args';

export const round = (ms: number) => Math.round(ms * 10) / 10;

/** The most a PNG input (--init-image, --mask, import) may weigh: far above any image this studio makes. */
const MAX_PNG_BYTES = 256 * 1024 * 1024;
/** The most an .npy input may weigh: the largest noise `split-studio noise` writes (2^28 float32 values) and its header. */
export const MAX_NPY_BYTES = 2 ** 28 * 4 + 1024 * 1024;

/**
 * A user's input file, read through readFileBounded: a device, FIFO, folder, missing or
 * oversized file is a UsageError (exit 2, one line), never a hang or a crash.
 */
export function readInputFile(file: string, what: string, maxBytes = MAX_PNG_BYTES): Uint8Array {
  try {
    return readFileBounded(file, maxBytes, `${what} ${file}`);
  } catch (error) {
    if (error instanceof InputFileError) throw new UsageError(error.message);
    throw new UsageError(`${what} ${file}: ${(error as Error).message}`);
  }
}

/**
 * An output path is checked before any work starts, so that a bad one fails fast and never
 * after the run was recorded: its folder must exist and be writable, and the path itself must
 * not be a folder.
 */
export function checkOutputPath(file: string, flag: string): string {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new UsageError(`${flag} ${file}: folder ${dir} does not exist`);
  let existing;
  try {
    existing = statSync(target);
  } catch {
    existing = undefined;
  }
  if (existing?.isDirectory()) throw new UsageError(`${flag} ${file}: is a folder; give a file name`);
  if (existing && !existing.isFile()) throw new UsageError(`${flag} ${file}: is not a regular file (a device, pipe or socket)`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${file}: folder ${dir} is not writable`);
  }
  return file;
}

/** A failed write (full disk, read-only file system, no permission) as one line. */
function writeProblem(what: string, error: unknown): UsageError {
  const e = error as NodeJS.ErrnoException;
  const reason: Record<string, string> = {
    ENOSPC: 'no space left on the device', EDQUOT: 'disk quota exceeded', EROFS: 'read-only file system', EACCES: 'permission denied',
    EPERM: 'permission denied', EISDIR: 'is a folder', ENOENT: 'folder does not exist', EIO: 'input/output error',
  };
  return new UsageError(`cannot write ${what}: ${(e.code && reason[e.code]) || e.message.split('\n')[0]}${e.code ? ` (${e.code})` : ''}`);
}

/**
 * A file written to a temporary name beside its target and renamed into place only by
 * commit(): outputs are staged before the gallery records the run, so that a failed write
 * leaves neither a row nor a partial file, and a failed record leaves no output.
 */
export interface StagedFile {
  commit(): void;
  discard(): void;
}

/** Test hook: replaces the write of staged outputs (simulates a full disk). */
export const stagingIo = { writeFileSync: writeFileSync as (file: string, data: Uint8Array) => void };

export function stageFile(target: string, bytes: Uint8Array, what: string): StagedFile {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  try {
    stagingIo.writeFileSync(temp, bytes);
  } catch (error) {
    rmSync(temp, { force: true });
    throw writeProblem(`${what} ${target}`, error);
  }
  return {
    commit() {
      try {
        renameSync(temp, target);
      } catch (error) {
        rmSync(temp, { force: true });
        throw writeProblem(`${what} ${target}`, error);
      }
    },
    discard() {
      rmSync(temp, { force: true });
    },
  };
}

/** The settings as the contract (and so the gallery and the PNG's metadata) accepts them, or a UsageError naming the flag. */
export function checkSettings(settings: Settings): Settings {
  const parsed = settingsSchema.safeParse(settings);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = issue.path[0];
  const flag = isFieldName(key) ? flagOf(key) : 'settings';
  const message = issue.message
    .replace(/^Too big: expected \w+ to have <=(\d+) (\w+)$/, 'must be at most $1 $2 long')
    .replace(/^Too big: expected number to be <=(\S+)$/, 'must be at most $1')
    .replace(/^Too small: expected number to be >=?(\S+)$/, 'must be at least $1');
  throw new UsageError(`${flag} ${message}`);
}

/** The --provider list, or the platform's default; a name it does not know is a UsageError. */
export function providersFlag(flags: ParsedFlags): ProviderName[] {
  if (!flags.has('provider')) return defaultProviders();
  try {
    return parseProviders(stringFlag(flags, 'provider')!);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A model folder as it reads; what is wrong with it is a UsageError, led by `what` when given. */
export function modelFolder(dir: string, what = ''): ModelFolder {
  try {
    return readModelFolder(dir);
  } catch (error) {
    if (error instanceof ModelFolderError) throw new UsageError(what ? `${what}: ${error.message}` : error.message);
    throw error;
  }
}

/** Settings in one line for people (gallery show, import). */
export function showSettings(s: Settings): string {
  const parts = [
    s.task, `solver ${s.solver}`, Array.isArray(s.spacing) ? `timesteps ${s.spacing.join(',')}` : `${countOf(s.steps, 'step')} (${s.spacing})`, `guidance ${s.guidance}`,
    `seed ${s.seed}`, `${s.width}x${s.height}`,
  ];
  if (s.classLabel !== null) parts.push(`class ${s.classLabel}, classifier scale ${s.classifierScale}`);
  if (s.task !== 'txt2img') parts.push(`strength ${s.strength}, consistency scale ${s.consistencyScale}`);
  if (s.clipX0 !== null) parts.push(`clip x0 ${s.clipX0 ? 'on' : 'off'}`);
  return parts.join(', ');
}

export async function openModel(folder: ModelFolder, providers: readonly ProviderName[]): Promise<Pipeline> {
  try {
    return await openPipeline(folder, providers);
  } catch (error) {
    // Opening reads only the model's own files (a broken .onnx, a UNet with inputs this build
    // cannot drive): whatever fails here is the folder's problem, which the user can fix.
    if (error instanceof CancelledError) throw error;
    throw new UsageError(`${folder.dir}: ${(error as Error).message.split('\n')[0]}`);
  }
}

export interface SampleInputs {
  initNoise?: Float32Array;
  initImage?: RgbaImage;
  mask?: RgbaImage;
  /** Step progress on stderr (a terminal, not --json). */
  showProgress: boolean;
}

/** One run; Ctrl+C cancels it (CancelledError). Input the engine refuses is a UsageError. */
export async function sampleImage(model: Pipeline, settings: Settings, inputs: SampleInputs): Promise<PipelineResult> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const result = await model.generate(settings, {
      initNoise: inputs.initNoise,
      initImage: inputs.initImage,
      mask: inputs.mask,
      signal: controller.signal,
      onStep: inputs.showProgress ? (p) => void process.stderr.write(`\rstep ${p.step}/${p.steps}  NFE ${p.nfe}  t=${p.timestep}   `) : undefined,
    });
    if (inputs.showProgress) process.stderr.write('\n');
    return result;
  } catch (error) {
    if (error instanceof SettingsError) throw new UsageError(refusalLine(error));
    if (error instanceof ModelInputError) throw new UsageError(error.message);
    // The classifier is opened on first use, inside the run: a broken classifier/model.onnx
    // fails here. onnxruntime's own errors (a model whose inputs or outputs do not fit what it
    // is fed) are the model folder's problem too, not this program's.
    if (isModelFileError(error)) throw new UsageError(`${model.folder.dir}: ${(error as Error).message.split('\n')[0]}`);
    throw error;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

/**
 * The engine's refusal, led by the flag of the field it is about ("--timesteps: timesteps must be
 * ..."). A spacing the solver cannot use is a named one, which --spacing gave.
 */
export function refusalLine(error: SettingsError): string {
  if (!error.field) return error.message;
  const flag = error.field === 'spacing' && error.kind === 'unsupported' ? '--spacing' : flagOf(error.field);
  return `${flag}: ${error.message}`;
}

/** An error raised by onnxruntime about a model file, rather than a fault in this program. */
function isModelFileError(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof CancelledError) return false;
  return /could not open|onnxruntime|\[ErrorCode|invalid dimensions|Unexpected input data type|Invalid (rank|argument|model|Feed|Output)|protobuf|Load model|is missing in 'feeds'|Non-zero status code/i.test(error.message);
}

/** The gallery in the data folder (SPLIT_STUDIO_HOME, else the platform's); a database it cannot use is a UsageError. */
/**
 * The gallery, reconciled with its folders before it returns (the gallery commands show what
 * is on disk now), or in the background for commands that then run for seconds anyway
 * (generate: a pass over 100,000 rows costs ~1.4 s that would otherwise come before sampling;
 * a pass cut short by the exit is simply run again next time).
 */
export function openGallery(reconcile: 'now' | 'background' = 'now'): GalleryStore {
  let dir: string;
  try {
    dir = ensureDataDir();
  } catch (error) {
    throw new UsageError(`data folder: ${(error as Error).message}`);
  }
  try {
    return GalleryStore.open(dir, { reconcile });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
}

/** What the gallery records about the engine that made an image: the same fields the studio records. */
async function fingerprintOf(model: Pipeline): Promise<{ fingerprint: Fingerprint; modelHash: string }> {
  const hashes = await modelHashes(model.folder.dir);
  return {
    fingerprint: makeFingerprint({ onnxruntimeVersion: ort.env.versions.common, provider: model.provider, modelHashes: hashes }),
    modelHash: shortModelHash(hashes),
  };
}

export interface Finished {
  /** The gallery's id, or null with --no-gallery. */
  generationId: number | null;
  fingerprint: Fingerprint;
  /** The PNG with its metadata chunks (also the user's copy). */
  png: Uint8Array;
  outputs: { image: string; galleryImage?: string; x0?: string };
}

/**
 * Records the run in the gallery (unless `gallery` is null), then writes the user's copy and
 * the x0 dump. The user's copy is the gallery's file, byte for byte; with no gallery, the same
 * encoding (pixels and metadata chunks).
 */
export async function finish(options: {
  gallery: GalleryStore | null;
  model: Pipeline;
  settings: Settings;
  result: PipelineResult;
  totalMs: number;
  parentId: number | null;
  outFile?: string;
  dumpFile?: string;
  /** What the run was made from (init image and mask PNGs as given, the initial noise as .npy), kept with it for re-runs. */
  inputs?: NewInputs;
}): Promise<Finished> {
  const { gallery, model, settings, result } = options;
  const { fingerprint, modelHash } = await fingerprintOf(model);
  // Encoded once: the user's copy is the gallery's file byte for byte.
  const encoded = encodeGalleryImage(result.image, settings, { modelHash, modelName: model.folder.name, engineVersion: fingerprint.engineVersion });
  const png = encoded.png;
  // Outputs are staged first and put in place only once the run is recorded: a full disk or a
  // failed record leaves neither a row nor a partial file.
  const staged: StagedFile[] = [];
  let generationId: number | null = null;
  let galleryImage: string | undefined;
  try {
    if (options.outFile) staged.push(stageFile(options.outFile, png, '--out'));
    if (options.dumpFile) staged.push(stageFile(options.dumpFile, encodeNpy(result.x, result.shape), '--dump-x0'));
    if (gallery) {
      let record;
      try {
        record = gallery.add({
          settings,
          modelId: model.folder.dir,
          modelName: model.folder.name,
          modelHash,
          provider: model.provider,
          cost: costReport(result.cost),
          durationMs: options.totalMs,
          warnings: result.warnings,
          parentId: options.parentId,
          fingerprint,
          image: encoded,
          inputs: options.inputs,
        });
      } catch (error) {
        // add() removes its own files when it fails; a write error is the disk's, not ours.
        if ((error as NodeJS.ErrnoException).code && /^E[A-Z]+$/.test((error as NodeJS.ErrnoException).code!)) throw writeProblem(`the gallery image in ${gallery.imagesDir}`, error);
        throw error;
      }
      generationId = record.id;
      galleryImage = gallery.imageFile(record.id) ?? undefined;
    }
  } catch (error) {
    for (const file of staged) file.discard();
    throw error;
  }
  for (const file of staged) file.commit();
  const image = options.outFile ? path.resolve(options.outFile) : galleryImage!;
  return {
    generationId,
    fingerprint,
    png,
    outputs: { image, ...(galleryImage ? { galleryImage } : {}), ...(options.dumpFile ? { x0: path.resolve(options.dumpFile) } : {}) },
  };
}

/** The JSON report of a run (generate's --json, and the `generation` of rerun/import --run). */
export function runReport(model: Pipeline, settings: Settings, result: PipelineResult, finished: Finished, totalMs: number) {
  return {
    generationId: finished.generationId,
    outputs: finished.outputs,
    model: { name: model.folder.name, dir: model.folder.dir },
    settings,
    timesteps: result.timesteps,
    nfe: result.cost.nfe,
    guidanceEvaluations: result.cost.guidanceEvaluations,
    classifierCalls: result.cost.classifierCalls,
    networkRows: result.cost.networkRows,
    expected: expectedCost(settings.solver, result.cost.nfe > 0 ? runSteps(settings) : 0, guidanceTerms(settings), settings.conditionAt),
    provider: model.provider,
    skippedProviders: model.skippedProviders,
    warnings: result.warnings,
    timings: { loadMs: round(model.loadMs), samplingMs: round(result.samplingMs), runtimeMs: round(result.cost.runtimeMs), totalMs: round(totalMs) },
  };
}

/** The one-line summary of a run for people. */
export function runLine(report: ReturnType<typeof runReport>): string {
  const id = report.generationId === null ? '' : `#${report.generationId}  `;
  return `${id}${report.outputs.image}  (${report.settings.solver}, ${countOf(report.timesteps.length, 'step')}, NFE ${report.nfe}, ${report.provider}, ${report.timings.totalMs} ms)`;
}

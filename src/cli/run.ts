/**
 * What `generate`, `gallery rerun` and `import --run` share: opening a model, sampling, the
 * settings check against the contract (what the gallery accepts), recording the result in the
 * gallery through GalleryStore (the only writer) with the studio's fingerprint, the user's
 * copy of the PNG with the same metadata chunks, and the JSON report.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { type Settings, settingsSchema } from '../shared/contract';
import { guidanceTerms, runSteps } from '../shared/runShape';
import { countOf } from '../shared/settings';
import { expectedCost } from '../shared/solvers';
import { ensureDataDir } from '../main/dataDir';
import { SettingsError } from '../main/engine/errors';
import { makeFingerprint } from '../main/gallery/fingerprint';
import { pngTextOptions } from '../main/gallery/pngMetadata';
import { type Fingerprint, GalleryStore } from '../main/gallery/store';
import { writeFileAtomic } from '../main/io/files';
import { encodeNpy } from '../main/io/npy';
import { encodePng } from '../main/io/png';
import type { ModelFolder } from '../main/models/modelFolder';
import { modelHashes, shortModelHash } from '../main/models/modelHashes';
import type { RgbaImage } from '../main/pipelines/images';
import { ModelInputError } from '../main/pipelines/onnxPixel';
import { type PixelModel, type PixelResult, generatePixel, openPixelModel } from '../main/pipelines/pixel';
import type { ProviderName } from '../main/runtime/sessions';
import { UsageError } from './args';

export const round = (ms: number) => Math.round(ms * 10) / 10;

export function readInputFile(file: string, what: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`${what} ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

/** The output's folder must exist before any work starts, so a bad path fails fast. */
export function checkOutputPath(file: string, flag: string): string {
  const dir = path.dirname(path.resolve(file));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new UsageError(`${flag} ${file}: folder ${dir} does not exist`);
  return file;
}

/** Flags that set each setting, for messages about settings the gallery would refuse. */
const FLAG_OF: Record<keyof Settings, string> = {
  task: '--task', prompt: '--prompt', negativePrompt: '--negative', classLabel: '--class', classifierScale: '--classifier-scale', solver: '--solver',
  steps: '--steps', guidance: '--guidance', conditionAt: '--condition-at', consistencyScale: '--consistency-scale', seed: '--seed', width: '--width',
  height: '--height', spacing: '--timesteps', clipX0: '--clip-x0', strength: '--strength',
};

/** The settings as the contract (and so the gallery and the PNG's metadata) accepts them, or a UsageError naming the flag. */
export function checkSettings(settings: Settings): Settings {
  const parsed = settingsSchema.safeParse(settings);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = issue.path[0] as keyof Settings | undefined;
  const flag = key && Object.hasOwn(FLAG_OF, key) ? FLAG_OF[key] : 'settings';
  const message = issue.message
    .replace(/^Too big: expected \w+ to have <=(\d+) (\w+)$/, 'must be at most $1 $2 long')
    .replace(/^Too big: expected number to be <=(\S+)$/, 'must be at most $1')
    .replace(/^Too small: expected number to be >=?(\S+)$/, 'must be at least $1');
  throw new UsageError(`${flag} ${message}`);
}

export async function openModel(folder: ModelFolder, providers: readonly ProviderName[]): Promise<PixelModel> {
  try {
    return await openPixelModel(folder, providers);
  } catch (error) {
    if (error instanceof ModelInputError || /could not open/.test((error as Error).message)) throw new UsageError(`${folder.dir}: ${(error as Error).message}`);
    throw error;
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
export async function sampleImage(model: PixelModel, settings: Settings, inputs: SampleInputs): Promise<PixelResult> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const result = await generatePixel(model, settings, {
      initNoise: inputs.initNoise,
      initImage: inputs.initImage,
      mask: inputs.mask,
      signal: controller.signal,
      onStep: inputs.showProgress ? (p) => void process.stderr.write(`\rstep ${p.step}/${p.steps}  NFE ${p.nfe}  t=${p.timestep}   `) : undefined,
    });
    if (inputs.showProgress) process.stderr.write('\n');
    return result;
  } catch (error) {
    if (error instanceof SettingsError || error instanceof ModelInputError) throw new UsageError(error.message);
    throw error;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

/** The gallery in the data folder (SPLIT_STUDIO_HOME, else the platform's); a database it cannot use is a UsageError. */
export function openGallery(): GalleryStore {
  let dir: string;
  try {
    dir = ensureDataDir();
  } catch (error) {
    throw new UsageError(`data folder: ${(error as Error).message}`);
  }
  try {
    return GalleryStore.open(dir);
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
}

/** What the gallery records about the engine that made an image: the same fields the studio records. */
export async function fingerprintOf(model: PixelModel): Promise<{ fingerprint: Fingerprint; modelHash: string }> {
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
  model: PixelModel;
  settings: Settings;
  result: PixelResult;
  totalMs: number;
  parentId: number | null;
  outFile?: string;
  dumpFile?: string;
}): Promise<Finished> {
  const { gallery, model, settings, result } = options;
  const { fingerprint, modelHash } = await fingerprintOf(model);
  let generationId: number | null = null;
  let png: Uint8Array;
  let galleryImage: string | undefined;
  if (gallery) {
    const record = gallery.add({
      settings,
      modelId: model.folder.dir,
      modelName: model.folder.name,
      modelHash,
      provider: model.provider,
      cost: { nfe: result.cost.nfe, networkRows: result.cost.networkRows, guidanceEvaluations: result.cost.guidanceEvaluations, classifierCalls: result.cost.classifierCalls },
      durationMs: options.totalMs,
      warnings: result.warnings,
      parentId: options.parentId,
      fingerprint,
      image: result.image,
    });
    generationId = record.id;
    galleryImage = gallery.imageFile(record.id) ?? undefined;
    png = galleryImage ? new Uint8Array(readFileSync(galleryImage)) : encodePng({ ...result.image, channels: 4 }, pngTextOptions(settings, { modelHash, modelName: model.folder.name, software: `Split Studio ${fingerprint.engineVersion}` }));
  } else {
    png = encodePng({ ...result.image, channels: 4 }, pngTextOptions(settings, { modelHash, modelName: model.folder.name, software: `Split Studio ${fingerprint.engineVersion}` }));
  }
  if (options.outFile) writeFileAtomic(options.outFile, png);
  if (options.dumpFile) writeFileAtomic(options.dumpFile, encodeNpy(result.x, result.shape));
  const image = options.outFile ? path.resolve(options.outFile) : galleryImage!;
  return {
    generationId,
    fingerprint,
    png,
    outputs: { image, ...(galleryImage ? { galleryImage } : {}), ...(options.dumpFile ? { x0: path.resolve(options.dumpFile) } : {}) },
  };
}

/** The JSON report of a run (generate's --json, and the `generation` of rerun/import --run). */
export function runReport(model: PixelModel, settings: Settings, result: PixelResult, finished: Finished, totalMs: number) {
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

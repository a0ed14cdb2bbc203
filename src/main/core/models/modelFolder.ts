/**
 * Model folders (docs/model-format.md): the diffusers ONNX layout plus the
 * classifier/ and studio.json extensions. Reading a folder checks its files and JSON and
 * fails with a message naming the file and what was expected; the ONNX inputs are checked
 * when the sessions open (pipelines).
 */
import { accessSync, constants, existsSync, lstatSync, statSync } from 'node:fs';
import path from 'node:path';
import { SPACING_NAMES, type SpacingName } from '../../../shared/solvers';
import { type SchedulerConfig, parseSchedulerConfig } from '../engine/schedule';
import { InputFileError, readFileBounded } from '../io/files';
import { jsonErrorPlace } from '../io/json';

export class ModelFolderError extends Error {
  constructor(readonly folder: string, detail: string) {
    super(`model folder ${folder}: ${detail}`);
    this.name = 'ModelFolderError';
  }
}

export interface StudioDefaults {
  solver?: string;
  /**
   * The starting spacing (for example karras, where the default solver measured best), used when
   * the starting solver can walk it; otherwise, and for the other solvers, the scheduler's own.
   */
  spacing?: SpacingName;
  steps?: number;
  guidance?: number;
  classifierScale?: number;
  width?: number;
  height?: number;
}

export interface ModelFolder {
  dir: string;
  /** Display name: studio.json's name, else the folder's name. */
  name: string;
  className: string;
  kind: 'pixel' | 'latent';
  scheduler: SchedulerConfig;
  unetPath: string;
  classifierPath?: string;
  classLabels?: string[];
  textEncoderPath?: string;
  tokenizerDir?: string;
  vaeDecoderPath?: string;
  vaeEncoderPath?: string;
  defaults: StudioDefaults;
  license?: string;
  description?: string;
}

/** The JSON files of a model folder are small configs; a larger one is refused before it is read. */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;
/** More classes than any classifier folder needs; a larger num_classes is a damaged or hostile config. */
export const MAX_CLASSES = 100_000;

/**
 * Whether the folder has an entry (file, folder or symbolic link, even a dangling one) at
 * `relative`. Only the entry inside the folder the user chose is looked at, so that messages
 * say nothing about where a link points (exists? readable?) beyond "cannot be read".
 */
function hasEntry(folder: string, relative: string): boolean {
  try {
    lstatSync(path.join(folder, relative));
    return true;
  } catch {
    return false;
  }
}

/** A JSON file whose entry is there but cannot be read within bounds (see readJson). */
class UnreadableFileError extends ModelFolderError {}

function readJson(folder: string, shown: string, relative: string, required: boolean): unknown {
  if (!hasEntry(folder, relative)) {
    if (required) throw new ModelFolderError(shown, `not a model folder: needs ${relative}`);
    return undefined;
  }
  let text: string;
  try {
    text = readFileBounded(path.join(folder, relative), MAX_JSON_BYTES, relative).toString('utf8');
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    // One message for every reason (missing link target, permissions, a device, too large).
    throw new UnreadableFileError(shown, `${relative} cannot be read (it must be a readable regular file of at most ${MAX_JSON_BYTES / 1024 / 1024} MiB)`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelFolderError(shown, `${relative} is not valid JSON (${jsonErrorPlace(text, error)})`);
  }
}

/**
 * Whether the network file `relative` is there; if its entry exists it must be a readable
 * regular file: onnxruntime would read /dev/zero or a FIFO until memory or patience ran out.
 */
function onnxFile(folder: string, shown: string, relative: string): string | undefined {
  if (!hasEntry(folder, relative)) return undefined;
  const file = path.join(folder, relative);
  let ok = false;
  try {
    ok = statSync(file).isFile();
    if (ok) accessSync(file, constants.R_OK);
  } catch {
    ok = false;
  }
  if (!ok) throw new ModelFolderError(shown, `${relative} cannot be read (it must be a readable regular file)`);
  return file;
}

/** A value from a config, for a message: numbers, booleans and null as written, else only their kind. */
function shownValue(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return Array.isArray(v) ? 'an array' : typeof v === 'string' ? 'a string' : `a ${typeof v}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readModelFolder(dir: string): ModelFolder {
  const folder = path.resolve(dir);
  if (!existsSync(folder)) throw new ModelFolderError(dir, 'does not exist');
  if (!statSync(folder).isDirectory()) throw new ModelFolderError(dir, 'is not a folder');
  const index = readJson(folder, dir, 'model_index.json', true);
  if (!isObject(index)) throw new ModelFolderError(dir, 'model_index.json must be a JSON object');
  const className = typeof index._class_name === 'string' ? index._class_name : 'unknown';
  const unetPath = onnxFile(folder, dir, 'unet/model.onnx');
  if (!unetPath) throw new ModelFolderError(dir, 'not a model folder: needs unet/model.onnx');
  let scheduler: SchedulerConfig;
  const rawScheduler = readJson(folder, dir, 'scheduler/scheduler_config.json', true);
  try {
    scheduler = parseSchedulerConfig(rawScheduler, 'scheduler/scheduler_config.json');
  } catch (error) {
    if (error instanceof ModelFolderError) throw error;
    // parseSchedulerConfig quotes the bad value; a string or structure from a linked file is
    // not shown, only its kind.
    const message = (error as Error).message.replace(/, got (["[{]).*$/s, (_, first: string) => `, got ${first === '"' ? 'a string' : first === '[' ? 'an array' : 'an object'}`);
    throw new ModelFolderError(dir, message);
  }
  const vaeDecoderPath = onnxFile(folder, dir, 'vae_decoder/model.onnx');
  if (vaeDecoderPath && isObject(rawScheduler) && (rawScheduler.timestep_spacing === undefined || rawScheduler.timestep_spacing === null)) {
    // Stable Diffusion folders ship PNDM/DDIM scheduler configs written before diffusers had
    // timestep_spacing; those schedulers default to "leading" (with steps_offset), not linspace.
    scheduler = { ...scheduler, timestepSpacing: 'leading' };
  }

  const classifierPath = onnxFile(folder, dir, 'classifier/model.onnx');
  let classLabels: string[] | undefined;
  if (classifierPath) {
    const config = readJson(folder, dir, 'classifier/config.json', true);
    // Checked before anything is allocated for the labels: a huge count would take gigabytes.
    if (!isObject(config) || !Number.isInteger(config.num_classes) || (config.num_classes as number) < 1 || (config.num_classes as number) > MAX_CLASSES) {
      throw new ModelFolderError(dir, `classifier/config.json needs "num_classes" (an integer from 1 to ${MAX_CLASSES})${isObject(config) && config.num_classes !== undefined ? `, got ${shownValue(config.num_classes)}` : ''}`);
    }
    const count = config.num_classes as number;
    const labels = config.labels;
    if (labels !== undefined && (!Array.isArray(labels) || labels.length !== count || !labels.every((l) => typeof l === 'string'))) {
      throw new ModelFolderError(dir, `classifier/config.json "labels" must be ${count} strings`);
    }
    classLabels = (labels as string[] | undefined) ?? Array.from({ length: count }, (_, i) => `class ${i}`);
  }

  const studio = readJson(folder, dir, 'studio.json', false);
  if (studio !== undefined && !isObject(studio)) throw new ModelFolderError(dir, 'studio.json must be a JSON object');
  const defaults = parseDefaults(folder, isObject(studio) ? studio.defaults : undefined);
  if (vaeDecoderPath) {
    const side = latentFolderSide(folder, dir);
    defaults.width ??= side;
    defaults.height ??= side;
  }
  const tokenizerDir = path.join(folder, 'tokenizer');
  return {
    dir: folder,
    name: isObject(studio) && typeof studio.name === 'string' ? studio.name : path.basename(folder),
    className,
    kind: vaeDecoderPath ? 'latent' : 'pixel',
    scheduler,
    unetPath,
    classifierPath,
    classLabels,
    textEncoderPath: onnxFile(folder, dir, 'text_encoder/model.onnx'),
    tokenizerDir: existsSync(tokenizerDir) ? tokenizerDir : undefined,
    vaeDecoderPath,
    vaeEncoderPath: onnxFile(folder, dir, 'vae_encoder/model.onnx'),
    defaults,
    license: isObject(studio) && typeof studio.license === 'string' ? studio.license : undefined,
    description: isObject(studio) && typeof studio.description === 'string' ? studio.description : undefined,
  };
}

/**
 * The image size a latent model was trained at, for its default: unet/config.json's
 * sample_size (latent cells) times 8, else vae_decoder/config.json's sample_size (pixels), else
 * 512 (Stable Diffusion 1.x). Invalid JSON is ignored here (they are optional, and the
 * latent pipeline reports it when it reads them), but not an entry that cannot be read within
 * bounds: the pipeline reads these files again, and /dev/zero there would never end.
 */
function latentFolderSide(folder: string, shown: string): number {
  const read = (relative: string): unknown => {
    try {
      return readJson(folder, shown, relative, false);
    } catch (error) {
      if (error instanceof UnreadableFileError) throw error;
      return undefined;
    }
  };
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
  const unet = read('unet/config.json');
  if (isObject(unet) && ok(unet.sample_size) && unet.sample_size * 8 <= 4096) return unet.sample_size * 8;
  const vae = read('vae_decoder/config.json');
  if (isObject(vae) && ok(vae.sample_size) && vae.sample_size <= 4096 && vae.sample_size % 8 === 0) return vae.sample_size;
  return 512;
}

function parseDefaults(folder: string, raw: unknown): StudioDefaults {
  if (raw === undefined) return {};
  if (!isObject(raw)) throw new ModelFolderError(folder, 'studio.json "defaults" must be an object');
  const out: StudioDefaults = {};
  const num = (key: keyof StudioDefaults, check: (v: number) => boolean) => {
    const v = raw[key];
    if (v === undefined) return;
    if (typeof v !== 'number' || !check(v)) throw new ModelFolderError(folder, `studio.json defaults.${key} is invalid: ${shownValue(v)}`);
    (out as Record<string, unknown>)[key] = v;
  };
  if (raw.solver !== undefined) {
    if (typeof raw.solver !== 'string') throw new ModelFolderError(folder, 'studio.json defaults.solver must be a string');
    out.solver = raw.solver;
  }
  if (raw.spacing !== undefined) {
    if (typeof raw.spacing !== 'string' || !(SPACING_NAMES as readonly string[]).includes(raw.spacing)) {
      throw new ModelFolderError(folder, `studio.json defaults.spacing is invalid: ${shownValue(raw.spacing)}; use one of ${SPACING_NAMES.join(', ')}`);
    }
    out.spacing = raw.spacing as SpacingName;
  }
  num('steps', (v) => Number.isInteger(v) && v >= 1 && v <= 1000);
  num('guidance', (v) => Number.isFinite(v) && v >= 0);
  num('classifierScale', (v) => Number.isFinite(v) && v >= 0);
  num('width', (v) => Number.isInteger(v) && v > 0);
  num('height', (v) => Number.isInteger(v) && v > 0);
  return out;
}

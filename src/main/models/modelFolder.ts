/**
 * Model folders (../shared/spec/model-format.md): the diffusers ONNX layout plus the
 * classifier/ and studio.json extensions. Reading a folder checks its files and JSON and
 * fails with a message naming the file and what was expected; the ONNX inputs are checked
 * when the sessions open (pipelines).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { type SchedulerConfig, parseSchedulerConfig } from '../engine/schedule';

export class ModelFolderError extends Error {
  constructor(readonly folder: string, detail: string) {
    super(`model folder ${folder}: ${detail}`);
    this.name = 'ModelFolderError';
  }
}

export interface StudioDefaults {
  solver?: string;
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

function readJson(folder: string, relative: string, required: boolean): unknown {
  const file = path.join(folder, relative);
  if (!existsSync(file)) {
    if (required) throw new ModelFolderError(folder, `${relative} is missing`);
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ModelFolderError(folder, `${relative} is not valid JSON (${(error as Error).message})`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function optionalOnnx(folder: string, component: string): string | undefined {
  const file = path.join(folder, component, 'model.onnx');
  return existsSync(file) ? file : undefined;
}

export function readModelFolder(dir: string): ModelFolder {
  const folder = path.resolve(dir);
  if (!existsSync(folder)) throw new ModelFolderError(dir, 'does not exist');
  if (!statSync(folder).isDirectory()) throw new ModelFolderError(dir, 'is not a folder');
  const index = readJson(folder, 'model_index.json', true);
  if (!isObject(index)) throw new ModelFolderError(dir, 'model_index.json must be a JSON object');
  const className = typeof index._class_name === 'string' ? index._class_name : 'unknown';
  const unetPath = path.join(folder, 'unet', 'model.onnx');
  if (!existsSync(unetPath)) throw new ModelFolderError(dir, 'unet/model.onnx is missing');
  let scheduler: SchedulerConfig;
  const rawScheduler = readJson(folder, 'scheduler/scheduler_config.json', true);
  try {
    scheduler = parseSchedulerConfig(rawScheduler, 'scheduler/scheduler_config.json');
  } catch (error) {
    if (error instanceof ModelFolderError) throw error;
    throw new ModelFolderError(dir, (error as Error).message);
  }
  const vaeDecoderPath = optionalOnnx(folder, 'vae_decoder');
  if (vaeDecoderPath && isObject(rawScheduler) && (rawScheduler.timestep_spacing === undefined || rawScheduler.timestep_spacing === null)) {
    // Stable Diffusion folders ship PNDM/DDIM scheduler configs written before diffusers had
    // timestep_spacing; those schedulers default to "leading" (with steps_offset), not linspace.
    scheduler = { ...scheduler, timestepSpacing: 'leading' };
  }

  const classifierPath = optionalOnnx(folder, 'classifier');
  let classLabels: string[] | undefined;
  if (classifierPath) {
    const config = readJson(folder, 'classifier/config.json', true);
    if (!isObject(config) || !Number.isInteger(config.num_classes) || (config.num_classes as number) < 1) {
      throw new ModelFolderError(dir, 'classifier/config.json needs "num_classes" (a positive integer)');
    }
    const count = config.num_classes as number;
    const labels = config.labels;
    if (labels !== undefined && (!Array.isArray(labels) || labels.length !== count || !labels.every((l) => typeof l === 'string'))) {
      throw new ModelFolderError(dir, `classifier/config.json "labels" must be ${count} strings`);
    }
    classLabels = (labels as string[] | undefined) ?? Array.from({ length: count }, (_, i) => `class ${i}`);
  }

  const studio = readJson(folder, 'studio.json', false);
  if (studio !== undefined && !isObject(studio)) throw new ModelFolderError(dir, 'studio.json must be a JSON object');
  const defaults = parseDefaults(folder, isObject(studio) ? studio.defaults : undefined);
  if (vaeDecoderPath) {
    const side = latentFolderSide(folder);
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
    textEncoderPath: optionalOnnx(folder, 'text_encoder'),
    tokenizerDir: existsSync(tokenizerDir) ? tokenizerDir : undefined,
    vaeDecoderPath,
    vaeEncoderPath: optionalOnnx(folder, 'vae_encoder'),
    defaults,
    license: isObject(studio) && typeof studio.license === 'string' ? studio.license : undefined,
    description: isObject(studio) && typeof studio.description === 'string' ? studio.description : undefined,
  };
}

/**
 * The image size a latent model was trained at, for its default: unet/config.json's
 * sample_size (latent cells) times 8, else vae_decoder/config.json's sample_size (pixels), else
 * 512 (Stable Diffusion 1.x). Unreadable configs are ignored here; they are optional.
 */
function latentFolderSide(folder: string): number {
  const read = (relative: string): unknown => {
    try {
      return readJson(folder, relative, false);
    } catch {
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
    if (typeof v !== 'number' || !check(v)) throw new ModelFolderError(folder, `studio.json defaults.${key} is invalid: ${JSON.stringify(v)}`);
    (out as Record<string, unknown>)[key] = v;
  };
  if (raw.solver !== undefined) {
    if (typeof raw.solver !== 'string') throw new ModelFolderError(folder, 'studio.json defaults.solver must be a string');
    out.solver = raw.solver;
  }
  num('steps', (v) => Number.isInteger(v) && v >= 1 && v <= 1000);
  num('guidance', (v) => Number.isFinite(v) && v >= 0);
  num('classifierScale', (v) => Number.isFinite(v) && v >= 0);
  num('width', (v) => Number.isInteger(v) && v > 0);
  num('height', (v) => Number.isInteger(v) && v > 0);
  return out;
}

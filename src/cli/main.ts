/**
 * split-studio: the command line. Drives the same engine and pipelines as the studio.
 * Bad input exits with code 2 and one line on stderr, and leaves no partial output file.
 */
import { MAX_BATCH_COUNT, batchSeeds } from '../shared/batch';
import type { Settings } from '../shared/contract';
import { startingSpacing } from '../shared/modelSettings';
import { DEFAULT_CLASSIFIER_SCALE, DEFAULT_CONDITION_AT, DEFAULT_CONSISTENCY_SCALE, SPACINGS, TASKS } from '../shared/settings';
import { SETTINGS_FIELDS, SETTINGS_LIMITS as LIMITS } from '../shared/settingsFields';
import { CONDITION_PLACEMENTS, SOLVER_IDS } from '../shared/solvers';
import { CancelledError } from '../main/core/engine/model';
import { isDamage } from '../main/core/gallery/db';
import { torchRandn } from '../main/core/engine/noise/torchRandn';
import { encodeNpy, readNpy } from '../main/core/io/npy';
import { decodePng } from '../main/core/io/png';
import { defaultModelDir } from '../main/core/models/catalog';
import { firstNonFinite } from '../main/core/pipelines/common';
import type { RgbaImage } from '../main/core/pipelines/images';
import { type CommandSpec, HelpRequested, type ParsedFlags, UsageError, checkArgumentLengths, choiceFlag, intListFlag, numberFlag, parseCommand, stringFlag } from './args';
import { GALLERY_USAGE, galleryCommand } from './gallery';
import { importCommand } from './import';
import { MODELS_USAGE, modelsCommand } from './models';
import { REFERENCE_SOLVER, generateReference } from './reference';
import { sweepCommand, sweepsCommand } from './sweep';
import {
  MAX_NPY_BYTES, checkOutputPath, checkSettings, finish, modelFolder, openGallery, openModel, providersFlag, readInputFile, runLine, runReport, sampleImage, stageFile,
} from './run';

const GENERATE_OPTIONS = `  --model DIR            model folder (default: the embedded default model)
  --prompt TEXT          --negative TEXT
  --class K              --classifier-scale S     classifier guidance (models with a classifier;
                                                  S defaults to ${DEFAULT_CLASSIFIER_SCALE} with --class; adds to --guidance)
  --solver NAME          ${SOLVER_IDS.join(', ')}
                         or reference: exact models only, the closed-form RK4 solution the sweep
                         measures against, with its accuracy (not recorded in the gallery)
  --steps N              --guidance W             --seed S
  --width W              --height H               --spacing ${SPACINGS.join('|')}
  --timesteps 999,946,...   explicit descending training timesteps (overrides --steps)
  --eta E                DDIM's eta, 0..1 (default 0; > 0 adds fresh noise from the seed every step)
  --condition-at ${CONDITION_PLACEMENTS.join('|')}   splitting with CFG/consistency: where the condition is evaluated
  --init-noise FILE.npy  --dump-x0 FILE.npy       (final state in model space)
  --task ${TASKS.join('|')}
  --init-image FILE.png  --strength S             --mask FILE.png   --consistency-scale S
  --clip-x0 on|off       --provider cuda,dml,cpu  --out FILE.png    --json
  --batch N              N images, seeds S, S+1, ... (each recorded; --out x.png writes x-SEED.png)
  --no-gallery           do not record the image in the gallery (then --out defaults to split-studio-SEED.png)`;

const NOISE_OPTIONS = '--seed S --shape 1,4,64,64 --out FILE.npy';

const USAGE = `usage: split-studio <command> [options]

commands:
  generate   make an image and record it in the gallery   (split-studio generate --help)
  gallery    list, show, re-run and export generations    (split-studio gallery --help)
  import     read the settings of a PNG (this studio's or AUTOMATIC1111's); --run generates with them
  noise      write torch-compatible seeded noise to a .npy file
  models     list the installed models; models add DIR, models remove ID  (split-studio models --help)
  sweep      every solver x steps x seed on one model, measured against a reference  (split-studio sweep --help)
  sweeps     the kept sweeps: list, or show one again with its CSV/JSON  (split-studio sweeps --help)

generate options:
${GENERATE_OPTIONS}

noise options: ${NOISE_OPTIONS}

${GALLERY_USAGE}

${MODELS_USAGE}`;

export const GENERATE: CommandSpec = {
  help: `usage: split-studio generate [options]   make an image and record it in the gallery\n\n${GENERATE_OPTIONS}`,
  values: [
    'model', 'prompt', 'negative', 'class', 'classifier-scale', 'solver', 'steps', 'guidance', 'seed', 'width', 'height', 'spacing',
    'timesteps', 'init-noise', 'dump-x0', 'init-image', 'strength', 'mask', 'task', 'clip-x0', 'provider', 'out', 'condition-at',
    'consistency-scale', 'eta', 'batch',
  ],
  switches: ['json', 'no-gallery'],
};

const NOISE: CommandSpec = {
  help: `usage: split-studio noise ${NOISE_OPTIONS}   torch-compatible seeded noise as a .npy file`,
  values: ['seed', 'shape', 'out'],
};

/** A PNG flag's pixels, and its bytes as given (which the gallery keeps with the run). */
function readPngFlag(flags: ParsedFlags, name: string): (RgbaImage & { png: Uint8Array }) | undefined {
  const file = stringFlag(flags, name);
  if (file === undefined) return undefined;
  try {
    const bytes = readInputFile(file, `--${name}`);
    const png = decodePng(bytes);
    return { width: png.width, height: png.height, data: png.data, png: bytes };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--${name} ${file}: ${(error as Error).message}`);
  }
}

async function generate(argv: string[]): Promise<void> {
  const { flags } = parseCommand(argv, GENERATE);
  const modelDir = stringFlag(flags, 'model') ?? defaultModelDir();
  if (!modelDir) throw new UsageError('no --model given and no embedded default model is installed');
  const folder = modelFolder(modelDir);
  const d = folder.defaults;
  const timesteps = intListFlag(flags, 'timesteps', 0);
  const spacingName = choiceFlag(flags, 'spacing', SPACINGS);
  if (timesteps && (spacingName || flags.has('steps'))) throw new UsageError('--timesteps replaces --steps and --spacing; give one or the other');
  const clip = choiceFlag(flags, 'clip-x0', ['on', 'off'] as const);
  const solver = stringFlag(flags, 'solver') ?? d.solver ?? 'ddim';
  const settings: Settings = {
    task: choiceFlag(flags, 'task', TASKS) ?? 'txt2img',
    prompt: stringFlag(flags, 'prompt') ?? '',
    negativePrompt: stringFlag(flags, 'negative') ?? '',
    classLabel: numberFlag(flags, 'class', LIMITS.classLabel) ?? null,
    classifierScale: numberFlag(flags, 'classifier-scale', LIMITS.classifierScale) ?? d.classifierScale ?? (flags.has('class') ? DEFAULT_CLASSIFIER_SCALE : 0),
    solver,
    steps: timesteps?.length ?? numberFlag(flags, 'steps', LIMITS.steps) ?? d.steps ?? 20,
    guidance: numberFlag(flags, 'guidance', LIMITS.guidance) ?? d.guidance ?? 1,
    conditionAt: choiceFlag(flags, 'condition-at', CONDITION_PLACEMENTS) ?? DEFAULT_CONDITION_AT,
    consistencyScale: numberFlag(flags, 'consistency-scale', LIMITS.consistencyScale) ?? DEFAULT_CONSISTENCY_SCALE,
    seed: numberFlag(flags, 'seed', LIMITS.seed) ?? Math.floor(Math.random() * 2 ** 32),
    width: numberFlag(flags, 'width', LIMITS.width) ?? d.width ?? 0,
    height: numberFlag(flags, 'height', LIMITS.height) ?? d.height ?? 0,
    spacing: timesteps ?? spacingName ?? startingSpacing(solver, d.spacing, folder.scheduler.timestepSpacing),
    clipX0: clip === undefined ? null : clip === 'on',
    strength: numberFlag(flags, 'strength', LIMITS.strength) ?? 1,
  };
  const eta = numberFlag(flags, 'eta', LIMITS.eta);
  if (eta !== undefined) settings.eta = eta;
  // Checked before the model is opened: onnxruntime-node crashes (SIGSEGV) on a process whose
  // command line is very long, and a prompt over the limit would be refused afterwards anyway.
  for (const key of ['prompt', 'negativePrompt'] as const) {
    const { maxLength } = LIMITS[key];
    const length = settings[key].length;
    if (length > maxLength) throw new UsageError(`${SETTINGS_FIELDS[key].flag} must be at most ${maxLength} characters long, got ${length}`);
  }
  if (settings.solver !== REFERENCE_SOLVER && !SOLVER_IDS.includes(settings.solver)) throw new UsageError(`unknown solver "${settings.solver}"; choose one of: ${SOLVER_IDS.join(', ')}`);
  if (settings.classLabel !== null && !folder.classLabels) throw new UsageError(`${folder.name} has no classifier, so --class cannot be used`);
  if (settings.classLabel !== null && settings.classLabel >= folder.classLabels!.length) {
    throw new UsageError(`--class ${settings.classLabel} is out of range: ${folder.name} has classes 0..${folder.classLabels!.length - 1}`);
  }
  if (settings.solver === REFERENCE_SOLVER) return generateReference(flags, folder, settings);
  if (settings.clipX0 !== null && folder.kind !== 'pixel') throw new UsageError('--clip-x0 applies to pixel-space models only');
  const providers = providersFlag(flags);
  const count = numberFlag(flags, 'batch', { integer: true, min: 1, max: MAX_BATCH_COUNT }) ?? 1;
  let seeds: number[];
  try {
    seeds = batchSeeds(settings.seed, count);
  } catch (error) {
    throw new UsageError(`--batch ${count}: ${(error as Error).message}`);
  }
  if (count > 1 && flags.has('init-noise')) throw new UsageError('--init-noise fixes the noise, so every image of a --batch would be the same; give one or the other');
  if (count > 1 && flags.has('dump-x0')) throw new UsageError('--dump-x0 writes one file; it cannot be used with --batch');
  // With the gallery the image is kept there; a copy elsewhere only when asked for (--out).
  const outName = stringFlag(flags, 'out') ?? (flags.has('no-gallery') ? `split-studio-${settings.seed}.png` : undefined);
  const outFiles = outName === undefined ? undefined : seeds.map((seed) => checkOutputPath(count > 1 ? batchFileName(outName, seed) : outName, '--out'));
  const dumpFile = flags.has('dump-x0') ? checkOutputPath(stringFlag(flags, 'dump-x0')!, '--dump-x0') : undefined;
  const initNoiseFile = stringFlag(flags, 'init-noise');
  let initNoise: Float32Array | undefined;
  let initNoiseNpy: Uint8Array | undefined;
  if (initNoiseFile) {
    try {
      initNoiseNpy = readInputFile(initNoiseFile, '--init-noise', MAX_NPY_BYTES);
      initNoise = readNpy(initNoiseNpy).data;
    } catch (error) {
      throw new UsageError(error instanceof UsageError ? error.message : `--init-noise ${initNoiseFile}: ${(error as Error).message}`);
    }
    // NaN or Inf would run to a black image that is then saved and recorded as a result.
    const bad = firstNonFinite(initNoise);
    if (bad !== -1) throw new UsageError(`--init-noise ${initNoiseFile}: value ${bad} is ${initNoise[bad]}; noise must be finite numbers`);
  }
  const initImage = readPngFlag(flags, 'init-image');
  const mask = readPngFlag(flags, 'mask');
  if (mask && settings.task !== 'inpaint') throw new UsageError('--mask is used only with --task inpaint');
  if (initImage && settings.task === 'txt2img') throw new UsageError('--init-image needs --task img2img, inpaint, colorize or super-resolution');
  const json = flags.has('json');

  let started = performance.now();
  const model = await openModel(folder, providers);
  if (!settings.width) settings.width = model.image.width ?? 64;
  if (!settings.height) settings.height = model.image.height ?? 64;
  const checked = checkSettings(settings);
  // Opened before the run, so that a gallery it cannot use fails before any work.
  const gallery = flags.has('no-gallery') ? null : openGallery('background');
  try {
    // A batch: one image per seed, each recorded and reported as it is made (one line, or one
    // JSON object per line with --json), so an interrupted batch keeps what it finished.
    const inputs = { initImage: initImage?.png, mask: mask?.png, initNoise: initNoiseNpy };
    for (const [i, seed] of seeds.entries()) {
      const run = { ...checked, seed };
      const result = await sampleImage(model, run, { initNoise, initImage, mask, showProgress: !json && process.stderr.isTTY });
      const totalMs = performance.now() - started;
      const finished = await finish({ gallery, model, settings: run, result, totalMs, parentId: null, outFile: outFiles?.[i], dumpFile, inputs });
      const report = runReport(model, run, result, finished, totalMs);
      if (!json) for (const w of result.warnings) process.stderr.write(`split-studio: warning: ${w}\n`);
      process.stdout.write((json ? JSON.stringify(report) : runLine(report)) + '\n');
      started = performance.now();
    }
  } finally {
    gallery?.close();
  }
}

/** x.png -> x-SEED.png: each image of a batch under its own name, the seed that makes it again. */
function batchFileName(file: string, seed: number): string {
  const dot = file.toLowerCase().endsWith('.png') ? file.length - 4 : file.length;
  return `${file.slice(0, dot)}-${seed}${file.slice(dot)}`;
}

const MAX_NPY_DIMENSIONS = 32;

function noise(argv: string[]): void {
  const { flags } = parseCommand(argv, NOISE);
  const seed = numberFlag(flags, 'seed', LIMITS.seed);
  if (seed === undefined) throw new UsageError('noise needs --seed');
  const shape = intListFlag(flags, 'shape', 1);
  if (!shape) throw new UsageError('noise needs --shape, e.g. --shape 1,4,64,64');
  // The .npy header (and numpy) allow at most 32 dimensions.
  if (shape.length > MAX_NPY_DIMENSIONS) throw new UsageError(`--shape has ${shape.length} dimensions; at most ${MAX_NPY_DIMENSIONS}`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > 2 ** 28) throw new UsageError(`--shape ${shape.join(',')} has ${count} values; at most ${2 ** 28}`);
  const out = stringFlag(flags, 'out');
  if (!out) throw new UsageError('noise needs --out FILE.npy');
  checkOutputPath(out, '--out');
  stageFile(out, encodeNpy(torchRandn(seed, shape), shape), '--out').commit();
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    checkArgumentLengths(argv);
    switch (command) {
      case 'generate':
        await generate(rest);
        return 0;
      case 'noise':
        noise(rest);
        return 0;
      case 'models':
        await modelsCommand(rest);
        return 0;
      case 'gallery':
        await galleryCommand(rest);
        return 0;
      case 'import':
        await importCommand(rest);
        return 0;
      case 'sweep':
        return await sweepCommand(rest);
      case 'sweeps':
        sweepsCommand(rest);
        return 0;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(USAGE + '\n');
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}" (generate, gallery, import, noise, models, sweep, sweeps)`);
    }
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(error.help + '\n');
      return 0;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`split-studio: ${error.message}\n`);
      return 2;
    }
    if (isDamage(error)) {
      // Damage in a part of the gallery database that opening did not read.
      process.stderr.write(`split-studio: the gallery database is damaged (${(error as Error).message}); run \`split-studio gallery recover\` to rebuild it from the images\n`);
      return 2;
    }
    if (error instanceof CancelledError) {
      process.stderr.write('split-studio: cancelled\n');
      return 130;
    }
    process.stderr.write(`split-studio: internal error: ${(error as Error).message}\n`);
    if (process.env.SPLIT_STUDIO_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return 1;
  }
}

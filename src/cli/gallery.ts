/**
 * `split-studio gallery list|show|rerun|export|recover`: the gallery from the command line,
 * through GalleryStore like the studio.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { GenerationSummary, Settings } from '../shared/contract';
import { TASKS, countOf } from '../shared/settings';
import { SETTINGS_LIMITS as LIMITS } from '../shared/settingsFields';
import { SOLVER_IDS } from '../shared/solvers';
import { dataDir, ensureDataDir } from '../main/core/dataDir';
import { checkedInput } from '../main/core/gallery/inputs';
import { changedSettings, rerunInputFiles, rerunReport } from '../main/core/gallery/rerun';
import { GalleryError, GalleryStore, type NewInputs } from '../main/core/gallery/store';
import { readNpy } from '../main/core/io/npy';
import { decodePng } from '../main/core/io/png';
import { DatabaseDamagedError } from '../main/core/gallery/db';
import type { ModelFolder } from '../main/core/models/modelFolder';
import { ModelRegistry } from '../main/core/models/registry';
import { type CommandSpec, UsageError, choiceFlag, numberFlag, parseCommand, stringFlag } from './args';
import { IMPORT_USAGE } from './import';
import {
  checkOutputPath, checkSettings, finish, modelFolder, openGallery, openModel, providersFlag, runLine, runReport, sampleImage, showSettings, stageFile,
} from './run';

const LIST_USAGE = `  split-studio gallery list [--search TEXT] [--limit N] [--offset N] [--model DIR] [--solver S] [--task T]
                            [--favourites] [--trash] [--json]`;
const SHOW_USAGE = '  split-studio gallery show ID [--json]';
const RERUN_USAGE = '  split-studio gallery rerun ID [--solver S] [--steps N] [--seed S] [--guidance W] [--provider P] [--out FILE.png] [--json]';
const EXPORT_USAGE = '  split-studio gallery export ID --out FILE.png';
const RECOVER_USAGE = `  split-studio gallery recover [--json]   a damaged or emptied gallery database: keep it aside (renamed) and
                                          rebuild the rows from the images' own metadata`;

export const GALLERY_USAGE = `gallery commands (the data folder: SPLIT_STUDIO_HOME, else the platform's user-data folder):
${[LIST_USAGE, SHOW_USAGE, RERUN_USAGE, EXPORT_USAGE, RECOVER_USAGE, IMPORT_USAGE].join('\n')}`;

const LIST: CommandSpec = {
  help: `usage:\n${LIST_USAGE}`,
  values: ['search', 'limit', 'offset', 'model', 'solver', 'task'],
  switches: ['favourites', 'trash', 'json'],
};
/** The inputs' labels in `gallery show` (as wide as the others). */
const INPUT_LABELS = { initImage: 'init image', mask: 'mask', initNoise: 'init noise' } as const;
const SHOW: CommandSpec = { help: `usage:\n${SHOW_USAGE}`, switches: ['json'], positionals: 1 };
const RERUN: CommandSpec = { help: `usage:\n${RERUN_USAGE}`, values: ['solver', 'steps', 'seed', 'guidance', 'provider', 'out'], switches: ['json'], positionals: 1 };
const EXPORT: CommandSpec = { help: `usage:\n${EXPORT_USAGE}`, values: ['out'], switches: ['json'], positionals: 1 };
const RECOVER: CommandSpec = { help: `usage:\n${RECOVER_USAGE}`, switches: ['json'] };

/** "12" -> 12; anything else is a UsageError. */
function idArgument(raw: string | undefined, command: string): number {
  if (raw === undefined) throw new UsageError(`gallery ${command} needs a generation id, e.g. split-studio gallery ${command} 12`);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < 1) throw new UsageError(`"${raw}" is not a generation id (a whole number from 1)`);
  return Number(raw);
}

function withGallery<T>(fn: (gallery: GalleryStore) => T): T {
  const gallery = openGallery();
  try {
    return fn(gallery);
  } finally {
    gallery.close();
  }
}

async function withGalleryAsync<T>(fn: (gallery: GalleryStore) => Promise<T>): Promise<T> {
  const gallery = openGallery();
  try {
    return await fn(gallery);
  } finally {
    gallery.close();
  }
}

const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

function summaryLine(item: GenerationSummary): string {
  const when = item.createdAt.replace('T', ' ').slice(0, 16);
  const parent = item.parentId === null ? '' : ` (re-run of #${item.parentId})`;
  return `#${item.id}  ${when}  ${item.modelName}  ${item.solver}, ${countOf(item.steps, 'step')}, seed ${item.seed}, ${item.width}x${item.height}${parent}${item.prompt ? `  "${oneLine(item.prompt, 60)}"` : ''}`;
}

function list(argv: string[]): void {
  const { flags } = parseCommand(argv, LIST);
  const limit = numberFlag(flags, 'limit', { integer: true, min: 1, max: 1000 }) ?? 20;
  const offset = numberFlag(flags, 'offset', { integer: true, min: 0 }) ?? 0;
  const solver = choiceFlag(flags, 'solver', SOLVER_IDS);
  const task = choiceFlag(flags, 'task', TASKS);
  const model = stringFlag(flags, 'model');
  const result = withGallery((gallery) =>
    gallery.list({
      search: stringFlag(flags, 'search'),
      limit,
      offset,
      ...(model !== undefined ? { modelId: path.resolve(model) } : {}),
      ...(solver !== undefined ? { solver } : {}),
      ...(task !== undefined ? { task } : {}),
      ...(flags.has('favourites') ? { favourite: true } : {}),
      ...(flags.has('trash') ? { onlyDeleted: true } : {}),
    }),
  );
  if (flags.has('json')) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  for (const item of result.items) process.stdout.write(summaryLine(item) + '\n');
  const shown = result.items.length === 0 ? 'none' : `${offset + 1}-${offset + result.items.length}`;
  process.stdout.write(`${flags.has('trash') ? 'trash' : 'gallery'}: ${shown} of ${result.total}\n`);
}

function show(argv: string[]): void {
  const { flags, positionals } = parseCommand(argv, SHOW);
  const id = idArgument(positionals[0], 'show');
  const detail = withGallery((gallery) => {
    const record = gallery.get(id);
    const meta = gallery.meta(id);
    if (!record || !meta) throw new UsageError(`there is no generation ${id}`);
    const inputs = gallery.inputs.of(id).map((input) => ({ ...input, file: gallery.inputs.file(id, input.kind) }));
    return { record, meta, image: gallery.imageFile(id), children: gallery.children(id).map((c) => c.id), inputs };
  });
  const { record, meta, image, children, inputs } = detail;
  if (flags.has('json')) {
    process.stdout.write(
      JSON.stringify({
        ...record, favourite: meta.favourite, tags: meta.tags, deletedAt: meta.deletedAt, missing: meta.missing, modelHash: meta.modelHash,
        fingerprint: meta.fingerprint, image, children, inputs,
      }) + '\n',
    );
    return;
  }
  const lines: [string, string][] = [
    ['created', record.createdAt],
    ['model', `${record.modelName} (${record.modelId}), hash ${meta.modelHash || 'unknown'}`],
    ['settings', showSettings(record.settings)],
  ];
  if (record.settings.prompt) lines.push(['prompt', record.settings.prompt]);
  if (record.settings.negativePrompt) lines.push(['negative', record.settings.negativePrompt]);
  lines.push(
    ['cost', `NFE ${record.cost.nfe}, ${record.cost.networkRows} network rows, ${record.cost.classifierCalls} classifier calls`],
    ['run', `${record.provider}, ${Math.round(record.durationMs)} ms`],
  );
  if (record.parentId !== null) lines.push(['re-run of', `#${record.parentId}`]);
  if (children.length) lines.push(['re-runs', children.map((c) => `#${c}`).join(', ')]);
  if (meta.favourite) lines.push(['favourite', 'yes']);
  if (meta.tags.length) lines.push(['tags', meta.tags.join(', ')]);
  if (meta.deletedAt) lines.push(['trashed', meta.deletedAt]);
  lines.push(['image', image ?? '(missing from the data folder)']);
  for (const input of inputs) {
    const size = input.width !== null ? `${input.width}x${input.height} PNG, ` : '.npy, ';
    lines.push([INPUT_LABELS[input.kind], `${input.file ?? '(missing from the data folder)'} (${size}${input.bytes} bytes)`]);
  }
  const f = meta.fingerprint;
  lines.push(['engine', `${f.engineVersion}, onnxruntime ${f.onnxruntimeVersion}, ${f.provider}, ${f.noiseGenerator}`]);
  for (const w of record.warnings) lines.push(['warning', w]);
  process.stdout.write(`#${record.id}\n` + lines.map(([k, v]) => `  ${k.padEnd(10)} ${v}`).join('\n') + '\n');
}

async function rerun(argv: string[]): Promise<void> {
  const { flags, positionals } = parseCommand(argv, RERUN);
  const id = idArgument(positionals[0], 'rerun');
  const changes: Partial<Settings> = {};
  const solver = stringFlag(flags, 'solver');
  if (solver !== undefined) {
    if (!SOLVER_IDS.includes(solver)) throw new UsageError(`unknown solver "${solver}"; choose one of: ${SOLVER_IDS.join(', ')}`);
    changes.solver = solver;
  }
  const steps = numberFlag(flags, 'steps', LIMITS.steps);
  if (steps !== undefined) changes.steps = steps;
  const seed = numberFlag(flags, 'seed', LIMITS.seed);
  if (seed !== undefined) changes.seed = seed;
  const guidance = numberFlag(flags, 'guidance', LIMITS.guidance);
  if (guidance !== undefined) changes.guidance = guidance;
  const providers = providersFlag(flags);
  const outName = stringFlag(flags, 'out');
  const outFile = outName === undefined ? undefined : checkOutputPath(outName, '--out');
  const json = flags.has('json');

  await withGalleryAsync(async (gallery) => {
    const original = gallery.get(id);
    if (!original) throw new UsageError(`there is no generation ${id}`);
    if (changes.steps !== undefined && Array.isArray(original.settings.spacing)) {
      throw new UsageError(`generation ${id} ran on explicit timesteps (${original.settings.spacing.length}); --steps cannot change them`);
    }
    const settings = checkSettings({ ...original.settings, ...changes });
    const inputs = storedInputs(gallery, id, settings.task);
    const folder = modelFolder(original.modelId, `the model of generation ${id}`);
    const started = performance.now();
    const model = await openModel(folder, providers);
    const result = await sampleImage(model, settings, { ...decodedInputs(inputs), showProgress: !json && process.stderr.isTTY });
    const totalMs = performance.now() - started;
    // The original may have been deleted for good (the studio's empty trash) meanwhile.
    const finished = await finish({ gallery, model, settings, result, totalMs, parentId: gallery.get(id) ? id : null, outFile, inputs });
    const compared = rerunReport(gallery, id, { settings, fingerprint: finished.fingerprint, image: result.image }) ?? { fingerprintChanges: [] };
    const changed = changedSettings(original.settings, settings);
    const report = {
      ...runReport(model, settings, result, finished, totalMs),
      parentId: id,
      changed,
      identical: compared.identicalToParent ?? null,
      fingerprintChanges: compared.fingerprintChanges,
    };
    if (json) {
      process.stdout.write(JSON.stringify(report) + '\n');
      return;
    }
    for (const w of result.warnings) process.stderr.write(`split-studio: warning: ${w}\n`);
    const lines = [runLine(report), changed.length ? `re-run of #${id} with changes: ${changed.map((k) => `${k} ${JSON.stringify(original.settings[k])} → ${JSON.stringify(settings[k])}`).join(', ')}` : `re-run of #${id}`];
    if (report.identical === true) lines.push(`bit-identical to #${id}`);
    else if (report.identical === false) lines.push(`not bit-identical to #${id}`);
    else if (changed.length === 0) lines.push(`the image of #${id} is missing; cannot compare`);
    if (compared.fingerprintChanges.length) lines.push(`the engine differs from the one that made #${id}:`, ...compared.fingerprintChanges.map((c) => `  ${c}`));
    process.stdout.write(lines.join('\n') + '\n');
  });
}

/** The inputs kept with generation `id` that its re-run as `task` starts from, read and checked; what is not there is a UsageError. */
function storedInputs(gallery: GalleryStore, id: number, task: Settings['task']): NewInputs {
  const inputs: NewInputs = {};
  try {
    for (const { input, file } of rerunInputFiles(gallery, id, task)) inputs[input.kind] = checkedInput(input, readFileSync(file), id);
  } catch (error) {
    if (error instanceof GalleryError) throw new UsageError(error.message);
    throw error;
  }
  return inputs;
}

/** Stored inputs as the engine takes them: pictures decoded to RGBA, the noise read from its .npy. */
function decodedInputs(inputs: NewInputs) {
  const picture = (png: Uint8Array | undefined) => {
    if (!png) return undefined;
    const { width, height, data } = decodePng(png);
    return { width, height, data };
  };
  return { initImage: picture(inputs.initImage), mask: picture(inputs.mask), initNoise: inputs.initNoise && readNpy(inputs.initNoise).data };
}

function exportImage(argv: string[]): void {
  const { flags, positionals } = parseCommand(argv, EXPORT);
  const id = idArgument(positionals[0], 'export');
  const out = stringFlag(flags, 'out');
  if (!out) throw new UsageError('gallery export needs --out FILE.png');
  checkOutputPath(out, '--out');
  const file = withGallery((gallery) => {
    if (!gallery.get(id)) throw new UsageError(`there is no generation ${id}`);
    const image = gallery.imageFile(id);
    if (!image) throw new UsageError(`the image of generation ${id} is missing from the data folder`);
    return image;
  });
  stageFile(out, readFileSync(file), '--out').commit();
  process.stdout.write(flags.has('json') ? JSON.stringify({ id, out: path.resolve(out) }) + '\n' : `${path.resolve(out)}\n`);
}

/**
 * `gallery recover`: the way out of DatabaseDamagedError. The untrusted database is renamed
 * aside (never deleted) and the rows are rebuilt from the PNGs' own settings; the model of each
 * is found by the name the PNG gives among the installed models.
 */
function recover(argv: string[]): void {
  const { flags } = parseCommand(argv, RECOVER);
  let dir: string;
  try {
    dir = ensureDataDir();
  } catch (error) {
    throw new UsageError(`data folder: ${(error as Error).message}`);
  }
  let folders: ModelFolder[] = [];
  try {
    folders = new ModelRegistry(dataDir()).folders().map((e) => e.folder);
  } catch {
    folders = [];
  }
  const modelIdFor = (name: string) => folders.find((f) => f.name.trim().toLowerCase() === name.trim().toLowerCase())?.dir ?? null;
  let report;
  try {
    report = GalleryStore.recover(dir, { modelIdFor });
  } catch (error) {
    if (error instanceof GalleryError || error instanceof DatabaseDamagedError) throw new UsageError(error.message);
    throw error;
  }
  if (flags.has('json')) {
    process.stdout.write(JSON.stringify(report) + '\n');
    return;
  }
  const lines = [
    ...report.movedAside.map((f) => `kept the damaged database as ${f}`),
    `recovered ${countOf(report.recovered.length, 'generation')} from the images' metadata`,
    ...report.skipped.map((s) => `left as it was: ${s.file} (${s.reason})`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

export async function galleryCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'list':
      return list(rest);
    case 'show':
      return show(rest);
    case 'rerun':
      return rerun(rest);
    case 'export':
      return exportImage(rest);
    case 'recover':
      return recover(rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(GALLERY_USAGE + '\n');
      return;
    default:
      throw new UsageError(`unknown gallery command "${sub}" (list, show, rerun, export, recover)`);
  }
}

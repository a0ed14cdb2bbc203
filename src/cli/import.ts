/**
 * `split-studio import FILE.png`: the settings of a PNG (this studio's or AUTOMATIC1111's),
 * fitted to an installed model; --run generates with them.
 */
import path from 'node:path';
import { dataDir } from '../main/core/dataDir';
import { type InstalledModel, importPngSettings } from '../main/core/gallery/importPng';
import { PngMetadataError } from '../main/core/gallery/pngMetadata';
import { defaultModelDir } from '../main/core/models/catalog';
import type { ModelFolder } from '../main/core/models/modelFolder';
import { MAIN_MODEL_FILE, modelHashes } from '../main/core/models/modelHashes';
import { ModelRegistry, summarize } from '../main/core/models/registry';
import type { Pipeline } from '../main/core/pipelines/pipeline';
import type { ProviderName } from '../main/core/runtime/sessions';
import { type CommandSpec, UsageError, parseCommand, stringFlag } from './args';
import {
  checkOutputPath, checkSettings, finish, modelFolder, openGallery, openModel, providersFlag, readInputFile, runLine, runReport, sampleImage, showSettings,
} from './run';

export const IMPORT_USAGE = '  split-studio import FILE.png [--model DIR] [--json] [--run [--out FILE.png] [--no-gallery] [--provider P]]';

const IMPORT: CommandSpec = { help: `usage:\n${IMPORT_USAGE}`, values: ['model', 'out', 'provider'], switches: ['json', 'run', 'no-gallery'], positionals: 1 };

/** The installed models (the studio's list: built-in, then imported), with `extra` (--model) added if it is not one of them. */
function installedModels(extra: ModelFolder | undefined, providers: ProviderName[], opened: Map<string, Pipeline>): InstalledModel[] {
  let entries: { folder: ModelFolder; builtin: boolean }[];
  try {
    entries = new ModelRegistry(dataDir()).folders();
  } catch {
    entries = [];
  }
  if (extra && !entries.some((e) => e.folder.dir === extra.dir)) entries.unshift({ folder: extra, builtin: false });
  return entries.map(({ folder, builtin }) => ({
    id: folder.dir,
    name: folder.name,
    async summary() {
      // The model's real size decides how the settings are fitted (a fixed-size model).
      let model = opened.get(folder.dir);
      if (!model) {
        model = await openModel(folder, providers);
        opened.set(folder.dir, model);
      }
      return summarize(folder, builtin, { width: model.image.width, height: model.image.height });
    },
    unetHash: async () => (await modelHashes(folder.dir))[MAIN_MODEL_FILE] ?? '',
  }));
}

export async function importCommand(argv: string[]): Promise<void> {
  const { flags, positionals } = parseCommand(argv, IMPORT);
  const file = positionals[0];
  if (file === undefined) throw new UsageError('import needs a PNG file, e.g. split-studio import picture.png');
  const run = flags.has('run');
  for (const name of ['out', 'no-gallery', 'provider']) if (flags.has(name) && !run) throw new UsageError(`--${name} is used only with --run`);
  const bytes = readInputFile(file, 'import');
  const providers = providersFlag(flags);
  const explicit = flags.has('model') ? modelFolder(stringFlag(flags, 'model')!, '') : undefined;
  const outName = stringFlag(flags, 'out');
  const outFile = outName === undefined ? undefined : checkOutputPath(outName, '--out');
  const json = flags.has('json');

  const opened = new Map<string, Pipeline>();
  let imported;
  try {
    imported = await importPngSettings(bytes, installedModels(explicit, providers, opened), explicit?.dir ?? defaultModelDir() ?? null, { forceCurrent: explicit !== undefined });
  } catch (error) {
    if (error instanceof PngMetadataError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
  const about = { file: path.resolve(file), source: imported.source, model: imported.modelId ? { id: imported.modelId, name: imported.modelName } : null, settings: imported.settings, warnings: imported.warnings };
  if (!run) {
    if (json) {
      process.stdout.write(JSON.stringify(about) + '\n');
      return;
    }
    const lines = [
      `${about.file}: settings from ${imported.source === 'a1111' ? 'AUTOMATIC1111 parameters' : 'Split Studio metadata'}${imported.modelName ? ` for ${imported.modelName}` : ''}`,
      `  ${showSettings(imported.settings)}`,
    ];
    if (imported.settings.prompt) lines.push(`  prompt: ${imported.settings.prompt}`);
    if (imported.settings.negativePrompt) lines.push(`  negative: ${imported.settings.negativePrompt}`);
    process.stdout.write(lines.join('\n') + '\n');
    for (const w of imported.warnings) process.stderr.write(`split-studio: warning: ${w}\n`);
    return;
  }

  if (!imported.modelId) throw new UsageError('no model is installed to run these settings with; give --model DIR');
  const settings = checkSettings(imported.settings);
  if (settings.task !== 'txt2img') throw new UsageError(`the PNG's settings are for ${settings.task}, which needs its input images: use split-studio generate --task ${settings.task} --init-image ...`);
  const folder = modelFolder(imported.modelId, '');
  const started = performance.now();
  const model = opened.get(folder.dir) ?? (await openModel(folder, providers));
  const noGallery = flags.has('no-gallery');
  const target = outFile ?? (noGallery ? checkOutputPath(`split-studio-${settings.seed}.png`, '--out') : undefined);
  const gallery = noGallery ? null : openGallery();
  try {
    const result = await sampleImage(model, settings, { showProgress: !json && process.stderr.isTTY });
    const totalMs = performance.now() - started;
    const finished = await finish({ gallery, model, settings, result, totalMs, parentId: null, outFile: target });
    const report = runReport(model, settings, result, finished, totalMs);
    if (json) {
      process.stdout.write(JSON.stringify({ ...about, generation: report }) + '\n');
      return;
    }
    for (const w of [...imported.warnings, ...result.warnings]) process.stderr.write(`split-studio: warning: ${w}\n`);
    process.stdout.write(runLine(report) + '\n');
  } finally {
    gallery?.close();
  }
}

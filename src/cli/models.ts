/**
 * `split-studio models [add DIR | remove ID]`: the installed models, built-in and added, from the
 * same registry (the data folder's models.json) the studio reads, so an added model shows in
 * both. Models that make pictures are listed first, then the exact reference models under
 * "for testing solvers".
 */
import path from 'node:path';
import { PICTURES_HEADING, TESTING_HEADING, modelLine } from '../shared/modelDescription';
import { tasksOfKind } from '../shared/modelSettings';
import { dataDir, ensureDataDir } from '../main/core/dataDir';
import { listModels } from '../main/core/models/catalog';
import type { ModelFolder } from '../main/core/models/modelFolder';
import { ModelRegistry, ModelRemoveError, isForTesting, summarize } from '../main/core/models/registry';
import { type CommandSpec, UsageError, parseCommand } from './args';
import { modelFolder, openModel } from './run';

const LIST_USAGE = '  split-studio models [--json]              the installed models: those that make pictures, then those for testing solvers';
const ADD_USAGE = '  split-studio models add DIR [--json]      add a model folder (checked first, as the studio\'s Add does)';
const REMOVE_USAGE = '  split-studio models remove ID [--json]    forget an added model (its folder path or name); its folder and generations stay';

export const MODELS_USAGE = `models commands (the added models are kept in the data folder, shared with the studio):
${[LIST_USAGE, ADD_USAGE, REMOVE_USAGE].join('\n')}`;

const LIST: CommandSpec = { help: `usage: split-studio models [--json]   the installed models\n\n${MODELS_USAGE}`, switches: ['json'] };
const ADD: CommandSpec = { help: `usage:\n${ADD_USAGE}`, switches: ['json'], positionals: 1 };
const REMOVE: CommandSpec = { help: `usage:\n${REMOVE_USAGE}`, switches: ['json'], positionals: 1 };

interface Listed {
  dir: string;
  builtin: boolean;
  folder?: ModelFolder;
  error?: string;
}

/** Built-in, then added (as the studio lists them); an entry that cannot be read keeps its reason. */
function installed(registry: ModelRegistry): Listed[] {
  const builtin = listModels().map((e) => ({ ...e, builtin: true }));
  return [...builtin, ...registry.imported().map((e) => ({ ...e, builtin: false }))];
}

function entryJson(e: Listed) {
  if (!e.folder) return { dir: e.dir, builtin: e.builtin, error: e.error };
  const f = e.folder;
  return {
    dir: e.dir,
    name: f.name,
    builtin: e.builtin,
    forTesting: isForTesting(f),
    kind: f.kind,
    className: f.className,
    predictionType: f.scheduler.predictionType,
    classifier: f.classLabels ?? null,
    textEncoder: Boolean(f.textEncoderPath),
    tasks: tasksOfKind(f.kind),
    defaults: f.defaults,
  };
}

function entryText(e: Listed): string {
  if (!e.folder) return `! ${e.dir}${e.builtin ? '' : ' (added)'}\n     ${e.error}`;
  const f = e.folder;
  const traits = [f.kind, f.scheduler.predictionType, ...(f.classLabels ? [`classifier: ${f.classLabels.join(', ')}`] : []), ...(f.textEncoderPath ? ['text'] : [])];
  return `  ${f.name}${e.builtin ? '' : ' (added)'}\n     ${e.dir}\n     ${traits.join(', ')}`;
}

function list(argv: string[]): void {
  const { flags } = parseCommand(argv, LIST);
  const entries = installed(new ModelRegistry(dataDir()));
  // Unreadable entries are not known to be reference models: they stay with the picture makers.
  const testing = entries.filter((e) => e.folder && isForTesting(e.folder));
  const pictures = entries.filter((e) => !testing.includes(e));
  if (flags.has('json')) {
    process.stdout.write(JSON.stringify({ models: [...pictures, ...testing].map(entryJson) }) + '\n');
    return;
  }
  if (entries.length === 0) {
    process.stdout.write('no models found\n');
    return;
  }
  const sections = [
    ...(pictures.length > 0 ? [`${PICTURES_HEADING}:\n${pictures.map(entryText).join('\n')}`] : []),
    ...(testing.length > 0 ? [`${TESTING_HEADING} (exact Gaussian mixtures in closed form; their pictures are test patterns):\n${testing.map(entryText).join('\n')}`] : []),
  ];
  process.stdout.write(sections.join('\n\n') + '\n');
}

function registryForWriting(): ModelRegistry {
  try {
    return new ModelRegistry(ensureDataDir());
  } catch (error) {
    throw new UsageError(`data folder: ${(error as Error).message}`);
  }
}

async function add(argv: string[]): Promise<void> {
  const { flags, positionals } = parseCommand(argv, ADD);
  const dir = positionals[0];
  if (dir === undefined) throw new UsageError('models add needs a model folder, e.g. split-studio models add ./my-model');
  // The folder's files and JSON, then its networks opened as a run would: a folder that
  // cannot generate is refused here, with what is wrong, rather than listed.
  const folder = modelFolder(dir);
  const model = await openModel(folder, ['cpu']);
  const registry = registryForWriting();
  registry.import(folder.dir);
  const summary = summarize(folder, registry.isBuiltin(folder.dir), { width: model.image.width, height: model.image.height });
  if (flags.has('json')) {
    process.stdout.write(JSON.stringify({ added: summary }) + '\n');
    return;
  }
  const note = summary.builtin ? ' (it is built in: already listed)' : '';
  process.stdout.write(`added ${modelLine(summary)}${note}\n   ${folder.dir}\n`);
}

function remove(argv: string[]): void {
  const { flags, positionals } = parseCommand(argv, REMOVE);
  const id = positionals[0];
  if (id === undefined) throw new UsageError('models remove needs an added model\'s folder or name, e.g. split-studio models remove ./my-model');
  const registry = registryForWriting();
  const entries = installed(registry);
  // A folder path as listed (or relative to here); else a model's name, when exactly one has it.
  let dir = path.resolve(id);
  if (!entries.some((e) => e.dir === dir)) {
    const named = entries.filter((e) => e.folder && e.folder.name.trim().toLowerCase() === id.trim().toLowerCase());
    if (named.length > 1) throw new UsageError(`${named.length} models are named "${id}"; give the folder instead: ${named.map((e) => e.dir).join(', ')}`);
    if (named.length === 1) dir = named[0].dir;
  }
  let removed;
  try {
    removed = registry.remove(dir);
  } catch (error) {
    if (error instanceof ModelRemoveError) throw new UsageError(error.message);
    throw error;
  }
  if (flags.has('json')) {
    process.stdout.write(JSON.stringify({ removed: { id: removed.dir, name: removed.name } }) + '\n');
    return;
  }
  process.stdout.write(`removed ${removed.name} from the added models\n   ${removed.dir} (the folder is untouched; its generations stay in the gallery)\n`);
}

export async function modelsCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'add':
      return add(rest);
    case 'remove':
      return remove(rest);
    case 'list':
      return list(rest);
    default:
      // `models`, `models --json`, `models --help`: the list; any other word is a mistyped command.
      if (sub !== undefined && !sub.startsWith('-')) throw new UsageError(`unknown models command "${sub}" (add, remove, list)`);
      return list(argv);
  }
}

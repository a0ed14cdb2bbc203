/**
 * Importing a PNG's settings for a re-run, for the studio (a dropped file) and the CLI
 * (`split-studio import`): which installed model the PNG names, that model's defaults under
 * the settings the PNG carries (settingsFromPng), and the settings fitted to the model, with a
 * warning for everything that could not be carried over as it was.
 */
import type { ImportedSettings, ModelSummary } from '../../../shared/contract';
import { baseSettings, defaultsFor, fitSettings } from '../../../shared/modelSettings';
import { readPngText } from '../io/png';
import { parseA1111Parameters } from './a1111Infotext';
import { A1111_KEYWORD, PngMetadataError, settingsFromPng } from './pngMetadata';

/** An installed model, as import needs it: its summary and UNet hash only when it is chosen. */
export interface InstalledModel {
  id: string;
  name: string;
  summary(): Promise<ModelSummary>;
  /** Full sha256 of unet/model.onnx ('' when unknown). */
  unetHash(): Promise<string>;
}

/** The model a PNG names in its A1111 `parameters` text (`Model`, `Model hash`); nulls when it names none. */
export function pngModelRef(bytes: Uint8Array): { name: string | null; hash: string | null } {
  let text: Record<string, string>;
  try {
    text = readPngText(bytes);
  } catch (error) {
    throw new PngMetadataError('not-png', `not a valid PNG file: ${(error as Error).message}`, { cause: error });
  }
  const parameters = text[A1111_KEYWORD];
  if (parameters === undefined) return { name: null, hash: null };
  const { fields } = parseA1111Parameters(parameters);
  const name = fields.Model?.trim() || null;
  const hash = fields['Model hash']?.trim().toLowerCase() || null;
  return { name, hash: hash && /^[0-9a-f]{4,64}$/.test(hash) ? hash : null };
}

const norm = (name: string) => name.trim().toLowerCase().replace(/\s+/g, ' ');

/**
 * Picks the model for a PNG: an installed model of the name the PNG gives (preferring one
 * whose UNet hash matches the PNG's `Model hash`), else the current model (else the first
 * installed one), with a warning saying so.
 */
export async function chooseModel(
  ref: { name: string | null; hash: string | null },
  models: readonly InstalledModel[],
  currentId: string | null | undefined,
  options: { forceCurrent?: boolean } = {},
): Promise<{ model: InstalledModel | null; warnings: string[] }> {
  const fallback = models.find((m) => m.id === currentId) ?? models[0] ?? null;
  const using = fallback ? `using ${fallback.name}` : 'no model is installed';
  if (options.forceCurrent && fallback) {
    // The caller chose the model (the CLI's --model): the PNG's is only reported.
    const differs = ref.name !== null && norm(ref.name) !== norm(fallback.name);
    return { model: fallback, warnings: differs ? [`the PNG was made with "${ref.name}"; using ${fallback.name} as asked`] : [] };
  }
  if (ref.name === null) {
    return { model: fallback, warnings: ref.hash === null ? [`the PNG does not say which model made it; ${using}`] : [`the PNG names no model, only the hash ${ref.hash}; ${using}`] };
  }
  const named = models.filter((m) => norm(m.name) === norm(ref.name!));
  if (named.length === 0) {
    return { model: fallback, warnings: [`the PNG was made with "${ref.name}"${ref.hash ? ` (hash ${ref.hash})` : ''}, which is not installed; ${using}`] };
  }
  if (ref.hash === null) return { model: named[0], warnings: [] };
  for (const m of named) {
    const hash = await m.unetHash().catch(() => '');
    if (hash && hash.toLowerCase().startsWith(ref.hash)) return { model: m, warnings: [] };
  }
  const installed = (await named[0].unetHash().catch(() => '')).slice(0, ref.hash.length);
  return {
    model: named[0],
    warnings: [`the installed ${named[0].name} is not the model file that made this PNG (hash ${installed || 'unknown'}, the PNG says ${ref.hash}); the result may differ`],
  };
}

/**
 * Settings from a PNG for `models` (installed, in the order offered), fitted to the model the
 * PNG names or, failing that, the current one. Throws PngMetadataError for a file that is not
 * a PNG or carries no settings.
 */
export async function importPngSettings(
  bytes: Uint8Array,
  models: readonly InstalledModel[],
  currentId?: string | null,
  options: { forceCurrent?: boolean } = {},
): Promise<ImportedSettings> {
  const ref = pngModelRef(bytes);
  const chosen = await chooseModel(ref, models, currentId, options);
  let summary: ModelSummary | null = null;
  if (chosen.model) {
    try {
      summary = await chosen.model.summary();
    } catch (error) {
      chosen.warnings.push(`${chosen.model.name} cannot be opened (${(error as Error).message}); the settings are not fitted to a model`);
      chosen.model = null;
    }
  }
  const read = settingsFromPng(bytes, summary ? defaultsFor(summary) : baseSettings());
  const fitted = summary ? fitSettings(read.settings, summary) : { settings: read.settings, changes: [] };
  return {
    settings: fitted.settings,
    source: read.source,
    warnings: [...chosen.warnings, ...read.warnings, ...fitted.changes],
    modelId: chosen.model?.id ?? null,
    modelName: chosen.model?.name ?? null,
  };
}

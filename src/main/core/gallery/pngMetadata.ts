/**
 * What a gallery PNG says about how it was made, in two text chunks:
 *
 * - `split-studio` (iTXt, UTF-8): the full Settings as JSON, exactly what settingsSchema
 *   accepts. This is the studio's own record and wins when a PNG is read back.
 * - `parameters` (tEXt, or iTXt when the text is not Latin-1, as AUTOMATIC1111 and PIL do): the
 *   AUTOMATIC1111 "infotext" that other tools (A1111, Forge, ComfyUI loaders, image hosts)
 *   show and import. This studio's own keys follow A1111's, so a PNG from here shows sensible
 *   values there, and a PNG from there can be re-run here (settingsFromPng).
 *
 * The A1111 format itself is a1111Infotext.ts.
 */
import { settingsSchema, type Settings } from '../../../shared/contract';
import { SPACINGS } from '../../../shared/settings';
import { SOLVER_IDS, type SolverInfo, type SpacingName, solverInfo, spacingProblem } from '../../../shared/solvers';
import type { EncodeOptions } from '../io/png';
import { readPngText } from '../io/png';
import { a1111Parameters, parseA1111Parameters, solverFromSampler, spacingFromSchedule } from './a1111Infotext';

export const STUDIO_KEYWORD = 'split-studio';
export const A1111_KEYWORD = 'parameters';

/** A PNG that cannot give settings: not a PNG, or no usable metadata. */
export class PngMetadataError extends Error {
  constructor(
    readonly reason: 'not-png' | 'no-metadata' | 'invalid-metadata',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PngMetadataError';
  }
}

// ---------------------------------------------------------------------------------------
// Writing

function isLatin1(text: string): boolean {
  return !/[^\u0001-\u00ff]/.test(text);
}

/**
 * The text chunks of a gallery PNG, as encodePng options: `parameters` as tEXt when Latin-1
 * (else iTXt) and `split-studio` as iTXt JSON of the (already validated) settings.
 */
export function pngTextOptions(settings: Settings, extra: { modelHash: string; modelName: string; software?: string }): EncodeOptions {
  const parameters = a1111Parameters(settings, extra);
  const text: Record<string, string> = {};
  const itxt: Record<string, string> = {};
  if (extra.software && isLatin1(extra.software)) text.Software = extra.software;
  (isLatin1(parameters) ? text : itxt)[A1111_KEYWORD] = parameters;
  itxt[STUDIO_KEYWORD] = JSON.stringify(settings);
  return { text, itxt };
}

// ---------------------------------------------------------------------------------------
// Reading

// `\d+(?:\.\d*)?`, not `\d+\.?\d*`: the latter splits a long run of digits every possible way
// before failing (quadratic on "Steps: 111...1x").
const NUMBER_RE = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

function parseNumber(text: string): number | undefined {
  const t = text.trim();
  return NUMBER_RE.test(t) ? Number(t) : undefined;
}

/** Fields that describe the file rather than the run, or are read elsewhere: not warned about. */
const INFORMATIONAL_FIELDS = new Set(['Model', 'Model hash', 'Version', 'VAE', 'VAE hash']);

/** A field whatever the case of its key ("Eta DDIM", "ETA DDIM"): [key, value], or null. */
function fieldAnyCase(fields: Record<string, string>, name: string): [string, string] | null {
  const key = Object.keys(fields).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? null : [key, fields[key]];
}

/**
 * Eta: A1111 writes DDIM's as "Eta DDIM" (older tools "Eta") and the ancestral samplers' as
 * "Eta" (their default 1, which is what Euler a runs here, as diffusers does). DDIM takes
 * either (absent: 0, A1111's default). The settings carry eta for DDIM only, as the studio's
 * form sends them; any other eta cannot be honoured and is reported.
 */
function readEta(fields: Record<string, string>, solver: SolverInfo, out: Record<string, unknown>, used: Set<string>, warnings: string[]): void {
  const ddimEta = fieldAnyCase(fields, 'Eta DDIM');
  const eta = fieldAnyCase(fields, 'Eta');
  for (const field of [ddimEta, eta]) if (field) used.add(field[0]);
  if (solver.family === 'ddim') {
    const [key, raw] = ddimEta ?? eta ?? [null, null];
    out.eta = 0;
    if (key === null) return;
    const check = settingsSchema.shape.eta.safeParse(parseNumber(raw));
    if (check.success && check.data !== undefined) out.eta = check.data;
    else warnings.push(`ignored "${key}: ${raw}": DDIM's eta is a number from 0 to 1`);
    return;
  }
  delete out.eta;
  if (ddimEta) warnings.push(`ignored "${ddimEta[0]}: ${ddimEta[1]}": eta applies to DDIM only`);
  if (eta && !(solver.stochastic && parseNumber(eta[1]) === 1)) {
    warnings.push(`ignored "${eta[0]}: ${eta[1]}": ${solver.label} ${solver.stochastic ? 'runs at eta 1 here, as diffusers does' : 'has no eta'}`);
  }
}

function settingsFromA1111(text: string, defaults: Settings): { settings: Settings; warnings: string[] } {
  const { prompt, negativePrompt, fields } = parseA1111Parameters(text);
  const shape = settingsSchema.shape;
  const out: Record<string, unknown> = { ...defaults };
  const warnings: string[] = [];
  const used = new Set<string>(INFORMATIONAL_FIELDS);

  const limitText = (key: 'prompt' | 'negativePrompt', value: string, label: string) => {
    const max = 2000;
    if (value.length > max) warnings.push(`${label} is ${value.length} characters long; kept the first ${max}`);
    out[key] = value.slice(0, max);
  };
  limitText('prompt', prompt, 'prompt');
  limitText('negativePrompt', negativePrompt, 'negative prompt');

  /** Sets one setting from a field if the value passes the settings schema, else warns. */
  const take = (field: string, key: keyof Settings, convert: (value: string) => unknown) => {
    const raw = fields[field];
    if (raw === undefined) return;
    used.add(field);
    const value = convert(raw);
    const check = value === undefined ? undefined : shape[key].safeParse(value);
    if (check?.success) out[key] = check.data;
    else warnings.push(`ignored "${field}: ${raw}": not a valid value for ${key}`);
  };

  take('Steps', 'steps', parseNumber);
  take('CFG scale', 'guidance', parseNumber);
  take('Seed', 'seed', parseNumber);
  take('Classifier scale', 'classifierScale', parseNumber);
  take('Class', 'classLabel', parseNumber);
  take('Consistency scale', 'consistencyScale', parseNumber);
  take('Task', 'task', (v) => v);
  take('Condition at', 'conditionAt', (v) => v);
  const clip: Record<string, boolean | null> = { on: true, off: false, auto: null };
  take('Clip x0', 'clipX0', (v) => clip[v.toLowerCase()]);
  // A1111 writes Denoising strength for img2img and for the hires pass of txt2img; only the
  // former means what `strength` means.
  if (out.task !== 'txt2img') take('Denoising strength', 'strength', parseNumber);
  else used.add('Denoising strength');

  const size = fields.Size;
  if (size !== undefined) {
    used.add('Size');
    const m = /^(\d+)x(\d+)$/.exec(size.trim());
    const w = m ? shape.width.safeParse(Number(m[1])) : undefined;
    const h = m ? shape.height.safeParse(Number(m[2])) : undefined;
    if (w?.success && h?.success) [out.width, out.height] = [w.data, h.data];
    else warnings.push(`ignored "Size: ${size}": expected WIDTHxHEIGHT, each 1 to 4096`);
  }

  // This studio writes its exact solver id; other tools only a sampler name, which may carry
  // the schedule (A1111 before 1.9: "DPM++ 2M Karras"; since, a "Schedule type" of its own).
  const solverId = fields['Solver id'];
  used.add('Solver id').add('Sampler').add('Schedule type');
  let scheduleSpacing: SpacingName | null = null;
  if (solverId !== undefined && SOLVER_IDS.includes(solverId)) {
    out.solver = solverId;
  } else if (fields.Sampler !== undefined) {
    const mapped = solverFromSampler(fields.Sampler);
    warnings.push(...mapped.warnings);
    if (mapped.solver) out.solver = mapped.solver;
    else warnings.push(`sampler "${fields.Sampler}" has no counterpart here; using the default solver ${defaults.solver}`);
    scheduleSpacing = mapped.spacing;
  }
  if (fields['Schedule type'] !== undefined) {
    const schedule = spacingFromSchedule(fields['Schedule type']);
    warnings.push(...schedule.warnings);
    scheduleSpacing = schedule.spacing ?? scheduleSpacing;
  }
  const solver = solverInfo(out.solver as string);
  if (scheduleSpacing !== null) {
    if (spacingProblem(solver.id, scheduleSpacing) === null) out.spacing = scheduleSpacing;
    else warnings.push(`${solver.label} cannot use the ${scheduleSpacing} schedule (it steps on whole training timesteps); the spacing from the settings is used`);
  }
  // This studio's own field names the spacing exactly (also explicit timesteps): it wins.
  take('Spacing', 'spacing', (v) => {
    if ((SPACINGS as readonly string[]).includes(v)) return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return undefined;
    }
  });
  readEta(fields, solver, out, used, warnings);

  const ignored = Object.keys(fields).filter((k) => !used.has(k));
  if (ignored.length > 0) warnings.push(`ignored fields this studio does not use: ${ignored.join(', ')}`);

  const parsed = settingsSchema.safeParse(out);
  if (!parsed.success) {
    throw new Error(`settings read from the PNG are invalid (check the defaults passed in): ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return { settings: parsed.data, warnings };
}

/**
 * Settings to re-run the image in `bytes`: from this studio's `split-studio` chunk when it is
 * present and valid, else from an AUTOMATIC1111 `parameters` chunk over `defaults` (fields it
 * lacks or that do not fit keep the default, with a warning). Throws PngMetadataError for a
 * file that is not a valid PNG or has neither chunk.
 */
export function settingsFromPng(
  bytes: Uint8Array,
  defaults: Settings,
): { settings: Settings; source: 'split-studio' | 'a1111'; warnings: string[] } {
  let text: Record<string, string>;
  try {
    text = readPngText(bytes);
  } catch (error) {
    throw new PngMetadataError('not-png', `not a valid PNG file: ${(error as Error).message}`, { cause: error });
  }
  const warnings: string[] = [];
  const own = text[STUDIO_KEYWORD];
  if (own !== undefined) {
    let problem: string;
    try {
      const parsed = settingsSchema.safeParse(JSON.parse(own));
      if (parsed.success) return { settings: parsed.data, source: 'split-studio', warnings };
      problem = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    } catch (error) {
      problem = `not JSON (${(error as Error).message})`;
    }
    if (text[A1111_KEYWORD] === undefined) {
      throw new PngMetadataError('invalid-metadata', `the PNG's ${STUDIO_KEYWORD} settings are invalid: ${problem}`);
    }
    warnings.push(`the PNG's ${STUDIO_KEYWORD} settings are invalid (${problem}); read the A1111 parameters instead`);
  }
  const parameters = text[A1111_KEYWORD];
  if (parameters === undefined) {
    throw new PngMetadataError('no-metadata', `the PNG has no generation settings (no "${STUDIO_KEYWORD}" or "${A1111_KEYWORD}" text chunk)`);
  }
  const fromA1111 = settingsFromA1111(parameters, defaults);
  return { settings: fromA1111.settings, source: 'a1111', warnings: [...warnings, ...fromA1111.warnings] };
}


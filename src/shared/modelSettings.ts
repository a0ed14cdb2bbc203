/**
 * Settings and models: the settings a model starts with, and settings from elsewhere (the
 * gallery, an imported PNG) fitted to the model they will run on, saying what had to change.
 * Used by the renderer's form and by main when it imports a PNG. No Node, no DOM.
 */
import type { ModelSummary, Settings } from './contract';
import { MAX_IMAGE_SIDE, MIN_STEPS, TASKS, type Task } from './settings';
import { SETTINGS_FIELDS, SETTINGS_KEYS, type SettingsKey } from './settingsFields';
import { SOLVER_IDS, type SpacingName, solverInfo, spacingProblem } from './solvers';

/** The form's steps slider goes up to this; a model's default steps are clamped to it. */
export const STEPS_MAX = 200;
const FALLBACK_SIDE = { pixel: 64, latent: 512 } as const;

const LATENT_TASKS: readonly Task[] = ['txt2img', 'img2img', 'inpaint'];

/**
 * Tasks a kind of model can run: colorize and super-resolution guide the picture itself by
 * data consistency (a measurement of its pixels), which a latent model's samples are not.
 */
export function tasksOfKind(kind: ModelSummary['kind']): readonly Task[] {
  return kind === 'pixel' ? TASKS : LATENT_TASKS;
}

/** What the model can do: its declared tasks (all when it declares none) that its kind can run. */
export function tasksFor(model: Pick<ModelSummary, 'tasks' | 'kind'>): Task[] {
  const declared = TASKS.filter((t) => model.tasks.includes(t));
  const base: readonly Task[] = declared.length > 0 ? declared : TASKS;
  return base.filter((t) => tasksOfKind(model.kind).includes(t));
}

/** Every setting at the value a fresh form starts from (SETTINGS_FIELDS' defaults). */
export function baseSettings(): Settings {
  const settings = {} as Record<SettingsKey, Settings[SettingsKey]>;
  for (const key of SETTINGS_KEYS) settings[key] = SETTINGS_FIELDS[key].default;
  return settings as Settings;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * The settings a model starts with: its studio defaults (as the CLI reads them), a fixed size
 * when the model has one, guidance 1 (none) without a text encoder, and what the user typed
 * (prompts, seed, strength) carried over from `current`; the spacing is the defaults' when the
 * solver can walk it (startingSpacing), else the model's own.
 */
export function defaultsFor(model: ModelSummary, current: Settings = baseSettings()): Settings {
  const d = model.defaults;
  const tasks = tasksFor(model);
  const side = (fixed: number | null, preferred: number | undefined) =>
    fixed ?? clamp(Math.round(preferred ?? FALLBACK_SIDE[model.kind]), 1, MAX_IMAGE_SIDE);
  const solver = d.solver && SOLVER_IDS.includes(d.solver) ? d.solver : 'ddim';
  return {
    ...current,
    task: tasks.includes(current.task) ? current.task : (tasks[0] ?? 'txt2img'),
    classLabel: null,
    classifierScale: d.classifierScale ?? 0,
    solver,
    steps: clamp(Math.round(d.steps ?? 20), MIN_STEPS, STEPS_MAX),
    guidance: model.hasText ? (d.guidance ?? 1) : 1,
    width: side(model.width, d.width),
    height: side(model.height, d.height),
    spacing: startingSpacing(solver, d.spacing, model.spacing),
    clipX0: null,
  };
}

/**
 * The spacing a run starts with when none was asked for: the model's default spacing
 * (studio.json defaults.spacing) when the solver can walk it, else the scheduler's own.
 */
export function startingSpacing(solver: string, defaultSpacing: SpacingName | undefined, schedulerSpacing: SpacingName): SpacingName {
  return defaultSpacing !== undefined && SOLVER_IDS.includes(solver) && spacingProblem(solver, defaultSpacing) === null ? defaultSpacing : schedulerSpacing;
}

/**
 * Settings from the gallery or a PNG, fitted to the model they will run on: what the model
 * cannot take (a task it lacks, a class it lacks, CFG or a prompt without text, a fixed size)
 * and what the solver cannot take (a spacing it cannot use, DDIM's eta) is replaced, and each
 * replacement is described in `changes`.
 */
export function fitSettings(settings: Settings, model: ModelSummary): { settings: Settings; changes: string[] } {
  const changes: string[] = [];
  const out: Settings = { ...settings };
  const tasks = tasksFor(model);
  if (!tasks.includes(out.task)) {
    changes.push(`${model.name} cannot do ${out.task}; using txt2img`);
    out.task = 'txt2img';
  }
  const labels = model.classLabels?.length ?? 0;
  if (out.classLabel !== null && out.classLabel >= labels) {
    changes.push(labels === 0 ? `${model.name} has no classifier; class ${out.classLabel} dropped` : `class ${out.classLabel} is out of range for ${model.name} (0..${labels - 1}); dropped`);
    out.classLabel = null;
  }
  if (!model.hasText) {
    if (out.guidance !== 1) changes.push(`${model.name} has no text encoder; guidance ${out.guidance} → 1`);
    out.guidance = 1;
    if (out.prompt || out.negativePrompt) changes.push(`${model.name} has no text encoder; the prompt was dropped`);
    out.prompt = '';
    out.negativePrompt = '';
  }
  if ((model.width !== null && model.width !== out.width) || (model.height !== null && model.height !== out.height)) {
    const width = model.width ?? out.width;
    const height = model.height ?? out.height;
    changes.push(`${model.name} only makes ${width}x${height} images; size ${out.width}x${out.height} → ${width}x${height}`);
    out.width = width;
    out.height = height;
  }
  if (!SOLVER_IDS.includes(out.solver)) {
    changes.push(`unknown solver ${out.solver}; using ddim`);
    out.solver = 'ddim';
  }
  const spacing = spacingForSolver(out.solver, out.spacing, model.spacing);
  if (spacing.change) changes.push(spacing.change);
  out.spacing = spacing.spacing;
  if (out.eta !== undefined && out.eta !== 0 && solverInfo(out.solver).family !== 'ddim') {
    changes.push(`eta ${out.eta} is DDIM's; ${solverInfo(out.solver).label} has none, so it was dropped`);
    delete out.eta;
  }
  return { settings: out, changes };
}

/**
 * The spacing a solver runs with when `spacing` was chosen for another one: the same when the
 * solver can use it (explicit lists always), else the model's own spacing when the solver can
 * use that, else the solver's first; `change` says what moved, or is null.
 */
export function spacingForSolver(solver: string, spacing: Settings['spacing'], modelSpacing: SpacingName): { spacing: Settings['spacing']; change: string | null } {
  if (!SOLVER_IDS.includes(solver) || spacingProblem(solver, spacing) === null) return { spacing, change: null };
  const info = solverInfo(solver);
  const to = info.spacings.includes(modelSpacing) ? modelSpacing : info.spacings[0];
  return { spacing: to, change: `${info.label} steps on whole training timesteps and cannot use the ${String(spacing)} spacing; spacing ${String(spacing)} → ${to}` };
}

/** fitSettings without the explanation (the form's "Use settings"). */
export function fitToModel(settings: Settings, model: ModelSummary): Settings {
  return fitSettings(settings, model).settings;
}

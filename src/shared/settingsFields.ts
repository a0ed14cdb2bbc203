/**
 * One row per setting: the CLI flag that sets it, its label in the studio, the limits the
 * contract holds it to and the value a fresh form starts from. The contract's settingsSchema
 * is built from these limits, the CLI names flags and the studio labels controls from these
 * rows, and errors name a field (a setting, or one of the run's inputs) rather than a flag, so
 * each side can say it in its own words. No Node, no DOM, no zod (the renderer imports it).
 */
import { DEFAULT_CONDITION_AT, DEFAULT_CONSISTENCY_SCALE, MAX_IMAGE_SIDE, MAX_SEED, type Settings } from './settings';

export type SettingsKey = keyof Settings;

/** A number's limits: `above` is an exclusive lower bound (strength > 0). */
export interface NumberLimits {
  readonly integer?: boolean;
  readonly min?: number;
  readonly above?: number;
  readonly max?: number;
}

export interface TextLimits {
  readonly maxLength: number;
}

const PROMPT: TextLimits = { maxLength: 2000 };
const SIDE: NumberLimits = { integer: true, min: 1, max: MAX_IMAGE_SIDE };

/** What the contract accepts (settingsSchema is built from these), for the settings that have limits. */
export const SETTINGS_LIMITS = {
  prompt: PROMPT,
  negativePrompt: PROMPT,
  classLabel: { integer: true, min: 0, max: 100_000 },
  classifierScale: { min: 0, max: 1000 },
  /** Also the most explicit timesteps a run may list. */
  steps: { integer: true, min: 1, max: 1000 },
  guidance: { min: 0, max: 100 },
  consistencyScale: { min: 0, max: 1e6 },
  seed: { integer: true, min: 0, max: MAX_SEED },
  width: SIDE,
  height: SIDE,
  /** Each explicit timestep. */
  spacing: { integer: true, min: 0, max: 100_000 },
  strength: { above: 0, max: 1 },
  eta: { min: 0, max: 1 },
} as const satisfies Partial<Record<SettingsKey, NumberLimits | TextLimits>>;

export interface SettingsFieldInfo<V> {
  /** The `split-studio generate` flag that sets it: the CLI names the field by it. */
  readonly flag: `--${string}`;
  /** Its name in the studio. */
  readonly label: string;
  /** What a fresh form starts from (the CLI takes the model's own defaults first). */
  readonly default: V;
  readonly limits?: NumberLimits | TextLimits;
}

export const SETTINGS_FIELDS: { readonly [K in SettingsKey]: SettingsFieldInfo<Settings[K]> } = {
  task: { flag: '--task', label: 'Task', default: 'txt2img' },
  prompt: { flag: '--prompt', label: 'Prompt', default: '', limits: SETTINGS_LIMITS.prompt },
  negativePrompt: { flag: '--negative', label: 'Negative prompt', default: '', limits: SETTINGS_LIMITS.negativePrompt },
  classLabel: { flag: '--class', label: 'Class', default: null, limits: SETTINGS_LIMITS.classLabel },
  classifierScale: { flag: '--classifier-scale', label: 'Classifier scale', default: 0, limits: SETTINGS_LIMITS.classifierScale },
  solver: { flag: '--solver', label: 'Solver', default: 'ddim' },
  steps: { flag: '--steps', label: 'Steps', default: 20, limits: SETTINGS_LIMITS.steps },
  guidance: { flag: '--guidance', label: 'Guidance (CFG)', default: 1, limits: SETTINGS_LIMITS.guidance },
  conditionAt: { flag: '--condition-at', label: 'Condition at', default: DEFAULT_CONDITION_AT },
  consistencyScale: { flag: '--consistency-scale', label: 'Consistency scale', default: DEFAULT_CONSISTENCY_SCALE, limits: SETTINGS_LIMITS.consistencyScale },
  seed: { flag: '--seed', label: 'Seed', default: 0, limits: SETTINGS_LIMITS.seed },
  width: { flag: '--width', label: 'Width', default: 64, limits: SETTINGS_LIMITS.width },
  height: { flag: '--height', label: 'Height', default: 64, limits: SETTINGS_LIMITS.height },
  // A named spacing comes from --spacing, whose choices are checked as it is parsed; what can
  // be out of range or order is an explicit list, so errors about it name --timesteps (the CLI
  // names --spacing for a named spacing the solver cannot use, a refusal of kind 'unsupported').
  spacing: { flag: '--timesteps', label: 'Spacing', default: 'linspace', limits: SETTINGS_LIMITS.spacing },
  clipX0: { flag: '--clip-x0', label: 'Clip x0', default: null },
  strength: { flag: '--strength', label: 'Strength', default: 1, limits: SETTINGS_LIMITS.strength },
  eta: { flag: '--eta', label: 'Eta (DDIM)', default: 0, limits: SETTINGS_LIMITS.eta },
};

export const SETTINGS_KEYS = Object.keys(SETTINGS_FIELDS) as SettingsKey[];

/** A run's inputs besides its settings, which a refusal can be about too, with their flags. */
export const RUN_INPUT_FLAGS = { initImage: '--init-image', mask: '--mask', initNoise: '--init-noise', modelId: '--model' } as const;
export type RunInput = keyof typeof RUN_INPUT_FLAGS;

/** What an error can be about: a setting or an input of the run. */
export type FieldName = SettingsKey | RunInput;

export function isFieldName(value: unknown): value is FieldName {
  return typeof value === 'string' && (Object.hasOwn(SETTINGS_FIELDS, value) || Object.hasOwn(RUN_INPUT_FLAGS, value));
}

/** The CLI flag that gives a field. */
export function flagOf(field: FieldName): string {
  return Object.hasOwn(RUN_INPUT_FLAGS, field) ? RUN_INPUT_FLAGS[field as RunInput] : SETTINGS_FIELDS[field as SettingsKey].flag;
}

/** Whether `value` is a number the limits allow. */
export function withinLimits(value: unknown, limits: NumberLimits): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (limits.integer && !Number.isInteger(value)) return false;
  if (limits.min !== undefined && value < limits.min) return false;
  if (limits.above !== undefined && !(value > limits.above)) return false;
  return limits.max === undefined || value <= limits.max;
}

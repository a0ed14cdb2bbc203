/**
 * Generation settings: the one description of a run, used by the CLI, the studio's IPC, the
 * gallery and the PNG metadata (contract.ts validates it with settingsSchema), and the
 * constants that go with it. No Node, no DOM.
 */
import { type ConditionPlacement, SPACING_NAMES, type SpacingName } from './solvers';

export const TASKS = ['txt2img', 'img2img', 'inpaint', 'colorize', 'super-resolution'] as const;
export type Task = (typeof TASKS)[number];

/** Named timestep spacings (which solver takes which: SolverInfo.spacings in solvers.ts). */
export const SPACINGS = SPACING_NAMES;
export type { SpacingName };

export interface Settings {
  task: Task;
  prompt: string;
  negativePrompt: string;
  /** Class for classifier guidance (models with a classifier), or null. */
  classLabel: number | null;
  classifierScale: number;
  solver: string;
  steps: number;
  /** Classifier-free guidance scale w (diffusers' guidance_scale; 1 = conditional only). */
  guidance: number;
  /** Where splitting solvers evaluate a network-based condition term (CFG, consistency). */
  conditionAt: ConditionPlacement;
  /** Data-consistency guidance scale for pixel-space restoration tasks. */
  consistencyScale: number;
  seed: number;
  width: number;
  height: number;
  /** A named spacing, or explicit descending training timesteps. */
  spacing: SpacingName | number[];
  /** Pixel models: clip x0 predictions (null = the model's scheduler_config). */
  clipX0: boolean | null;
  /** img2img / restoration: how much of the schedule to run (diffusers' strength). */
  strength: number;
  /**
   * DDIM's eta (Song et al. 2021, eq. 16): 0 is the deterministic DDIM, 1 DDPM-like ancestral
   * noise drawn from the seed's generator. Absent means 0 (settings written before it existed).
   */
  eta?: number;
}

export const MAX_SEED = 2 ** 53 - 1;

/**
 * Fewest steps a run may ask for (explicit timestep lists excepted). With 1 or 2 steps the
 * first step jumps from pure noise (t = 999, abar 4e-5 on the linear schedule) to t = 0, and
 * an eps-predicting model's x0 = (x - sqrt(1-abar) eps) / sqrt(abar) multiplies its error by
 * ~160: the result is clipped noise (measured on the default model with every solver). From
 * 3 steps DDIM gives a recognisable, if grainy, picture.
 */
export const MIN_STEPS = 3;

/** Why a step count cannot run, or null. */
export function stepCountProblem(steps: number): string | null {
  return steps < MIN_STEPS ? `at least ${MIN_STEPS} (got ${steps}); with fewer the first step jumps from pure noise to the finished picture and the model cannot make that jump` : null;
}

/**
 * The classifier scale a run gets when a class is chosen and the model names no default: on
 * the default model with CFG w = 5 it moves samples toward the class without breaking them
 * (docs/default-model.md measures scales 1-10).
 */
export const DEFAULT_CLASSIFIER_SCALE = 5;

/** "1 step", "20 steps". */
export function countOf(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
export const MAX_IMAGE_SIDE = 4096;

/** At most this many tags per generation, each at most MAX_TAG_LENGTH characters (the gallery's limits). */
export const MAX_TAGS = 100;
export const MAX_TAG_LENGTH = 100;
/** A PNG dropped on the studio larger than this is refused (the served WebSocket carries at most 32 MiB). */
export const MAX_IMPORT_PNG_BYTES = 24 * 1024 * 1024;

/**
 * Default data-consistency scale s. The term g = s sqrt(1-abar) A^T(A x0_hat - y)/sqrt(abar) is
 * stiff under Euler: on the exact 8x8 model (inpainting half the image, DDIM/LTSP-2/STSP-2 at
 * 20 and 50 steps) s = 0.01 roughly halves the known region's error, while 0.1 to 3 overshoot
 * and oscillate and s >= 100 diverges. Measured in src/main/core/pipelines/pixel.test.ts.
 */
export const DEFAULT_CONSISTENCY_SCALE = 0.01;

/**
 * Where splitting solvers evaluate a network-based condition (CFG) by default: 'same-point'
 * costs what plain CFG costs (one pair call per step); 'exact' places f and g where the
 * splitting says, at 2 (LTSP) or 3 (STSP) calls per step. Speed is the point of splitting,
 * so the cheap variant is the default; both are offered and counted.
 */
export const DEFAULT_CONDITION_AT = 'same-point' as const;

/** A prompt and its negative: what a text encoder reads of the settings. */
export type PromptPair = Pick<Settings, 'prompt' | 'negativePrompt'>;

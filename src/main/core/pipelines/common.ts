/** What the pixel and latent pipelines share: their inputs and result, and input checks. */
import { type GenerationSettings, stepCountProblem } from '../../../shared/settings';
import type { CostCounter } from '../engine/model';
import { SettingsError } from '../engine/errors';
import type { StepProgress } from '../engine/sampler';
import type { RgbaImage } from './images';

export interface PixelInputs {
  /** x_T for all rows; default: torch-compatible randn(seed). */
  initNoise?: Float32Array;
  initImage?: RgbaImage;
  mask?: RgbaImage;
  signal?: AbortSignal;
  /** Progress after each step; for latent models `x0` is an RGB preview [3, H, W] (latent.ts latentPreview), not the latent. */
  onStep?: (progress: StepProgress) => void | Promise<void>;
}

export interface PixelResult {
  /** Final state in model space: pixels in [-1, 1], [1, C, H, W]; for latent models the latent before decoding, [1, 4, H/8, W/8]. */
  x: Float32Array;
  shape: [number, number, number, number];
  image: RgbaImage;
  cost: CostCounter;
  samplingMs: number;
  timesteps: number[];
  /** Things the user should know (unknown words, truncated prompt). */
  warnings: string[];
}

/** A run's step count, unless explicit timesteps set the grid. */
export function checkStepCount(settings: Pick<GenerationSettings, 'steps' | 'spacing'>): void {
  if (Array.isArray(settings.spacing)) return;
  const problem = stepCountProblem(settings.steps);
  if (problem) throw new SettingsError(problem);
}

/** diffusers' img2img strength: run the last int(N * strength) steps. */
export function stepsToSkip(steps: number, strength: number): number {
  if (!(strength > 0 && strength <= 1)) throw new SettingsError(`strength must be in (0, 1], got ${strength}`);
  const run = Math.min(Math.floor(steps * strength), steps);
  if (run < 1) throw new SettingsError(`strength ${strength} with ${steps} steps runs no step; raise one of them`);
  return steps - run;
}

/** The picture a task needs, at the size the run makes. */
export function requireSized(image: RgbaImage | undefined, flag: string, what: string, width: number, height: number): RgbaImage {
  if (!image) throw new SettingsError(`this task needs ${flag} (${what})`);
  if (image.width !== width || image.height !== height) throw new SettingsError(`${flag} is ${image.width}x${image.height}, but the image is ${width}x${height}`);
  return image;
}

/** One scan for NaN/Infinity, shared with the .npy reader's requireFinite (io/npy.ts). */
export { firstNonFinite } from '../io/npy';

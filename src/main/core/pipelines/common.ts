/** Input checks the pixel and latent pipelines share. */
import { type Settings, stepCountProblem } from '../../../shared/settings';
import { SettingsError } from '../engine/errors';
import type { RgbaImage } from './images';

/** A run's step count, unless explicit timesteps set the grid. */
export function checkStepCount(settings: Pick<Settings, 'steps' | 'spacing'>): void {
  if (Array.isArray(settings.spacing)) return;
  const problem = stepCountProblem(settings.steps);
  if (problem) throw new SettingsError(problem, { field: 'steps', kind: 'range' });
}

/** diffusers' img2img strength: run the last int(N * strength) steps. */
export function stepsToSkip(steps: number, strength: number): number {
  if (!(strength > 0 && strength <= 1)) throw new SettingsError(`strength must be in (0, 1], got ${strength}`, { field: 'strength', kind: 'range' });
  const run = Math.min(Math.floor(steps * strength), steps);
  if (run < 1) throw new SettingsError(`strength ${strength} with ${steps} steps runs no step; raise one of them`, { field: 'strength', kind: 'range' });
  return steps - run;
}

/** The picture a task needs (`name`: "the mask", ...; `hint` says what it should show), at the size the run makes. */
export function requireSized(image: RgbaImage | undefined, field: 'initImage' | 'mask', name: string, width: number, height: number, hint?: string): RgbaImage {
  if (!image) throw new SettingsError(`this task needs ${name}${hint ? ` (${hint})` : ''}`, { field, kind: 'missing' });
  if (image.width !== width || image.height !== height) throw new SettingsError(`${name} is ${image.width}x${image.height}, but the image is ${width}x${height}`, { field, kind: 'format' });
  return image;
}

/** One scan for NaN/Infinity, shared with the .npy reader's requireFinite (io/npy.ts). */
export { firstNonFinite } from '../io/npy';

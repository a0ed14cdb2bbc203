/**
 * Which training timesteps an N-step run visits (descending).
 *
 * `linspace` follows the reference code (guided_diffusion's space_timesteps with one
 * section: a float stride (T-1)/(N-1) accumulated and rounded half-to-even, keeping both
 * 0 and T-1); `leading` and `trailing` follow diffusers (with steps_offset).
 *
 * One exception: a one-step run starts at T-1 under every spacing. The reference rules put
 * its only step at t = 0 (linspace) or t = steps_offset (leading), where the network is
 * asked to denoise pure noise as if it were nearly clean and the "image" is the noise itself.
 */
import type { TimestepSpacing } from './schedule';
import { SettingsError } from './errors';

export type Spacing = TimestepSpacing | { explicit: readonly number[] };

export const MAX_STEPS = 1000;

/** Python's round(): ties to even. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const diff = v - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Refuses a step count outside 1..T (T: the model's training timesteps). */
export function checkStepCount(steps: number, T: number): void {
  if (!Number.isInteger(steps) || steps < 1) throw new SettingsError(`steps must be a whole number of at least 1, got ${steps}`, { field: 'steps', kind: 'range' });
  if (steps > T) throw new SettingsError(`steps must be at most ${T} (the model's training timesteps), got ${steps}`, { field: 'steps', kind: 'range' });
}

export function samplingTimesteps(spacing: Spacing, steps: number, numTrainTimesteps: number, stepsOffset = 0): number[] {
  const T = numTrainTimesteps;
  if (typeof spacing === 'object') return checkExplicit(spacing.explicit, T);
  checkStepCount(steps, T);
  if (steps === 1) return [T - 1];
  let ascending: number[];
  switch (spacing) {
    case 'linspace': {
      const stride = steps <= 1 ? 1 : (T - 1) / (steps - 1);
      ascending = [];
      let position = 0;
      for (let k = 0; k < steps; k++) {
        ascending.push(roundHalfEven(position));
        position += stride;
      }
      break;
    }
    case 'leading': {
      const ratio = Math.floor(T / steps);
      ascending = Array.from({ length: steps }, (_, k) => k * ratio + stepsOffset);
      break;
    }
    case 'trailing': {
      // np.round(np.arange(T, 0, -T/N)) - 1, reversed to ascending.
      const ratio = T / steps;
      ascending = Array.from({ length: steps }, (_, k) => roundHalfEven(T - k * ratio) - 1).reverse();
      break;
    }
  }
  const descending = ascending.reverse();
  return checkExplicit(descending, T);
}

function checkExplicit(list: readonly number[], T: number): number[] {
  if (list.length === 0) throw new SettingsError('the timestep list is empty', { field: 'spacing', kind: 'missing' });
  if (list.length > MAX_STEPS) throw new SettingsError(`at most ${MAX_STEPS} timesteps, got ${list.length}`, { field: 'spacing', kind: 'range' });
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    if (!Number.isInteger(t) || t < 0 || t >= T) {
      throw new SettingsError(`timestep ${JSON.stringify(t)} is not a whole number from 0 to ${T - 1}`, { field: 'spacing', kind: 'range' });
    }
    if (i > 0 && t >= list[i - 1]) {
      throw new SettingsError(`timesteps must be strictly descending: ${list[i - 1]} is followed by ${t}`, { field: 'spacing', kind: 'format' });
    }
  }
  return [...list];
}

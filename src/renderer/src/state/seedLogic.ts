/**
 * The seed control: locked keeps the seed, unlocked draws a fresh one for every run (shown
 * in the field), dice draws one now, reuse-last takes the last image's seed and locks it.
 */

export interface SeedControl {
  value: number;
  locked: boolean;
  /** Seed of the last finished image, if any. */
  last: number | null;
}

/** Seeds the dice draws: 32-bit, like the common tools, so they are easy to share. */
export function randomSeed(random: () => number = Math.random): number {
  return Math.floor(random() * 2 ** 32) >>> 0;
}

/** The seed a run uses, and the control after it. */
export function seedForRun(control: SeedControl, random: () => number = Math.random): SeedControl {
  return control.locked ? control : { ...control, value: randomSeed(random) };
}

export function rollDice(control: SeedControl, random: () => number = Math.random): SeedControl {
  return { ...control, value: randomSeed(random) };
}

export function reuseLast(control: SeedControl): SeedControl {
  return control.last === null ? control : { ...control, value: control.last, locked: true };
}

/** A seed the user typed: kept as typed (locked), or null when it is not a valid seed (an empty field included). */
export function typedSeed(control: SeedControl, typed: unknown, max: number): SeedControl | null {
  if (typeof typed === 'string' && typed.trim() === '') return null;
  const n = typeof typed === 'string' ? Number(typed.trim()) : typed;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) return null;
  return { ...control, value: n, locked: true };
}

/**
 * Batch count: N images from one set of settings, one after another, with seeds s, s+1, ...,
 * s+N-1 as AUTOMATIC1111's "Batch count" gives them, so that any one of them can be made again
 * alone from its recorded seed. Used by the CLI's --batch and the studio's batch field.
 */
import { MAX_SEED } from './settings';

/** The most images one click or one command makes. */
export const MAX_BATCH_COUNT = 64;

/** The seeds of a batch of `count` starting at `seed`; throws a message naming the problem. */
export function batchSeeds(seed: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_BATCH_COUNT) throw new RangeError(`batch count must be a whole number from 1 to ${MAX_BATCH_COUNT}, got ${count}`);
  // Compared as a difference: seed + count - 1 can round back to MAX_SEED near 2^53.
  if (count - 1 > MAX_SEED - seed) throw new RangeError(`seeds ${seed}..${seed + count - 1} go past the largest seed ${MAX_SEED}; choose a smaller seed`);
  return Array.from({ length: count }, (_, i) => seed + i);
}

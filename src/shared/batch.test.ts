import { describe, expect, it } from 'vitest';
import { MAX_BATCH_COUNT, batchSeeds } from './batch';
import { MAX_SEED } from './settings';

describe('batchSeeds', () => {
  it('counts up from the seed, as AUTOMATIC1111 does', () => {
    expect(batchSeeds(41, 4)).toEqual([41, 42, 43, 44]);
    expect(batchSeeds(7, 1)).toEqual([7]);
  });

  it('refuses a count out of range and seeds past the largest', () => {
    expect(() => batchSeeds(1, 0)).toThrow(/from 1 to 64, got 0/);
    expect(() => batchSeeds(1, MAX_BATCH_COUNT + 1)).toThrow(/got 65/);
    expect(() => batchSeeds(1, 2.5)).toThrow(/whole number/);
    expect(() => batchSeeds(MAX_SEED - 1, 3)).toThrow(/past the largest seed/);
    expect(batchSeeds(MAX_SEED - 2, 3).at(-1)).toBe(MAX_SEED);
  });
});

import { describe, expect, it } from 'vitest';
import { randomSeed, reuseLast, rollDice, seedForRun, typedSeed } from './seedLogic';

const fixed = (x: number) => () => x;

describe('seed control', () => {
  it('keeps a locked seed for the run and draws a new one when unlocked', () => {
    expect(seedForRun({ value: 7, locked: true, last: null }, fixed(0.5)).value).toBe(7);
    expect(seedForRun({ value: 7, locked: false, last: null }, fixed(0.5)).value).toBe(2 ** 31);
  });

  it('draws 32-bit seeds', () => {
    expect(randomSeed(fixed(0))).toBe(0);
    expect(randomSeed(fixed(0.9999999999))).toBe(2 ** 32 - 1);
  });

  it('rolls the dice without touching the lock', () => {
    expect(rollDice({ value: 1, locked: true, last: null }, fixed(0.25))).toEqual({ value: 2 ** 30, locked: true, last: null });
  });

  it('reuses the last seed and locks it', () => {
    expect(reuseLast({ value: 1, locked: false, last: 99 })).toEqual({ value: 99, locked: true, last: 99 });
    expect(reuseLast({ value: 1, locked: false, last: null })).toEqual({ value: 1, locked: false, last: null });
  });

  it('locks a typed seed and rejects an invalid one', () => {
    expect(typedSeed({ value: 1, locked: false, last: null }, '123', 2 ** 53 - 1)).toEqual({ value: 123, locked: true, last: null });
    expect(typedSeed({ value: 1, locked: false, last: null }, -1, 100)).toBeNull();
    expect(typedSeed({ value: 1, locked: false, last: null }, 1.5, 100)).toBeNull();
    expect(typedSeed({ value: 1, locked: false, last: null }, null, 100)).toBeNull();
    // An emptied or non-numeric number field reads as '': never a silent seed 0.
    expect(typedSeed({ value: 1, locked: false, last: null }, '', 100)).toBeNull();
    expect(typedSeed({ value: 1, locked: false, last: null }, '  ', 100)).toBeNull();
  });
});

import { describe, expect, test } from 'vitest';
import { roundHalfEven, samplingTimesteps } from './spacing';

describe('samplingTimesteps', () => {
  test('linspace keeps 0 and T-1 (reference space_timesteps)', () => {
    expect(samplingTimesteps('linspace', 10, 1000)).toEqual([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    const t20 = samplingTimesteps('linspace', 20, 1000);
    expect(t20[0]).toBe(999);
    expect(t20.at(-1)).toBe(0);
    expect(t20.length).toBe(20);
  });

  test('one step starts at T-1 under every spacing (the reference rules would put it at t = 0 or 1)', () => {
    expect(samplingTimesteps('linspace', 1, 1000)).toEqual([999]);
    expect(samplingTimesteps('leading', 1, 1000, 1)).toEqual([999]);
    expect(samplingTimesteps('trailing', 1, 1000)).toEqual([999]);
    expect(samplingTimesteps('linspace', 2, 1000)).toEqual([999, 0]);
    expect(samplingTimesteps('leading', 2, 1000, 1)).toEqual([501, 1]);
  });

  test('ties round half to even like Python', () => {
    // stride 999/2 = 499.5 -> 500 (even)
    expect(samplingTimesteps('linspace', 3, 1000)).toEqual([999, 500, 0]);
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(3.5)).toBe(4);
    expect(roundHalfEven(3.4)).toBe(3);
  });

  test('leading with steps_offset 1 gives Stable Diffusion\'s familiar 981 ... 1 grid', () => {
    const t = samplingTimesteps('leading', 50, 1000, 1);
    expect(t[0]).toBe(981);
    expect(t[1]).toBe(961);
    expect(t.at(-1)).toBe(1);
  });

  test('trailing starts at T-1', () => {
    expect(samplingTimesteps('trailing', 10, 1000)).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
  });

  test('explicit lists are validated', () => {
    expect(samplingTimesteps({ explicit: [999, 500, 0] }, 0, 1000)).toEqual([999, 500, 0]);
    expect(() => samplingTimesteps({ explicit: [500, 999] }, 0, 1000)).toThrow(/strictly descending/);
    expect(() => samplingTimesteps({ explicit: [1000] }, 0, 1000)).toThrow(/0 to 999/);
    expect(() => samplingTimesteps({ explicit: [] }, 0, 1000)).toThrow(/empty/);
  });

  test('step counts are validated', () => {
    expect(() => samplingTimesteps('linspace', 0, 1000)).toThrow(/at least 1/);
    expect(() => samplingTimesteps('linspace', 1001, 1000)).toThrow(/at most 1000/);
    expect(() => samplingTimesteps('linspace', 2.5, 1000)).toThrow(/whole number/);
  });
});

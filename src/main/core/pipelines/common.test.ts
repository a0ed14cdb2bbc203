/** firstNonFinite: the shared check that refuses NaN/Inf input noise before a run. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { firstNonFinite } from './common';

describe('firstNonFinite', () => {
  test('finite arrays give -1', () => {
    fc.assert(fc.property(fc.float32Array({ noNaN: true, noDefaultInfinity: true }), (values) => firstNonFinite(values) === -1));
  });

  test('the index of the first NaN or infinity, wherever it is and whatever follows', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ noNaN: true, noDefaultInfinity: true, minLength: 1, maxLength: 300 }),
        fc.nat(),
        fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
        fc.array(fc.nat(), { maxLength: 5 }),
        (values, at, bad, later) => {
          const index = at % values.length;
          values[index] = bad;
          for (const l of later) values[index + (l % (values.length - index))] = Number.NaN;
          return firstNonFinite(values) === index;
        },
      ),
    );
  });

  test('an empty array and plain number arrays', () => {
    expect(firstNonFinite(new Float32Array(0))).toBe(-1);
    expect(firstNonFinite([0, 1e38, -1e-45, Number.NaN])).toBe(3);
  });
});

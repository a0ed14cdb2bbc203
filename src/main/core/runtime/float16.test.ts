import { describe, expect, test } from 'vitest';
import { float32ToHalf, fromHalfBits, halfToFloat32, toHalfBits } from './float16';

/** Every finite float16 value, ascending, with its bits (an independent reference: brute force). */
const finiteHalves = (() => {
  const list: { bits: number; value: number }[] = [];
  for (let h = 0; h < 0x10000; h++) {
    const v = fromHalfBits(h);
    if (Number.isFinite(v) && !(v === 0 && h === 0x8000)) list.push({ bits: h, value: v });
  }
  return list.sort((a, b) => a.value - b.value);
})();

/** Nearest float16 by search, ties to the even mantissa; beyond 65520 it is Infinity. */
function nearestHalf(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = finiteHalves.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (finiteHalves[mid].value <= a) lo = mid;
    else hi = mid;
  }
  const [below, above] = [finiteHalves[lo], finiteHalves[hi]];
  const dBelow = a - below.value;
  const dAbove = above.value - a;
  const pick = dBelow < dAbove ? below : dAbove < dBelow ? above : (below.bits & 1) === 0 ? below : above;
  return pick.value === 0 ? sign : sign | pick.bits;
}

describe('float16 <-> float32', () => {
  test('every float16 value survives float16 -> float32 -> float16 exactly', () => {
    const all = new Uint16Array(0x10000).map((_, i) => i);
    const back = float32ToHalf(halfToFloat32(all));
    for (let h = 0; h < 0x10000; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNaN) expect((back[h] & 0x7c00) === 0x7c00 && (back[h] & 0x3ff) !== 0).toBe(true);
      else expect(back[h], `bits ${h.toString(16)}`).toBe(h);
    }
  });

  test('rounding is to nearest, ties to even, as torch.half() (checked against a brute-force search)', () => {
    // Exact ties: halfway between 1 and the next float16 (1 + 2^-10) goes to 1 (even); the next tie to 1 + 2^-9.
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(65519.99)).toBe(0x7bff);
    expect(toHalfBits(65520)).toBe(0x7c00); // rounds up past the largest finite value
    expect(toHalfBits(-1e9)).toBe(0xfc00);
    expect(toHalfBits(Infinity)).toBe(0x7c00);
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
    expect(toHalfBits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toHalfBits(2 ** -25)).toBe(0x0000); // its half: a tie, to even (zero)
    expect(toHalfBits(1.5 * 2 ** -25)).toBe(0x0001);
    expect(toHalfBits(-0)).toBe(0x8000);
    expect(toHalfBits(2 ** -14 - 2 ** -25)).toBe(0x0400); // top subnormal rounds up into the normals
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const values = new Float32Array(20000);
    for (let i = 0; i < values.length; i++) {
      const exponent = Math.floor(random() * 44) - 28; // subnormal, normal and overflowing magnitudes
      values[i] = (random() < 0.5 ? -1 : 1) * (1 + random()) * 2 ** exponent;
    }
    const bits = float32ToHalf(values);
    for (let i = 0; i < values.length; i++) expect(bits[i], `value ${values[i]}`).toBe(nearestHalf(values[i]));
  });
});

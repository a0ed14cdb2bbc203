/**
 * Float32 arithmetic as other tools compute it, where the engine must reproduce their numbers
 * bit for bit: a correctly rounded fused multiply-add (what GCC's -ffp-contract=fast makes of
 * `a * b + c` in torch's CPU kernels), and numpy's float32 natural log. Everything else in the
 * engine is float64 scalars on float32 tensors.
 */

export const f32 = Math.fround;

/**
 * Correctly rounded float32 fused multiply-add. The double product of two floats is exact; the
 * double sum can round once before the float rounding, which only matters when it lands exactly
 * halfway between two floats: then the sign of the sum's rounding error decides the direction.
 */
export function fmaf(a: number, b: number, c: number): number {
  const product = a * b;
  const sum = product + c;
  const rounded = f32(sum);
  if (sum !== rounded) {
    const otherNeighbour = sum + (sum - rounded);
    if (f32(otherNeighbour) === otherNeighbour) {
      const virtualC = sum - product;
      const error = product - (sum - virtualC) + (c - virtualC);
      if (error > 0) return Math.max(rounded, otherNeighbour);
      if (error < 0) return Math.min(rounded, otherNeighbour);
    }
  }
  return rounded;
}

// numpy >= 1.22's float32 log on x86-64 with AVX2 and FMA3 (numpy/core/src/umath/
// loops_exponent_log.dispatch.c.src, `simd_log_FLOAT`): x = m 2^k with m in [0.5, 1), moved to
// [sqrt(1/2), sqrt(2)) by doubling when m <= sqrt(1/2); log(m) = P(m - 1)/Q(m - 1), a rational
// minimax approximation of degree 5/5 evaluated by fused Horner steps; then + k ln2 fused. It is
// not correctly rounded (up to 3.83 ulp; it differs from the rounded true log for about one in
// seven of the values of a schedule's sigma table), which is why it is reproduced here: diffusers
// interpolates timesteps in a float32 log-sigma table that numpy computes this way.
const LOG_P = [0, 9.999999999999998702752e-1, 2.112677543073053063722, 1.480000633576506585156, 3.808837741388407920751e-1, 2.589979117907922693523e-2].map(f32);
const LOG_Q = [1, 2.612677543073109236779, 2.453006071784736363091, 9.864942958519418960339e-1, 1.546476374983906719538e-1, 5.875095403124574342950e-3].map(f32);
const LN2_F = f32(Math.LN2);
const SQRT_HALF_F = f32(Math.SQRT1_2);
const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** numpy's float32 `np.log` of a positive normal float32 (the only inputs the engine gives it). */
export function numpyLogf(x: number): number {
  scratch[0] = x;
  const bits = scratchBits[0];
  const biased = bits >>> 23;
  if (!(x > 0) || biased === 0 || biased === 0xff) throw new RangeError(`numpyLogf: expected a positive normal float32, got ${x}`);
  let exponent = biased - 126; // x = m 2^exponent, m in [0.5, 1)
  scratchBits[0] = (bits & 0x007fffff) | 0x3f000000;
  let m = scratch[0];
  if (m <= SQRT_HALF_F) {
    m = m + m; // exact
    exponent -= 1;
  }
  const t = f32(m - 1); // exact (Sterbenz)
  let num = fmaf(LOG_P[5], t, LOG_P[4]);
  for (let k = 3; k >= 0; k--) num = fmaf(num, t, LOG_P[k]);
  let den = fmaf(LOG_Q[5], t, LOG_Q[4]);
  for (let k = 3; k >= 0; k--) den = fmaf(den, t, LOG_Q[k]);
  return fmaf(exponent, LN2_F, f32(num / den));
}

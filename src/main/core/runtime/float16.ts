/**
 * IEEE 754 binary16 <-> binary32 conversion for float16 ONNX models (inputs converted down,
 * outputs converted back). Node 20 has no Float16Array, so float16 tensors travel as the raw
 * bits in a Uint16Array, which is what onnxruntime-node accepts and returns for 'float16'.
 *
 * float32 -> float16 rounds to nearest, ties to even (what torch's .half() and numpy's
 * astype(float16) do), overflows to +-Infinity, keeps NaN a NaN, and produces subnormals
 * below 2^-14. float16 -> float32 is exact.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float16 bits nearest to `value` (ties to even). */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | (mantissa ? 0x7e00 : 0x7c00); // NaN (quiet) or Infinity
  // Unbiased exponent e: the value is 1.m * 2^e.
  const e = exponent - 127;
  if (e > 15) return sign | 0x7c00; // too large even before rounding
  if (e >= -14) {
    // Normal float16: keep 10 mantissa bits, round the 13 dropped ones to nearest even.
    let half = ((e + 15) << 10) | (mantissa >>> 13);
    const rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1; // may carry into the exponent (up to Infinity)
    return sign | half;
  }
  if (e < -25) return sign; // below half the smallest subnormal: rounds to zero
  // Subnormal float16: value = m' * 2^-24 with m' = (1.m) * 2^(e + 24), 0 < m' < 1024.
  const full = mantissa | 0x800000; // 24 significant bits, value = full * 2^(e - 23)
  const shift = -1 - e; // full * 2^(e-23) / 2^-24 = full >> (-1 - e)
  let half = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1; // may become the smallest normal
  return sign | half;
}

/** The float32 value of float16 bits (exact). */
export function fromHalfBits(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

let table: Float32Array | undefined;

/** float16 bits -> float32 values. */
export function halfToFloat32(bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = fromHalfBits(h);
  }
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

/** float32 values -> float16 bits (round to nearest even). */
export function float32ToHalf(values: Float32Array, out: Uint16Array = new Uint16Array(values.length)): Uint16Array {
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i]);
  return out;
}

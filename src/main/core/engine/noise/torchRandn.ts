/**
 * Bit-exact reproduction of PyTorch's CPU `torch.randn(shape, generator=torch.Generator().manual_seed(seed))`
 * for float32, as computed by torch 1.13 with the AVX2 (or AVX512) CPU capability.
 *
 * torch's normal kernel has two paths:
 *  - numel >= 16 (contiguous float32): fill the tensor with 24-bit uniforms, then run a vectorised
 *    Box–Muller over blocks of 16 using the Cephes-derived `log256_ps` / `sincos256_ps` routines
 *    (Pommier's "sse_mathfun" ported to AVX). When numel % 16 != 0 the last 16 uniforms are redrawn
 *    and the last 16 outputs recomputed. GCC (-mfma, default -ffp-contract=fast) contracts those
 *    routines: every multiply whose only use is an add or subtract is a fused multiply-add, which
 *    `fmaf` mirrors (unfused float math mismatches ~1% of torch's values).
 *  - numel < 16: a scalar double-precision Box–Muller on 53-bit uniforms that caches the sine value
 *    for the next element, each result rounded to float32.
 * The reference vectors in ./vectors pin this down; the "default" (non-AVX2) capability uses scalar
 * libm float math instead and gives different values.
 *
 * `TorchGenerator` is a `torch.Generator().manual_seed(seed)` that keeps going: each `randn` draws
 * from where the previous one stopped, as diffusers' pipelines do (the initial latents first, then
 * every ancestral or eta > 0 scheduler step from the same generator). Its state is torch's: the
 * mt19937 words and the cached second value of the scalar Box–Muller (`next_double_normal_sample`,
 * which a later small draw returns first; the vectorised path neither reads nor clears it).
 */
import { fmaf } from '../float32';
import { MT19937 } from './mt19937';

const MAX_SEED = (1n << 64n) - 1n;
const TWO_POW_32 = 2 ** 32;

/** Values of `torch.randn(shape)` (float32, CPU) from a fresh generator seeded with `seed`. */
export function torchRandn(seed: number | bigint, shape: readonly number[]): Float32Array {
  return new TorchGenerator(seed).randn(shape);
}

/** A source of standard normal noise, drawn in order (the engine's ancestral samplers take one). */
export interface NoiseSource {
  randn(shape: readonly number[]): Float32Array;
}

/** torch's CPU generator after `manual_seed(seed)`: successive `randn` calls continue its stream. */
export class TorchGenerator implements NoiseSource {
  private readonly mt: MT19937;
  /** torch's `next_double_normal_sample`: the sine half of the last scalar Box–Muller pair, if unused. */
  private cachedSine: number | undefined = undefined;

  constructor(seed: number | bigint) {
    this.mt = new MT19937(torchSeedToMtSeed(seed));
  }

  /** `torch.randn(shape, generator=this)`, float32. */
  randn(shape: readonly number[]): Float32Array {
    const numel = shapeNumel(shape);
    if (numel >= 16) return vectorisedNormals(this.mt, numel);
    const out = new Float32Array(numel);
    for (let i = 0; i < numel; i++) out[i] = this.scalarNormal() + 0; // value * 1 + 0 maps -0 to +0, as torch does
    return out;
  }

  /** at::normal_distribution<double>: the cached value if there is one, else a new pair. */
  private scalarNormal(): number {
    if (this.cachedSine !== undefined) {
      const value = this.cachedSine;
      this.cachedSine = undefined;
      return value;
    }
    const u1 = uniform53(this.mt);
    const u2 = uniform53(this.mt);
    // 1 - u2 is exact (u2 is a multiple of 2^-53), so this is log of a value in (0, 1].
    // V8's libm and glibc's differ in the last double bit for a few percent of results, but a
    // float32 rounding boundary lies within that bit far less than once per 10^9 values.
    const radius = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    this.cachedSine = radius * Math.sin(theta);
    return radius * Math.cos(theta);
  }
}

/**
 * torch accepts any uint64 seed but its mt19937 stores only the low 32 bits in the first state
 * word, so seeds congruent modulo 2^32 give identical streams.
 */
function torchSeedToMtSeed(seed: number | bigint): number {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed > MAX_SEED) {
      throw new RangeError(`torchRandn: seed must be in 0..2^64-1, got ${seed}`);
    }
    return Number(BigInt.asUintN(32, seed));
  }
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) {
    throw new RangeError(`torchRandn: seed must be a non-negative integer, got ${String(seed)}`);
  }
  if (seed > 2 ** 53) {
    // Above 2^53 a number may already have been rounded, so the seed would silently change.
    throw new RangeError(`torchRandn: seed ${seed} exceeds 2^53; pass it as a bigint`);
  }
  return seed % TWO_POW_32;
}

function shapeNumel(shape: readonly number[]): number {
  let numel = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new RangeError(`torchRandn: shape entries must be non-negative integers, got [${shape.join(', ')}]`);
    }
    numel *= dim;
  }
  return numel;
}

// ---------------------------------------------------------------------------------------------
// numel < 16: scalar double-precision Box–Muller (at::normal_distribution<double>), in TorchGenerator.

/**
 * torch's double uniform: a 64-bit draw (first 32-bit word is the high half) masked to 53 bits
 * and scaled by 2^-53.
 */
function uniform53(mt: MT19937): number {
  const high = mt.nextUint32() & 0x1fffff;
  const low = mt.nextUint32();
  return (high * TWO_POW_32 + low) * 2 ** -53;
}

// ---------------------------------------------------------------------------------------------
// numel >= 16: float32 uniforms + 16-wide Box–Muller with Cephes float log / sincos.

const f32 = Math.fround;

function vectorisedNormals(mt: MT19937, numel: number): Float32Array {
  const data = new Float32Array(numel);
  fillUniform24(mt, data, 0, numel);
  for (let i = 0; i + 16 <= numel; i += 16) boxMuller16(data, i);
  if (numel % 16 !== 0) {
    const tail = numel - 16;
    fillUniform24(mt, data, tail, numel);
    boxMuller16(data, tail);
  }
  return data;
}

/** torch's float uniform: the low 24 bits of one 32-bit draw, scaled by 2^-24. */
function fillUniform24(mt: MT19937, data: Float32Array, from: number, to: number): void {
  for (let i = from; i < to; i++) data[i] = (mt.nextUint32() & 0xffffff) * 2 ** -24;
}

const TWO_PI = f32(2 * Math.PI);
const sinCos = new Float64Array(2);

/** One block: lanes j (cosine branch) and j + 8 (sine branch) share their radius and angle. */
function boxMuller16(data: Float32Array, offset: number): void {
  for (let j = offset; j < offset + 8; j++) {
    const u1 = f32(1 - data[j]); // [0, 1) -> (0, 1] so the log is finite
    const radius = f32(Math.sqrt(f32(-2 * cephesLogf(u1))));
    cephesSinCosf(f32(TWO_PI * data[j + 8]), sinCos);
    // torch stores fma(n, std, mean) with std 1 and mean 0: exact, except that -0 becomes +0.
    data[j] = f32(radius * sinCos[1]) + 0;
    data[j + 8] = f32(radius * sinCos[0]) + 0;
  }
}

// Cephes logf: log(x) = log(m) + e*ln2 with m in [sqrt(1/2), sqrt(2)), log(1 + t) by a degree-9
// polynomial, and ln2 split into 0.693359375 - 2.12194440e-4 so that e*ln2 keeps extra precision.
const SQRT_HALF = f32(0.707106781186547524);
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1,
  -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f32);
const LN2_LOW = f32(-2.1219444e-4);
const LN2_HIGH = 0.693359375;
const float32Scratch = new Float32Array(1);
const bitsScratch = new Uint32Array(float32Scratch.buffer);

/** Natural log of a float32 in [2^-24, 1], rounded step by step as `log256_ps` computes it. */
function cephesLogf(x: number): number {
  float32Scratch[0] = x;
  const bits = bitsScratch[0];
  let exponent = (bits >>> 23) - 126; // x = m * 2^exponent with m in [0.5, 1)
  bitsScratch[0] = (bits & 0x007fffff) | 0x3f000000;
  const m = float32Scratch[0];
  let t: number; // both branches are exact
  if (m < SQRT_HALF) {
    exponent -= 1;
    t = f32(f32(m - 1) + m);
  } else {
    t = f32(m - 1);
  }
  const t2 = f32(t * t);
  let poly = LOG_P[0];
  for (let k = 1; k < LOG_P.length; k++) poly = fmaf(poly, t, LOG_P[k]);
  poly = f32(poly * t);
  poly = fmaf(poly, t2, f32(exponent * LN2_LOW));
  poly = f32(poly - 0.5 * t2); // 0.5 * t2 is exact, so fusing this step would not change it
  return f32(f32(t + poly) + exponent * LN2_HIGH); // exponent * LN2_HIGH is exact likewise
}

// Cephes sinf/cosf: reduce by multiples of pi/4 in three parts (Cody–Waite), then evaluate the
// sine or cosine minimax polynomial on [-pi/4, pi/4] depending on the octant.
const FOUR_OVER_PI = f32(1.27323954473516);
const PI_4_PART1 = -0.78515625;
const PI_4_PART2 = f32(-2.4187564849853515625e-4);
const PI_4_PART3 = f32(-3.77489497744594108e-8);
const COS_P0 = f32(2.443315711809948e-5);
const COS_P1 = f32(-1.388731625493765e-3);
const COS_P2 = f32(4.166664568298827e-2);
const SIN_P0 = f32(-1.9515295891e-4);
const SIN_P1 = f32(8.3321608736e-3);
const SIN_P2 = f32(-1.6666654611e-1);

/** Writes [sin(theta), cos(theta)] for a float32 theta >= 0, rounded as `sincos256_ps` does. */
function cephesSinCosf(theta: number, out: Float64Array): void {
  // Nearest even multiple j of pi/4 at or above the truncated octant; quadrant = (j / 2) mod 4.
  const j = (Math.trunc(f32(theta * FOUR_OVER_PI)) + 1) & ~1;
  const quadrant = (j >> 1) & 3;
  let x = fmaf(j, PI_4_PART1, theta);
  x = fmaf(j, PI_4_PART2, x);
  x = fmaf(j, PI_4_PART3, x);
  const z = f32(x * x);

  let cosPoly = f32(fmaf(fmaf(COS_P0, z, COS_P1), z, COS_P2) * z);
  cosPoly = fmaf(cosPoly, z, -f32(0.5 * z));
  cosPoly = f32(cosPoly + 1);

  const sinPoly = fmaf(f32(fmaf(fmaf(SIN_P0, z, SIN_P1), z, SIN_P2) * z), x, x);

  const sine = (quadrant & 1) === 0 ? sinPoly : cosPoly;
  const cosine = (quadrant & 1) === 0 ? cosPoly : sinPoly;
  out[0] = quadrant >= 2 ? -sine : sine;
  out[1] = quadrant === 1 || quadrant === 2 ? -cosine : cosine;
}

/**
 * 32-bit Mersenne Twister (MT19937, Matsumoto & Nishimura 1998).
 *
 * This is the engine behind PyTorch's CPU generator: `manual_seed(seed)` runs the
 * reference `init_genrand` on the low 32 bits of the seed, and every draw is one
 * tempered 32-bit word, so the output stream equals `std::mt19937(seed)`.
 */

const STATE_SIZE = 624;
const SHIFT_SIZE = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const INIT_MULTIPLIER = 1812433253;

export class MT19937 {
  private readonly state = new Uint32Array(STATE_SIZE);
  /** Index of the next word to temper; STATE_SIZE means "twist before the next draw". */
  private index = STATE_SIZE;

  /** @param seed an unsigned 32-bit integer (callers truncate wider seeds the way torch does). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`MT19937 seed must be an unsigned 32-bit integer, got ${seed}`);
    }
    const state = this.state;
    state[0] = seed;
    for (let i = 1; i < STATE_SIZE; i++) {
      const previous = state[i - 1];
      // Math.imul keeps the product modulo 2^32, as the reference C code's uint32 arithmetic does.
      state[i] = Math.imul(INIT_MULTIPLIER, previous ^ (previous >>> 30)) + i;
    }
  }

  /** Next tempered output word, in [0, 2^32). */
  nextUint32(): number {
    if (this.index >= STATE_SIZE) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Regenerates all 624 words; split into three loops so no index needs a modulo. */
  private twist(): void {
    const state = this.state;
    let k = 0;
    for (; k < STATE_SIZE - SHIFT_SIZE; k++) {
      state[k] = state[k + SHIFT_SIZE] ^ mix(state[k], state[k + 1]);
    }
    for (; k < STATE_SIZE - 1; k++) {
      state[k] = state[k + SHIFT_SIZE - STATE_SIZE] ^ mix(state[k], state[k + 1]);
    }
    state[k] = state[SHIFT_SIZE - 1] ^ mix(state[k], state[0]);
    this.index = 0;
  }
}

/** The twist's contribution of a word pair: upper bit of `a`, lower 31 of `b`, times the matrix. */
function mix(a: number, b: number): number {
  const y = (a & UPPER_MASK) | (b & LOWER_MASK);
  return (y >>> 1) ^ (-(y & 1) & MATRIX_A);
}

/**
 * The pseudo linear multistep mixer (docs/samplers.md §5; Liu et al. 2022, PNDM): Adams–Bashforth
 * weights that ignore the non-uniform step sizes. History is explicit state owned by the
 * sampler loop; buffers are allocated once and recycled.
 */

/** Adams–Bashforth weights, newest entry first, for orders 1..4. */
export const ADAMS_BASHFORTH_WEIGHTS: readonly (readonly number[])[] = [
  [1],
  [3 / 2, -1 / 2],
  [23 / 12, -16 / 12, 5 / 12],
  [55 / 24, -59 / 24, 37 / 24, -9 / 24],
];

export class AdamsBashforthHistory {
  /** Oldest first. */
  private readonly entries: Float32Array[] = [];
  private readonly spare: Float32Array[] = [];

  constructor(readonly order: number, size: number) {
    if (!Number.isInteger(order) || order < 1 || order > 4) throw new Error(`Adams–Bashforth order must be 1..4, got ${order}`);
    for (let i = 0; i < order; i++) this.spare.push(new Float32Array(size));
  }

  get length(): number {
    return this.entries.length;
  }

  /** Records e (copied) without mixing. */
  push(e: Float32Array): void {
    const slot = this.spare.pop() ?? this.entries.shift()!;
    slot.set(e);
    this.entries.push(slot);
  }

  /**
   * Appends e, writes the AB-k' mix of the newest k' = min(order, length) entries to `out`,
   * then drops the oldest once `order` entries are held — the reference code's plms_mixer,
   * which keeps at most order-1 old entries between steps. Returns the order used.
   */
  pushAndMix(e: Float32Array, out: Float32Array): number {
    this.push(e);
    const used = this.mix(out);
    this.dropOldestIfFull();
    return used;
  }

  mix(out: Float32Array): number {
    const k = Math.min(this.order, this.entries.length);
    const w = ADAMS_BASHFORTH_WEIGHTS[k - 1];
    const n = this.entries.length;
    const e0 = this.entries[n - 1];
    if (k === 1) {
      out.set(e0);
    } else if (k === 2) {
      const e1 = this.entries[n - 2];
      for (let i = 0; i < out.length; i++) out[i] = w[0] * e0[i] + w[1] * e1[i];
    } else if (k === 3) {
      const e1 = this.entries[n - 2];
      const e2 = this.entries[n - 3];
      for (let i = 0; i < out.length; i++) out[i] = w[0] * e0[i] + w[1] * e1[i] + w[2] * e2[i];
    } else {
      const e1 = this.entries[n - 2];
      const e2 = this.entries[n - 3];
      const e3 = this.entries[n - 4];
      for (let i = 0; i < out.length; i++) out[i] = w[0] * e0[i] + w[1] * e1[i] + w[2] * e2[i] + w[3] * e3[i];
    }
    return k;
  }

  dropOldestIfFull(): void {
    if (this.entries.length >= this.order) this.spare.push(this.entries.shift()!);
  }
}

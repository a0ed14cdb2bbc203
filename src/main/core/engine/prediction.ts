/**
 * Turning a network's raw output into eps, the diffusion term every solver works with.
 */
import type { PredictionType } from './schedule';

export interface EpsConversion {
  predictionType: PredictionType;
  /** Pixel-space clipping range (docs/samplers.md §2.2), or null for no clipping (latent models). */
  clipRange: number | null;
}

/**
 * eps from the raw output at noise level abar, in place over `raw`'s range into `out`
 * (`out` may alias `raw`):
 *  - epsilon:      eps = out
 *  - v_prediction: eps = sqrt(abar) v + sqrt(1-abar) x          (Salimans & Ho 2022)
 *  - sample:       eps = (x - sqrt(abar) x0) / sqrt(1-abar)
 * then, with clipping, eps := (xb - clip(xb - sb eps)) / sb with xb = x/sqrt(abar),
 * sb = sqrt(1-abar)/sqrt(abar): the reference code clips x0 and re-derives eps from it.
 */
export function toEps(raw: Float32Array, x: Float32Array, abar: number, conv: EpsConversion, out: Float32Array): void {
  const a = Math.sqrt(abar);
  const s = Math.sqrt(1 - abar);
  const n = x.length;
  switch (conv.predictionType) {
    case 'epsilon':
      if (out !== raw) out.set(raw.subarray(0, n));
      break;
    case 'v_prediction':
      for (let i = 0; i < n; i++) out[i] = a * raw[i] + s * x[i];
      break;
    case 'sample':
      for (let i = 0; i < n; i++) out[i] = (x[i] - a * raw[i]) / s;
      break;
  }
  if (conv.clipRange !== null) clipAndRederive(x, abar, conv.clipRange, out);
}

/** x0 = clip(x/a - sb eps); eps = (x/a - x0)/sb. */
export function clipAndRederive(x: Float32Array, abar: number, range: number, eps: Float32Array): void {
  const invA = 1 / Math.sqrt(abar);
  const sb = Math.sqrt(1 - abar) * invA;
  const invSb = 1 / sb;
  for (let i = 0; i < x.length; i++) {
    const xb = x[i] * invA;
    let x0 = xb - sb * eps[i];
    if (x0 > range) x0 = range;
    else if (x0 < -range) x0 = -range;
    eps[i] = (xb - x0) * invSb;
  }
}

/** x0 prediction: x0 = x/sqrt(abar) - sb * eps. */
export function predictX0(x: Float32Array, eps: Float32Array, abar: number, out: Float32Array): void {
  const invA = 1 / Math.sqrt(abar);
  const sb = Math.sqrt(1 - abar) * invA;
  for (let i = 0; i < x.length; i++) out[i] = x[i] * invA - sb * eps[i];
}

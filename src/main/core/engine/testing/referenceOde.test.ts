import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createGaussianMixture, linearAlphasCumprod, loadGaussianMixture } from './gaussianMixture.js';
import { REFERENCE_SUBSTEPS, solveGuidedOdeReference } from './referenceOde.js';

const folder = (name: string) => fileURLToPath(new URL(`../../../../../resources/exact/${name}`, import.meta.url));

/** Seeded standard normals (mulberry32 + Box-Muller), as float32 like a sampler's x_T. */
function normals(n: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()));
}

function rms(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return Math.sqrt(sum / a.length);
}

describe('solveGuidedOdeReference', () => {
  // Halving the step must change x0 by < 1e-9 RMS: what makes the default grid a reference.
  // RK4 error ~ h^4, so the default solution is then itself within ~1e-9 / 15 of the exact one.
  // (The unguided 3x32x32 case behaves like the guided one and is left out to save time.)
  it.each([
    ['gmm-3x8x8', 3, 0],
    ['gmm-3x8x8', 3, 10],
    ['gmm-3x32x32', 1, 10],
  ])('%s, batch %i, s = %i: halving the step changes x0 by < 1e-9 RMS', (name, batch, scale) => {
    const model = loadGaussianMixture(folder(name));
    const x = normals(batch * model.dim, 17 + batch);
    const labels = Array.from({ length: batch }, (_, b) => (b + 1) % model.numComponents);
    const solve = (substeps: number) => solveGuidedOdeReference(model, x, { classifierScale: scale, labels, substeps });
    const x0 = solve(REFERENCE_SUBSTEPS);
    expect(rms(x0, solve(2 * REFERENCE_SUBSTEPS))).toBeLessThan(1e-9);

    if (scale > 0) {
      // Strong guidance ends where the class posterior at abar = 1 is sure of the label.
      const logits = new Float64Array(batch * model.numComponents);
      model.logits(x0, 1, logits);
      for (let b = 0; b < batch; b++) {
        const row = Array.from(logits.subarray(b * model.numComponents, (b + 1) * model.numComponents));
        expect(row.indexOf(Math.max(...row))).toBe(labels[b]);
      }
    }
  });

  // For x0 ~ N(mu, s^2 I): xb = x0 + sb e ~ N(mu, (s^2 + sb^2) I) and eps(x, abar) in these
  // variables is sb (xb - mu) / (s^2 + sb^2), so d(xb - mu)/d sb = sb (xb - mu) / (s^2 + sb^2),
  // whence (xb - mu) / sqrt(s^2 + sb^2) is constant along the flow:
  //   x0 = xb(0) = mu + s (xb_T - mu) / sqrt(s^2 + sb_T^2).
  it('matches the analytic flow of a single Gaussian', () => {
    const means = loadGaussianMixture(folder('gmm-3x8x8')).means.subarray(0, 192);
    const std = 0.3;
    const model = createGaussianMixture({ channels: 3, height: 8, width: 8, weights: [1], stds: [std], means });
    const x = normals(2 * model.dim, 5);
    const x0 = solveGuidedOdeReference(model, x, { classifierScale: 0, labels: [0, 0] });

    const abarT = linearAlphasCumprod()[999];
    const sbT = Math.sqrt((1 - abarT) / abarT);
    const exact = Float64Array.from(x, (v, i) => {
      const mu = means[i % model.dim];
      return mu + (std * (v / Math.sqrt(abarT) - mu)) / Math.sqrt(std * std + sbT * sbT);
    });
    expect(rms(x0, exact)).toBeLessThan(1e-11);
  });

  it('rejects a bad step count', () => {
    const model = loadGaussianMixture(folder('gmm-3x8x8'));
    const x = normals(model.dim, 1);
    expect(() => solveGuidedOdeReference(model, x, { classifierScale: 0, labels: [0], substeps: 0 })).toThrow(/substeps/);
  });
});

import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { type GaussianMixture, linearAlphasCumprod, loadGaussianMixture, parseGaussianMixtureJson } from './gaussianMixture.js';

const EXACT = fileURLToPath(new URL('../../../../../resources/exact/', import.meta.url));
const FOLDERS = ['gmm-3x8x8', 'gmm-3x32x32'];

/** Seeded uniform [0, 1) generator (mulberry32). */
function uniforms(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normals by Box-Muller. */
function normal(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/** B draws of x_t = sqrt(abar) x0 + sqrt(1 - abar) e with x0 from the mixture, as float32. */
function noisySamples(m: GaussianMixture, abar: number, batch: number, seed: number): Float32Array {
  const next = uniforms(seed);
  const x = new Float32Array(batch * m.dim);
  for (let b = 0; b < batch; b++) {
    let k = 0;
    for (let u = next(); k < m.numComponents - 1 && u >= m.weights[k]; k++) u -= m.weights[k];
    for (let d = 0; d < m.dim; d++) {
      const x0 = m.means[k * m.dim + d] + m.stds[k] * normal(next);
      x[b * m.dim + d] = Math.sqrt(abar) * x0 + Math.sqrt(1 - abar) * normal(next);
    }
  }
  return x;
}

/**
 * log p(x_t, k) for one row, written from the densities: x_t | k ~ N(a mu_k, v_k I),
 * v_k = abar s_k^2 + 1 - abar, so log p(x_t, k) = log pi_k + sum_d log N(x_d; a mu_kd, v_k).
 */
function logJoint(m: GaussianMixture, x: ArrayLike<number>, abar: number): number[] {
  const a = Math.sqrt(abar);
  return Array.from(m.stds, (s, k) => {
    const v = abar * s * s + 1 - abar;
    let sum = Math.log(m.weights[k]);
    for (let d = 0; d < m.dim; d++) {
      const z = x[d] - a * m.means[k * m.dim + d];
      sum += -0.5 * Math.log(2 * Math.PI * v) - (z * z) / (2 * v);
    }
    return sum;
  });
}

function logSumExp(v: number[]): number {
  const max = Math.max(...v);
  return max + Math.log(v.reduce((s, e) => s + Math.exp(e - max), 0));
}

/** Central differences of f at x (one row), h per coordinate. */
function centralGradient(f: (x: Float64Array) => number, x: Float64Array, h: number): Float64Array {
  const g = new Float64Array(x.length);
  const y = Float64Array.from(x);
  for (let d = 0; d < x.length; d++) {
    y[d] = x[d] + h;
    const up = f(y);
    y[d] = x[d] - h;
    const down = f(y);
    y[d] = x[d];
    g[d] = (up - down) / (2 * h);
  }
  return g;
}

/** max |got - want| / max(max |want|, 1) over each row of width `width`, worst row. */
function relativeError(got: ArrayLike<number>, want: ArrayLike<number>, width: number): number {
  let worst = 0;
  for (let row = 0; row * width < want.length; row++) {
    let diff = 0;
    let scale = 1;
    for (let i = row * width; i < (row + 1) * width; i++) {
      diff = Math.max(diff, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    worst = Math.max(worst, diff / scale);
  }
  return worst;
}

describe('linearAlphasCumprod', () => {
  it('matches numpy cumprod(1 - linspace(1e-4, 0.02, 1000)) bit for bit', () => {
    const abar = linearAlphasCumprod();
    expect(abar.length).toBe(1000);
    expect(abar[0]).toBe(0.9999);
    expect(abar[1]).toBe(0.9997800920720721);
    expect(abar[500]).toBe(0.07779665836502389);
    expect(abar[999]).toBe(4.035829765375676e-5);
  });
});

describe('loadGaussianMixture', () => {
  it('reads both model folders', () => {
    for (const [folder, dim] of [['gmm-3x8x8', 192], ['gmm-3x32x32', 3072]] as const) {
      const m = loadGaussianMixture(join(EXACT, folder));
      expect([m.dim, m.numComponents, m.labels.length]).toEqual([dim, 3, 3]);
      expect(Math.max(...m.means.map(Math.abs))).toBeLessThanOrEqual(0.8);
    }
  });

  it('rejects inconsistent parameters with the field name', () => {
    const ok = { format: 'split-studio-gaussian-mixture', version: 1, channels: 1, height: 1, width: 2 };
    const parse = (extra: object) => () => parseGaussianMixtureJson({ ...ok, ...extra }, 'x.json');
    expect(parse({ weights: [0.5, 0.5], stds: [0.1, 0.2], means: [0, 0, 1, 1] })).not.toThrow();
    expect(parse({ weights: [0.5, 0.6], stds: [0.1, 0.2], means: [0, 0, 1, 1] })).toThrow(/x.json: "weights" must sum to 1/);
    expect(parse({ weights: [0.5, 0.5], stds: [0.1, 0], means: [0, 0, 1, 1] })).toThrow(/"stds"/);
    expect(parse({ weights: [0.5, 0.5], stds: [0.1, 0.2], means: [0, 0, 1] })).toThrow(/"means" must hold K\*D = 4/);
    expect(parse({ channels: 1.5, weights: [1], stds: [1], means: [0, 0] })).toThrow(/"channels"/);
  });
});

describe('closed form against finite differences of the log densities', () => {
  const m = loadGaussianMixture(join(EXACT, 'gmm-3x8x8'));
  // From almost clean (t = 0) through mixed posteriors to almost pure noise (t = 999).
  it.each([0.9999, 0.6, 0.08, 0.01, 4.0358e-5])('abar = %s', (abar) => {
    const batch = 3;
    const labels = [0, 1, 2];
    const x = noisySamples(m, abar, batch, Math.round(abar * 1e6));
    const eps = new Float64Array(batch * m.dim);
    const grad = new Float64Array(batch * m.dim);
    const logits = new Float64Array(batch * m.numComponents);
    m.eps(x, abar, eps);
    m.classGrad(x, abar, labels, grad);
    m.logits(x, abar, logits);
    const sigma = Math.sqrt(1 - abar);
    for (let b = 0; b < batch; b++) {
      const row = Float64Array.from(x.subarray(b * m.dim, (b + 1) * m.dim));
      const logP = (y: Float64Array) => logSumExp(logJoint(m, y, abar));
      const logPosterior = (y: Float64Array) => logJoint(m, y, abar)[labels[b]] - logP(y);
      // eps = -sigma * grad log p(x_t); classGrad = grad log p(y | x_t).
      const fdEps = centralGradient(logP, row, 1e-4).map((g) => -sigma * g);
      const fdGrad = centralGradient(logPosterior, row, 1e-4);
      expect(relativeError(eps.subarray(b * m.dim, (b + 1) * m.dim), fdEps, m.dim)).toBeLessThan(1e-6);
      expect(relativeError(grad.subarray(b * m.dim, (b + 1) * m.dim), fdGrad, m.dim)).toBeLessThan(1e-6);
      // logits are log p(x_t, k) up to the constant (D/2) log(2 pi).
      const joint = logJoint(m, row, abar).map((l) => l + (m.dim / 2) * Math.log(2 * Math.PI));
      const rowLogits = Array.from(logits.subarray(b * m.numComponents, (b + 1) * m.numComponents));
      expect(relativeError(rowLogits, joint, m.numComponents)).toBeLessThan(1e-12);
    }
  });
});

/** The feed for a model's `timestep` input, typed and shaped as its metadata declares. */
function timestepFeed(session: ort.InferenceSession, t: number, batch: number): ort.Tensor {
  const meta = session.inputMetadata.find((i) => i.name === 'timestep');
  if (!meta?.isTensor) throw new Error('no timestep tensor input');
  const count = meta.shape[0] === 1 ? 1 : batch;
  if (meta.type === 'int64') return new ort.Tensor('int64', new BigInt64Array(count).fill(BigInt(t)), [count]);
  return new ort.Tensor('float32', new Float32Array(count).fill(t), [count]);
}

describe.each(FOLDERS)('ONNX graphs of %s against the closed form', (folder) => {
  const m = loadGaussianMixture(join(EXACT, folder));
  const abarTable = linearAlphasCumprod();
  const shape = (batch: number) => [batch, m.channels, m.height, m.width];
  const sessions = Promise.all(
    ['unet', 'classifier'].map((part) => ort.InferenceSession.create(join(EXACT, folder, part, 'model.onnx'))),
  );

  it('declares the intended inputs', async () => {
    const [unet, classifier] = await sessions;
    const timestep = unet.inputMetadata.find((i) => i.name === 'timestep');
    const expected = folder === 'gmm-3x8x8' ? { type: 'int64', shape: ['batch'] } : { type: 'float32', shape: [1] };
    expect(timestep).toMatchObject(expected);
    expect(classifier.inputNames).toEqual(['sample', 'timestep', 'class_labels']);
    expect(classifier.outputNames).toEqual(['logits', 'grad']);
  });

  it.each([0, 1, 500, 999].flatMap((t) => [1, 2].map((batch) => [t, batch])))('t = %i, batch %i: eps, logits and grad to 1e-4 relative', async (t, batch) => {
    const [unet, classifier] = await sessions;
    const abar = abarTable[t];
    const x = noisySamples(m, abar, batch, 1000 + t + batch);
    const labels = Array.from({ length: batch }, (_, b) => (t + b) % m.numComponents);
    const sample = new ort.Tensor('float32', x, shape(batch));

    const { out_sample: eps } = await unet.run({ sample, timestep: timestepFeed(unet, t, batch) });
    const { logits, grad } = await classifier.run({
      sample,
      timestep: new ort.Tensor('float32', new Float32Array(batch).fill(t), [batch]),
      class_labels: new ort.Tensor('int64', BigInt64Array.from(labels, BigInt), [batch]),
    });
    expect(eps.dims).toEqual(shape(batch));
    expect(grad.dims).toEqual(shape(batch));
    expect(logits.dims).toEqual([batch, m.numComponents]);

    const want = { eps: new Float64Array(x.length), grad: new Float64Array(x.length), logits: new Float64Array(batch * 3) };
    m.eps(x, abar, want.eps);
    m.classGrad(x, abar, labels, want.grad);
    m.logits(x, abar, want.logits);
    expect(relativeError(eps.data as Float32Array, want.eps, m.dim)).toBeLessThan(1e-4);
    expect(relativeError(grad.data as Float32Array, want.grad, m.dim)).toBeLessThan(1e-4);
    expect(relativeError(logits.data as Float32Array, want.logits, m.numComponents)).toBeLessThan(1e-4);
  });
});

/**
 * Closed form of the exact reference diffusion model in resources/exact/<name>/gmm.json
 * (written by tools/exact_model/make_exact_model.py), for testing samplers.
 *
 * Data x0 in R^D (D = C*H*W) is a mixture of K isotropic Gaussians N(mu_k, s_k^2 I) with
 * weights pi_k. At noise level abar (a = sqrt(abar), sigma = sqrt(1 - abar)) the noisy
 * x_t = a x0 + sigma e is the mixture of N(a mu_k, v_k I) with v_k = abar s_k^2 + 1 - abar, so
 *
 *   logits_k(x) = log pi_k - ||x - a mu_k||^2 / (2 v_k) - (D/2) log v_k     (log p(x, k) + const)
 *   r = softmax(logits)                                                     (p(k | x_t))
 *   eps(x)      = -sigma * grad log p(x_t) = sigma * sum_k (r_k / v_k) (x - a mu_k)
 *   classGrad_y = grad log r_y = sum_k ((r_k - [k = y]) / v_k) (x - a mu_k)
 *
 * abar is a plain number, so the model can be evaluated at any continuous time. Everything
 * is float64; batches are laid out [B, D] (row b is x[b*D .. (b+1)*D)).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Batch = Float32Array | Float64Array;

export interface GaussianMixtureParams {
  channels: number;
  height: number;
  width: number;
  /** Mixture weights pi_k, positive, summing to 1. */
  weights: readonly number[];
  /** Component standard deviations s_k > 0. */
  stds: readonly number[];
  /** Component means, [K, D] flattened, each mean in C, H, W order. */
  means: ArrayLike<number>;
  /** Class names, one per component. */
  labels?: readonly string[];
}

export interface GaussianMixture {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** D = C*H*W. */
  readonly dim: number;
  /** K. */
  readonly numComponents: number;
  readonly labels: readonly string[];
  readonly weights: Float64Array;
  readonly stds: Float64Array;
  /** [K, D]. */
  readonly means: Float64Array;
  /** out [B, D] = eps(x, abar). */
  eps(x: Batch, abar: number, out: Batch): void;
  /** out [B, K] = logits_k(x) as above (log-softmax of them is log p(k | x_t)). */
  logits(x: Batch, abar: number, out: Batch): void;
  /** out [B, D] = grad_x log p(labels[b] | x_t). */
  classGrad(x: Batch, abar: number, labels: ArrayLike<number>, out: Batch): void;
}

/** Reads and validates <folder>/gmm.json. */
export function loadGaussianMixture(folder: string): GaussianMixture {
  const path = join(folder, 'gmm.json');
  return createGaussianMixture(parseGaussianMixtureJson(JSON.parse(readFileSync(path, 'utf8')), path));
}

/** Validates gmm.json's content; throws a message naming the bad field. */
export function parseGaussianMixtureJson(raw: unknown, where = 'gmm.json'): GaussianMixtureParams {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${where}: expected a JSON object`);
  const r = raw as Record<string, unknown>;
  if (r.format !== 'split-studio-gaussian-mixture' || r.version !== 1) {
    throw new Error(`${where}: expected "format": "split-studio-gaussian-mixture", "version": 1`);
  }
  const numbers = (key: string): number[] => {
    const v = r[key];
    if (!Array.isArray(v) || !v.every((e) => typeof e === 'number')) {
      throw new Error(`${where}: "${key}" must be an array of numbers`);
    }
    return v as number[];
  };
  const number = (key: string): number => {
    const v = r[key];
    if (typeof v !== 'number') throw new Error(`${where}: "${key}" must be a number`);
    return v;
  };
  const labels = r.labels;
  if (labels !== undefined && (!Array.isArray(labels) || !labels.every((e) => typeof e === 'string'))) {
    throw new Error(`${where}: "labels" must be an array of strings`);
  }
  return withContext(where, () =>
    validateParams({
      channels: number('channels'),
      height: number('height'),
      width: number('width'),
      weights: numbers('weights'),
      stds: numbers('stds'),
      means: numbers('means'),
      labels: labels as string[] | undefined,
    }),
  );
}

/** A mixture from explicit parameters (validated), e.g. a single Gaussian in a test. */
export function createGaussianMixture(params: GaussianMixtureParams): GaussianMixture {
  const p = validateParams(params);
  const dim = p.channels * p.height * p.width;
  const k = p.weights.length;
  const m: MixtureData = {
    dim,
    numComponents: k,
    logWeights: Float64Array.from(p.weights, Math.log),
    variances: Float64Array.from(p.stds, (s) => s * s),
    means: Float64Array.from(p.means),
  };
  return {
    channels: p.channels,
    height: p.height,
    width: p.width,
    dim,
    numComponents: k,
    labels: p.labels ?? p.weights.map((_, i) => `class ${i}`),
    weights: Float64Array.from(p.weights),
    stds: Float64Array.from(p.stds),
    means: m.means,
    eps: (x, abar, out) => forEachRow(m, x, abar, out, dim, (row, level, _logits, r) => {
      // eps = sigma * sum_k (r_k / v_k) (x - a mu_k)
      for (let j = 0; j < k; j++) r[j] /= level.v[j];
      combine(m, x, row, level.a, r, level.sigma, out);
    }),
    logits: (x, abar, out) => forEachRow(m, x, abar, out, k, (row, _level, logits) => {
      out.set(logits, row * k);
    }),
    classGrad: (x, abar, labels, out) => {
      checkLabels(labels, batchSize(m, x), k);
      forEachRow(m, x, abar, out, dim, (row, level, _logits, r) => {
        // grad log r_y = sum_k ((r_k - [k = y]) / v_k) (x - a mu_k)
        r[labels[row]] -= 1;
        for (let j = 0; j < k; j++) r[j] /= level.v[j];
        combine(m, x, row, level.a, r, 1, out);
      });
    },
  };
}

/**
 * beta = linspace(1e-4, 0.02, T) (numpy's formula: start + i * step, the last exactly 0.02),
 * abar = cumprod(1 - beta), in float64. The test model's own copy of the `linear` schedule.
 */
export function linearAlphasCumprod(numTrainTimesteps = 1000): Float64Array {
  const start = 0.0001;
  const end = 0.02;
  const step = (end - start) / (numTrainTimesteps - 1);
  const abar = new Float64Array(numTrainTimesteps);
  let prod = 1;
  for (let i = 0; i < numTrainTimesteps; i++) {
    const beta = i === numTrainTimesteps - 1 ? end : start + i * step;
    prod *= 1 - beta;
    abar[i] = prod;
  }
  return abar;
}

// ---------------------------------------------------------------------------------------

interface MixtureData {
  dim: number;
  numComponents: number;
  logWeights: Float64Array;
  /** s_k^2. */
  variances: Float64Array;
  /** [K, D]. */
  means: Float64Array;
}

/** The per-noise-level constants: a = sqrt(abar), sigma = sqrt(1 - abar), v_k. */
interface NoiseLevel {
  a: number;
  sigma: number;
  v: Float64Array;
}

function noiseLevel(m: MixtureData, abar: number): NoiseLevel {
  if (!(abar >= 0 && abar <= 1)) throw new Error(`abar must be in [0, 1], got ${abar}`);
  // v_k = abar s_k^2 + (1 - abar): the variance of a x0 + sigma e within component k.
  const v = Float64Array.from(m.variances, (s2) => abar * s2 + (1 - abar));
  return { a: Math.sqrt(abar), sigma: Math.sqrt(1 - abar), v };
}

/**
 * For each batch row: computes logits and r = softmax(logits) into scratch arrays and hands
 * them to `body`, which writes the row's part of `out` (outWidth values per row).
 */
function forEachRow(
  m: MixtureData,
  x: Batch,
  abar: number,
  out: Batch,
  outWidth: number,
  body: (row: number, level: NoiseLevel, logits: Float64Array, r: Float64Array) => void,
): void {
  const batch = batchSize(m, x);
  if (out.length !== batch * outWidth) {
    throw new Error(`output has ${out.length} values, expected ${batch} x ${outWidth}`);
  }
  const level = noiseLevel(m, abar);
  const logits = new Float64Array(m.numComponents);
  const r = new Float64Array(m.numComponents);
  for (let row = 0; row < batch; row++) {
    rowLogits(m, x, row, level, logits);
    softmax(logits, r);
    body(row, level, logits, r);
  }
}

/** logits_k = log pi_k - ||x - a mu_k||^2 / (2 v_k) - (D/2) log v_k for one row. */
function rowLogits(m: MixtureData, x: Batch, row: number, level: NoiseLevel, out: Float64Array): void {
  const { dim } = m;
  const base = row * dim;
  for (let k = 0; k < m.numComponents; k++) {
    const mu = k * dim;
    let dist2 = 0;
    for (let d = 0; d < dim; d++) {
      const diff = x[base + d] - level.a * m.means[mu + d];
      dist2 += diff * diff;
    }
    const v = level.v[k];
    out[k] = m.logWeights[k] - dist2 / (2 * v) - (dim / 2) * Math.log(v);
  }
}

/** Numerically stable softmax (shifted by the max logit). */
function softmax(logits: Float64Array, out: Float64Array): void {
  let max = -Infinity;
  for (const l of logits) max = Math.max(max, l);
  let sum = 0;
  for (let k = 0; k < logits.length; k++) {
    out[k] = Math.exp(logits[k] - max);
    sum += out[k];
  }
  for (let k = 0; k < logits.length; k++) out[k] /= sum;
}

/** out[row] = scale * sum_k w_k (x[row] - a mu_k). */
function combine(m: MixtureData, x: Batch, row: number, a: number, w: Float64Array, scale: number, out: Batch): void {
  const { dim } = m;
  const base = row * dim;
  let wSum = 0;
  for (const wk of w) wSum += wk;
  for (let d = 0; d < dim; d++) {
    // sum_k w_k (x - a mu_k) = (sum_k w_k) x - a sum_k w_k mu_k
    let wMu = 0;
    for (let k = 0; k < m.numComponents; k++) wMu += w[k] * m.means[k * dim + d];
    out[base + d] = scale * (wSum * x[base + d] - a * wMu);
  }
}

function batchSize(m: MixtureData, x: Batch): number {
  if (x.length === 0 || x.length % m.dim !== 0) {
    throw new Error(`input has ${x.length} values, not a positive multiple of D = ${m.dim}`);
  }
  return x.length / m.dim;
}

function checkLabels(labels: ArrayLike<number>, batch: number, numComponents: number): void {
  if (labels.length !== batch) throw new Error(`expected ${batch} labels, got ${labels.length}`);
  for (let b = 0; b < batch; b++) {
    const y = labels[b];
    if (!Number.isInteger(y) || y < 0 || y >= numComponents) {
      throw new Error(`label ${y} is not a class index in [0, ${numComponents})`);
    }
  }
}

function validateParams(p: GaussianMixtureParams): GaussianMixtureParams {
  for (const key of ['channels', 'height', 'width'] as const) {
    if (!Number.isInteger(p[key]) || p[key] <= 0) throw new Error(`"${key}" must be a positive integer, got ${p[key]}`);
  }
  const k = p.weights.length;
  if (k === 0) throw new Error('"weights" must not be empty');
  if (!p.weights.every((w) => Number.isFinite(w) && w > 0)) throw new Error('"weights" must be positive');
  const total = p.weights.reduce((s, w) => s + w, 0);
  if (Math.abs(total - 1) > 1e-9) throw new Error(`"weights" must sum to 1, got ${total}`);
  if (p.stds.length !== k || !p.stds.every((s) => Number.isFinite(s) && s > 0)) {
    throw new Error(`"stds" must hold ${k} positive numbers`);
  }
  const dim = p.channels * p.height * p.width;
  if (p.means.length !== k * dim) throw new Error(`"means" must hold K*D = ${k * dim} numbers, got ${p.means.length}`);
  for (let i = 0; i < p.means.length; i++) {
    if (!Number.isFinite(p.means[i])) throw new Error(`"means"[${i}] is not finite`);
  }
  if (p.labels !== undefined && p.labels.length !== k) throw new Error(`"labels" must hold ${k} names`);
  return p;
}

function withContext<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
}

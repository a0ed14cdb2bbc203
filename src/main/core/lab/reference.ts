/**
 * The solution each sweep run is measured against: the same guided ODE from the same x_T,
 * solved far more accurately than any run.
 *
 * - Exact models (a folder with gmm.json): the closed-form Gaussian mixture integrated by the
 *   engine's float64 reference solver (testing/referenceOde.ts: classical RK4, 2000 steps uniform
 *   in asinh(sb / 0.3)), the same reference docs/solvers.md measures against. Its accuracy is
 *   measured too: the RMS change from halving its steps.
 * - Network models: Richardson extrapolation of DDIM, a first-order method, 2 DDIM(2N) - DDIM(N),
 *   which cancels the leading O(h) error term (DDIM is Euler on d xb/d sb = f + g; Song et al.
 *   2021, Wizadwongsa & Suwajanakorn 2023 eq. 9). Its accuracy estimate is |DDIM(2N) - DDIM(N)|
 *   RMS, the error of DDIM(2N) itself: a bound the extrapolation should beat, not a measurement
 *   of it. The grids round to whole training timesteps, so halving the step is not exact and
 *   the extrapolation removes most, not all, of the first-order term.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../../../shared/settings';
import { type GaussianMixture, loadGaussianMixture } from '../engine/testing/gaussianMixture';
import { REFERENCE_SUBSTEPS, solveGuidedOdeReference } from '../engine/testing/referenceOde';
import type { Pipeline } from '../pipelines/pipeline';
import type { OdeKey } from './plan';

export interface Reference {
  /** The reference x0 in model space (pixels for pixel models, the latent for latent models). */
  x: Float64Array;
  /** The reference as a picture [C, H, W] in about [-1, 1]. */
  picture: Float64Array;
  /** Estimated RMS error of the reference itself (see the file comment for what each method measures). */
  accuracy: number;
  method: 'exact-rk4' | 'richardson-ddim';
  /** RK4 steps, or N of DDIM(N) and DDIM(2N). */
  steps: number;
  wallMs: number;
  /** Network calls the reference took (0 for the closed form). */
  nfe: number;
  /** It came from an earlier sweep (the reference store), not computed now. */
  reused?: boolean;
}

export interface ReferenceRequest extends OdeKey {
  /** x_T, shared with every run of the seed. */
  noise: Float32Array;
  /** The settings every run of this key shares (prompt, class, size); solver, steps and spacing are the reference's own. */
  base: Settings;
  signal?: AbortSignal;
}

export type ReferenceSolver = (request: ReferenceRequest) => Promise<Reference>;

export const DEFAULT_REFERENCE_STEPS = 250;

/** The exact model's closed form, or null for a network model. */
export function exactMixture(dir: string): GaussianMixture | null {
  const file = path.join(dir, 'gmm.json');
  return existsSync(file) ? loadGaussianMixture(dir) : null;
}

const rmsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return Math.sqrt(sum / a.length);
};

/** The closed-form reference: classifier guidance only, since the exact model has no unconditional branch (CFG). */
export function exactReference(gmm: GaussianMixture, substeps = REFERENCE_SUBSTEPS): ReferenceSolver {
  return async ({ noise, classifierScale, guidance, base }) => {
    if (guidance !== 1) throw new Error('the exact model has no unconditional branch, so classifier-free guidance (a guidance other than 1) cannot be used');
    const started = performance.now();
    const opts = { classifierScale: base.classLabel === null ? 0 : classifierScale, labels: [base.classLabel ?? 0] };
    const x = solveGuidedOdeReference(gmm, noise, { ...opts, substeps });
    const coarse = solveGuidedOdeReference(gmm, noise, { ...opts, substeps: substeps / 2 });
    return { x, picture: x, accuracy: rmsDiff(x, coarse), method: 'exact-rk4', steps: substeps, wallMs: performance.now() - started, nfe: 0 };
  };
}

/** Richardson-extrapolated DDIM through the model's own pipeline, on the paper's linspace grid (t = 999 down to 0). */
export function richardsonReference(pipeline: Pipeline, steps = DEFAULT_REFERENCE_STEPS): ReferenceSolver {
  return async ({ noise, seed, guidance, classifierScale, base, signal }) => {
    const started = performance.now();
    const settings = (n: number): Settings => ({ ...base, seed, guidance, classifierScale, solver: 'ddim', steps: n, spacing: 'linspace', eta: 0 });
    const coarse = await pipeline.generate(settings(steps), { initNoise: noise, signal });
    const fine = await pipeline.generate(settings(2 * steps), { initNoise: noise, signal });
    const extrapolate = (f: Float32Array, c: Float32Array) => Float64Array.from(f, (v, i) => 2 * v - c[i]);
    return {
      x: extrapolate(fine.x, coarse.x),
      picture: extrapolate(fine.decoded, coarse.decoded),
      accuracy: rmsDiff(fine.x, coarse.x),
      method: 'richardson-ddim',
      steps,
      wallMs: performance.now() - started,
      nfe: coarse.cost.nfe + fine.cost.nfe,
    };
  };
}

/** What a stored reference must match to be reused: the same guided ODE from the same noise, solved the same way by the same engine. */
export interface ReferenceIdentity {
  /** The model's file hashes (modelHashes): a changed network is another ODE. */
  modelHashes: Record<string, string>;
  engineVersion: string;
  steps: number;
  settings: Pick<Settings, 'prompt' | 'negativePrompt' | 'classLabel' | 'width' | 'height'>;
  key: OdeKey;
}

/** Where references are kept: lab.sqlite's SweepStore. */
export interface ReferenceKeeper {
  reference(key: string): Reference | null;
  saveReference(key: string, reference: Reference): void;
}

/** The key of one request's reference, for a model (its file hashes) and N. */
export const referenceKeyOf = (modelHashes: Record<string, string>, engineVersion: string, steps: number) => (request: Pick<ReferenceRequest, 'base' | keyof OdeKey>): string =>
  referenceKey({ modelHashes, engineVersion, steps, settings: request.base, key: request });

/** The stored reference's key: SHA-256 of the identity's canonical JSON. */
export function referenceKey(id: ReferenceIdentity): string {
  const hashes = Object.keys(id.modelHashes).sort().map((file) => [file, id.modelHashes[file]]);
  const { prompt, negativePrompt, classLabel, width, height } = id.settings;
  const canonical = JSON.stringify({
    hashes, engine: id.engineVersion, method: 'richardson-ddim', steps: id.steps, prompt, negativePrompt, classLabel, width, height,
    seed: id.key.seed, guidance: id.key.guidance, classifierScale: id.key.classifierScale,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * A reference solver that looks each guided ODE up first (`find`) and keeps what it has to
 * compute (`keep`): a Richardson reference takes 3N network calls, 12 s for the default model
 * on two CPU cores, more than the dozen runs it is measured against.
 */
export function reusingReference(solve: ReferenceSolver, keyOf: (request: ReferenceRequest) => string, find: (key: string) => Reference | null, keep: (key: string, reference: Reference) => void): ReferenceSolver {
  return async (request) => {
    const key = keyOf(request);
    const stored = find(key);
    if (stored) return { ...stored, reused: true };
    const reference = await solve(request);
    keep(key, reference);
    return reference;
  };
}

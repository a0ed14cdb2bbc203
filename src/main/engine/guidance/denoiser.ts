/**
 * The model wrapper: turns a network (+ classifier, + condition data) into the two terms
 * of the guided ODE d xb/d sb = f + g (spec section 1):
 *  - none:        f = eps,   g = 0
 *  - classifier:  f = eps,   g = -s sqrt(1-abar_w) grad_x log p(y | x_t, t)
 *  - cfg:         f = eps_u, g = w (eps_c - eps_u)          (w = diffusers' guidance_scale)
 *  - consistency: f = eps,   g = s sqrt(1-abar_w) A^T(A x0_hat - y) / sqrt(abar)
 * abar_w is the weight's noise level: the evaluation point's own, except in Strang
 * splitting's second half step, which weights with the midpoint (reference code).
 * Solvers see only this interface.
 */
import type { Branch, ClassifierGradient, CostCounter, NoisePredictor } from '../model';
import type { StepPoint } from '../plan';
import { type EpsConversion, predictX0, toEps } from '../prediction';
import { type ConsistencyOperator, type ImageShape, checkOperator, consistencyResidual } from './consistency';
import { SettingsError } from '../errors';

export type Guidance =
  | { kind: 'none' }
  | { kind: 'classifier'; scale: number; labels: readonly number[] }
  | { kind: 'cfg'; scale: number }
  | { kind: 'consistency'; scale: number; operator: ConsistencyOperator };

export interface GuidedDenoiser {
  /** Samples in the state. */
  readonly rows: number;
  /** Elements in the state (rows * C*H*W). */
  readonly size: number;
  /** False when g is identically zero (no guidance, CFG at w = 1, scale 0). */
  readonly hasCondition: boolean;
  /**
   * True when evaluating g needs the denoising network itself (CFG, consistency): only then
   * do the exact and same-point splitting variants differ in cost and result.
   */
  readonly conditionNeedsNetwork: boolean;
  /** f at (x, point). */
  diffusion(x: Float32Array, point: StepPoint, out: Float32Array): Promise<void>;
  /** g at (x, point), weighted with abar_w. */
  condition(x: Float32Array, point: StepPoint, weightAbar: number, out: Float32Array): Promise<void>;
  /** f and g at the same point, from one network call where possible. */
  diffusionAndCondition(x: Float32Array, point: StepPoint, weightAbar: number, fOut: Float32Array, gOut: Float32Array): Promise<void>;
  /** The guided eps f + g at (x, point), g weighted at the point's own abar. */
  guided(x: Float32Array, point: StepPoint, out: Float32Array): Promise<void>;
}

export interface DenoiserOptions {
  predictor: NoisePredictor;
  classifier?: ClassifierGradient;
  rows: number;
  shape: ImageShape;
  conversion: EpsConversion;
  guidance: Guidance;
  cost: CostCounter;
}

export function makeGuidedDenoiser(opts: DenoiserOptions): GuidedDenoiser {
  const { predictor, rows, conversion, guidance, cost } = opts;
  const size = rows * predictor.sampleSize;
  const raw = new Float32Array(2 * size);
  const scratch = new Float32Array(size);
  const scratch2 = new Float32Array(size);

  /** Network output of one branch, converted to eps. */
  const eps = async (x: Float32Array, point: StepPoint, branch: Branch, out: Float32Array) => {
    await predictor.predict(x, rows, point.timestep, [branch], raw);
    toEps(raw.subarray(0, size), x, point.abar, conversion, out);
  };

  const plain = (gOfX?: (x: Float32Array, point: StepPoint, weightAbar: number, out: Float32Array, epsAtX?: Float32Array) => Promise<void>, needsNetwork = false): GuidedDenoiser => {
    const self: GuidedDenoiser = {
      rows,
      size,
      hasCondition: gOfX !== undefined,
      conditionNeedsNetwork: needsNetwork,
      diffusion: (x, point, out) => eps(x, point, 'cond', out),
      async condition(x, point, weightAbar, out) {
        if (!gOfX) return void out.fill(0);
        await gOfX(x, point, weightAbar, out);
      },
      async diffusionAndCondition(x, point, weightAbar, fOut, gOut) {
        await eps(x, point, 'cond', fOut);
        if (!gOfX) return void gOut.fill(0);
        await gOfX(x, point, weightAbar, gOut, fOut);
      },
      async guided(x, point, out) {
        await self.diffusionAndCondition(x, point, point.abar, out, scratch2);
        if (gOfX) for (let i = 0; i < size; i++) out[i] += scratch2[i];
      },
    };
    return self;
  };

  switch (guidance.kind) {
    case 'none':
      return plain();
    case 'classifier': {
      const { classifier } = opts;
      if (guidance.scale === 0) return plain();
      if (!classifier) throw new SettingsError('classifier guidance needs a model folder with classifier/model.onnx');
      checkScale('classifier scale', guidance.scale);
      if (guidance.labels.length !== rows) throw new SettingsError(`classifier guidance needs one class per sample (${rows}), got ${guidance.labels.length}`);
      for (const label of guidance.labels) {
        if (!Number.isInteger(label) || label < 0 || label >= classifier.numClasses) {
          throw new SettingsError(`class ${label} is out of range: this classifier knows classes 0..${classifier.numClasses - 1}`);
        }
      }
      const s = guidance.scale;
      return plain(async (x, point, weightAbar, out) => {
        await classifier.gradLogProb(x, rows, point.timestep, guidance.labels, out);
        cost.guidanceEvaluations += 1;
        const k = -s * Math.sqrt(1 - weightAbar);
        for (let i = 0; i < size; i++) out[i] *= k;
      });
    }
    case 'consistency': {
      checkScale('consistency scale', guidance.scale);
      checkOperator(guidance.operator, opts.shape);
      if (guidance.scale === 0) return plain();
      const s = guidance.scale;
      return plain(async (x, point, weightAbar, out, epsAtX) => {
        // x0_hat needs eps at x: reuse the caller's when it has one (same point), else evaluate.
        if (!epsAtX) {
          await eps(x, point, 'cond', scratch);
          epsAtX = scratch;
        }
        predictX0(x, epsAtX, point.abar, out);
        consistencyResidual(guidance.operator, opts.shape, rows, out, out);
        cost.guidanceEvaluations += 1;
        const k = (s * Math.sqrt(1 - weightAbar)) / Math.sqrt(point.abar);
        for (let i = 0; i < size; i++) out[i] *= k;
      }, true);
    }
    case 'cfg': {
      checkScale('guidance', guidance.scale);
      const w = guidance.scale;
      if (w === 1) return plain();
      if (!predictor.supportsUnconditional) {
        throw new SettingsError(`guidance ${w} needs a text- or class-conditioned model; this one is unconditional (use guidance 1)`);
      }
      const pair = async (x: Float32Array, point: StepPoint, uncondOut: Float32Array, gOut: Float32Array) => {
        await predictor.predict(x, rows, point.timestep, ['uncond', 'cond'], raw);
        toEps(raw.subarray(0, size), x, point.abar, conversion, uncondOut);
        toEps(raw.subarray(size, 2 * size), x, point.abar, conversion, gOut);
        cost.guidanceEvaluations += 1;
        for (let i = 0; i < size; i++) gOut[i] = w * (gOut[i] - uncondOut[i]);
      };
      const self: GuidedDenoiser = {
        rows,
        size,
        hasCondition: true,
        conditionNeedsNetwork: true,
        diffusion: (x, point, out) => eps(x, point, 'uncond', out),
        condition: (x, point, _weightAbar, out) => pair(x, point, scratch, out),
        diffusionAndCondition: (x, point, _weightAbar, fOut, gOut) => pair(x, point, fOut, gOut),
        async guided(x, point, out) {
          await pair(x, point, out, scratch);
          for (let i = 0; i < size; i++) out[i] += scratch[i];
        },
      };
      return self;
    }
  }
}

function checkScale(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new SettingsError(`${name} must be a finite number >= 0, got ${value}`);
}

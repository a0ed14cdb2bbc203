/**
 * The model wrapper: turns a network (+ classifier, + condition data) into the two terms
 * of the guided ODE d xb/d sb = f + g (docs/samplers.md §1.3). The condition part g is the sum of
 * whichever guidance terms a run uses (§3.4); each term is the one §3.1-3.3 gives on its own:
 *  - cfg:         g_cfg  = w (eps_c - eps_u), and then f = eps_u  (w = diffusers' guidance_scale)
 *  - classifier:  g_cls  = -s sqrt(1-abar_w) grad_x log p(y | x_t, t)
 *  - consistency: g_cons = s sqrt(1-abar_w) A^T(A x0_hat - y) / sqrt(abar), x0_hat from the
 *                 eps the run would step with at x (f + g_cfg)
 * Without CFG, f = eps of the (only or conditional) branch. Summing is what the guided ODE
 * does with several conditions: the score of a product of conditionals is the sum of their
 * scores (Dhariwal & Nichol 2021 sec. 4 for the classifier; Ho & Salimans 2022 for CFG).
 * abar_w is the weight's noise level: the evaluation point's own, except in Strang
 * splitting's second half step, which weights with the midpoint (reference code), and on
 * diffusers' sigma grids, where it is the level of the training timestep the networks are told
 * (StepPoint.weightAbar; docs/samplers.md §3.5).
 * Solvers see only this interface.
 */
import type { Branch, ClassifierGradient, CostCounter, NoisePredictor } from '../model';
import type { StepPoint } from '../plan';
import { type EpsConversion, predictX0, toEps } from '../prediction';
import { type ConsistencyOperator, type ImageShape, checkOperator, consistencyResidual } from './consistency';
import type { SettingsKey } from '../../../../shared/settingsFields';
import { SettingsError } from '../errors';

/** The guidance terms of a run; an absent term (or CFG at w = 1, a scale of 0) adds nothing. */
export interface Guidance {
  /** Classifier-free guidance w (diffusers' guidance_scale; 1 = the conditional branch alone). */
  cfg?: number;
  classifier?: { scale: number; labels: readonly number[] };
  consistency?: { scale: number; operator: ConsistencyOperator };
}

export const NO_GUIDANCE: Guidance = Object.freeze({});

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
  /** The classifier-free guidance scale w the run uses (1 without CFG). */
  readonly cfgScale: number;
  /** f at (x, point). */
  diffusion(x: Float32Array, point: StepPoint, out: Float32Array): Promise<void>;
  /** g at (x, point), weighted with abar_w. */
  condition(x: Float32Array, point: StepPoint, weightAbar: number, out: Float32Array): Promise<void>;
  /** f and g at the same point, from one network call where possible. */
  diffusionAndCondition(x: Float32Array, point: StepPoint, weightAbar: number, fOut: Float32Array, gOut: Float32Array): Promise<void>;
  /** The guided eps f + g at (x, point), g weighted at the point's weight level (weightAbar, else abar). */
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

/** The terms a run really uses, checked. */
interface ActiveTerms {
  cfg: number | null;
  classifier: { scale: number; labels: readonly number[]; network: ClassifierGradient } | null;
  consistency: { scale: number; operator: ConsistencyOperator } | null;
}

function activeTerms(opts: DenoiserOptions): ActiveTerms {
  const { guidance, predictor, rows } = opts;
  let cfg: number | null = null;
  if (guidance.cfg !== undefined) {
    checkScale('guidance', 'guidance', guidance.cfg);
    if (guidance.cfg !== 1) {
      if (!predictor.supportsUnconditional) {
        throw new SettingsError(`guidance ${guidance.cfg} needs a text- or class-conditioned model; this one is unconditional (use guidance 1)`, { field: 'guidance', kind: 'unsupported' });
      }
      cfg = guidance.cfg;
    }
  }
  let classifier: ActiveTerms['classifier'] = null;
  if (guidance.classifier && guidance.classifier.scale !== 0) {
    const { scale, labels } = guidance.classifier;
    const network = opts.classifier;
    if (!network) throw new SettingsError('classifier guidance needs a model folder with classifier/model.onnx', { field: 'classLabel', kind: 'unsupported' });
    checkScale('classifier scale', 'classifierScale', scale);
    if (labels.length !== rows) throw new SettingsError(`classifier guidance needs one class per sample (${rows}), got ${labels.length}`, { field: 'classLabel', kind: 'format' });
    for (const label of labels) {
      if (!Number.isInteger(label) || label < 0 || label >= network.numClasses) {
        throw new SettingsError(`class ${label} is out of range: this classifier knows classes 0..${network.numClasses - 1}`, { field: 'classLabel', kind: 'range' });
      }
    }
    classifier = { scale, labels, network };
  }
  let consistency: ActiveTerms['consistency'] = null;
  if (guidance.consistency) {
    checkScale('consistency scale', 'consistencyScale', guidance.consistency.scale);
    checkOperator(guidance.consistency.operator, opts.shape);
    if (guidance.consistency.scale !== 0) consistency = guidance.consistency;
  }
  return { cfg, classifier, consistency };
}

export function makeGuidedDenoiser(opts: DenoiserOptions): GuidedDenoiser {
  const { predictor, rows, conversion, cost } = opts;
  const terms = activeTerms(opts);
  const size = rows * predictor.sampleSize;
  const raw = new Float32Array(2 * size);
  const term = new Float32Array(size);
  const epsAtX = new Float32Array(size);
  const fScratch = new Float32Array(size);
  const gScratch = new Float32Array(size);
  const needsNetwork = terms.cfg !== null || terms.consistency !== null;

  /** Network output of one branch, converted to eps. */
  const eps = async (x: Float32Array, point: StepPoint, branch: Branch, out: Float32Array) => {
    await predictor.predict(x, rows, point.timestep, [branch], raw);
    toEps(raw.subarray(0, size), x, point.abar, conversion, out);
  };

  /** One network call at x: f into fOut and the CFG term (or zeros) into gOut. */
  const networkTerms = async (x: Float32Array, point: StepPoint, fOut: Float32Array, gOut: Float32Array) => {
    if (terms.cfg === null) {
      await eps(x, point, 'cond', fOut);
      gOut.fill(0);
      return;
    }
    const w = terms.cfg;
    await predictor.predict(x, rows, point.timestep, ['uncond', 'cond'], raw);
    toEps(raw.subarray(0, size), x, point.abar, conversion, fOut);
    toEps(raw.subarray(size, 2 * size), x, point.abar, conversion, gOut);
    cost.guidanceEvaluations += 1;
    for (let i = 0; i < size; i++) gOut[i] = w * (gOut[i] - fOut[i]);
  };

  /** The CFG term of the last network call (zeros without CFG). */
  const cfgPart = new Float32Array(size);

  /** gOut += the classifier and consistency terms at x, given f and cfgPart at x. */
  const addOtherTerms = async (x: Float32Array, point: StepPoint, weightAbar: number, f: Float32Array, gOut: Float32Array) => {
    if (terms.classifier) {
      const { network, labels, scale } = terms.classifier;
      await network.gradLogProb(x, rows, point.timestep, labels, term);
      cost.guidanceEvaluations += 1;
      const k = -scale * Math.sqrt(1 - weightAbar);
      for (let i = 0; i < size; i++) gOut[i] += k * term[i];
    }
    if (terms.consistency) {
      const { scale, operator } = terms.consistency;
      // x0_hat from the eps the run steps with at x: f plus the CFG term when there is one.
      for (let i = 0; i < size; i++) epsAtX[i] = f[i] + cfgPart[i];
      predictX0(x, epsAtX, point.abar, term);
      consistencyResidual(operator, opts.shape, rows, term, term);
      cost.guidanceEvaluations += 1;
      const k = (scale * Math.sqrt(1 - weightAbar)) / Math.sqrt(point.abar);
      for (let i = 0; i < size; i++) gOut[i] += k * term[i];
    }
  };
  const self: GuidedDenoiser = {
    rows,
    size,
    hasCondition: needsNetwork || terms.classifier !== null,
    conditionNeedsNetwork: needsNetwork,
    cfgScale: terms.cfg ?? 1,
    diffusion: (x, point, out) => eps(x, point, terms.cfg === null ? 'cond' : 'uncond', out),
    async condition(x, point, weightAbar, out) {
      // The classifier alone needs no network call; CFG and consistency do (f comes with it).
      if (needsNetwork) await networkTerms(x, point, fScratch, cfgPart);
      else cfgPart.fill(0);
      out.set(cfgPart);
      await addOtherTerms(x, point, weightAbar, fScratch, out);
    },
    async diffusionAndCondition(x, point, weightAbar, fOut, gOut) {
      if (needsNetwork) {
        await networkTerms(x, point, fOut, cfgPart);
      } else {
        await eps(x, point, 'cond', fOut);
        cfgPart.fill(0);
      }
      gOut.set(cfgPart);
      await addOtherTerms(x, point, weightAbar, fOut, gOut);
    },
    async guided(x, point, out) {
      await self.diffusionAndCondition(x, point, point.weightAbar ?? point.abar, out, gScratch);
      for (let i = 0; i < size; i++) out[i] += gScratch[i];
    },
  };
  return self;
}

function checkScale(name: string, field: SettingsKey, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new SettingsError(`${name} must be a finite number >= 0, got ${value}`, { field, kind: 'range' });
}

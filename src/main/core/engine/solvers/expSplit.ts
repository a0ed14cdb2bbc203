/**
 * Split exponential predictor-corrector solvers (docs/samplers.md §6.11; `split-pc3`): the
 * guided ODE in the exponential-integrator form of DPM-Solver++ (Lu et al. 2022, "DPM-Solver++",
 * sec. 4.1: the exact solution of the diffusion ODE with the data prediction model), with the
 * guided x0 prediction split into its diffusion part and its condition part as the splitting
 * samplers split f + g (Wizadwongsa & Suwajanakorn 2023, sec. 4, eq. 7):
 *
 *   D = D_f + D_g,   D_f = x/alpha - sb f        (f = eps_u under CFG),
 *                    D_g = -sb g                 (g = w (eps_c - eps_u) + the other terms),
 *
 *   x_t = (sigma_t/sigma_s) x_s + alpha_t Int_{lambda_s}^{lambda_t} e^{lambda - lambda_t} (D_f + D_g) d lambda
 *
 * (the DPM-Solver++ solution times sigma_t: sigma_t e^{lambda} = alpha_t e^{lambda - lambda_t};
 * lambda = log(alpha/sigma) = -log(sb)). The linear part is solved exactly, so the Lie-Trotter
 * and Strang compositions of the two parts evaluated at the same point coincide with one step
 * that integrates both (a part frozen over the step commutes with the other): what the split
 * keeps is that each part has its own history and may get its own polynomial,
 *
 *   Int e^{lambda - lambda_t} P(lambda) d lambda = sum_j b_j D_j,
 *   b_j = Int_{lambda_s}^{lambda_t} e^{lambda - lambda_t} l_j(u(lambda)) d lambda,
 *
 * with l_j the Lagrange basis on the part's last k nodes in the interpolation variable u:
 * exponential Adams-Bashforth weights for any step sizes. u = lambda gives the variable-step
 * form of DPM-Solver++'s multistep update (Algorithm 2) and of UniPC's predictor (Zhao et al.
 * 2023, Algorithms 1-2, which reach the same integral through divided differences and B(h));
 * u = sb = e^{-lambda}, the noise level the splitting paper's ODE d xb/d sb = f + g runs in (its
 * eq. 7), makes the x0 prediction a polynomial in sb instead, which measured better on the
 * network model (docs/solvers.md, "Split exponential solvers"). The weights are computed in
 * float64 by 16-node Gauss-Legendre quadrature (exact for polynomials in lambda; in sb the
 * integrand is smooth and the quadrature error far below float32).
 *
 * Corrector in the manner of UniC (Zhao et al. 2023, sec. 3.1, Algorithm 2): after the network
 * call at the predicted x_t, the step s -> t is redone from x_s with the nodes extended by t
 * (exponential Adams-Moulton), and the call at the predicted point is kept: no extra network
 * call, and the order rises by one (Zhao et al., Theorem 3.1).
 *
 * One network call per step (CFG: the pair). The last step, to sigma = 0 (lambda = infinity),
 * is x = alpha_t D, the first-order step (DPM-Solver++'s and UniPC's last step too): the
 * kernel e^{lambda - lambda_t} becomes a point mass at lambda_t, where a polynomial
 * extrapolated in lambda has no finite value.
 */
import type { SolverContext } from './types';

export type InterpolationBasis = 'lambda' | 'sb';

export interface ExpSplitOptions {
  /** Nodes of the diffusion part's polynomial (its predictor's order), 1..4. */
  diffusionOrder: number;
  /** Nodes of the condition part's polynomial, 1..4 (1: D_g held constant over the predictor's step). */
  conditionOrder: number;
  /** UniC-style corrector with the next step's call (no extra calls). */
  corrector: boolean;
  /** The interpolation variable u (default lambda). */
  basis?: InterpolationBasis;
  /**
   * Order-2 predictor weights: 'exact' (the Lagrange integral, the default), or 'bh2':
   * DPM-Solver++(2M)'s and UniP-2's (B(h) = e^h - 1) damped weight 0.5 (1 - e^{-h}) on the
   * divided difference in lambda (Lu et al. 2022, Algorithm 2; Zhao et al. 2023, rho = 0.5), and
   * UniC-1's rho = 0.5 for a two-node corrector: with both parts at order 2 and the lambda
   * basis this is UniPC-2 (bh2) exactly (expSplit.test.ts).
   */
  predictor?: 'exact' | 'bh2';
  /** Which parts the corrector redoes with the new node (default both); the other keeps its predictor's polynomial. */
  correctorParts?: 'both' | 'diffusion' | 'condition';
  /**
   * Above this classifier-free guidance scale w the corrector redoes the diffusion part alone
   * (correctorParts 'diffusion'), whatever correctorParts says (default: no limit).
   */
  conditionCorrectorMaxCfg?: number;
  /** Steps longer than this in lambda use at most order 2 (default: no limit). */
  maxHighOrderStep?: number;
  /**
   * When the condition needs no network (classifier guidance alone), steps longer than this in
   * lambda hold D_g constant in the predictor (order 1; the corrector still adds the new node).
   */
  classifierFreezeStep?: number;
}

export const EXP_SPLIT_MAX_ORDER = 4;

/**
 * split-pc3 (docs/samplers.md §6.11): both parts order 3 in sb, corrector (order 4), and under
 * classifier guidance alone D_g held in the predictor on steps longer than 0.8 in lambda. Chosen
 * by measurement (docs/solvers.md, "Split exponential solvers"): on the network model under CFG
 * the parts interpolated together in sb beat every variant in lambda, lower orders for the
 * condition part and freezing it; on the exact model under classifier guidance s = 10, 20 the
 * frozen gradient is what keeps 10 logsnr steps (h = 1.07) accurate.
 *
 * Above CFG w = 3.5 the corrector redoes the diffusion part alone. The corrector reuses D_g found
 * at the predicted point, not the corrected one, and D_g = w (x0_c - x0_u) moves with x in
 * proportion to w: under strong guidance that mismatch outweighs the order the corrector adds.
 * Measured on 20 prompt x seed pairs of the default model: at w = 3 correcting both parts is
 * better (0.82-0.98 of the best baseline against 1.06-1.19), at w = 4 the two are level (the
 * diffusion-only corrector 0.81 / 1.04 / 1.04 at 10 / 15 / 20 calls against 1.09 / 1.00 / 1.05,
 * 28 pairs), at w = 5 and 7.5 the diffusion-only corrector is (0.90-1.13 against 1.19-2.19).
 */
export const SPLIT_PC3: ExpSplitOptions = { diffusionOrder: 3, conditionOrder: 3, corrector: true, basis: 'sb', classifierFreezeStep: 0.8, conditionCorrectorMaxCfg: 3.5 };

const GL_NODES = 16;

/** Gauss-Legendre nodes and weights on [0, 1] (Newton's method on P_n, float64). */
function gaussLegendre(n: number): { u: number[]; w: number[] } {
  const u: number[] = [];
  const w: number[] = [];
  for (let i = 1; i <= n; i++) {
    let z = Math.cos((Math.PI * (i - 0.25)) / (n + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = (n * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    u.push((1 - z) / 2);
    w.push(1 / ((1 - z * z) * dp * dp));
  }
  return { u, w };
}

const GL = gaussLegendre(GL_NODES);

const BASES: Record<InterpolationBasis, (lambda: number) => number> = {
  lambda: (l) => l,
  sb: (l) => Math.exp(-l),
};

/**
 * b_j = Int_{from}^{to} e^{lambda - to} l_j(u(lambda)) d lambda, l_j the Lagrange basis on the
 * nodes' u (distinct lambdas). One node: 1 - e^{-h}, DPM-Solver++'s first-order weight (-expm1(-h)).
 */
export function exponentialAdamsWeights(lambdaNodes: readonly number[], from: number, to: number, basis: InterpolationBasis = 'lambda'): number[] {
  const h = to - from;
  const b = new Array<number>(lambdaNodes.length).fill(0);
  if (lambdaNodes.length === 1) {
    b[0] = -Math.expm1(-h);
    return b;
  }
  const u = BASES[basis];
  const nodes = lambdaNodes.map(u);
  for (let q = 0; q < GL_NODES; q++) {
    const lambda = from + h * GL.u[q];
    const weight = h * GL.w[q] * Math.exp(lambda - to);
    const v = u(lambda);
    for (let j = 0; j < nodes.length; j++) {
      let l = 1;
      for (let m = 0; m < nodes.length; m++) if (m !== j) l *= (v - nodes[m]) / (nodes[j] - nodes[m]);
      b[j] += weight * l;
    }
  }
  return b;
}

/** bh2 weights at order 2: (1 - e^{-h}) m0 + c (m0 - m1), c = 0.5 (1 - e^{-h}) h / (lambda0 - lambda1). */
function bh2Weights(nodes: readonly number[], from: number, to: number): number[] {
  const h = to - from;
  const e = -Math.expm1(-h);
  const c = (0.5 * e * h) / (nodes[0] - nodes[1]);
  return [e + c, -c];
}

/** UniC-1 with bh2 (Zhao et al. 2023; the reference fixes rho = 0.5): (1 - e^{-h}) (m_t + m0)/2, weights on [m_t, m0]. */
function bh2CorrectorWeights(from: number, to: number): number[] {
  const e = -Math.expm1(-(to - from));
  return [0.5 * e, 0.5 * e];
}

/** A part's history: the newest first, each x0-type prediction with its lambda. */
class History {
  readonly values: Float32Array[] = [];
  readonly lambdas: number[] = [];

  constructor(readonly capacity: number, readonly size: number) {}

  push(lambda: number, value: Float32Array): void {
    const slot = this.values.length === this.capacity ? this.values.pop()! : new Float32Array(this.size);
    if (this.lambdas.length === this.capacity) this.lambdas.pop();
    slot.set(value);
    this.values.unshift(slot);
    this.lambdas.unshift(lambda);
  }
}

export function expSplit(options: ExpSplitOptions): (ctx: SolverContext) => Promise<void> {
  const { diffusionOrder, conditionOrder, corrector } = options;
  const basis = options.basis ?? 'lambda';
  for (const k of [diffusionOrder, conditionOrder]) {
    if (!Number.isInteger(k) || k < 1 || k > EXP_SPLIT_MAX_ORDER) throw new Error(`split exponential solver order must be 1..${EXP_SPLIT_MAX_ORDER}, got ${k}`);
  }
  return async (ctx: SolverContext) => {
    const { x, model, plan } = ctx;
    const n = model.size;
    // The corrector of a step of order k uses k + 1 nodes: keep one more than the predictor.
    const fHist = new History(diffusionOrder + 1, n);
    const gHist = new History(conditionOrder + 1, n);
    const f = new Float32Array(n);
    const g = new Float32Array(n);
    const df = new Float32Array(n);
    const dg = new Float32Array(n);
    const x0 = new Float32Array(n);
    const lastX = new Float32Array(n); // the state the previous step started from
    // The parts the corrector redoes, fixed for the run: above the CFG limit, the diffusion part alone.
    const strongCfg = options.conditionCorrectorMaxCfg !== undefined && model.cfgScale > options.conditionCorrectorMaxCfg;
    const correctedParts = strongCfg ? 'diffusion' : (options.correctorParts ?? 'both');
    const freezeClassifier = options.classifierFreezeStep !== undefined && model.hasCondition && !model.conditionNeedsNetwork;
    // The previous step (for the corrector): its lambdas, scalars and the orders its predictor used.
    let previous: { from: number; to: number; alphaT: number; ratio: number; kf: number; kg: number } | null = null;

    for (const step of plan.steps) {
      const { point } = step;
      await model.diffusionAndCondition(x, point, point.weightAbar ?? point.abar, f, g);
      // The parts' data predictions at (x_s, lambda_s): D_f = x/alpha - sb f, D_g = -sb g.
      const invAlpha = 1 / step.sqrtAbar;
      const sb = step.sqrtOneMinusAbar * invAlpha;
      for (let i = 0; i < n; i++) {
        df[i] = x[i] * invAlpha - sb * f[i];
        dg[i] = -sb * g[i];
        x0[i] = df[i] + dg[i];
      }
      if (corrector && previous !== null) {
        // Redo the previous step from the state it started at, with this node added to each part.
        const { from, to, alphaT, ratio, kf, kg } = previous;
        const correctorWeights = (nodes: number[]) =>
          nodes.length === 2 && options.predictor === 'bh2' ? bh2CorrectorWeights(from, to) : exponentialAdamsWeights(nodes, from, to, basis);
        // A part the corrector leaves keeps its predictor's weights: a zero weight on the new node.
        const kept = (nodes: number[]) => [0, ...exponentialAdamsWeights(nodes, from, to, basis)];
        const bf = correctedParts === 'condition' ? kept(fHist.lambdas.slice(0, kf)) : correctorWeights([step.lambda, ...fHist.lambdas.slice(0, kf)]);
        const bg = correctedParts === 'diffusion' ? kept(gHist.lambdas.slice(0, kg)) : correctorWeights([step.lambda, ...gHist.lambdas.slice(0, kg)]);
        for (let i = 0; i < n; i++) {
          let acc = bf[0] * df[i] + bg[0] * dg[i];
          for (let j = 1; j < bf.length; j++) acc += bf[j] * fHist.values[j - 1][i];
          for (let j = 1; j < bg.length; j++) acc += bg[j] * gHist.values[j - 1][i];
          x[i] = ratio * lastX[i] + alphaT * acc;
        }
      }
      fHist.push(step.lambda, df);
      gHist.push(step.lambda, dg);
      const alphaT = step.sqrtAbarPrev;
      if (step.sqrtOneMinusAbarPrev === 0) {
        // lambda_t = infinity: x_t = alpha_t D (e^{-h} = 0; nothing corrects this step).
        for (let i = 0; i < n; i++) x[i] = alphaT * x0[i];
        previous = null;
        await ctx.endStep(step, x0);
        continue;
      }
      const h = step.lambdaPrev - step.lambda;
      const highOrder = options.maxHighOrderStep === undefined || h <= options.maxHighOrderStep ? EXP_SPLIT_MAX_ORDER : 2;
      const kf = Math.min(diffusionOrder, fHist.values.length, highOrder);
      const frozen = freezeClassifier && h > options.classifierFreezeStep!;
      const kg = frozen ? 1 : Math.min(conditionOrder, gHist.values.length, highOrder);
      const weights = (nodes: number[]) =>
        nodes.length === 2 && options.predictor === 'bh2' ? bh2Weights(nodes, step.lambda, step.lambdaPrev) : exponentialAdamsWeights(nodes, step.lambda, step.lambdaPrev, basis);
      const bf = weights(fHist.lambdas.slice(0, kf));
      const bg = weights(gHist.lambdas.slice(0, kg));
      const ratio = step.sqrtOneMinusAbarPrev / step.sqrtOneMinusAbar;
      if (corrector) lastX.set(x);
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let j = 0; j < kf; j++) acc += bf[j] * fHist.values[j][i];
        for (let j = 0; j < kg; j++) acc += bg[j] * gHist.values[j][i];
        x[i] = ratio * x[i] + alphaT * acc;
      }
      previous = { from: step.lambda, to: step.lambdaPrev, alphaT, ratio, kf, kg };
      await ctx.endStep(step, x0);
    }
  };
}

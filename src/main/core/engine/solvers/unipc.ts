/**
 * UniPC-2 with B(h) = e^h - 1 ("bh2") (Zhao et al. 2023, Algorithms 1-2, data prediction),
 * as in the reference implementation and diffusers' UniPCMultistepScheduler:
 *  - UniP predictor of order p:  x_t = (sigma_t/sigma_s0) x - alpha_t phi1 m0 - alpha_t B(h) sum rho_p D1
 *  - UniC corrector of order p (after the next network call, which it reuses: no extra
 *    calls): x_t = x_t^(1) - alpha_t B(h) (sum rho_c D1 + rho_c,last (m_t - m0))
 * where m are x0 predictions, hh = -h, phi1 = e^{hh} - 1, D1_k = (m_k - m0)/r_k,
 * r_k = (lambda_{s_k} - lambda_{s0})/h. Order warms up 1, 2 and drops to 1 on the last step
 * (lower_order_final); the corrector uses the order of the predictor it corrects, and there
 * is none after the last step.
 */
import { predictX0 } from '../prediction';
import type { PlannedStep } from '../plan';
import type { SolverContext } from './types';

const MAX_ORDER = 2;

/**
 * The right-hand side b of the corrector's system R rho = b (R_ij = r_j^i,
 * b_i = phi_{i+1}(hh) i!/B(h)) as the reference implementation builds it. The predictor
 * needs none: at order 2 it uses rho_p = 0.5.
 */
function unipcB(hh: number, order: number): number[] {
  const bh = Math.expm1(hh);
  let hPhiK = Math.expm1(hh) / hh - 1;
  let factorial = 1;
  const b: number[] = [];
  for (let i = 1; i <= order; i++) {
    b.push((hPhiK * factorial) / bh);
    factorial *= i + 1;
    hPhiK = hPhiK / hh - 1 / factorial;
  }
  return b;
}

interface Lambdas {
  lambdaT: number;
  lambdaS0: number;
  lambdaS1: number;
}

/** Predictor (UniP) from state x at s0 to t. */
export function unipcPredict(x: Float32Array, m0: Float32Array, m1: Float32Array | null, lam: Lambdas, alphaT: number, sigmaRatio: number, out: Float32Array): void {
  if (!Number.isFinite(lam.lambdaT)) {
    // sigma_t = 0: hh = -inf, phi1 = -1, B(h) = -1, and first order gives x_t = alpha_t m0.
    for (let i = 0; i < x.length; i++) out[i] = alphaT * m0[i];
    return;
  }
  const h = lam.lambdaT - lam.lambdaS0;
  const hh = -h;
  const phi1 = Math.expm1(hh);
  const bh = Math.expm1(hh);
  if (m1 === null) {
    for (let i = 0; i < x.length; i++) out[i] = sigmaRatio * x[i] - alphaT * phi1 * m0[i];
    return;
  }
  const rk = (lam.lambdaS1 - lam.lambdaS0) / h;
  const c = (alphaT * bh * 0.5) / rk;
  for (let i = 0; i < x.length; i++) out[i] = sigmaRatio * x[i] - alphaT * phi1 * m0[i] - c * (m1[i] - m0[i]);
}

/** Corrector (UniC) of the step s0 -> t, given the new x0 prediction mT at t. */
export function unipcCorrect(lastX: Float32Array, m0: Float32Array, m1: Float32Array | null, mT: Float32Array, lam: Lambdas, alphaT: number, sigmaRatio: number, out: Float32Array): void {
  const h = lam.lambdaT - lam.lambdaS0;
  const hh = -h;
  const phi1 = Math.expm1(hh);
  const bh = Math.expm1(hh);
  if (m1 === null) {
    // Order 1: the reference fixes rho_c = 0.5 (no linear solve).
    const rho = 0.5;
    for (let i = 0; i < out.length; i++) out[i] = sigmaRatio * lastX[i] - alphaT * phi1 * m0[i] - alphaT * bh * rho * (mT[i] - m0[i]);
    return;
  }
  // Solve [[1, 1], [rk, 1]] rho = b.
  const b = unipcB(hh, 2);
  const rk = (lam.lambdaS1 - lam.lambdaS0) / h;
  const rho0 = (b[0] - b[1]) / (1 - rk);
  const rho1 = b[0] - rho0;
  const c0 = (alphaT * bh * rho0) / rk;
  const c1 = alphaT * bh * rho1;
  for (let i = 0; i < out.length; i++) {
    out[i] = sigmaRatio * lastX[i] - alphaT * phi1 * m0[i] - c0 * (m1[i] - m0[i]) - c1 * (mT[i] - m0[i]);
  }
}

export async function sampleUniPC2(ctx: SolverContext): Promise<void> {
  const { x, model, plan } = ctx;
  const n = model.size;
  const steps = plan.steps;
  const e = new Float32Array(n);
  const mT = new Float32Array(n);
  let m0 = new Float32Array(n); // x0 at the previous grid point s0
  let m1 = new Float32Array(n); // x0 at s1
  const lastX = new Float32Array(n);
  let stored = 0; // how many x0 predictions the history holds (warm-up)
  let previousOrder = 0;
  let previous: PlannedStep | null = null;
  let lambdaS1 = NaN;

  for (const step of steps) {
    await model.guided(x, step.point, e);
    predictX0(x, e, step.point.abar, mT);
    if (previous !== null) {
      // Correct x (the previous predictor's output) with the x0 just computed at it.
      unipcCorrect(lastX, m0, previousOrder === 2 ? m1 : null, mT, { lambdaT: previous.lambdaPrev, lambdaS0: previous.lambda, lambdaS1 }, previous.sqrtAbarPrev, previous.sqrtOneMinusAbarPrev / previous.sqrtOneMinusAbar, x);
    }
    // Shift the history: m1 <- m0 <- mT.
    [m0, m1] = [m1, m0];
    m0.set(mT);
    stored = Math.min(stored + 1, MAX_ORDER);
    const order = Math.min(MAX_ORDER, steps.length - step.index, stored);
    lambdaS1 = previous?.lambda ?? NaN;
    lastX.set(x);
    unipcPredict(x, m0, order === 2 ? m1 : null, { lambdaT: step.lambdaPrev, lambdaS0: step.lambda, lambdaS1 }, step.sqrtAbarPrev, step.sqrtOneMinusAbarPrev / step.sqrtOneMinusAbar, x);
    await ctx.endStep(step, mT);
    previousOrder = order;
    previous = step;
  }
}

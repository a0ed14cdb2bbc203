/**
 * The split exponential predictor-corrector (expSplit.ts, docs/samplers.md §6.11): its weights
 * against closed-form integrals, its lambda/bh2 form against UniPC-2 (which it must reproduce),
 * and split-pc3's observed order and accuracy on the exact Gaussian-mixture model.
 */
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { makeGuidedDenoiser } from '../guidance/denoiser';
import { type NoisePredictor, countingPredictor, newCostCounter } from '../model';
import { planFor, sample } from '../sampler';
import { DEFAULT_SCHEDULER_CONFIG, alphasCumprod } from '../schedule';
import { closedFormClassifier, closedFormPredictor } from '../testing/closedForm';
import { type Problem, exactModelDir, loadProblem, observedOrder, runOnProblem } from '../testing/convergence';
import { SPLIT_PC3, expSplit, exponentialAdamsWeights } from './expSplit';

const root = path.resolve(__dirname, '../../../../..');

describe('exponential Adams weights', () => {
  const from = -1.3;
  const to = -0.4;
  const nodes = [from, from - 0.5, from - 1.2, from - 1.6];

  test('one node: 1 - e^{-h}, the first-order weight of DPM-Solver++', () => {
    expect(exponentialAdamsWeights([from], from, to)[0]).toBeCloseTo(-Math.expm1(-(to - from)), 15);
  });

  test('lambda basis: exact for polynomials in lambda of degree < k', () => {
    // Int_s^t e^{l - t} l^m dl in closed form by repeated integration by parts.
    const exact = (m: number): number => {
      const prim = (l: number) => {
        let sum = 0;
        let coeff = 1;
        for (let j = m; j >= 0; j--) {
          sum += coeff * l ** j;
          coeff *= -j;
        }
        return Math.exp(l - to) * sum;
      };
      return prim(to) - prim(from);
    };
    for (let k = 1; k <= 4; k++) {
      const b = exponentialAdamsWeights(nodes.slice(0, k), from, to, 'lambda');
      for (let m = 0; m < k; m++) {
        const quadrature = b.reduce((acc, w, j) => acc + w * nodes[j] ** m, 0);
        expect(quadrature, `k=${k}, lambda^${m}`).toBeCloseTo(exact(m), 12);
      }
    }
  });

  test('sb basis: exact for polynomials in sb = e^{-lambda} of degree < k', () => {
    // Int_s^t e^{l - t} e^{-m l} dl = e^{-t} (e^{(1-m)t} - e^{(1-m)s})/(1-m), and e^{-t} (t - s) at m = 1.
    const exact = (m: number) => (m === 1 ? Math.exp(-to) * (to - from) : (Math.exp(-to) * (Math.exp((1 - m) * to) - Math.exp((1 - m) * from))) / (1 - m));
    for (let k = 1; k <= 4; k++) {
      const b = exponentialAdamsWeights(nodes.slice(0, k), from, to, 'sb');
      for (let m = 0; m < k; m++) {
        const quadrature = b.reduce((acc, w, j) => acc + w * Math.exp(-m * nodes[j]), 0);
        expect(quadrature, `k=${k}, sb^${m}`).toBeCloseTo(exact(m), 12);
      }
    }
  });
});

/** An expSplit variant's final x on the 8x8 exact model (4 rows, classifier scale `scale`), with its network-call count. */
async function runVariant(options: Parameters<typeof expSplit>[0], scale: number, steps: number, spacing: 'logsnr' | 'linspace', as = 'split-pc3') {
  const problem = loadProblem(exactModelDir('gmm-3x8x8', root), scale, 4, 0);
  const { gmm } = problem;
  const schedule = alphasCumprod(DEFAULT_SCHEDULER_CONFIG);
  const shape = { channels: gmm.channels, height: gmm.height, width: gmm.width };
  const guidance = scale > 0 ? { classifier: { scale, labels: problem.labels } } : {};
  const cost = newCostCounter();
  const model = makeGuidedDenoiser({ predictor: countingPredictor(closedFormPredictor(gmm, schedule), cost), classifier: closedFormClassifier(gmm, schedule), rows: problem.rows, shape, conversion: { predictionType: 'epsilon', clipRange: null }, guidance, cost });
  const x = Float32Array.from(problem.initial);
  await expSplit(options)({ plan: planFor(DEFAULT_SCHEDULER_CONFIG, steps, spacing, as), model, x, eta: 0, drawNoise: () => { throw new Error('no noise'); }, endStep: () => {} });
  return { x, nfe: cost.nfe };
}

const maxDifference = (a: Float32Array, b: Float32Array) => a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i])), 0);

/** A catalogue solver's final x through sample() on runVariant's problem. */
async function runCatalogue(solver: string, scale: number, steps: number, spacing: 'logsnr' | 'linspace') {
  const problem = loadProblem(exactModelDir('gmm-3x8x8', root), scale, 4, 0);
  const { gmm } = problem;
  const schedule = alphasCumprod(DEFAULT_SCHEDULER_CONFIG);
  const result = await sample({
    predictor: closedFormPredictor(gmm, schedule), classifier: closedFormClassifier(gmm, schedule), scheduler: DEFAULT_SCHEDULER_CONFIG,
    shape: { channels: gmm.channels, height: gmm.height, width: gmm.width }, rows: problem.rows, solver, steps, spacing,
    guidance: { classifier: { scale, labels: problem.labels } }, initial: Float32Array.from(problem.initial),
  });
  return result.x;
}

// In lambda with the bh2 predictor at order 2 the code is a catalogue solver, step for step:
// with the corrector UniPC-2 (bh2), without it DPM-Solver++(2M).
test.each([
  { name: 'UniPC-2 (bh2)', catalogue: 'unipc2', corrector: true, spacing: 'logsnr' as const },
  { name: 'DPM-Solver++(2M)', catalogue: 'dpmpp2m', corrector: false, spacing: 'linspace' as const },
])('in lambda with the bh2 predictor at order 2, corrector $corrector, it is $name, step for step', async ({ catalogue, corrector, spacing }) => {
  for (const steps of [6, 12, 20]) {
    const theirs = await runCatalogue(catalogue, 10, steps, spacing);
    const ours = await runVariant({ diffusionOrder: 2, conditionOrder: 2, corrector, predictor: 'bh2', basis: 'lambda' }, 10, steps, spacing, catalogue);
    expect(maxDifference(ours.x, theirs), `${steps} steps`).toBeLessThan(1e-5);
    expect(ours.nfe).toBe(steps);
  }
});

test('the corrector may redo one part only: without a condition, correcting the diffusion part alone is the full corrector and the condition part alone is none', async () => {
  const run = (extra: Partial<Parameters<typeof expSplit>[0]>) => runVariant({ diffusionOrder: 3, conditionOrder: 3, corrector: true, basis: 'sb', ...extra }, 0, 12, 'logsnr');
  const [both, diffusion, condition, none] = await Promise.all([run({}), run({ correctorParts: 'diffusion' }), run({ correctorParts: 'condition' }), run({ corrector: false })]);
  expect(maxDifference(diffusion.x, both.x)).toBe(0);
  expect(maxDifference(condition.x, none.x)).toBe(0);
  expect(maxDifference(both.x, none.x)).toBeGreaterThan(1e-4);
  // Under classifier guidance each part's corrector changes the answer.
  const guided = (extra: Partial<Parameters<typeof expSplit>[0]>) => runVariant({ diffusionOrder: 3, conditionOrder: 3, corrector: true, basis: 'sb', ...extra }, 10, 12, 'logsnr');
  const [g1, g2, g3] = await Promise.all([guided({}), guided({ correctorParts: 'diffusion' }), guided({ correctorParts: 'condition' })]);
  expect(maxDifference(g1.x, g2.x)).toBeGreaterThan(1e-5);
  expect(maxDifference(g1.x, g3.x)).toBeGreaterThan(1e-5);
});

describe.each([0, 10, 20])('split-pc3 on the exact model, classifier scale %d', (scale) => {
  const STEPS = [10, 20, 40];
  let problem: Problem;
  const errors = new Map<string, number[]>();
  beforeAll(async () => {
    problem = loadProblem(exactModelDir('gmm-3x8x8', root), scale, 4, 0);
    for (const solver of ['split-pc3', 'unipc2', 'dpmpp2m']) {
      for (const spacing of ['logsnr', 'karras'] as const) {
        const list: number[] = [];
        for (const steps of STEPS) list.push((await runOnProblem(problem, solver, steps, spacing)).error);
        errors.set(`${solver}/${spacing}`, list);
      }
    }
  });

  test('observed order above 3 from 10 to 20 logsnr steps, above 2.3 from 20 to 40', () => {
    // Order 3 predictor, order 4 corrector; measured 3.96/4.79 and 3.02/2.68 (scales 0/10). The
    // first-order last step to sigma = 0 and float32 pull the fine end down.
    const list = errors.get('split-pc3/logsnr')!;
    expect(observedOrder(list[0], list[1])).toBeGreaterThan(3);
    expect(observedOrder(list[1], list[2])).toBeGreaterThan(2.3);
  });

  test('more accurate than UniPC-2 and DPM-Solver++(2M) on the same grid at 10 and 20 steps', () => {
    for (const spacing of ['logsnr', 'karras']) {
      const ours = errors.get(`split-pc3/${spacing}`)!;
      for (const other of ['unipc2', 'dpmpp2m']) {
        const theirs = errors.get(`${other}/${spacing}`)!;
        expect(ours[0], `${spacing} 10 steps vs ${other}`).toBeLessThan(theirs[0]);
        expect(ours[1], `${spacing} 20 steps vs ${other}`).toBeLessThan(theirs[1]);
      }
    }
  });
});

test('above conditionCorrectorMaxCfg the corrector redoes the diffusion part alone; at or below it, both parts', async () => {
  // A CFG-capable predictor in closed form: eps_u = 0.3 x, eps_c = 0.3 x + 0.1 + i/10 + tanh(x) t/2000.
  const predictor: NoisePredictor = {
    sampleSize: 4,
    supportsUnconditional: true,
    async predict(xs, rows, t, branches, out) {
      branches.forEach((branch, b) => {
        for (let i = 0; i < rows * 4; i++) out[b * rows * 4 + i] = 0.3 * xs[i] + (branch === 'cond' ? 0.1 + i / 10 + (Math.tanh(xs[i]) * t) / 2000 : 0);
      });
    },
  };
  const run = async (cfg: number, options: Partial<Parameters<typeof expSplit>[0]>) => {
    const model = makeGuidedDenoiser({ predictor, rows: 1, shape: { channels: 1, height: 2, width: 2 }, conversion: { predictionType: 'epsilon', clipRange: null }, guidance: { cfg }, cost: newCostCounter() });
    expect(model.cfgScale).toBe(cfg);
    const x = Float32Array.of(0.9, -1.1, 0.4, 1.6);
    await expSplit({ ...SPLIT_PC3, conditionCorrectorMaxCfg: undefined, ...options })({ plan: planFor(DEFAULT_SCHEDULER_CONFIG, 12, 'karras', 'split-pc3'), model, x, eta: 0, drawNoise: () => { throw new Error('no noise'); }, endStep: () => {} });
    return x;
  };
  for (const [cfg, same] of [[3, 'both'], [4, 'both'], [5, 'diffusion'], [7.5, 'diffusion']] as const) {
    const limited = await run(cfg, { conditionCorrectorMaxCfg: 4 });
    const fixed = await run(cfg, { correctorParts: same });
    const other = await run(cfg, { correctorParts: same === 'both' ? 'diffusion' : 'both' });
    expect(maxDifference(limited, fixed), `w = ${cfg}`).toBe(0);
    expect(maxDifference(limited, other), `w = ${cfg}`).toBeGreaterThan(1e-5);
  }
});

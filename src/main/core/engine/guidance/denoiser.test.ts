/** Guidance terms add up: each combined term equals the term computed by hand from its formula in docs/samplers.md §3. */
import { expect, test } from 'vitest';
import type { ClassifierGradient, NoisePredictor } from '../model';
import { newCostCounter } from '../model';
import { type Guidance, makeGuidedDenoiser } from './denoiser';

const shape = { channels: 1, height: 2, width: 2 };
const x = Float32Array.of(0.4, -0.8, 1.2, 0.1);
const point = { timestep: 500, abar: 0.3 };
const weightAbar = 0.2;
/** eps_u = 0.3 x, eps_c = 0.3 x + 0.1 (+ the pixel index / 10). */
const epsU = Array.from(x, (v) => 0.3 * v);
const epsC = Array.from(x, (v, i) => 0.3 * v + 0.1 + i / 10);
const grad = Array.from(x, (v) => -v + 0.05);

const predictor: NoisePredictor = {
  sampleSize: 4,
  supportsUnconditional: true,
  async predict(xs, rows, _t, branches, out) {
    branches.forEach((branch, b) => {
      for (let i = 0; i < rows * 4; i++) out[b * rows * 4 + i] = 0.3 * xs[i] + (branch === 'cond' ? 0.1 + i / 10 : 0);
    });
  },
};
const classifier: ClassifierGradient = {
  numClasses: 2,
  async gradLogProb(xs, rows, _t, _labels, out) {
    for (let i = 0; i < rows * 4; i++) out[i] = -xs[i] + 0.05;
  },
};
const operator = { kind: 'inpaint' as const, mask: Float32Array.of(1, 0, 1, 0), known: Float32Array.of(0.5, 0, -0.5, 0) };

async function evaluate(guidance: Guidance) {
  const cost = newCostCounter();
  const model = makeGuidedDenoiser({ predictor, classifier, rows: 1, shape, conversion: { predictionType: 'epsilon', clipRange: null }, guidance, cost });
  const f = new Float32Array(4);
  const g = new Float32Array(4);
  await model.diffusionAndCondition(x, point, weightAbar, f, g);
  const gAlone = new Float32Array(4);
  await model.condition(x, point, weightAbar, gAlone);
  return { f: Array.from(f), g: Array.from(g), gAlone: Array.from(gAlone), cost, model };
}

const w = 5;
const s = 3;
const cfgTerm = epsC.map((c, i) => w * (c - epsU[i]));
const classifierTerm = grad.map((v) => -s * Math.sqrt(1 - weightAbar) * v);
/** s sqrt(1-abar_w) mask (x0_hat - known) / sqrt(abar), x0_hat from the eps the run steps with. */
const consistencyTerm = (eps: number[], scale: number) =>
  eps.map((e, i) => {
    const x0 = (x[i] - Math.sqrt(1 - point.abar) * e) / Math.sqrt(point.abar);
    return (scale * Math.sqrt(1 - weightAbar) * operator.mask[i] * (x0 - operator.known[i])) / Math.sqrt(point.abar);
  });

test('CFG + classifier: f = eps_u, g = w (eps_c - eps_u) + classifier term; one pair call and one classifier call', async () => {
  const r = await evaluate({ cfg: w, classifier: { scale: s, labels: [1] } });
  r.f.forEach((v, i) => expect(v).toBeCloseTo(epsU[i], 6));
  r.g.forEach((v, i) => expect(v).toBeCloseTo(cfgTerm[i] + classifierTerm[i], 5));
  r.gAlone.forEach((v, i) => expect(v).toBeCloseTo(r.g[i], 6));
  expect(r.cost).toMatchObject({ guidanceEvaluations: 4, classifierCalls: 0 }); // counting wrappers live in the sampler
  expect(r.model.conditionNeedsNetwork).toBe(true);
  expect(r.model.cfgScale).toBe(w);
});

test('CFG + consistency: x0_hat comes from the CFG-guided eps', async () => {
  const scale = 0.2;
  const r = await evaluate({ cfg: w, consistency: { scale, operator } });
  const guidedEps = epsU.map((u, i) => u + cfgTerm[i]);
  const expected = consistencyTerm(guidedEps, scale).map((c, i) => c + cfgTerm[i]);
  r.g.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
});

test('all three terms add up; the classifier alone needs no network call for g', async () => {
  const scale = 0.2;
  const all = await evaluate({ cfg: w, classifier: { scale: s, labels: [0] }, consistency: { scale, operator } });
  const guidedEps = epsU.map((u, i) => u + cfgTerm[i]);
  const consistency = consistencyTerm(guidedEps, scale);
  all.g.forEach((v, i) => expect(v).toBeCloseTo(cfgTerm[i] + classifierTerm[i] + consistency[i], 5));

  let calls = 0;
  const counted: NoisePredictor = { ...predictor, predict: (...args) => ((calls += 1), predictor.predict(...args)) };
  const model = makeGuidedDenoiser({
    predictor: counted, classifier, rows: 1, shape, conversion: { predictionType: 'epsilon', clipRange: null },
    guidance: { classifier: { scale: s, labels: [0] } }, cost: newCostCounter(),
  });
  const g = new Float32Array(4);
  await model.condition(x, point, weightAbar, g);
  expect(calls).toBe(0);
  Array.from(g).forEach((v, i) => expect(v).toBeCloseTo(classifierTerm[i], 6));
});

test('no term, CFG at w = 1 and zero scales leave g at zero and f conditional', async () => {
  for (const guidance of [{}, { cfg: 1 }, { classifier: { scale: 0, labels: [0] } }, { consistency: { scale: 0, operator } }] as Guidance[]) {
    const r = await evaluate(guidance);
    expect(r.model.hasCondition).toBe(false);
    expect(r.model.cfgScale).toBe(1);
    expect(r.g.every((v) => v === 0)).toBe(true);
    r.f.forEach((v, i) => expect(v).toBeCloseTo(epsC[i], 6));
  }
});

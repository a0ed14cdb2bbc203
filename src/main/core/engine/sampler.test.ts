import { describe, expect, test } from 'vitest';
import { type ConditionPlacement, type GuidanceTerms, SOLVER_IDS, expectedCost, termsOf } from '../../../shared/solvers';
import type { Guidance } from './guidance/denoiser';
import { CancelledError, type ClassifierGradient, type NoisePredictor } from './model';
import { TorchGenerator } from './noise/torchRandn';
import { type SampleOptions, sample } from './sampler';
import { DEFAULT_SCHEDULER_CONFIG } from './schedule';

const shape = { channels: 1, height: 2, width: 2 };

/** A smooth toy network: eps = 0.3 x (+0.1 for the conditional branch). */
const toyPredictor: NoisePredictor = {
  sampleSize: 4,
  supportsUnconditional: true,
  async predict(x, rows, _t, branches, out) {
    branches.forEach((branch, b) => {
      for (let i = 0; i < rows * 4; i++) out[b * rows * 4 + i] = 0.3 * x[i] + (branch === 'cond' ? 0.1 : 0);
    });
  },
};
const toyClassifier: ClassifierGradient = {
  numClasses: 2,
  async gradLogProb(x, rows, _t, _labels, out) {
    for (let i = 0; i < rows * 4; i++) out[i] = -x[i];
  },
};

function options(solver: string, steps: number, guidance: Guidance, conditionAt: ConditionPlacement = 'exact'): SampleOptions {
  return {
    predictor: toyPredictor,
    classifier: toyClassifier,
    scheduler: DEFAULT_SCHEDULER_CONFIG,
    shape,
    rows: 1,
    solver,
    steps,
    guidance,
    conditionAt,
    initial: Float32Array.of(0.5, -1, 1.5, 0.2),
    // The ancestral solvers' noise (euler-a) comes from the run's generator.
    noise: new TorchGenerator(0),
  };
}

const inpaintOperator = { kind: 'inpaint' as const, mask: Float32Array.of(1, 0, 1, 0), known: Float32Array.of(0.5, 0, -0.5, 0) };
const classifierTerm = { scale: 3, labels: [1] };
const consistencyTerm = { scale: 0.001, operator: inpaintOperator };

/** Every single term and every combination of them: the terms add up, and so do their costs. */
const guidances: [string, GuidanceTerms, Guidance][] = [
  ['none', termsOf(), {}],
  ['classifier', termsOf('classifier'), { classifier: classifierTerm }],
  ['cfg', termsOf('cfg'), { cfg: 5 }],
  ['consistency', termsOf('consistency'), { consistency: consistencyTerm }],
  ['cfg+classifier', termsOf('cfg', 'classifier'), { cfg: 5, classifier: classifierTerm }],
  ['cfg+consistency', termsOf('cfg', 'consistency'), { cfg: 5, consistency: consistencyTerm }],
  ['classifier+consistency', termsOf('classifier', 'consistency'), { classifier: classifierTerm, consistency: consistencyTerm }],
  ['all three', termsOf('cfg', 'classifier', 'consistency'), { cfg: 5, classifier: classifierTerm, consistency: consistencyTerm }],
];

describe('the engine counts cost exactly as the catalogue predicts', () => {
  for (const solver of SOLVER_IDS) {
    for (const [kind, terms, guidance] of guidances) {
      for (const placement of ['exact', 'same-point'] as const) {
        test(`${solver} ${kind} ${placement}`, async () => {
          for (const steps of [1, 2, 7]) {
            const result = await sample(options(solver, steps, guidance, placement));
            const expected = expectedCost(solver, steps, terms, placement);
            expect({ nfe: result.cost.nfe, networkRows: result.cost.networkRows, guidanceEvaluations: result.cost.guidanceEvaluations, classifierCalls: result.cost.classifierCalls }).toEqual(expected);
            expect(result.x.every(Number.isFinite)).toBe(true);
          }
        });
      }
    }
  }
});

test('CFG at w = 1 and classifier scale 0 cost nothing extra', async () => {
  const cfg1 = await sample(options('stsp4', 5, { cfg: 1 }));
  expect(cfg1.cost).toMatchObject({ nfe: 5, networkRows: 5, guidanceEvaluations: 0 });
  const cls0 = await sample(options('stsp4', 5, { classifier: { scale: 0, labels: [0] } }));
  expect(cls0.cost).toMatchObject({ nfe: 5, classifierCalls: 0 });
});

test('every step reports progress with its x0 prediction and the NFE so far', async () => {
  const seen: { step: number; nfe: number; x0: number[] }[] = [];
  await sample({ ...options('ltsp2', 6, { classifier: { scale: 2, labels: [0] } }), onStep: (p) => void seen.push({ step: p.step, nfe: p.nfe, x0: Array.from(p.x0) }) });
  expect(seen.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(seen.map((s) => s.nfe)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(seen.every((s) => s.x0.length === 4 && s.x0.every(Number.isFinite))).toBe(true);
});

test('cancellation stops before the next network call', async () => {
  const controller = new AbortController();
  let calls = 0;
  const counting: NoisePredictor = {
    ...toyPredictor,
    async predict(...args) {
      calls++;
      if (calls === 3) controller.abort();
      return toyPredictor.predict(...args);
    },
  };
  await expect(sample({ ...options('ddim', 50, {}), predictor: counting, signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
  expect(calls).toBe(3);
});

test('bad guidance settings are rejected with specific messages', async () => {
  await expect(sample(options('ddim', 5, { classifier: { scale: 2, labels: [5] } }))).rejects.toThrow(/class 5 is out of range/);
  await expect(sample(options('ddim', 5, { cfg: Number.NaN }))).rejects.toThrow(/guidance must be a finite number/);
  await expect(sample(options('ddim', 5, { classifier: { scale: -1, labels: [0] } }))).rejects.toThrow(/classifier scale/);
  await expect(sample(options('nope', 5, {}))).rejects.toThrow(/unknown solver "nope"/);
  await expect(sample({ ...options('ddim', 5, {}), initial: new Float32Array(3) })).rejects.toThrow(/initial noise has 3 values/);
  const unconditional = { ...toyPredictor, supportsUnconditional: false };
  await expect(sample({ ...options('ddim', 5, { cfg: 3 }), predictor: unconditional })).rejects.toThrow(/unconditional/);
});

test('skipping steps (img2img) runs only the tail of the grid', async () => {
  const seen: number[] = [];
  const result = await sample({ ...options('ddim', 10, {}), skipSteps: 6, onStep: (p) => void seen.push(p.timestep) });
  expect(seen).toEqual([333, 222, 111, 0]);
  expect(result.cost.nfe).toBe(4);
  // On diffusers' grids too (DPM-Solver++'s linspace has no t = 0); Heun's skipped steps cost 2 calls each.
  const dpm: number[] = [];
  await sample({ ...options('dpmpp2m', 10, {}), skipSteps: 6, onStep: (p) => void dpm.push(p.timestep) });
  expect(dpm).toEqual([400, 300, 200, 100]);
  const heun = await sample({ ...options('heun', 10, {}), skipSteps: 6 });
  expect(heun.cost.nfe).toBe(2 * 4 - 1);
});

describe('spacings and eta: refused with the field they concern', () => {
  test('the paper\'s solvers cannot use a sigma schedule', async () => {
    for (const solver of ['ddim', 'plms4', 'ltsp2', 'stsp4']) {
      for (const spacing of ['karras', 'logsnr'] as const) {
        await expect(sample({ ...options(solver, 10, {}), spacing })).rejects.toMatchObject({ name: 'SettingsError', field: 'spacing', kind: 'unsupported' });
      }
    }
  });

  test('every diffusers-compatible solver takes every named spacing and an explicit list', async () => {
    for (const solver of ['euler', 'euler-a', 'heun', 'dpmpp2m', 'unipc2']) {
      for (const spacing of ['linspace', 'leading', 'trailing', 'karras', 'logsnr', { explicit: [999, 500, 250, 20] }] as const) {
        const result = await sample({ ...options(solver, 4, {}), spacing });
        expect(result.x.every(Number.isFinite), `${solver} ${JSON.stringify(spacing)}`).toBe(true);
        expect(result.plan.steps).toHaveLength(4);
      }
    }
  });

  test('eta: DDIM only, from 0 to 1; a stochastic run needs the generator', async () => {
    await expect(sample({ ...options('euler', 5, {}), eta: 0.5 })).rejects.toMatchObject({ field: 'eta', kind: 'unsupported' });
    await expect(sample({ ...options('ddim', 5, {}), eta: 1.5 })).rejects.toMatchObject({ field: 'eta', kind: 'range' });
    await expect(sample({ ...options('ddim', 5, {}), eta: 0.5, noise: undefined })).rejects.toThrow(/needs the run's generator/);
    await expect(sample({ ...options('euler-a', 5, {}), noise: undefined })).rejects.toThrow(/needs the run's generator/);
    // eta = 0 draws nothing and is DDIM exactly; eta > 0 draws once per step.
    let draws = 0;
    const counting = { randn: (s: readonly number[]) => (draws++, new TorchGenerator(1).randn(s)) };
    const plain = await sample(options('ddim', 6, {}));
    const zero = await sample({ ...options('ddim', 6, {}), eta: 0, noise: counting });
    expect(Array.from(zero.x)).toEqual(Array.from(plain.x));
    expect(draws).toBe(0);
    const noisy = await sample({ ...options('ddim', 6, {}), eta: 1, noise: counting });
    expect(draws).toBe(6);
    expect(Array.from(noisy.x)).not.toEqual(Array.from(plain.x));
  });
});

describe('the state hook (inpainting, ILVR) and progress', () => {
  /** A predictor that records the state it is called at. */
  function recordingPredictor(seen: number[][]): NoisePredictor {
    return {
      ...toyPredictor,
      async predict(x, rows, t, branches, out) {
        seen.push(Array.from(x.subarray(0, 4)));
        await toyPredictor.predict(x, rows, t, branches, out);
      },
    };
  }

  for (const solver of SOLVER_IDS) {
    test(`${solver}: runs once after every step, before progress, and the next network call is at the state it set`, async () => {
      const steps = 6;
      const seen: number[][] = [];
      const callsBeforeHook: number[] = [];
      const marker = (index: number) => Array.from(Float32Array.of(0.1 * index, -0.2, 0.3, 0.05 * index));
      let hooked = -1;
      const result = await sample({
        ...options(solver, steps, {}),
        predictor: recordingPredictor(seen),
        stateHook: (x, index) => {
          callsBeforeHook.push(seen.length);
          x.set(marker(index));
          hooked = index;
        },
        onStep: (p) => expect(hooked).toBe(p.step - 1),
      });
      expect(callsBeforeHook).toHaveLength(steps);
      for (let index = 0; index < steps - 1; index++) expect(seen[callsBeforeHook[index]]).toEqual(marker(index));
      expect(Array.from(result.x)).toEqual(marker(steps - 1));
    });
  }

  test('progress gets its own copy of x0: scribbling on it changes nothing', async () => {
    for (const solver of ['dpmpp2m', 'unipc2', 'stsp4', 'plms4']) {
      const quiet = await sample(options(solver, 8, { cfg: 5 }));
      const scribbled = await sample({ ...options(solver, 8, { cfg: 5 }), onStep: (p) => void p.x0.fill(Number.NaN) });
      expect(Array.from(scribbled.x)).toEqual(Array.from(quiet.x));
    }
  });
});

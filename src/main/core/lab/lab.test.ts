/** The sweep's pure parts: sizing runs to a network-call budget, the plan, the metrics and the CSV. */
import { describe, expect, test } from 'vitest';
import { SOLVER_IDS, expectedCost, termsOf } from '../../../shared/solvers';
import type { PipelineResult } from '../pipelines/pipeline';
import { type SweepSpec, planSweep, stepsForNfe } from './plan';
import type { Reference } from './reference';
import { SWEEP_COLUMNS, sweepCsv } from './report';
import { DIVERGENCE_RMS, measure, noiseShape, psnr, rmsError } from './sweep';

const spec = (over: Partial<SweepSpec>): SweepSpec => ({
  solvers: ['ddim'], budget: { kind: 'steps', values: [10] }, spacings: ['linspace'], guidances: [1], classLabel: null, classifierScales: [0], prompt: '',
  seeds: [0], conditionAt: 'exact', ...over,
});

describe('stepsForNfe', () => {
  test.each(SOLVER_IDS)('%s: the most steps whose cost fits, for every guidance mix', (id) => {
    for (const terms of [termsOf(), termsOf('classifier'), termsOf('cfg'), termsOf('cfg', 'classifier')]) {
      for (const conditionAt of ['exact', 'same-point'] as const) {
        for (const nfe of [12, 20, 41, 100]) {
          const steps = stepsForNfe(id, nfe, terms, conditionAt);
          expect(expectedCost(id, steps, terms, conditionAt).nfe).toBeLessThanOrEqual(nfe);
          expect(expectedCost(id, steps + 1, terms, conditionAt).nfe).toBeGreaterThan(nfe);
        }
      }
    }
  });

  test('a budget below three steps is refused with the least it takes', () => {
    expect(() => stepsForNfe('stsp4', 8, termsOf('cfg'), 'exact')).toThrow('--nfe 8 is too few network calls for stsp4: its fewest steps (3) take 9');
  });
});

describe('planSweep', () => {
  test('every combination, and pairs a solver cannot walk are skipped with the reason', () => {
    const { runs, skipped } = planSweep(spec({ solvers: ['ddim', 'dpmpp2m'], spacings: ['linspace', 'karras'], budget: { kind: 'nfe', values: [10, 20] }, seeds: [0, 1] }));
    // ddim: linspace only; dpmpp2m: both; 2 budgets, 2 seeds.
    expect(runs).toHaveLength((1 + 2) * 2 * 2);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatch(/^ddim on karras: /);
    for (const r of runs) expect(r.expectedNfe).toBe(r.targetNfe);
  });

  test('a solver that can walk none of the grids is an error', () => {
    expect(() => planSweep(spec({ solvers: ['plms4'], spacings: ['karras'] }))).toThrow(/cannot use the karras spacing/);
  });

  test('classifier scale 0 costs no classifier calls in the sizing (the term is absent)', () => {
    const { runs } = planSweep(spec({ solvers: ['stsp4'], classLabel: 1, classifierScales: [0, 10], guidances: [1, 3], budget: { kind: 'nfe', values: [30] } }));
    const steps = (g: number, s: number) => runs.find((r) => r.guidance === g && r.classifierScale === s)!.steps;
    // STSP with CFG at exact placement costs 3 calls a step; without CFG 1.
    expect([steps(1, 0), steps(1, 10), steps(3, 0), steps(3, 10)]).toEqual([30, 30, 10, 10]);
  });
});

describe('metrics', () => {
  test('RMS and PSNR (pictures in [-1, 1] clamped and mapped to [0, 1])', () => {
    const a = new Float32Array([0, 0.5, -0.5, 1]);
    const b = a.map((v) => v + 0.2);
    expect(rmsError(a, b)).toBeCloseTo(0.2, 6);
    // 1 clamps to 1 and 1.2 too: three values differ by 0.1 in [0, 1], one by 0.
    expect(psnr(a, b)).toBeCloseTo(-10 * Math.log10((3 * 0.01) / 4), 4);
    expect(psnr(a, a)).toBe(Infinity);
    expect(() => rmsError(a, new Float32Array(3))).toThrow(/cannot compare 4 values with 3/);
  });

  const reference: Reference = { x: new Float64Array(4), picture: new Float64Array(4), accuracy: 1e-12, method: 'exact-rk4', steps: 2000, wallMs: 1, nfe: 0 };
  const result = (x: number[]): PipelineResult => ({
    x: new Float32Array(x), decoded: new Float32Array(x), shape: [1, 1, 2, 2], image: { width: 2, height: 2, data: new Uint8Array(16) },
    cost: { nfe: 5, networkRows: 5, guidanceEvaluations: 0, classifierCalls: 0, runtimeMs: 1 }, samplingMs: 3, timesteps: [], warnings: [],
  });
  const planned = planSweep(spec({})).runs[0];

  test('a run diverges with a non-finite x0 or an RMS error over the threshold', () => {
    expect(measure(planned, result([0.1, 0, 0, 0]), reference).diverged).toBe(false);
    const far = DIVERGENCE_RMS * 1.01;
    expect(measure(planned, result([far, far, far, far]), reference).diverged).toBe(true);
    const nan = measure(planned, result([NaN, 0, 0, 0]), reference);
    expect([nan.diverged, nan.rmsError, nan.psnr]).toEqual([true, null, null]);
  });

  test('noise has the sampler\'s shape: the picture, or the latent at 1/8 with 4 channels', () => {
    expect(noiseShape({ kind: 'pixel', image: { channels: 3, width: 8, height: 8 } }, 8, 8)).toEqual([1, 3, 8, 8]);
    expect(noiseShape({ kind: 'latent', image: { channels: 3, width: null, height: null } }, 512, 256)).toEqual([1, 4, 32, 64]);
  });

  test('the CSV header is the record\'s fields; empty cells for null, inf for an infinite PSNR', () => {
    const record = { ...measure(planned, result([0, 0, 0, 0]), reference) };
    const [header, row] = sweepCsv([record]).trim().split('\n');
    expect(header).toBe(SWEEP_COLUMNS.join(','));
    const cells = Object.fromEntries(header.split(',').map((c, i) => [c, row.split(',')[i]]));
    expect(cells).toMatchObject({ solver: 'ddim', targetNfe: '', psnr: 'inf', rmsError: '0', diverged: 'false', nfe: '5' });
  });
});

/**
 * diffusersGrid.ts against diffusers' own schedulers (solvers/vectors/diffusers_vectors.json,
 * written by tools/vectors/make_diffusers_vectors.py with diffusers 58eb52c and torch 1.13):
 * the float32 alphas_cumprod table, and for every case the timesteps, sigmas and
 * init_noise_sigma, element for element as float32 values.
 */
import { describe, expect, it } from 'vitest';
import { type SigmaGridKind, diffusersSigmaGrid, diffusersTables, sigmaToT, torchLinspaceF32 } from './diffusersGrid';
import { numpyLogf } from './float32';
import { DEFAULT_SCHEDULER_CONFIG, parseSchedulerConfig } from './schedule';
import { caseConfig, loadDiffusersVectors } from './testing/diffusersVectors';

const vectors = loadDiffusersVectors();
const config = parseSchedulerConfig(vectors.scheduler_config);

const KIND: Record<string, SigmaGridKind> = { euler: 'sigma', 'euler-a': 'sigma', heun: 'sigma', dpmpp2m: 'dpm', unipc2: 'unipc' };

/** Heun's lists repeat every later entry (its correction stage): the grid is every other one. */
const heunGrid = (list: number[]) => list.filter((_, i) => i === 0 || i % 2 === 1);

describe('diffusers tables', () => {
  it('alphas_cumprod is diffusers\' float32 table exactly', () => {
    const { alphasCumprod } = diffusersTables(config);
    expect(Array.from(alphasCumprod)).toEqual(vectors.alphas_cumprod_float32.map(Math.fround));
  });

  it('torch.linspace in float32 as the AVX2 kernel computes it (spot values)', () => {
    const betas = torchLinspaceF32(1e-4, 0.02, 1000);
    expect(betas[0]).toBe(Math.fround(1e-4));
    expect(betas[999]).toBe(Math.fround(0.02));
    expect(betas.length).toBe(1000);
  });

  it('numpy\'s float32 log is not the correctly rounded one, and the table uses numpy\'s', () => {
    const { sigmas, logSigmas } = diffusersTables(DEFAULT_SCHEDULER_CONFIG);
    let differ = 0;
    for (let i = 0; i < sigmas.length; i++) if (numpyLogf(sigmas[i]) !== Math.fround(Math.log(sigmas[i]))) differ++;
    expect(differ).toBeGreaterThan(50); // 142 of 1000 on the linear schedule
    expect(logSigmas[0]).toBe(numpyLogf(sigmas[0]));
  });

  it('sigmaToT inverts the table at its own points', () => {
    const { sigmas, logSigmas } = diffusersTables(DEFAULT_SCHEDULER_CONFIG);
    for (const t of [0, 1, 250, 500, 998, 999]) expect(sigmaToT(sigmas[t], logSigmas)).toBeCloseTo(t, 3);
  });
});

describe('diffusers grids, case by case', () => {
  const cases = vectors.cases.filter((c) => c.solver in KIND && !(c.solver === 'euler-a' && c.spacing === 'karras'));
  it.each(cases.map((c) => [c.id, c] as const))('%s', (_, c) => {
    const { scheduler, spacing } = caseConfig(vectors, c);
    const grid = diffusersSigmaGrid(KIND[c.solver], spacing, c.steps, scheduler);
    const heun = c.solver === 'heun';
    expect(grid.timesteps).toEqual((heun ? heunGrid(c.timesteps) : c.timesteps).map(Math.fround));
    expect(grid.sigmas).toEqual((heun ? heunGrid(c.sigmas!) : c.sigmas!).map(Math.fround));
    expect(grid.initNoiseSigma).toBe(Math.fround(c.init_noise_sigma));
  });
});

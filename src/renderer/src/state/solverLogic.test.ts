import { describe, expect, it } from 'vitest';
import { baseSettings } from '../../../shared/modelSettings';
import { SOLVERS, solverInfo } from '../../../shared/solvers';
import { SOLVER_GROUPS, callsPerStepShort, drawsStepNoise, optionText, shortGrid, solverChangeFollowers } from './solverLogic';

describe('the picker', () => {
  it('has every solver once, the paper grid first, the classical samplers as A1111 lists them', () => {
    expect(SOLVER_GROUPS.flatMap((g) => g.solvers.map((s) => s.id)).sort()).toEqual(SOLVERS.map((s) => s.id).sort());
    expect(SOLVER_GROUPS[0].solvers.every((s) => s.grid === 'paper')).toBe(true);
    expect(SOLVER_GROUPS[1].solvers.map(optionText)).toEqual(['Euler · 1 NFE/step', 'Euler a · 1 NFE/step', 'Heun · 2 NFE/step', 'DPM++ 2M · 1 NFE/step', 'UniPC · 1 NFE/step']);
    expect(SOLVER_GROUPS[2].solvers.map(optionText)).toEqual(['Split PC-3 · 1 NFE/step']);
  });

  it('says the calls per step and the grid in short', () => {
    expect(callsPerStepShort(solverInfo('plms4'))).toBe('1');
    expect(callsPerStepShort(solverInfo('heun'))).toBe('2');
    expect(shortGrid(solverInfo('ddim'))).toBe("split-diffusion's grid for the model's timestep_spacing");
    expect(shortGrid(solverInfo('euler-a'))).toBe("diffusers' EulerDiscreteScheduler grid");
    expect(shortGrid(solverInfo('unipc2'))).toBe("diffusers' UniPCMultistepScheduler grid");
  });

  it('knows which runs draw noise at every step', () => {
    expect(drawsStepNoise(solverInfo('euler-a'), {})).toBe(true);
    expect(drawsStepNoise(solverInfo('euler'), {})).toBe(false);
    expect(drawsStepNoise(solverInfo('ddim'), { eta: 0 })).toBe(false);
    expect(drawsStepNoise(solverInfo('ddim'), { eta: 0.2 })).toBe(true);
  });
});

describe('re-running with another solver', () => {
  const run = { ...baseSettings(), solver: 'dpmpp2m', spacing: 'karras' as const };

  it("moves a spacing the new solver cannot use to the model's own, and says so", () => {
    expect(solverChangeFollowers(run, 'euler')).toEqual({ changes: {}, notes: [] });
    expect(solverChangeFollowers(run, 'ltsp2', 'leading')).toEqual({
      changes: { spacing: 'leading' },
      notes: ['LTSP-2 steps on whole training timesteps and cannot use the karras spacing; spacing karras → leading'],
    });
  });

  it("sets DDIM's eta to 0 for a solver without one", () => {
    const ddim = { ...baseSettings(), solver: 'ddim', eta: 0.7 };
    expect(solverChangeFollowers(ddim, 'heun')).toEqual({ changes: { eta: 0 }, notes: ["eta 0.7 is DDIM's; Heun runs without it"] });
    expect(solverChangeFollowers({ ...ddim, eta: 0 }, 'heun')).toEqual({ changes: {}, notes: [] });
  });
});

/**
 * Convergence on the exact Gaussian-mixture model (docs/samplers.md §9): every solver's final x0
 * against a reference solution of the same guided ODE (RK4 with 2000 steps, refinement
 * error ~1e-12), as the step count doubles. docs/solvers.md prints the measured orders.
 */
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { SOLVERS } from '../../../shared/solvers';
import { type Problem, exactModelDir, loadProblem, observedOrder, runOnProblem } from './testing/convergence';

const STEPS = [10, 20, 40, 80];
/** Ancestral samplers (euler-a) solve the SDE, not this ODE: they have no ODE solution to converge to. */
const SOLVER_IDS = SOLVERS.filter((s) => !s.stochastic).map((s) => s.id);
const root = path.resolve(__dirname, '../../../..');
const errors = new Map<string, number[]>();

describe.each([0, 2, 10])('classifier scale %d', (scale) => {
  let problem: Problem;
  beforeAll(async () => {
    problem = loadProblem(exactModelDir('gmm-3x8x8', root), scale, 4, 0);
    for (const solver of SOLVER_IDS) {
      const list: number[] = [];
      for (const steps of STEPS) list.push((await runOnProblem(problem, solver, steps)).error);
      errors.set(`${scale}/${solver}`, list);
    }
  });

  test.each(SOLVER_IDS)('%s: the error falls every time the steps double', (solver) => {
    const list = errors.get(`${scale}/${solver}`)!;
    for (let i = 1; i < list.length; i++) expect(list[i], `${STEPS[i]} steps vs ${STEPS[i - 1]}: ${list.map((e) => e.toExponential(2)).join(', ')}`).toBeLessThan(list[i - 1]);
  });

  test('DDIM converges at first order (measured order in [0.8, 1.2])', () => {
    const list = errors.get(`${scale}/ddim`)!;
    for (let i = 1; i < list.length; i++) {
      const order = observedOrder(list[i - 1], list[i]);
      expect(order).toBeGreaterThan(0.8);
      expect(order).toBeLessThan(1.2);
    }
  });

  test('Euler (diffusers\' grid) converges at first order, Heun at second (measured orders in [0.8, 1.2] and above 1.8)', () => {
    const euler = errors.get(`${scale}/euler`)!;
    const heun = errors.get(`${scale}/heun`)!;
    for (let i = 1; i < STEPS.length; i++) {
      expect(observedOrder(euler[i - 1], euler[i])).toBeGreaterThan(0.8);
      expect(observedOrder(euler[i - 1], euler[i])).toBeLessThan(1.2);
      expect(observedOrder(heun[i - 1], heun[i])).toBeGreaterThan(1.8);
    }
  });

  test('higher-order methods beat DDIM: the multistep families from 20 steps, all of them at 80', () => {
    const ddim = errors.get(`${scale}/ddim`)!;
    for (const solver of ['plms2', 'plms4', 'ltsp2', 'ltsp4', 'stsp2', 'stsp4']) {
      expect(errors.get(`${scale}/${solver}`)![1], solver).toBeLessThan(ddim[1]);
    }
    // DPM-Solver++ and UniPC extrapolate x0 across the linspace grid's long last steps in
    // lambda (h ~ 3.6 from t = 111 to 0 at 10 steps), so they only overtake DDIM later.
    for (const solver of ['plms2', 'plms4', 'ltsp2', 'ltsp4', 'stsp2', 'stsp4', 'dpmpp2m', 'unipc2']) {
      expect(errors.get(`${scale}/${solver}`)![3], solver).toBeLessThan(ddim[3]);
    }
  });
});

test('strong guidance at few steps: PLMS-4 goes unstable while LTSP-4 and STSP-4 do not', () => {
  // The paper's motivating observation (sec. 3.2), reproduced rather than assumed.
  const plms4 = errors.get('10/plms4')![0];
  expect(plms4).toBeGreaterThan(5 * errors.get('10/ltsp4')![0]);
  expect(plms4).toBeGreaterThan(5 * errors.get('10/stsp4')![0]);
  // ... and it is the guidance that does it: unguided, PLMS-4 is fine at 10 steps.
  expect(errors.get('0/plms4')![0]).toBeLessThan(errors.get('0/ddim')![0]);
});

/** The embedded default model runs every solver with classifier-free and with classifier guidance. */
import { beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_CONDITION_AT, type Settings } from '../../../shared/settings';
import { SOLVER_IDS, expectedCost, termsOf } from '../../../shared/solvers';
import { defaultModelDir } from '../models/catalog';
import { readModelFolder } from '../models/modelFolder';
import { openPipeline } from './open';
import type { Pipeline } from './pipeline';

let model: Pipeline;
const base: Settings = {
  task: 'txt2img', prompt: 'red apple on a blue background', negativePrompt: '', classLabel: null, classifierScale: 0, solver: 'ddim', steps: 4,
  guidance: 3, conditionAt: DEFAULT_CONDITION_AT, consistencyScale: 0, seed: 1, width: 32, height: 32, spacing: 'linspace', clipX0: null, strength: 1,
};

beforeAll(async () => {
  model = await openPipeline(readModelFolder(defaultModelDir()!), ['cpu']);
});

describe.each(SOLVER_IDS)('%s on the default model', (solver) => {
  test('with classifier-free guidance (exact and same-point)', async () => {
    for (const conditionAt of ['exact', 'same-point'] as const) {
      const r = await model.generate({ ...base, solver, conditionAt });
      expect(r.x.every(Number.isFinite)).toBe(true);
      expect(r.cost.nfe).toBe(expectedCost(solver, 4, termsOf('cfg'), conditionAt).nfe);
    }
  });

  test('with classifier guidance (empty prompt, class 3)', async () => {
    const r = await model.generate({ ...base, solver, prompt: '', guidance: 1, classLabel: 3, classifierScale: 5 });
    expect(r.x.every(Number.isFinite)).toBe(true);
    expect(r.cost.classifierCalls).toBe(expectedCost(solver, 4, termsOf('classifier'), 'exact').classifierCalls);
  });
});

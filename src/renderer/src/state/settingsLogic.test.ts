import { describe, expect, it } from 'vitest';
import type { ModelSummary, Settings } from '../../../shared/contract';
import {
  baseSettings, conditionAtRelevant, numberProblems, defaultsFor, estimateCost, fitSettings, fitToModel, formatCost,
  guidanceLabel, guidanceTerms, initImageSize, runSteps, superResolutionFactors, tasksFor,
} from './settingsLogic';

const model = (over: Partial<ModelSummary> = {}): ModelSummary => ({
  id: 'm', name: 'M', kind: 'pixel', width: 32, height: 32, hasText: false, classLabels: null, tasks: [], defaults: {}, spacing: 'linspace', builtin: true, ...over,
});
const settings = (over: Partial<Settings> = {}): Settings => ({ ...baseSettings(), ...over });

describe('defaultsFor', () => {
  it('takes the model defaults and its fixed size, keeping what the user typed', () => {
    const current = settings({ prompt: 'a cat', seed: 42, steps: 99, task: 'img2img' });
    const s = defaultsFor(model({ defaults: { solver: 'stsp4', steps: 25, classifierScale: 10 }, width: 8, height: 8 }), current);
    expect(s).toMatchObject({ prompt: 'a cat', seed: 42, solver: 'stsp4', steps: 25, classifierScale: 10, width: 8, height: 8, task: 'img2img' });
  });

  it('forces guidance 1 without a text encoder and uses the default with one', () => {
    expect(defaultsFor(model({ defaults: { guidance: 7.5 } })).guidance).toBe(1);
    expect(defaultsFor(model({ hasText: true, defaults: { guidance: 7.5 } })).guidance).toBe(7.5);
  });

  it('uses the default size when the model size is free, and falls back by kind', () => {
    expect(defaultsFor(model({ width: null, height: null, defaults: { width: 48, height: 40 } }))).toMatchObject({ width: 48, height: 40 });
    expect(defaultsFor(model({ kind: 'latent', width: null, height: null }))).toMatchObject({ width: 512, height: 512 });
  });

  it('ignores an unknown default solver, clamps steps to the slider and resets the class', () => {
    const s = defaultsFor(model({ defaults: { solver: 'euler-x', steps: 999 } }), settings({ classLabel: 3 }));
    expect(s).toMatchObject({ solver: 'ddim', steps: 200, classLabel: null });
  });

  it("starts on the defaults' spacing when the solver can walk it, else on the model's own", () => {
    expect(defaultsFor(model({ defaults: { solver: 'split-pc3', spacing: 'karras' } })).spacing).toBe('karras');
    // DDIM walks the paper's grid of whole timesteps: karras is not one of its spacings.
    expect(defaultsFor(model({ defaults: { solver: 'ddim', spacing: 'karras' }, spacing: 'leading' })).spacing).toBe('leading');
    expect(defaultsFor(model({ defaults: { solver: 'split-pc3' }, spacing: 'trailing' })).spacing).toBe('trailing');
  });

  it('falls back to a task the model has', () => {
    expect(defaultsFor(model({ kind: 'latent' }), settings({ task: 'colorize' })).task).toBe('txt2img');
  });
});

describe('tasksFor', () => {
  it('offers colorize and super-resolution to pixel models only', () => {
    expect(tasksFor(model())).toEqual(['txt2img', 'img2img', 'inpaint', 'colorize', 'super-resolution']);
    expect(tasksFor(model({ kind: 'latent' }))).toEqual(['txt2img', 'img2img', 'inpaint']);
    expect(tasksFor(model({ tasks: ['txt2img', 'inpaint', 'made-up'] }))).toEqual(['txt2img', 'inpaint']);
  });
});

describe('fitToModel', () => {
  it('drops what the model cannot take', () => {
    const s = fitToModel(settings({ classLabel: 5, guidance: 4, width: 64, height: 64 }), model({ classLabels: ['a', 'b'], width: 32, height: 32 }));
    expect(s).toMatchObject({ classLabel: null, guidance: 1, width: 32, height: 32 });
  });

  it("moves a spacing the solver cannot use to the model's own and drops DDIM's eta from other solvers, saying so", () => {
    const sd = model({ spacing: 'leading', width: null, height: null });
    expect(fitSettings(settings({ solver: 'ddim', spacing: 'karras', eta: 0.5 }), sd)).toEqual({
      settings: settings({ solver: 'ddim', spacing: 'leading', eta: 0.5 }),
      changes: ['DDIM steps on whole training timesteps and cannot use the karras spacing; spacing karras → leading'],
    });
    const euler = fitSettings(settings({ solver: 'euler-a', spacing: 'karras', eta: 0.5 }), sd);
    expect(euler.settings.spacing).toBe('karras');
    expect(euler.settings).not.toHaveProperty('eta');
    expect(euler.changes).toEqual(["eta 0.5 is DDIM's; Euler a has none, so it was dropped"]);
    expect(fitSettings(settings({ solver: 'stsp2', spacing: [999, 500, 0], eta: 0 }), sd)).toEqual({ settings: settings({ solver: 'stsp2', spacing: [999, 500, 0], eta: 0 }), changes: [] });
  });
});

describe('guidance and cost', () => {
  it('names the guidance terms that add up, like the engine', () => {
    expect(guidanceLabel(guidanceTerms(settings()))).toBe('no guidance');
    expect(guidanceTerms(settings({ classLabel: 1, classifierScale: 0 }))).toEqual({ cfg: false, classifier: false, consistency: false });
    expect(guidanceTerms(settings({ classLabel: 1, classifierScale: 10, guidance: 5 }))).toEqual({ cfg: true, classifier: true, consistency: false });
    expect(guidanceTerms(settings({ task: 'colorize', guidance: 7.5 }))).toEqual({ cfg: true, classifier: false, consistency: true });
    expect(guidanceTerms(settings({ task: 'colorize', consistencyScale: 0 })).consistency).toBe(false);
    // Inpainting keeps its known region by blending, not with a guidance term.
    expect(guidanceTerms(settings({ task: 'inpaint' })).consistency).toBe(false);
    expect(guidanceLabel(guidanceTerms(settings({ classLabel: 1, classifierScale: 10, guidance: 5 })))).toBe('classifier-free + classifier guidance');
  });

  it('estimates NFE and classifier calls with the shared formulas', () => {
    const c = estimateCost(settings({ solver: 'stsp4', steps: 20, classLabel: 1, classifierScale: 10 }));
    expect(c.ok && formatCost(c.cost)).toBe('NFE 20 · 40 classifier calls');
    const plms = estimateCost(settings({ solver: 'plms2', steps: 20 }));
    expect(plms.ok && formatCost(plms.cost)).toBe('NFE 21');
    const cfg = estimateCost(settings({ solver: 'ltsp2', steps: 10, guidance: 7.5, conditionAt: 'exact' }));
    expect(cfg.ok && formatCost(cfg.cost)).toBe('NFE 20 · 30 network rows');
  });

  it('counts img2img steps from the strength and refuses a run of no step', () => {
    expect(runSteps(settings({ task: 'img2img', steps: 20, strength: 0.5 }))).toBe(10);
    expect(runSteps(settings({ task: 'txt2img', steps: 20, strength: 0.5 }))).toBe(20);
    expect(runSteps(settings({ spacing: [999, 500, 1] }))).toBe(3);
    expect(estimateCost(settings({ task: 'img2img', steps: 3, strength: 0.2 })).ok).toBe(false);
  });

  it('counts every term of a combined run', () => {
    const c = estimateCost(settings({ solver: 'ddim', steps: 20, guidance: 5, classLabel: 1, classifierScale: 10 }));
    expect(c.ok && formatCost(c.cost)).toBe('NFE 20 · 20 classifier calls · 40 network rows');
  });

  it('makes the condition placement relevant only to splitting with a network condition', () => {
    expect(conditionAtRelevant(settings({ solver: 'ltsp2', guidance: 5 }))).toBe(true);
    expect(conditionAtRelevant(settings({ solver: 'stsp4', task: 'colorize' }))).toBe(true);
    expect(conditionAtRelevant(settings({ solver: 'stsp4', classLabel: 0, classifierScale: 3 }))).toBe(false);
    expect(conditionAtRelevant(settings({ solver: 'ddim', guidance: 5 }))).toBe(false);
  });
});

describe('images and errors', () => {
  it('lists whole super-resolution factors and sizes the init image', () => {
    expect(superResolutionFactors(32, 32)).toEqual([2, 4, 8, 16, 32]);
    expect(superResolutionFactors(24, 16)).toEqual([2, 4, 8]);
    expect(initImageSize({ task: 'super-resolution', width: 32, height: 32 }, 4)).toEqual({ width: 8, height: 8 });
    expect(initImageSize({ task: 'img2img', width: 32, height: 32 }, 4)).toEqual({ width: 32, height: 32 });
  });

  it('flags emptied number inputs before a run', () => {
    expect(numberProblems(settings())).toEqual({});
    const p = numberProblems(settings({ width: null as never, consistencyScale: Number.NaN, height: 8.5 }));
    expect(Object.keys(p).sort()).toEqual(['consistencyScale', 'height', 'width']);
  });
});

it('a model starts with its scheduler\'s own spacing (SD folders: leading)', () => {
  expect(defaultsFor(model({ spacing: 'leading' })).spacing).toBe('leading');
  expect(defaultsFor(model({ spacing: 'linspace' }), { ...baseSettings(), spacing: 'trailing' }).spacing).toBe('linspace');
});

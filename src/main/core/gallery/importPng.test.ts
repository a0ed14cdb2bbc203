import { describe, expect, test } from 'vitest';
import type { ModelSummary, Settings } from '../../../shared/contract';
import { encodePng } from '../io/png';
import { type InstalledModel, chooseModel, importPngSettings, pngModelRef } from './importPng';
import { pngTextOptions } from './pngMetadata';

const summary = (over: Partial<ModelSummary>): ModelSummary => ({
  id: '/m', name: 'M', kind: 'pixel', width: null, height: null, hasText: true, classLabels: null, tasks: [], defaults: {}, spacing: 'linspace', builtin: true, ...over,
});

function installed(id: string, name: string, hash: string, over: Partial<ModelSummary> = {}): InstalledModel & { hashed: number } {
  const model = {
    id,
    name,
    hashed: 0,
    summary: async () => summary({ id, name, ...over }),
    unetHash: async () => {
      model.hashed++;
      return hash;
    },
  };
  return model;
}

const png = (text: Record<string, string>, itxt: Record<string, string> = {}) => encodePng({ width: 1, height: 1, channels: 4, data: new Uint8Array(4) }, { text, itxt });

describe('pngModelRef', () => {
  test('reads Model and Model hash from the A1111 text; nulls without them', () => {
    expect(pngModelRef(png({ parameters: 'a cat\nSteps: 20, Seed: 1, Model hash: ABCDEF1234, Model: Emoji 32' }))).toEqual({ name: 'Emoji 32', hash: 'abcdef1234' });
    expect(pngModelRef(png({ parameters: 'Steps: 20, Seed: 1, Sampler: DDIM' }))).toEqual({ name: null, hash: null });
    expect(pngModelRef(png({}))).toEqual({ name: null, hash: null });
    expect(() => pngModelRef(new Uint8Array([1, 2, 3]))).toThrow(/not a valid PNG/);
  });
});

describe('chooseModel', () => {
  const a = installed('/a', 'Emoji 32', 'aaaa1111bbbb');
  const b = installed('/b', 'Emoji 32', 'cccc2222dddd');
  const c = installed('/c', 'Other', 'eeee');

  test('by name, preferring the one whose hash matches; hashes only read when the name matches', async () => {
    c.hashed = 0;
    expect(await chooseModel({ name: 'emoji  32', hash: 'cccc2222' }, [a, b, c], '/c')).toEqual({ model: b, warnings: [] });
    expect(c.hashed).toBe(0);
    expect((await chooseModel({ name: 'Emoji 32', hash: null }, [c, a, b], '/c')).model).toBe(a);
  });

  test('a name match with another hash is used, with a warning', async () => {
    const r = await chooseModel({ name: 'Emoji 32', hash: '99999999' }, [a], null);
    expect(r.model).toBe(a);
    expect(r.warnings[0]).toMatch(/not the model file that made this PNG \(hash aaaa1111, the PNG says 99999999\)/);
  });

  test('an unknown model falls back to the current one (else the first), with a warning', async () => {
    expect(await chooseModel({ name: 'sd-v1-5', hash: null }, [a, c], '/c')).toEqual({ model: c, warnings: ['the PNG was made with "sd-v1-5", which is not installed; using Other'] });
    expect((await chooseModel({ name: 'sd-v1-5', hash: null }, [a, c], '/nowhere')).model).toBe(a);
    expect(await chooseModel({ name: null, hash: null }, [], null)).toEqual({ model: null, warnings: ['the PNG does not say which model made it; no model is installed'] });
  });

  test('forceCurrent keeps the chosen model and only reports the PNG\'s', async () => {
    expect(await chooseModel({ name: 'Emoji 32', hash: null }, [a, c], '/c', { forceCurrent: true })).toEqual({ model: c, warnings: ['the PNG was made with "Emoji 32"; using Other as asked'] });
  });
});

describe('importPngSettings', () => {
  const settings: Settings = {
    task: 'txt2img', prompt: 'a fox', negativePrompt: '', classLabel: 2, classifierScale: 3, solver: 'ltsp3', steps: 17, guidance: 1,
    conditionAt: 'exact', consistencyScale: 0.01, seed: 9, width: 32, height: 32, spacing: 'trailing', clipX0: true, strength: 1,
  };

  test('this studio\'s PNG: its settings exactly, for the model it names', async () => {
    const bytes = encodePng({ width: 1, height: 1, channels: 4, data: new Uint8Array(4) }, pngTextOptions(settings, { modelHash: 'aaaa1111bb', modelName: 'Emoji 32' }));
    const model = installed('/a', 'Emoji 32', 'aaaa1111bbbbcccc', { classLabels: ['x', 'y', 'z'], width: 32, height: 32 });
    expect(await importPngSettings(bytes, [installed('/c', 'Other', ''), model], '/c')).toEqual({
      settings, source: 'split-studio', warnings: [], modelId: '/a', modelName: 'Emoji 32',
    });
  });

  test('fitted to the model, every change explained; an A1111 PNG over the model\'s defaults', async () => {
    const bytes = png({ parameters: 'a cat\nSteps: 8, CFG scale: 6, Seed: 3, Size: 512x512, Model: SD' });
    const model = installed('/p', 'Pixels', '', { hasText: false, width: 8, height: 8, defaults: { solver: 'stsp2', steps: 30 } });
    const r = await importPngSettings(bytes, [model], '/p');
    expect(r).toMatchObject({ source: 'a1111', modelId: '/p', settings: { solver: 'stsp2', steps: 8, seed: 3, guidance: 1, prompt: '', width: 8, height: 8 } });
    expect(r.warnings).toEqual([
      'the PNG was made with "SD", which is not installed; using Pixels',
      'Pixels has no text encoder; guidance 6 → 1',
      'Pixels has no text encoder; the prompt was dropped',
      'Pixels only makes 8x8 images; size 512x512 → 8x8',
    ]);
  });

  test('a model that cannot be opened leaves the settings unfitted, with a warning', async () => {
    const broken: InstalledModel = { id: '/x', name: 'X', summary: async () => { throw new Error('bad onnx'); }, unetHash: async () => '' };
    const r = await importPngSettings(png({ parameters: 'Steps: 8, Seed: 3, Size: 16x16, Model: X' }), [broken]);
    expect(r).toMatchObject({ modelId: null, settings: { steps: 8, width: 16, height: 16 } });
    expect(r.warnings[0]).toMatch(/X cannot be opened \(bad onnx\)/);
  });
});

/**
 * The samplers artists know, through AUTOMATIC1111's `parameters` text: their names and
 * schedule types in and out (a1111Infotext.ts), DDIM's eta, and the round trip of an exported
 * PNG's parameters (read without this studio's own `split-studio` chunk) for every solver with
 * every spacing it can use.
 */
import { describe, expect, test } from 'vitest';
import type { Settings } from '../../../shared/contract';
import { SOLVERS } from '../../../shared/solvers';
import { encodePng } from '../io/png';
import { a1111Parameters, parseA1111Parameters } from './a1111Infotext';
import { A1111_KEYWORD, pngTextOptions, settingsFromPng } from './pngMetadata';

const DEFAULTS: Settings = {
  task: 'txt2img', prompt: '', negativePrompt: '', classLabel: null, classifierScale: 0, solver: 'stsp2', steps: 20, guidance: 1,
  conditionAt: 'exact', consistencyScale: 0.01, seed: 0, width: 32, height: 32, spacing: 'trailing', clipX0: null, strength: 1,
};
const pixels = { width: 4, height: 4, channels: 4 as const, data: new Uint8Array(64).fill(90) };
const MODEL = { modelHash: '0123456789abcdef', modelName: 'tiny' };

/** Settings read from a PNG whose only metadata is this A1111 text. */
const read = (parameters: string, defaults: Settings = DEFAULTS) => settingsFromPng(encodePng(pixels, { text: { [A1111_KEYWORD]: parameters } }), defaults);
const fieldsLine = (rest: string) => `a red fox\nSteps: 25, ${rest}, CFG scale: 6, Seed: 9, Size: 32x32, Model: tiny`;

describe('A1111 sampler names and schedule types', () => {
  test.each([
    ['Sampler: DPM++ 2M Karras', 'dpmpp2m', 'karras'],
    ['Sampler: DPM++ 2M, Schedule type: Karras', 'dpmpp2m', 'karras'],
    ['Sampler: DPM++ 2M, Schedule type: Automatic', 'dpmpp2m', 'trailing'],
    ['Sampler: DPM++ 2M', 'dpmpp2m', 'trailing'],
    ['Sampler: Euler a', 'euler-a', 'trailing'],
    ['Sampler: Euler a, Schedule type: Karras', 'euler-a', 'karras'],
    ['Sampler: Euler Karras', 'euler', 'karras'],
    ['Sampler: Euler', 'euler', 'trailing'],
    ['Sampler: Heun', 'heun', 'trailing'],
    ['Sampler: UniPC', 'unipc2', 'trailing'],
    ['Sampler: DDIM', 'ddim', 'trailing'],
    ['Sampler: PLMS', 'plms4', 'trailing'],
  ])('%s → %s on %s', (fields, solver, spacing) => {
    const { settings, warnings } = read(fieldsLine(fields));
    expect(settings).toMatchObject({ solver, spacing, steps: 25, guidance: 6, seed: 9, prompt: 'a red fox' });
    expect(warnings).toEqual([]);
  });

  test('schedules this studio lacks, and Karras for a solver on whole timesteps, keep the spacing and say so', () => {
    expect(read(fieldsLine('Sampler: DPM++ 2M, Schedule type: Exponential'))).toMatchObject({
      settings: { solver: 'dpmpp2m', spacing: 'trailing' },
      warnings: ['schedule type "Exponential" is not available here; the spacing from the settings is used'],
    });
    expect(read(fieldsLine('Sampler: DDIM, Schedule type: Karras'))).toMatchObject({
      settings: { solver: 'ddim', spacing: 'trailing' },
      warnings: ['DDIM cannot use the karras schedule (it steps on whole training timesteps); the spacing from the settings is used'],
    });
  });

  test("DDIM's eta from Eta DDIM (any case) or Eta; the ancestral eta of 1 is Euler a's own; other etas are reported", () => {
    expect(read(fieldsLine('Sampler: DDIM, Eta DDIM: 0.3')).settings.eta).toBe(0.3);
    expect(read(fieldsLine('Sampler: DDIM, ETA DDIM: 0.7')).settings.eta).toBe(0.7);
    expect(read(fieldsLine('Sampler: DDIM, Eta: 1')).settings.eta).toBe(1);
    expect(read(fieldsLine('Sampler: DDIM')).settings.eta).toBe(0);
    expect(read(fieldsLine('Sampler: DDIM, Eta DDIM: 2'))).toMatchObject({ settings: { eta: 0 }, warnings: ['ignored "Eta DDIM: 2": DDIM\'s eta is a number from 0 to 1'] });
    const ancestral = read(fieldsLine('Sampler: Euler a, Eta: 1'), { ...DEFAULTS, eta: 0 });
    expect(ancestral.warnings).toEqual([]);
    expect(ancestral.settings).not.toHaveProperty('eta');
    expect(read(fieldsLine('Sampler: Euler a, Eta: 0.5')).warnings).toEqual(['ignored "Eta: 0.5": Euler a runs at eta 1 here, as diffusers does']);
    expect(read(fieldsLine('Sampler: Heun, Eta DDIM: 0.5')).warnings).toEqual(['ignored "Eta DDIM: 0.5": eta applies to DDIM only']);
  });

  test('export writes the name, the Schedule type for karras and Eta DDIM as A1111 does', () => {
    const fields = (s: Partial<Settings>) => parseA1111Parameters(a1111Parameters({ ...DEFAULTS, ...s }, MODEL)).fields;
    expect(fields({ solver: 'dpmpp2m', spacing: 'karras' })).toMatchObject({ Sampler: 'DPM++ 2M', 'Schedule type': 'Karras', Spacing: 'karras' });
    expect(fields({ solver: 'euler-a', spacing: 'logsnr' })).toMatchObject({ Sampler: 'Euler a', Spacing: 'logsnr' });
    expect(fields({ solver: 'euler-a', spacing: 'logsnr' })).not.toHaveProperty('Schedule type');
    expect(fields({ solver: 'ddim', eta: 0.25 })).toMatchObject({ Sampler: 'DDIM', 'Eta DDIM': '0.25' });
    expect(fields({ solver: 'ddim', eta: 0 })).not.toHaveProperty('Eta DDIM');
    expect(a1111Parameters({ ...DEFAULTS, solver: 'heun', spacing: 'karras' }, MODEL)).toMatch(/^Steps: 20, Sampler: Heun, Schedule type: Karras, CFG scale: 1, /);
  });
});

describe('an exported PNG re-imports to the same settings', () => {
  const cases = SOLVERS.flatMap((s) =>
    s.spacings.flatMap((spacing) => (s.family === 'ddim' ? [0, 0.4, 1] : [undefined]).map((eta) => ({ solver: s.id, spacing, eta }))),
  );

  test.each(cases)('$solver on $spacing (eta $eta) through the parameters text', ({ solver, spacing, eta }) => {
    const settings: Settings = { ...DEFAULTS, solver, spacing, steps: 17, seed: 1234, guidance: 3.5, prompt: 'a lighthouse, at dusk', ...(eta === undefined ? {} : { eta }) };
    const exported = pngTextOptions(settings, MODEL);
    const parameters = { ...exported.text, ...exported.itxt }[A1111_KEYWORD];
    // The parameters alone, as another tool would keep them (this studio's own chunk dropped).
    expect(read(parameters, { ...DEFAULTS, solver: 'plms2', eta: 0 })).toEqual({ settings, source: 'a1111', warnings: [] });
  });

  test("A1111's own fields alone (no Solver id, no Spacing) carry the solvers and the schedule A1111 knows", () => {
    for (const { solver, spacing, eta } of cases) {
      if (!['ddim', 'plms4', 'euler', 'euler-a', 'heun', 'dpmpp2m', 'unipc2'].includes(solver) || !['karras', 'trailing'].includes(spacing)) continue;
      const text = a1111Parameters({ ...DEFAULTS, solver, spacing, ...(eta === undefined ? {} : { eta }) }, MODEL).replace(/, Spacing: [^,]*, Solver id: [^,]*/, '');
      expect(text).not.toMatch(/Solver id|Spacing/);
      const { settings } = read(text);
      expect({ solver: settings.solver, spacing: settings.spacing, eta: settings.eta }, text).toEqual({ solver, spacing, eta });
    }
  });
});

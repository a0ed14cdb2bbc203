import { describe, expect, test } from 'vitest';
import type { Settings } from '../../../shared/contract';
import { SOLVER_IDS } from '../../../shared/solvers';
import { encodePng, listChunks, readPngText } from '../io/png';
import { a1111Parameters, parseA1111Parameters, samplerName, solverFromSampler } from './a1111Infotext';
import { PngMetadataError, pngTextOptions, settingsFromPng } from './pngMetadata';

const DEFAULTS: Settings = {
  task: 'txt2img', prompt: '', negativePrompt: '', classLabel: null, classifierScale: 0, solver: 'ddim', steps: 20, guidance: 1,
  conditionAt: 'exact', consistencyScale: 0.01, seed: 0, width: 32, height: 32, spacing: 'linspace', clipX0: null, strength: 1,
};

const SETTINGS: Settings = {
  ...DEFAULTS, prompt: 'a red fox, in the snow', negativePrompt: 'blurry', solver: 'stsp4', guidance: 3, seed: 42, classifierScale: 2.5, classLabel: 3,
};

const pixels = (w = 4, h = 4) => ({ width: w, height: h, channels: 4 as const, data: new Uint8Array(w * h * 4).fill(200) });

// Realistic AUTOMATIC1111 infotexts (the shapes A1111 1.6 to 1.10 write).
const A1111_SD15 = `masterpiece, best quality, 1girl, solo, long hair, looking at viewer, smile, (detailed eyes:1.2), outdoors, cherry blossoms
Negative prompt: (worst quality, low quality:1.4), lowres, bad anatomy, bad hands, text, error, missing fingers, extra digit, cropped, jpeg artifacts, signature, watermark, blurry
Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 3735928559, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.55, Clip skip: 2, Hires upscale: 2, Hires steps: 15, Hires upscaler: Latent, Version: v1.6.0`;

const A1111_SDXL_MULTILINE = `a photograph of an astronaut riding a horse on mars,
cinematic lighting, 35mm film
<lora:filmgrain:0.6>
Negative prompt: cartoon, painting,
illustration, (worst quality:1.3)
3d render
Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5.5, Seed: 1234567890, Size: 832x1216, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, VAE hash: 235745af8d, VAE: sdxl_vae.safetensors, Lora hashes: "filmgrain: 1a2b3c4d5e6f", TI hashes: "easynegative: c74b4e810b03, badhandv4: 5e40d722fe", ADetailer prompt: "a face, detailed eyes, \\"freckles\\"", Version: v1.9.4`;

const A1111_NO_NEGATIVE = `cozy cabin in the woods, winter, warm light from the windows, oil painting
Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x512, Model hash: cc6cb27103, Model: v1-5-pruned-emaonly, Version: v1.10.1`;

const A1111_UNIPC_WINDOWS = 'a lighthouse at dusk\r\nNegative prompt: people\r\nSteps: 12, Sampler: UniPC, CFG scale: 4, Seed: 7, Size: 64x48, Model hash: 0123456789, Model: tiny';

describe('a1111Parameters', () => {
  test("writes A1111's layout: prompt, Negative prompt line, one line of fields with this studio's keys", () => {
    const text = a1111Parameters(SETTINGS, { modelHash: 'abcdef1234567890', modelName: 'pixel-8x8' });
    expect(text.split('\n')).toEqual([
      'a red fox, in the snow',
      'Negative prompt: blurry',
      'Steps: 20, Sampler: STSP-4, CFG scale: 3, Seed: 42, Size: 32x32, Model hash: abcdef1234, Model: pixel-8x8, Classifier scale: 2.5, Class: 3, ' +
        'Spacing: linspace, Solver id: stsp4, Task: txt2img, Condition at: exact, Consistency scale: 0.01, Clip x0: auto',
    ]);
  });

  test('omits an empty negative prompt, quotes values with commas, and writes strength for img2img', () => {
    const text = a1111Parameters(
      { ...SETTINGS, negativePrompt: '', task: 'img2img', strength: 0.6, spacing: [999, 500, 0], clipX0: false, classLabel: null },
      { modelHash: 'ab', modelName: 'model, v2: final' },
    );
    const lines = text.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('Model: "model, v2: final"');
    expect(lines[1]).toContain('Denoising strength: 0.6');
    expect(lines[1]).toContain('Spacing: "[999,500,0]"');
    expect(lines[1]).toContain('Clip x0: off');
    expect(lines[1]).not.toContain('Class:');
  });

  test('A1111 sampler names for every solver map back to the same solver', () => {
    expect(samplerName('ddim')).toBe('DDIM');
    expect(samplerName('plms4')).toBe('PLMS');
    expect(samplerName('dpmpp2m')).toBe('DPM++ 2M');
    expect(samplerName('unipc2')).toBe('UniPC');
    expect(samplerName('ltsp2')).toBe('LTSP-2');
    expect(['euler', 'euler-a', 'heun'].map(samplerName)).toEqual(['Euler', 'Euler a', 'Heun']);
    for (const id of SOLVER_IDS) expect(solverFromSampler(samplerName(id))).toEqual({ solver: id, spacing: null, warnings: [] });
  });

  test('uses iTXt for parameters only when the text is not Latin-1', () => {
    const latin = pngTextOptions({ ...SETTINGS, prompt: 'café crème' }, { modelHash: 'h', modelName: 'm' });
    expect(Object.keys(latin.text ?? {})).toEqual(['parameters']);
    expect(Object.keys(latin.itxt ?? {})).toEqual(['split-studio']);
    const wide = pngTextOptions({ ...SETTINGS, prompt: '富士山と桜, 浮世絵' }, { modelHash: 'h', modelName: 'm' });
    expect(Object.keys(wide.text ?? {})).toEqual([]);
    expect(Object.keys(wide.itxt ?? {}).sort()).toEqual(['parameters', 'split-studio']);
  });
});

describe('parseA1111Parameters', () => {
  test('an SD 1.5 infotext with a Karras sampler name and hires fields', () => {
    const p = parseA1111Parameters(A1111_SD15);
    expect(p.prompt).toBe('masterpiece, best quality, 1girl, solo, long hair, looking at viewer, smile, (detailed eyes:1.2), outdoors, cherry blossoms');
    expect(p.negativePrompt).toMatch(/^\(worst quality, low quality:1\.4\), lowres, .* blurry$/);
    expect(p.fields).toMatchObject({
      Steps: '28', Sampler: 'DPM++ 2M Karras', 'CFG scale': '7', Seed: '3735928559', Size: '512x768', 'Model hash': '6ce0161689',
      Model: 'v1-5-pruned-emaonly', 'Denoising strength': '0.55', 'Clip skip': '2', 'Hires upscaler': 'Latent', Version: 'v1.6.0',
    });
  });

  test('a multi-line prompt, a negative prompt spanning lines, and quoted values with commas, colons and quotes', () => {
    const p = parseA1111Parameters(A1111_SDXL_MULTILINE);
    expect(p.prompt).toBe('a photograph of an astronaut riding a horse on mars,\ncinematic lighting, 35mm film\n<lora:filmgrain:0.6>');
    expect(p.negativePrompt).toBe('cartoon, painting,\nillustration, (worst quality:1.3)\n3d render');
    expect(p.fields['Lora hashes']).toBe('filmgrain: 1a2b3c4d5e6f');
    expect(p.fields['TI hashes']).toBe('easynegative: c74b4e810b03, badhandv4: 5e40d722fe');
    expect(p.fields['ADetailer prompt']).toBe('a face, detailed eyes, "freckles"');
    expect(p.fields['Schedule type']).toBe('Karras');
    expect(p.fields['CFG scale']).toBe('5.5');
    expect(p.fields.Version).toBe('v1.9.4');
    expect(Object.keys(p.fields)).toHaveLength(14);
  });

  test('a missing negative prompt, CRLF line ends, a fields-only text, and a last line that is prompt', () => {
    expect(parseA1111Parameters(A1111_NO_NEGATIVE)).toMatchObject({ prompt: expect.stringMatching(/^cozy cabin.*oil painting$/), negativePrompt: '' });
    expect(parseA1111Parameters(A1111_UNIPC_WINDOWS)).toMatchObject({ prompt: 'a lighthouse at dusk', negativePrompt: 'people', fields: { Size: '64x48' } });
    expect(parseA1111Parameters('Steps: 5, Sampler: DDIM, Seed: 3')).toEqual({ prompt: '', negativePrompt: '', fields: { Steps: '5', Sampler: 'DDIM', Seed: '3' } });
    // Fewer than three `Key: value` pairs: the last line is prompt, not fields (as in A1111).
    expect(parseA1111Parameters('a cat\nstyle: ukiyo-e, mood: calm')).toEqual({ prompt: 'a cat\nstyle: ukiyo-e, mood: calm', negativePrompt: '', fields: {} });
  });

  test("reads back what a1111Parameters writes", () => {
    const text = a1111Parameters({ ...SETTINGS, prompt: 'line one,\nline two: "quoted"', negativePrompt: 'neg a,\nneg b' }, { modelHash: 'h', modelName: 'a, b' });
    const p = parseA1111Parameters(text);
    expect(p.prompt).toBe('line one,\nline two: "quoted"');
    expect(p.negativePrompt).toBe('neg a,\nneg b');
    expect(p.fields).toMatchObject({ Model: 'a, b', Sampler: 'STSP-4', 'Solver id': 'stsp4', Class: '3', 'Classifier scale': '2.5' });
  });
});

describe('settingsFromPng', () => {
  test("prefers this studio's split-studio chunk: exact settings, no warnings", () => {
    const settings: Settings = { ...SETTINGS, spacing: [900, 600, 300, 0], steps: 4, clipX0: true, prompt: '桜 and "quotes", commas' };
    const png = encodePng(pixels(), pngTextOptions(settings, { modelHash: 'abc', modelName: 'm' }));
    expect(settingsFromPng(png, DEFAULTS)).toEqual({ settings, source: 'split-studio', warnings: [] });
  });

  test('an A1111 PNG: mapped fields over the defaults, with warnings for what does not carry over', () => {
    const png = encodePng(pixels(), { text: { parameters: A1111_SD15 } });
    const { settings, source, warnings } = settingsFromPng(png, DEFAULTS);
    expect(source).toBe('a1111');
    expect(settings).toEqual({
      ...DEFAULTS,
      prompt: 'masterpiece, best quality, 1girl, solo, long hair, looking at viewer, smile, (detailed eyes:1.2), outdoors, cherry blossoms',
      negativePrompt: expect.stringContaining('bad anatomy'),
      solver: 'dpmpp2m', spacing: 'karras', steps: 28, guidance: 7, seed: 3735928559, width: 512, height: 768,
    });
    expect(warnings).toEqual(['ignored fields this studio does not use: Clip skip, Hires upscale, Hires steps, Hires upscaler']);
  });

  test('the SDXL sample: its Schedule type Karras is the karras spacing; size and guidance', () => {
    const png = encodePng(pixels(), { text: { parameters: A1111_SDXL_MULTILINE } });
    const { settings, warnings } = settingsFromPng(png, DEFAULTS);
    expect(settings).toMatchObject({ solver: 'dpmpp2m', spacing: 'karras', steps: 30, guidance: 5.5, width: 832, height: 1216, negativePrompt: 'cartoon, painting,\nillustration, (worst quality:1.3)\n3d render' });
    expect(warnings).toEqual(['ignored fields this studio does not use: Lora hashes, TI hashes, ADetailer prompt']);
  });

  test('Euler a, and an unknown sampler keeps the default solver with a warning, the rest still read', () => {
    const euler = settingsFromPng(encodePng(pixels(), { text: { parameters: A1111_NO_NEGATIVE } }), { ...DEFAULTS, solver: 'stsp2' });
    expect(euler).toMatchObject({ settings: { solver: 'euler-a', spacing: 'linspace', seed: 42 }, warnings: [] });
    const png = encodePng(pixels(), { text: { parameters: A1111_NO_NEGATIVE.replace('Euler a', 'DPM++ 2M SDE Karras') } });
    const { settings, warnings } = settingsFromPng(png, { ...DEFAULTS, solver: 'stsp2' });
    expect(settings).toEqual({
      ...DEFAULTS, solver: 'stsp2', prompt: expect.stringMatching(/^cozy cabin/), steps: 20, guidance: 7, seed: 42, width: 512, height: 512,
    });
    expect(warnings).toEqual(['sampler "DPM++ 2M SDE Karras" has no counterpart here; using the default solver stsp2']);
  });

  test('sampler names of A1111, ComfyUI and this studio', () => {
    const cases: [string, string][] = [
      ['DDIM', 'ddim'], ['PLMS', 'plms4'], ['DPM++ 2M', 'dpmpp2m'], ['dpmpp_2m', 'dpmpp2m'], ['UniPC', 'unipc2'], ['uni_pc', 'unipc2'],
      ['LTSP-4', 'ltsp4'], ['STSP-4', 'stsp4'], ['stsp 2', 'stsp2'], ['PLMS-3', 'plms3'], ['ltsp1', 'ltsp1'],
      ['Euler a', 'euler-a'], ['euler_ancestral', 'euler-a'], ['Euler', 'euler'], ['Heun', 'heun'], ['euler-a', 'euler-a'],
    ];
    for (const [name, id] of cases) expect(solverFromSampler(name).solver, name).toBe(id);
    for (const name of ['DPM++ 2M SDE', 'LMS', 'STSP-9', '', 'constructor', 'toString']) expect(solverFromSampler(name).solver, name).toBeNull();
    const png = encodePng(pixels(), { text: { parameters: A1111_UNIPC_WINDOWS } });
    expect(settingsFromPng(png, DEFAULTS)).toMatchObject({ settings: { solver: 'unipc2', width: 64, height: 48, prompt: 'a lighthouse at dusk' }, warnings: [] });
  });

  test('values out of range keep the default, each with a warning', () => {
    const text = 'x\nSteps: 0, Sampler: DDIM, CFG scale: lots, Seed: -1, Size: 9000x9000, Clip x0: maybe';
    const { settings, warnings } = settingsFromPng(encodePng(pixels(), { text: { parameters: text } }), DEFAULTS);
    expect(settings).toEqual({ ...DEFAULTS, prompt: 'x', eta: 0 });
    expect(warnings).toHaveLength(5);
    expect(warnings[0]).toBe('ignored "Steps: 0": not a valid value for steps');
  });

  test('an iTXt parameters chunk (a non-Latin-1 prompt) is read too', () => {
    const png = encodePng(pixels(), { itxt: { parameters: '富士山\nSteps: 8, Sampler: STSP-2, CFG scale: 2, Seed: 5, Size: 16x16' } });
    expect(settingsFromPng(png, DEFAULTS).settings).toMatchObject({ prompt: '富士山', solver: 'stsp2', steps: 8 });
  });

  test('a broken split-studio chunk falls back to parameters with a warning, or fails without them', () => {
    const bad = encodePng(pixels(), { text: { parameters: A1111_UNIPC_WINDOWS }, itxt: { 'split-studio': '{"task": "txt2img"' } });
    const read = settingsFromPng(bad, DEFAULTS);
    expect(read.source).toBe('a1111');
    expect(read.warnings[0]).toMatch(/split-studio settings are invalid \(not JSON/);
    const foreignKeys = encodePng(pixels(), { itxt: { 'split-studio': JSON.stringify({ ...SETTINGS, sampler: 'x' }) } });
    expect(() => settingsFromPng(foreignKeys, DEFAULTS)).toThrow(PngMetadataError);
    expect(() => settingsFromPng(foreignKeys, DEFAULTS)).toThrow(/split-studio settings are invalid/);
  });

  test('bad or foreign PNGs are a PngMetadataError with a reason', () => {
    const reason = (bytes: Uint8Array) => {
      try {
        settingsFromPng(bytes, DEFAULTS);
      } catch (error) {
        expect(error).toBeInstanceOf(PngMetadataError);
        return [(error as PngMetadataError).reason, (error as Error).message];
      }
      return null;
    };
    expect(reason(new TextEncoder().encode('GIF89a not a png'))).toEqual(['not-png', expect.stringMatching(/^not a valid PNG file: PNG: /)]);
    const good = encodePng(pixels(), { text: { parameters: A1111_SD15 } });
    expect(reason(good.subarray(0, good.length - 20))?.[0]).toBe('not-png');
    const corrupt = good.slice();
    corrupt[50] ^= 0xff; // inside the tEXt data (chunk at byte 33): CRC mismatch
    expect(reason(corrupt)).toEqual(['not-png', expect.stringMatching(/CRC mismatch/)]);
    expect(reason(encodePng(pixels(), { text: { Comment: 'hello' } }))).toEqual(['no-metadata', expect.stringMatching(/no generation settings/)]);
  });

  test('the chunks are well-formed: CRCs check, readPngText returns them', () => {
    const png = encodePng(pixels(), pngTextOptions({ ...SETTINGS, prompt: 'Zürich 東京' }, { modelHash: 'h', modelName: 'm' }));
    const chunks = listChunks(png);
    expect(chunks.every((c) => c.crcOk)).toBe(true);
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'iTXt', 'iTXt', 'IDAT', 'IEND']);
    expect(Object.keys(readPngText(png)).sort()).toEqual(['parameters', 'split-studio']);
  });
});

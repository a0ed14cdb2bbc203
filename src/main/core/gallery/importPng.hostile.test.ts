/**
 * Importing hostile PNGs: random bytes and random metadata end in settings that pass the
 * schema, or in PngMetadataError; nothing else escapes, and each input is read in time. The
 * seed is fixed so a failure replays.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { settingsSchema, type ModelSummary } from '../../../shared/contract';
import { encodePng } from '../io/png';
import { type InstalledModel, importPngSettings, pngModelRef } from './importPng';
import { PngMetadataError } from './pngMetadata';

const SEED = 20261130;
const MAX_MS = 200;

const summary = (over: Partial<ModelSummary>): ModelSummary => ({
  id: '/m', name: 'M', kind: 'pixel', width: null, height: null, hasText: true, classLabels: null, tasks: [], defaults: {}, spacing: 'linspace', builtin: true, ...over,
});
const model = (id: string, name: string, over: Partial<ModelSummary>): InstalledModel => ({ id, name, summary: async () => summary({ id, name, ...over }), unetHash: async () => 'abcdef0123' });
const MODELS = [
  model('/a', 'Emoji 32', { width: 32, height: 32, classLabels: ['x', 'y'], tasks: ['txt2img', 'img2img', 'inpaint'] }),
  model('/b', 'Latent', { kind: 'latent', hasText: true, defaults: { solver: 'ddim', steps: 10 } }),
  model('/c', 'Pixels', { hasText: false, width: 8, height: 8 }),
];

const FIELDS = ['Steps', 'Sampler', 'CFG scale', 'Seed', 'Size', 'Model hash', 'Model', 'Denoising strength', 'Classifier scale', 'Class', 'Spacing', 'Solver id', 'Task', 'Condition at', 'Consistency scale', 'Clip x0', 'Schedule type'];
const value = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.double().map(String),
  fc.integer().map(String),
  fc.constantFrom('NaN', '-0', '1e999', '0x10', '64x64', '0x0', '99999x1', 'img2img', 'inpaint', 'colorize', 'ddim', 'DPM++ 2M Karras', 'auto', 'on', '[1,2]', '{"a":1}', 'Emoji 32', 'Latent', 'abcdef0123', '""', '"a, b"'),
);
const parameters = fc.tuple(fc.string({ maxLength: 30 }), fc.option(fc.string({ maxLength: 30 })), fc.array(fc.tuple(fc.constantFrom(...FIELDS), value), { maxLength: 12 })).map(
  ([prompt, negative, fields]) => [prompt, ...(negative === null ? [] : [`Negative prompt: ${negative}`]), fields.map(([k, v]) => `${k}: ${v}`).join(', ')].join('\n'),
);
const clean = (s: string) => s.replace(/[\0\r]/g, '').replace(/[\uD800-\uDFFF]/g, '?');

async function checkImport(bytes: Uint8Array, currentId: string | null, maxMs = MAX_MS): Promise<void> {
  const start = performance.now();
  try {
    pngModelRef(bytes);
    const r = await importPngSettings(bytes, MODELS, currentId);
    expect(settingsSchema.safeParse(r.settings).success).toBe(true);
  } catch (error) {
    if (!(error instanceof PngMetadataError)) throw error;
  }
  expect(performance.now() - start).toBeLessThan(maxMs);
}

describe('importPngSettings on hostile PNGs', () => {
  test('random bytes: PngMetadataError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        await expect(importPngSettings(bytes, MODELS, '/a')).rejects.toThrow(PngMetadataError);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test('random A1111 fields and split-studio JSON: valid settings or PngMetadataError, in time', async () => {
    await fc.assert(
      fc.asyncProperty(parameters, fc.option(fc.oneof(fc.json({ maxDepth: 2 }), fc.string({ maxLength: 40 }))), fc.constantFrom('/a', '/b', '/c', null), async (p, own, current) => {
        const itxt: Record<string, string> = { parameters: clean(p) };
        if (own !== null) itxt['split-studio'] = clean(own);
        await checkImport(encodePng({ width: 1, height: 1, channels: 4, data: new Uint8Array(4) }, { itxt }), current);
      }),
      { seed: SEED, numRuns: 600 },
    );
  });

  // Each input is parsed three times here (pngModelRef, then importPngSettings' model reference
  // and settings); the old parser took seconds to minutes for each.
  test('a 1 MB hostile parameters chunk is imported in under a second', async () => {
    for (const p of ['ab '.repeat(350_000), `a\n${'Steps: 1, '.repeat(100_000)}`, `x\nModel: ${'a: "x, '.repeat(150_000)}`]) {
      await checkImport(encodePng({ width: 1, height: 1, channels: 4, data: new Uint8Array(4) }, { text: { parameters: p } }), '/a', 1000);
    }
  });
});

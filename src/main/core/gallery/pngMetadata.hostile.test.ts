/**
 * Hostile `parameters` text: parsing must be linear (no regular expression that backtracks
 * super-linearly), give the same fields as A1111's re_param on ordinary text, and never throw
 * anything but PngMetadataError. Seeds are fixed (and printed on failure by fast-check) so a
 * failure replays.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Settings } from '../../../shared/contract';
import { encodePng } from '../io/png';
import { pngModelRef } from './importPng';
import { parseA1111Parameters } from './a1111Infotext';
import { PngMetadataError, settingsFromPng } from './pngMetadata';

const SEED = 20261130;
/**
 * Per-input bound: far above the linear parser's few milliseconds per MB, far below the old
 * parser's (8.6 s for 60 kB of "ab ab ab"). No test of time ratios: on this shared machine a
 * garbage collection alone moves them by 10x.
 */
const MAX_MS = 200;

const DEFAULTS: Settings = {
  task: 'txt2img', prompt: '', negativePrompt: '', classLabel: null, classifierScale: 0, solver: 'ddim', steps: 20, guidance: 1,
  conditionAt: 'exact', consistencyScale: 0.01, seed: 0, width: 32, height: 32, spacing: 'linspace', clipX0: null, strength: 1,
};

/** The fastest of `tries` runs: this machine is shared, and a pause elsewhere is not the parser's. */
function timed<T>(run: () => T, tries = 1): { value: T; ms: number } {
  let best = Infinity;
  let value!: T;
  for (let i = 0; i < tries; i++) {
    const start = performance.now();
    value = run();
    best = Math.min(best, performance.now() - start);
  }
  return { value, ms: best };
}

/** The regular expression A1111 (and this module before) used: the reference for ordinary, short lines. */
const REFERENCE_RE = /\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/g;
/** The fields A1111 reads from a last line: none unless the line has at least three matches. */
function referenceFields(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const matches = [...line.matchAll(REFERENCE_RE)];
  if (matches.length < 3) return fields;
  for (const m of matches) {
    const v = m[2].trim();
    let value = v;
    if (v.length >= 2 && v[0] === '"' && v[v.length - 1] === '"') {
      try {
        const parsed: unknown = JSON.parse(v);
        if (typeof parsed === 'string') value = parsed;
      } catch {
        // kept as written
      }
    }
    fields[m[1].trim()] = value;
  }
  return fields;
}

/** The shapes that made the old parser super-linear, each about `size` characters. */
const ADVERSARIAL: Record<string, (size: number) => string> = {
  'a run of ", "': (n) => `a${', '.repeat(n / 2)}`,
  'a run of ": "': (n) => `a${': '.repeat(n / 2)}`,
  'words with no colon': (n) => 'ab '.repeat(n / 3),
  'many key: value pairs': (n) => 'Key: value, '.repeat(n / 12),
  'unclosed quotes after every key': (n) => 'a: "x, '.repeat(n / 7),
  'one long quote': (n) => `Steps: 1, Seed: 2, Sampler: "${'x'.repeat(n)}`,
  'a long closed quote followed by junk': (n) => `Steps: 1, Seed: 2, A: "${'\\"'.repeat(n / 2)}" junk`,
  'backslash runs in quotes': (n) => 'k: "\\\\\\'.repeat(n / 7),
  'a long run of digits': (n) => `Steps: ${'1'.repeat(n)}x, Seed: 2, CFG scale: ${'9'.repeat(n)}.`,
  'spaces before a colon': (n) => `ab${' '.repeat(n)}x`,
  'a long key': (n) => `${'k-/ '.repeat(n / 4)}: v, a: b, c: d`,
};

describe('A1111 parameters parsing is linear', () => {
  for (const [name, make] of Object.entries(ADVERSARIAL)) {
    test(`${name}, 1 MB on the last line and as the prompt, under ${MAX_MS} ms`, () => {
      const line = make(1 << 20);
      for (const text of [line, `a prompt\n${line}`, `${line}\nSteps: 1, Seed: 2, Sampler: DDIM`]) {
        const parse = timed(() => parseA1111Parameters(text), 3);
        expect(parse.ms, `${name}: parseA1111Parameters took ${parse.ms.toFixed(0)} ms`).toBeLessThan(MAX_MS);
        const bytes = encodePng({ width: 1, height: 1, channels: 4, data: new Uint8Array(4) }, { text: { parameters: text } });
        const read = timed(() => {
          try {
            settingsFromPng(bytes, DEFAULTS);
            pngModelRef(bytes);
          } catch (error) {
            if (!(error instanceof PngMetadataError)) throw error;
          }
        }, 2);
        expect(read.ms, `${name}: settingsFromPng took ${read.ms.toFixed(0)} ms`).toBeLessThan(MAX_MS * 2);
      }
    });
  }

  test('random concatenations of hostile fragments up to ~1 MB, each under the bound', () => {
    const fragment = fc.constantFrom(', ', ': ', 'Key: value', '"', '\\', '\\"', 'ab ', '1', ' ', 'Steps', '\n', 'Negative prompt:', '\u2028', ',');
    const text = fc.tuple(fc.array(fragment, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 1 << 17 })).map(([parts, times]) => parts.join('').repeat(times).slice(0, 1 << 20));
    fc.assert(
      fc.property(text, (t) => {
        const r = timed(() => parseA1111Parameters(t), 3);
        return r.ms < MAX_MS;
      }),
      { seed: SEED, numRuns: 40 },
    );
  });
});

describe('A1111 parameters parsing agrees with re_param', () => {
  const alphabet = fc.constantFrom('a', 'B', '_', '1', ' ', '-', '/', ':', ',', '"', '\\', '\t', 'x', 'é', '\u2028');
  test('same fields as the regular expression on short random lines', () => {
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }).map((a) => a.join('')), (line) => {
        const text = `prompt\n${line}`;
        expect(parseA1111Parameters(text).fields).toEqual(referenceFields(line.trim()));
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  test('same fields on random Key: value lines with quoted values', () => {
    const key = fc.constantFrom('Steps', 'CFG scale', 'Lora hashes', 'a-b/c', 'x');
    const value = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)), fc.constantFrom('"', '"a', '""', '"a\\"', '"a"b'));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 8 }), (pairs) => {
        const line = pairs.map(([k, v]) => `${k}: ${v}`).join(', ');
        expect(parseA1111Parameters(`p\n${line}`).fields).toEqual(referenceFields(line.trim()));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('settingsFromPng on random parameters and split-studio text', () => {
  test('never throws anything but PngMetadataError; returns valid settings otherwise', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 200, unit: 'binary' }),
      fc.array(fc.tuple(fc.constantFrom('Steps', 'Seed', 'CFG scale', 'Size', 'Sampler', 'Spacing', 'Class', 'Task', 'Clip x0', 'Solver id', 'Denoising strength', 'Model hash'), fc.string({ maxLength: 20 })), { maxLength: 10 }).map((pairs) => pairs.map(([k, v]) => `${k}: ${v}`).join(', ')),
    );
    fc.assert(
      fc.property(text, fc.option(fc.oneof(fc.string({ maxLength: 100 }), fc.json({ maxDepth: 3 }))), (parameters, own) => {
        const clean = (s: string) => s.replace(/[\0\r]/g, '').replace(/[\uD800-\uDFFF]/g, '?');
        const itxt: Record<string, string> = { parameters: clean(parameters) };
        if (own !== null) itxt['split-studio'] = clean(own);
        const bytes = encodePng({ width: 1, height: 1, channels: 4, data: new Uint8Array(4) }, { itxt });
        const r = timed(() => {
          try {
            const read = settingsFromPng(bytes, DEFAULTS);
            expect(read.settings.steps).toBeGreaterThanOrEqual(1);
            pngModelRef(bytes);
          } catch (error) {
            if (!(error instanceof PngMetadataError)) throw error;
          }
        });
        expect(r.ms).toBeLessThan(MAX_MS);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

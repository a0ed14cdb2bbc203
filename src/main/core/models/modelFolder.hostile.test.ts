/**
 * Hostile model folders and models.json: bounded reads, sane counts, regular network files,
 * answers that quote nothing of the files they read, and random JSON that only ever fails
 * with ModelFolderError. Seeds are fixed so a failure replays.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { MAX_CLASSES, MAX_JSON_BYTES, ModelFolderError, readModelFolder } from './modelFolder';
import { ModelRegistry } from './registry';

const SEED = 20261130;
const MAX_MS = 200;
const root = mkdtempSync(path.join(os.tmpdir(), 'model-folder-hostile-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** A minimal valid pixel model folder; `files` overrides or adds files (null removes one). */
function folder(files: Record<string, string | Buffer | null> = {}): string {
  const dir = path.join(root, `m${counter++}`);
  const all: Record<string, string | Buffer | null> = {
    'model_index.json': '{"_class_name": "DDPMPipeline"}',
    'unet/model.onnx': Buffer.from([8, 1]),
    'scheduler/scheduler_config.json': '{"num_train_timesteps": 1000}',
    ...files,
  };
  mkdirSync(dir);
  for (const [name, content] of Object.entries(all)) {
    if (content === null) continue;
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

const SECRET = 'root:x:0:0:TOP-SECRET-CONTENT';
const secretFile = path.join(root, 'secret.txt');
writeFileSync(secretFile, `${SECRET}\n`);
const canMakeFifo = (() => {
  try {
    execFileSync('mkfifo', [path.join(root, 'probe.fifo')]);
    return true;
  } catch {
    return false;
  }
})();

describe('reads are bounded and files must be regular', () => {
  test('a valid folder still reads', () => {
    expect(readModelFolder(folder()).kind).toBe('pixel');
  });

  test('model_index.json, studio.json or scheduler config linked to /dev/zero: refused without reading', () => {
    for (const name of ['model_index.json', 'studio.json', 'scheduler/scheduler_config.json', 'classifier/config.json']) {
      const dir = folder({ 'classifier/model.onnx': Buffer.from([1]), 'classifier/config.json': '{"num_classes": 2}', [name]: null });
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      symlinkSync('/dev/zero', path.join(dir, name));
      const error = errorOf(() => readModelFolder(dir));
      expect(error).toBeInstanceOf(ModelFolderError);
      expect(error.message).toContain(`${name} cannot be read`);
    }
  });

  test.skipIf(!canMakeFifo)('a FIFO as a config or as unet/model.onnx: refused, no hang', () => {
    for (const name of ['model_index.json', 'unet/model.onnx']) {
      const dir = folder({ [name]: null });
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      execFileSync('mkfifo', [path.join(dir, name)]);
      expect(() => readModelFolder(dir)).toThrow(new RegExp(`${name.replace('.', '\\.')} cannot be read`));
    }
  });

  test('network files must be regular files: /dev/zero, a folder or a dangling link as model.onnx are refused', () => {
    for (const component of ['unet', 'classifier', 'text_encoder', 'vae_decoder', 'vae_encoder']) {
      const name = `${component}/model.onnx`;
      const zero = folder({ [name]: null });
      mkdirSync(path.join(zero, component), { recursive: true });
      symlinkSync('/dev/zero', path.join(zero, name));
      expect(() => readModelFolder(zero), name).toThrow(`${name} cannot be read (it must be a readable regular file)`);
      const dirAsFile = folder({ [name]: null });
      mkdirSync(path.join(dirAsFile, name), { recursive: true });
      expect(() => readModelFolder(dirAsFile), name).toThrow(`${name} cannot be read`);
    }
  });

  test('a latent folder\'s optional unet/ and vae_decoder/config.json: bad JSON is ignored, /dev/zero refused', () => {
    const latent = { 'vae_decoder/model.onnx': Buffer.from([1]) };
    expect(readModelFolder(folder({ ...latent, 'vae_decoder/config.json': '{not json' })).defaults.width).toBe(512);
    for (const name of ['unet/config.json', 'vae_decoder/config.json']) {
      const dir = folder(latent);
      symlinkSync('/dev/zero', path.join(dir, name));
      expect(() => readModelFolder(dir)).toThrow(`${name} cannot be read`);
    }
  });

  test('an oversized JSON file is refused before it is read', () => {
    const dir = folder({ 'studio.json': Buffer.alloc(MAX_JSON_BYTES + 1, 32) });
    expect(() => readModelFolder(dir)).toThrow(/studio\.json cannot be read \(it must be a readable regular file of at most 4 MiB\)/);
  });

  test('a huge class count is refused before labels are made (no gigabytes allocated)', () => {
    for (const count of [2 ** 31, 1e15, MAX_CLASSES + 1]) {
      const dir = folder({ 'classifier/model.onnx': Buffer.from([1]), 'classifier/config.json': JSON.stringify({ num_classes: count }) });
      const start = performance.now();
      expect(() => readModelFolder(dir)).toThrow(`classifier/config.json needs "num_classes" (an integer from 1 to ${MAX_CLASSES}), got ${count}`);
      expect(performance.now() - start).toBeLessThan(MAX_MS);
    }
    const ok = folder({ 'classifier/model.onnx': Buffer.from([1]), 'classifier/config.json': JSON.stringify({ num_classes: 3 }) });
    expect(readModelFolder(ok).classLabels).toEqual(['class 0', 'class 1', 'class 2']);
  });
});

describe('answers tell what a model folder needs, never what other files hold', () => {
  test('a file linked from elsewhere is not quoted when it is not JSON', () => {
    for (const name of ['model_index.json', 'scheduler/scheduler_config.json', 'studio.json', 'classifier/config.json']) {
      const dir = folder({ 'classifier/model.onnx': Buffer.from([1]), 'classifier/config.json': '{"num_classes": 2}', [name]: null });
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      symlinkSync(secretFile, path.join(dir, name));
      const error = errorOf(() => readModelFolder(dir));
      expect(error.message).toMatch(new RegExp(`${name.replace('.', '\\.')} is not valid JSON \\((an unexpected character|at line 1, column \\d+)\\)$`));
      expect(error.message).not.toContain('root');
      expect(error.message).not.toContain('SECRET');
    }
  });

  test('a JSON error names the place, not the text', () => {
    const dir = folder({ 'model_index.json': '{\n  "a": 1,\n  "b": SECRET\n}' });
    expect(errorOf(() => readModelFolder(dir)).message).toMatch(/model_index\.json is not valid JSON \((at line 3, column \d+|an unexpected character)\)$/);
    expect(errorOf(() => readModelFolder(folder({ 'model_index.json': '{"a": ' }))).message).toMatch(/model_index\.json is not valid JSON \(it ends too early\)$/);
  });

  test('string values a config gets wrong are named by kind, not quoted', () => {
    const scheduler = folder({ 'scheduler/scheduler_config.json': JSON.stringify({ beta_schedule: SECRET }) });
    expect(errorOf(() => readModelFolder(scheduler)).message).toMatch(/"beta_schedule" must be one of .*, got a string$/);
    const studio = folder({ 'studio.json': JSON.stringify({ defaults: { steps: SECRET } }) });
    expect(errorOf(() => readModelFolder(studio)).message).toMatch(/studio\.json defaults\.steps is invalid: a string$/);
    const spacing = folder({ 'studio.json': JSON.stringify({ defaults: { spacing: SECRET } }) });
    expect(errorOf(() => readModelFolder(spacing)).message).toMatch(/studio\.json defaults\.spacing is invalid: a string; use one of linspace, leading, trailing, karras, logsnr$/);
    for (const dir of [scheduler, studio, spacing]) expect(errorOf(() => readModelFolder(dir)).message).not.toContain('SECRET');
    expect(readModelFolder(folder({ 'studio.json': JSON.stringify({ defaults: { spacing: 'karras' } }) })).defaults.spacing).toBe('karras');
  });

  test('a missing link target and an unreadable one give the same answer', () => {
    const dangling = folder({ 'model_index.json': null });
    symlinkSync(path.join(root, 'no-such-file'), path.join(dangling, 'model_index.json'));
    const device = folder({ 'model_index.json': null });
    symlinkSync('/dev/null', path.join(device, 'model_index.json'));
    const answer = (dir: string) => errorOf(() => readModelFolder(dir)).message.replace(dir, 'DIR');
    expect(answer(dangling)).toBe('model folder DIR: model_index.json cannot be read (it must be a readable regular file of at most 4 MiB)');
    expect(answer(device)).toBe(answer(dangling));
  });

  test('a folder that is not a model folder says what it needs', () => {
    expect(() => readModelFolder(folder({ 'model_index.json': null }))).toThrow(/not a model folder: needs model_index\.json$/);
    expect(() => readModelFolder(folder({ 'unet/model.onnx': null }))).toThrow(/not a model folder: needs unet\/model\.onnx$/);
    expect(() => readModelFolder(folder({ 'scheduler/scheduler_config.json': null }))).toThrow(/not a model folder: needs scheduler\/scheduler_config\.json$/);
  });

  test('the registry import answers with the same messages, quoting nothing', () => {
    const data = mkdtempSync(path.join(root, 'data-'));
    const registry = new ModelRegistry(data);
    const dir = folder({ 'model_index.json': null });
    symlinkSync(secretFile, path.join(dir, 'model_index.json'));
    const error = errorOf(() => registry.import(dir));
    expect(error).toBeInstanceOf(ModelFolderError);
    expect(error.message).not.toContain('SECRET');
    expect(() => registry.import('/etc')).toThrow(/model folder \/etc: not a model folder: needs model_index\.json$/);
  });
});

describe('models.json', () => {
  test('a damaged list is moved aside once, not copied on every call', () => {
    const data = mkdtempSync(path.join(root, 'data-'));
    const list = path.join(data, 'models.json');
    writeFileSync(list, '{"imported": [');
    const registry = new ModelRegistry(data);
    for (let i = 0; i < 5; i++) expect(registry.importedDirs()).toEqual([]);
    const aside = readdirSync(data).filter((f) => f.startsWith('models.json.damaged-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(path.join(data, aside[0]), 'utf8')).toBe('{"imported": [');
    // The next import starts a fresh list.
    const model = folder();
    registry.import(model);
    expect(registry.importedDirs()).toEqual([path.resolve(model)]);
    expect(readdirSync(data).filter((f) => f.startsWith('models.json.damaged-'))).toHaveLength(1);
  });

  test('models.json as a folder, /dev/zero or oversized: set aside once, no hang', () => {
    for (const make of [
      (list: string) => mkdirSync(list),
      (list: string) => symlinkSync('/dev/zero', list),
      (list: string) => writeFileSync(list, Buffer.alloc(4 * 1024 * 1024 + 1, 32)),
    ]) {
      const data = mkdtempSync(path.join(root, 'data-'));
      make(path.join(data, 'models.json'));
      const registry = new ModelRegistry(data);
      expect(registry.importedDirs()).toEqual([]);
      expect(registry.importedDirs()).toEqual([]);
      expect(existsSync(path.join(data, 'models.json'))).toBe(false);
      expect(readdirSync(data).filter((f) => f.startsWith('models.json.damaged-'))).toHaveLength(1);
    }
  });

  test('random bytes and random JSON as models.json: a list of strings or [], never a throw', () => {
    const data = mkdtempSync(path.join(root, 'data-'));
    const registry = new ModelRegistry(data);
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), fc.json({ maxDepth: 4 }), fc.record({ imported: fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null))) }).map((o) => JSON.stringify(o))), (content) => {
        writeFileSync(path.join(data, 'models.json'), content);
        const dirs = registry.importedDirs();
        expect(Array.isArray(dirs) && dirs.every((d) => typeof d === 'string')).toBe(true);
        for (const f of readdirSync(data)) if (f.startsWith('models.json.damaged-')) rmSync(path.join(data, f));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});

describe('random JSON and bytes in every JSON file of a folder', () => {
  const files = ['model_index.json', 'scheduler/scheduler_config.json', 'studio.json', 'classifier/config.json', 'unet/config.json'];
  const content = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    fc.json({ maxDepth: 4 }),
    fc.record({ num_classes: fc.oneof(fc.integer(), fc.double(), fc.constant(1e300), fc.string()), labels: fc.option(fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 5 })) }).map((o) => JSON.stringify(o)),
    fc.record({ name: fc.oneof(fc.string(), fc.integer()), defaults: fc.oneof(fc.constant(null), fc.record({ steps: fc.oneof(fc.integer(), fc.string(), fc.double()), width: fc.double(), solver: fc.oneof(fc.string(), fc.integer()) })) }).map((o) => JSON.stringify(o)),
    fc.record({ num_train_timesteps: fc.oneof(fc.integer(), fc.double(), fc.string()), beta_schedule: fc.string(), timestep_spacing: fc.oneof(fc.string(), fc.constant(null)), prediction_type: fc.string() }).map((o) => JSON.stringify(o)),
  );
  test('readModelFolder returns a folder or throws ModelFolderError, within the time bound', () => {
    let made = 0;
    fc.assert(
      fc.property(fc.constantFrom(...files), content, fc.boolean(), (name, bytes, latent) => {
        const dir = folder({ 'classifier/model.onnx': Buffer.from([1]), 'classifier/config.json': '{"num_classes": 2}', [name]: bytes, ...(latent ? { 'vae_decoder/model.onnx': Buffer.from([1]) } : {}) });
        made++;
        const start = performance.now();
        try {
          const read = readModelFolder(dir);
          expect(typeof read.name).toBe('string');
          expect(read.classLabels!.length).toBeLessThanOrEqual(MAX_CLASSES);
        } catch (error) {
          if (!(error instanceof ModelFolderError)) throw error;
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        expect(performance.now() - start).toBeLessThan(MAX_MS);
      }),
      { seed: SEED, numRuns: 300 },
    );
    expect(made).toBeGreaterThan(0);
  });
});

/**
 * finish() under write faults (a full disk, simulated by replacing the staged write): the
 * error is one line naming the output, nothing is recorded in the gallery, and no file (final
 * or temporary) is left; and the output-path check refuses what it can before any work.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Settings } from '../shared/contract';
import { GalleryStore } from '../main/core/gallery/store';
import { readModelFolder } from '../main/core/models/modelFolder';
import type { Pipeline, PipelineResult } from '../main/core/pipelines/pipeline';
import { UsageError } from './args';
import { checkOutputPath, finish, stageFile, stagingIo } from './run';

const root = path.resolve(__dirname, '../..');
const exact8 = path.join(root, 'resources/exact/gmm-3x8x8');
const SETTINGS: Settings = {
  task: 'txt2img', prompt: '', negativePrompt: '', classLabel: null, classifierScale: 0, solver: 'stsp4', steps: 4, guidance: 1,
  conditionAt: 'exact', consistencyScale: 0.01, seed: 7, width: 8, height: 8, spacing: 'linspace', clipX0: null, strength: 1,
};

let dir: string;
let home: string;
const realWrite = stagingIo.writeFileSync;

function enospc(): never {
  throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
}

function fakeRun(): { model: Pipeline; result: PipelineResult } {
  const model = { folder: readModelFolder(exact8), provider: 'cpu' } as unknown as Pipeline;
  const image = { width: 8, height: 8, data: new Uint8Array(256).map((_, i) => (i % 4 === 3 ? 255 : (i * 29) & 0xff)) };
  const result = {
    x: new Float32Array(192).fill(0.25), shape: [1, 3, 8, 8], image, warnings: [], timesteps: [999, 666, 333, 0], samplingMs: 1,
    cost: { nfe: 4, networkRows: 4, guidanceEvaluations: 0, classifierCalls: 0, runtimeMs: 1 },
  } as unknown as PipelineResult;
  return { model, result };
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'split-finish-'));
  home = mkdtempSync(path.join(os.tmpdir(), 'split-finish-home-'));
});
afterEach(() => {
  stagingIo.writeFileSync = realWrite;
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe('finish under a full disk', () => {
  test('the x0 dump fails to write: a UsageError naming it, no row, no file, no temp file', async () => {
    let writes = 0;
    stagingIo.writeFileSync = (file, data) => (++writes === 2 ? enospc() : realWrite(file, data));
    const gallery = GalleryStore.open(home, { orphanGraceMs: 0 });
    try {
      const { model, result } = fakeRun();
      const out = path.join(dir, 'x.png');
      const dump = path.join(dir, 'x.npy');
      const error = await finish({ gallery, model, settings: SETTINGS, result, totalMs: 5, parentId: null, outFile: out, dumpFile: dump }).catch((e) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toBe(`cannot write --dump-x0 ${dump}: no space left on the device (ENOSPC)`);
      expect(gallery.list({ includeDeleted: true }).total).toBe(0);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      gallery.close();
    }
  });

  test('the gallery fails to write its image: a UsageError, the staged outputs removed', async () => {
    const gallery = { add: enospc, imagesDir: path.join(home, 'images') } as unknown as GalleryStore;
    const { model, result } = fakeRun();
    const error = await finish({ gallery, model, settings: SETTINGS, result, totalMs: 5, parentId: null, outFile: path.join(dir, 'y.png') }).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/^cannot write the gallery image in .*images: no space left on the device \(ENOSPC\)$/);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('without faults, the user\'s copy is the gallery\'s file byte for byte', async () => {
    const gallery = GalleryStore.open(home, { orphanGraceMs: 0 });
    try {
      const { model, result } = fakeRun();
      const out = path.join(dir, 'z.png');
      const finished = await finish({ gallery, model, settings: SETTINGS, result, totalMs: 5, parentId: null, outFile: out });
      expect(finished.generationId).toBe(1);
      expect(readFileSync(out).equals(readFileSync(gallery.imageFile(1)!))).toBe(true);
      expect(readdirSync(dir)).toEqual(['z.png']);
    } finally {
      gallery.close();
    }
  });

  test('stageFile: a failed write leaves no temp file; discard removes it; commit puts it in place', () => {
    stagingIo.writeFileSync = enospc;
    expect(() => stageFile(path.join(dir, 'a.bin'), new Uint8Array(4), '--out')).toThrow(/cannot write --out .*a\.bin: no space left on the device \(ENOSPC\)/);
    expect(readdirSync(dir)).toEqual([]);
    stagingIo.writeFileSync = realWrite;
    stageFile(path.join(dir, 'b.bin'), new Uint8Array(4), '--out').discard();
    expect(readdirSync(dir)).toEqual([]);
    stageFile(path.join(dir, 'c.bin'), new Uint8Array([1, 2]), '--out').commit();
    expect([...readFileSync(path.join(dir, 'c.bin'))]).toEqual([1, 2]);
  });
});

describe('checkOutputPath', () => {
  test('a folder, a missing folder, a device: refused before any work', () => {
    mkdirSync(path.join(dir, 'sub'));
    expect(() => checkOutputPath(path.join(dir, 'sub'), '--out')).toThrow(/is a folder; give a file name/);
    expect(() => checkOutputPath(path.join(dir, 'nope', 'x.png'), '--out')).toThrow(/does not exist/);
    expect(() => checkOutputPath('/dev/null', '--out')).toThrow(/is not a regular file/);
    writeFileSync(path.join(dir, 'exists.png'), 'x');
    expect(checkOutputPath(path.join(dir, 'exists.png'), '--out')).toBe(path.join(dir, 'exists.png'));
  });

  test('any path: accepted as given or refused with a UsageError, never another error, never a file made', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', '.', '..', '/', '/proc', '/dev/zero', 'a\0b', dir, `${dir}/`)), (name) => {
        try {
          expect(checkOutputPath(name, '--out')).toBe(name);
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
          expect((error as Error).message).not.toContain('\n');
        }
        expect(existsSync(path.join(dir, 'sub'))).toBe(false);
      }),
    );
  });
});

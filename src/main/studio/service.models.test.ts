/**
 * The service's model operations with a real registry and gallery on a temporary data folder
 * (a fake engine host answers the size check): removing an added model, what a restart still
 * sees, the generations it leaves in the gallery, and a re-run of one of them.
 */
import { cpSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { ModelSummary, OperationOutputs, Settings } from '../../shared/contract';
import { GalleryStore } from '../core/gallery/store';
import { readModelFolder } from '../core/models/modelFolder';
import { ModelRegistry } from '../core/models/registry';
import type { EngineHost } from './engineHost';
import { createStudioService } from './service';

const root = path.resolve(__dirname, '../../..');
const exact8 = path.join(root, 'resources/exact/gmm-3x8x8');
const settings: Settings = {
  task: 'txt2img', prompt: '', negativePrompt: '', classLabel: 1, classifierScale: 4, solver: 'ddim', steps: 3, guidance: 1,
  conditionAt: 'exact', consistencyScale: 0.01, seed: 1, width: 8, height: 8, spacing: 'linspace', clipX0: null, strength: 1,
};

let data: string;
let added: string;
const galleries: GalleryStore[] = [];
/** The jobs the fake engine was given: a refused re-run must start none. */
let runs: string[];
/** Folders the fake engine cannot open, with its reason. */
let unopenable: Map<string, string>;

/** The studio's main side as a launch makes it: registry and gallery on the data folder. */
function launch() {
  const gallery = GalleryStore.open(data);
  galleries.push(gallery);
  const host = {
    newJobId: () => 'job-1',
    validate: async (dir: string) => {
      const reason = unopenable.get(dir);
      if (reason) throw new Error(reason);
      return { width: 8, height: 8 };
    },
    run: async (job: { modelDir: string }) => void runs.push(job.modelDir),
    cancel: () => false,
  } as unknown as EngineHost;
  const service = createStudioService({ registry: new ModelRegistry(data), host, gallery, emit: () => {}, providers: ['cpu'] });
  return { gallery, call: <K extends keyof OperationOutputs>(op: K, input: unknown) => service.handle(op, input) as Promise<OperationOutputs[K]> };
}

beforeEach(() => {
  data = mkdtempSync(path.join(os.tmpdir(), 'split-service-models-'));
  added = path.join(mkdtempSync(path.join(os.tmpdir(), 'split-added-')), 'my-mixture');
  cpSync(exact8, added, { recursive: true });
  runs = [];
  unopenable = new Map();
});
afterEach(() => {
  for (const g of galleries.splice(0)) g.close();
});

function addGeneration(gallery: GalleryStore, modelId: string, modelName: string) {
  return gallery.add({
    settings, modelId, modelName, modelHash: 'abcdef1234', provider: 'cpu',
    cost: { nfe: 3, networkRows: 3, guidanceEvaluations: 3, classifierCalls: 3 }, durationMs: 5, warnings: [], parentId: null,
    fingerprint: { engineVersion: 'test', onnxruntimeVersion: 'test', provider: 'cpu', modelHashes: {}, noiseGenerator: 'test' },
    image: { width: 8, height: 8, data: new Uint8Array(8 * 8 * 4).fill(200) },
  });
}

test('an added model is removed: gone from the list now and after a restart, its generations stay with their model name', async () => {
  const first = launch();
  const summary = await first.call('importModel', { path: added });
  expect(summary).toMatchObject({ id: added, builtin: false, forTesting: true, width: 8, height: 8 });
  const name = readModelFolder(added).name;
  const kept = addGeneration(first.gallery, added, name);
  const trashed = addGeneration(first.gallery, added, name);
  first.gallery.trash(trashed.id);
  const other = addGeneration(first.gallery, exact8, 'built-in');

  expect(await first.call('removeModel', { id: added })).toEqual({ id: added, name, generationsKept: 2 });
  expect((await first.call('listModels', {})).map((m: ModelSummary) => m.id)).not.toContain(added);
  const afterRestart = launch();
  const listed = await afterRestart.call('listModels', {});
  expect(listed.map((m: ModelSummary) => m.id)).not.toContain(added);
  expect(listed.map((m: ModelSummary) => m.id)).toContain(exact8);

  const detail = await afterRestart.call('getGeneration', { id: kept.id });
  expect(detail).toMatchObject({ modelId: added, modelName: name, missing: false });
  const gallery = await afterRestart.call('listGallery', {});
  expect(gallery.items.map((g) => g.id).sort()).toEqual([kept.id, other.id].sort());
  expect((await afterRestart.call('getImage', { id: kept.id, thumbnail: false })).length).toBeGreaterThan(0);

  // Re-running it says the model is not installed, naming it and its folder; no job starts.
  await expect(afterRestart.call('rerun', { id: kept.id })).rejects.toMatchObject({
    kind: 'invalid',
    message: `generation ${kept.id} was made with ${name}, which is not installed (removed, or its folder ${added} was moved or cannot be read); add that folder again to re-run it`,
  });
  expect(runs).toEqual([]);
  // Added again, it re-runs.
  await afterRestart.call('importModel', { path: added });
  await afterRestart.call('rerun', { id: kept.id });
  expect(runs).toEqual([added]);
});

test('built-in models and unknown ids are refused with what is wrong, and stay listed', async () => {
  const { call } = launch();
  await expect(call('removeModel', { id: exact8 })).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(/exact reference model .* for testing solvers; it cannot be removed$/) });
  await expect(call('removeModel', { id: added })).rejects.toMatchObject({ kind: 'invalid', message: `${added} is not an added model (those are the folders added with Add in the studio or split-studio models add)` });
  await expect(call('removeModel', { id: '' })).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(/^removeModel: id:/) });
  expect((await call('listModels', {})).map((m: ModelSummary) => m.id)).toContain(exact8);
});

test('adding a built-in folder answers it as built-in, listed once', async () => {
  const { call } = launch();
  expect(await call('importModel', { path: exact8 })).toMatchObject({ id: exact8, builtin: true, forTesting: true });
  expect((await call('listModels', {})).filter((m: ModelSummary) => m.id === exact8)).toHaveLength(1);
});

test('a folder the engine cannot open is refused with its reason and not remembered', async () => {
  const reason = 'unet/model.onnx: input "sample" must have 4 dimensions, got 3';
  unopenable.set(added, reason);
  const { call } = launch();
  await expect(call('importModel', { path: added })).rejects.toMatchObject({ kind: 'invalid', message: `${added}: ${reason}` });
  expect(new ModelRegistry(data).imported()).toEqual([]);
  await expect(call('importModel', { path: path.join(added, 'missing') })).rejects.toMatchObject({ kind: 'invalid', message: `model folder ${path.join(added, 'missing')}: does not exist` });
  unopenable.clear();
  expect(await call('importModel', { path: added })).toMatchObject({ id: added });
  expect(new ModelRegistry(data).imported().map((e) => e.dir)).toEqual([added]);
});

/**
 * The studio's main side end to end in plain Node: the real engine in a forked child
 * process, the real gallery, the service; no browser. Needs the build (npm test builds first).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import type { EventName, GenerationDetail, GenerationRecord, ImportedSettings, Settings, StudioEvents } from '../../shared/contract';
import { type EngineLauncher, nodeLauncher } from './engineHost';
import { TorchGenerator } from '../core/engine/noise/torchRandn';
import { encodeNpy } from '../core/io/npy';
import { decodePng, encodePng } from '../core/io/png';
import { ModelRegistry } from '../core/models/registry';
import { type StudioApp, createStudioApp, engineEntry } from './app';
import { ENGINE_VERSION, createStudioService } from './service';

const root = path.resolve(__dirname, '../../..');
const model = path.join(root, 'resources/exact/gmm-3x32x32');
const exact8 = path.join(root, 'resources/exact/gmm-3x8x8');
let app: StudioApp;
const events: { event: EventName; payload: StudioEvents[EventName] }[] = [];

const settings: Settings = {
  task: 'txt2img', prompt: '', negativePrompt: '', classLabel: 1, classifierScale: 4, solver: 'stsp4', steps: 20, guidance: 1,
  conditionAt: 'exact', consistencyScale: 0.01, seed: 7, width: 32, height: 32, spacing: 'linspace', clipX0: null, strength: 1,
};

function waitFor<E extends EventName>(event: E, jobId: string): Promise<StudioEvents[E]> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const hit = events.find((e) => e.event === event && (e.payload as { jobId: string }).jobId === jobId);
      if (hit) {
        clearInterval(timer);
        resolve(hit.payload as StudioEvents[E]);
      }
    }, 5);
  });
}

/** How long this process took to handle the engine's last 'done' message: saving to the gallery, the re-run report, the event. */
let lastDoneMs = 0;
const timedLauncher = (launch: EngineLauncher): EngineLauncher => () => {
  const handle = launch();
  return {
    ...handle,
    onMessage: (listener) =>
      handle.onMessage((message) => {
        const start = performance.now();
        listener(message);
        if (message.type === 'done') lastDoneMs = performance.now() - start;
      }),
  };
};

beforeAll(() => {
  const entry = engineEntry(path.join(root, 'out/main'));
  if (!existsSync(entry)) throw new Error('build first: npm run build');
  app = createStudioApp({
    launcher: timedLauncher(nodeLauncher(entry)),
    emit: (event, payload) => void events.push({ event, payload }),
    dataDir: mkdtempSync(path.join(os.tmpdir(), 'split-home-')),
    providers: ['cpu'],
  });
});
afterAll(() => app?.close());

test('a generation streams progress with previews, lands in the gallery, and re-runs bit-identically', async () => {
  const { jobId } = (await app.service.handle('generate', { modelId: model, settings })) as { jobId: string };
  const done = await waitFor('done', jobId);
  const progress = events.filter((e) => e.event === 'progress' && (e.payload as { jobId: string }).jobId === jobId).map((e) => e.payload as StudioEvents['progress']);
  expect(progress.map((p) => p.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  expect(progress.at(-1)!.nfeTotal).toBe(20);
  expect(progress.every((p) => p.preview.length > 50)).toBe(true);
  const generation: GenerationRecord = done.generation;
  expect(generation.cost).toMatchObject({ nfe: 20, classifierCalls: 40 });
  const listed = (await app.service.handle('listGallery', {})) as { items: { id: number }[]; total: number };
  expect(listed.items.map((i) => i.id)).toContain(generation.id);

  const rerun = (await app.service.handle('rerun', { id: generation.id })) as { jobId: string };
  const again = await waitFor('done', rerun.jobId);
  expect(again.generation.parentId).toBe(generation.id);
  expect(Buffer.from(again.image).equals(Buffer.from(done.image))).toBe(true);
  // Same machine, same engine: nothing in the fingerprint differs, and the service says the image is the same.
  expect(again.fingerprintChanges).toEqual([]);
  expect(again.identicalToParent).toBe(true);
  expect(done.fingerprintChanges).toBeUndefined();
});

test('re-run with changes records a child of the original, with the changes and the rest of its settings', async () => {
  const { jobId } = (await app.service.handle('generate', { modelId: model, settings: { ...settings, steps: 8, seed: 11 } })) as { jobId: string };
  const original = (await waitFor('done', jobId)).generation;
  const changes = { solver: 'ddim', steps: 5, seed: 12, guidance: 1 };
  const rerun = (await app.service.handle('rerun', { id: original.id, changes })) as { jobId: string };
  const child = await waitFor('done', rerun.jobId);
  expect(child.generation).toMatchObject({ parentId: original.id, solver: 'ddim', steps: 5, seed: 12 });
  expect(child.generation.settings).toEqual({ ...original.settings, ...changes });
  expect(child.fingerprintChanges).toEqual([]);
  expect(child.identicalToParent).toBeUndefined(); // different settings: no comparison
  expect(app.gallery.children(original.id).map((c) => c.id)).toEqual([child.generation.id]);
  await expect(app.service.handle('rerun', { id: original.id, changes: { solver: 'euler-x' } })).rejects.toThrow(/changes\.solver/);
  await expect(app.service.handle('rerun', { id: 99999 })).rejects.toThrow(/no generation 99999/);
});

test('Euler a on karras (fresh noise from the seed\'s generator at every step) is stored, listed, shown, and re-runs pixel-identically', async () => {
  const ancestral: Settings = { ...settings, solver: 'euler-a', spacing: 'karras', steps: 12, seed: 2024, width: 8, height: 8 };
  const { jobId } = (await app.service.handle('generate', { modelId: exact8, settings: ancestral })) as { jobId: string };
  const done = await waitFor('done', jobId);
  expect(done.generation).toMatchObject({ solver: 'euler-a', steps: 12, seed: 2024, cost: { nfe: 12 } });
  expect(done.generation.settings).toEqual(ancestral);
  const listed = (await app.service.handle('listGallery', { solver: 'euler-a' })) as { items: GenerationRecord[] };
  expect(listed.items.map((i) => i.id)).toContain(done.generation.id);
  expect(((await app.service.handle('getGeneration', { id: done.generation.id })) as GenerationRecord).settings).toEqual(ancestral);

  const rerun = (await app.service.handle('rerun', { id: done.generation.id })) as { jobId: string };
  const again = await waitFor('done', rerun.jobId);
  expect(again.generation.settings).toEqual(ancestral);
  expect(again.identicalToParent).toBe(true);
  expect(Buffer.from(decodePng(again.image).data).equals(Buffer.from(decodePng(done.image).data))).toBe(true);
  // The step noise is the seed's: another seed gives another picture.
  const other = (await app.service.handle('rerun', { id: done.generation.id, changes: { seed: 2025 } })) as { jobId: string };
  const reseeded = await waitFor('done', other.jobId);
  expect(Buffer.from(decodePng(reseeded.image).data).equals(Buffer.from(decodePng(done.image).data))).toBe(false);
});

test('DDIM with eta keeps its eta in the gallery and re-runs pixel-identically', async () => {
  const noisy: Settings = { ...settings, solver: 'ddim', eta: 0.6, steps: 10, seed: 99, width: 8, height: 8 };
  const { jobId } = (await app.service.handle('generate', { modelId: exact8, settings: noisy })) as { jobId: string };
  const done = await waitFor('done', jobId);
  expect(done.generation.settings).toEqual(noisy);
  const rerun = (await app.service.handle('rerun', { id: done.generation.id })) as { jobId: string };
  const again = await waitFor('done', rerun.jobId);
  expect(again.identicalToParent).toBe(true);
  expect(Buffer.from(decodePng(again.image).data).equals(Buffer.from(decodePng(done.image).data))).toBe(true);
  const still = (await app.service.handle('rerun', { id: done.generation.id, changes: { eta: 0 } })) as { jobId: string };
  expect(Buffer.from(decodePng((await waitFor('done', still.jobId)).image).data).equals(Buffer.from(decodePng(done.image).data))).toBe(false);
});

test('when the engine differs from the original\'s, the re-run\'s done event says what changed', async () => {
  const { jobId } = (await app.service.handle('generate', { modelId: model, settings: { ...settings, steps: 4 } })) as { jobId: string };
  const original = (await waitFor('done', jobId)).generation;
  // An original made by another engine build on another provider: rewrite its recorded fingerprint.
  const db = new Database(path.join(app.dataDir, 'gallery.sqlite'));
  const old = JSON.parse((db.prepare('SELECT fingerprint_json AS f FROM generations WHERE id = ?').get(original.id) as { f: string }).f);
  db.prepare('UPDATE generations SET fingerprint_json = ? WHERE id = ?').run(JSON.stringify({ ...old, engineVersion: '0.0.9', provider: 'cuda' }), original.id);
  db.close();
  const rerun = (await app.service.handle('rerun', { id: original.id })) as { jobId: string };
  const done = await waitFor('done', rerun.jobId);
  expect(done.fingerprintChanges).toEqual([`engine version: 0.0.9 → ${ENGINE_VERSION}`, 'provider: cuda → cpu']);
  expect(done.identicalToParent).toBe(true);
});

test('gallery edits: favourite, tags, trash, restore, empty trash, filters, show file', async () => {
  const { jobId } = (await app.service.handle('generate', { modelId: model, settings: { ...settings, steps: 3, solver: 'plms2' } })) as { jobId: string };
  const { id } = (await waitFor('done', jobId)).generation;
  const list = (input: object) => app.service.handle('listGallery', input) as Promise<{ items: { id: number }[]; total: number }>;
  const ids = async (input: object) => (await list(input)).items.map((i) => i.id);

  expect(await app.service.handle('getGeneration', { id })).toMatchObject({ id, favourite: false, tags: [], deletedAt: null, missing: false });
  expect(await app.service.handle('setFavourite', { id, favourite: true })).toMatchObject({ id, favourite: true });
  expect(await app.service.handle('setTags', { id, tags: [' keeper ', 'print', 'keeper'] })).toMatchObject({ tags: ['keeper', 'print'] });
  expect(await ids({ favourite: true })).toEqual([id]);
  expect(await ids({ solver: 'plms2' })).toEqual([id]);
  expect(await ids({ search: 'keeper' })).toEqual([id]);
  expect(await ids({ modelId: model, task: 'txt2img' })).toContain(id);
  expect(await ids({ modelId: '/elsewhere' })).toEqual([]);

  const shown = (await app.service.handle('showFile', { id })) as { shown: boolean; path: string };
  expect(shown.shown).toBe(false); // served mode: no file manager, only the path
  expect(existsSync(shown.path)).toBe(true);
  const opened: string[] = [];
  const desktop = createStudioService({ registry: new ModelRegistry(app.dataDir), host: app.host, gallery: app.gallery, emit: () => {}, providers: ['cpu'], showItemInFolder: (f) => void opened.push(f) });
  expect(await desktop.handle('showFile', { id })).toEqual({ shown: true, path: shown.path });
  expect(opened).toEqual([shown.path]);

  const trashed = (await app.service.handle('trashGeneration', { id })) as { deletedAt: string | null };
  expect(trashed.deletedAt).not.toBeNull();
  expect(await ids({})).not.toContain(id);
  expect(await ids({ trash: true })).toEqual([id]);
  expect(await app.service.handle('restoreGeneration', { id })).toMatchObject({ deletedAt: null });
  expect(await ids({})).toContain(id);
  await app.service.handle('trashGeneration', { id });
  expect(await app.service.handle('emptyTrash', {})).toMatchObject({ deleted: 1, freedBytes: expect.any(Number) });
  expect(existsSync(shown.path)).toBe(false);
  await expect(app.service.handle('getGeneration', { id })).rejects.toThrow(/no generation/);
  await expect(app.service.handle('setFavourite', { id, favourite: true })).rejects.toThrow(/no generation/);
  await expect(app.service.handle('setTags', { id: 1, tags: ['x'.repeat(101)] })).rejects.toThrow(/tags/);
});

test('importPng: this studio\'s PNG gives its settings and model back; an AUTOMATIC1111 one is mapped with warnings', async () => {
  const { jobId } = (await app.service.handle('generate', { modelId: model, settings: { ...settings, steps: 6, seed: 31 } })) as { jobId: string };
  const made = (await waitFor('done', jobId)).generation;
  const png = (await app.service.handle('getImage', { id: made.id })) as Uint8Array;
  expect(await app.service.handle('importPng', { png, modelId: exact8 })).toEqual({
    settings: made.settings, source: 'split-studio', warnings: [], modelId: model, modelName: made.modelName,
  });

  const parameters = 'Steps: 7, Sampler: UniPC, CFG scale: 1, Seed: 5, Size: 64x64, Model: Some SD model';
  const a1111 = encodePng({ width: 2, height: 2, channels: 4, data: new Uint8Array(16) }, { text: { parameters } });
  const read = (await app.service.handle('importPng', { png: a1111, modelId: exact8 })) as ImportedSettings;
  expect(read).toMatchObject({ source: 'a1111', modelId: exact8, settings: { solver: 'unipc2', steps: 7, seed: 5, width: 8, height: 8 } });
  expect(read.warnings.join('\n')).toMatch(/"Some SD model", which is not installed; using Exact Gaussian mixture 3x8x8[\s\S]*only makes 8x8 images/);

  await expect(app.service.handle('importPng', { png: new Uint8Array([1, 2, 3]) })).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(/not a valid PNG/) });
  await expect(app.service.handle('importPng', { png: encodePng({ width: 1, height: 1, channels: 4, data: new Uint8Array(4) }) })).rejects.toThrow(/no generation settings/);
});

test('cancel answers between network calls and nothing is saved', async () => {
  const before = ((await app.service.handle('listGallery', {})) as { total: number }).total;
  const { jobId } = (await app.service.handle('generate', { modelId: model, settings: { ...settings, steps: 1000, solver: 'ddim' } })) as { jobId: string };
  await waitFor('progress', jobId);
  const asked = performance.now();
  expect(await app.service.handle('cancel', { jobId })).toEqual({ cancelled: true });
  const failed = await waitFor('failed', jobId);
  expect(failed.kind).toBe('cancelled');
  expect(performance.now() - asked).toBeLessThan(1000);
  expect(((await app.service.handle('listGallery', {})) as { total: number }).total).toBe(before);
});

test('the main process\'s event loop never stalls for more than 50 ms while a generation runs', async () => {
  let worst = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 5);
    last = now;
  }, 5);
  const { jobId } = (await app.service.handle('generate', { modelId: model, settings: { ...settings, steps: 150 } })) as { jobId: string };
  await waitFor('done', jobId);
  clearInterval(probe);
  console.log(`event-loop probe: worst lag ${worst.toFixed(1)} ms over a 150-step generation`);
  expect(worst).toBeLessThan(50);
});

test('a 512x512 result costs the main process a few ms, not the ~150 ms its encoding took', async () => {
  // The engine encodes the PNG and the thumbnail and compares a re-run's pixels; this process
  // only stores bytes (npm run bench:stall prints the figures against the 50 ms budget). The
  // bound is on this process's own handling of each result, which CPU contention barely
  // moves (an event-loop probe on a busy machine also counts waits for a core), and is
  // generous; encoding or decoding here again would take it past 100 ms.
  const fixture = path.join(root, 'e2e/fixtures/tiny-sd-eps');
  await app.service.handle('importModel', { path: fixture });
  const large: Settings = { ...settings, prompt: 'a lighthouse', solver: 'stsp2', steps: 4, guidance: 7.5, conditionAt: 'same-point', classLabel: null, classifierScale: 0, width: 512, height: 512, spacing: 'leading' };
  let worstLag = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    worstLag = Math.max(worstLag, now - last - 5);
    last = now;
  }, 5);
  const handled: number[] = [];
  try {
    const { jobId } = (await app.service.handle('generate', { modelId: fixture, settings: large })) as { jobId: string };
    const done = await waitFor('done', jobId);
    handled.push(lastDoneMs);
    // The event carries the gallery's file as the engine made it.
    expect(decodePng(done.image)).toMatchObject({ width: 512, height: 512 });
    expect(Buffer.from(readFileSync(app.gallery.imageFile(done.generation.id)!)).equals(Buffer.from(done.image))).toBe(true);
    const rerun = (await app.service.handle('rerun', { id: done.generation.id })) as { jobId: string };
    expect((await waitFor('done', rerun.jobId)).identicalToParent).toBe(true);
    handled.push(lastDoneMs);
  } finally {
    clearInterval(probe);
  }
  console.log(`512x512: 'done' handled in ${handled.map((ms) => ms.toFixed(1)).join(' and ')} ms; event-loop probe: worst lag ${worstLag.toFixed(1)} ms`);
  expect(Math.max(...handled)).toBeLessThan(100);
});

test('bad requests fail with the field at fault and no job starts', async () => {
  await expect(app.service.handle('generate', { modelId: model, settings: { ...settings, steps: 0 } })).rejects.toThrow(/settings\.steps/);
  await expect(app.service.handle('generate', { modelId: '/nowhere', settings })).rejects.toThrow(/no model with id/);
  await expect(app.service.handle('importModel', { path: '/nowhere' })).rejects.toThrow(/does not exist/);
});

test('an img2img generation keeps its init image: the detail lists it, getInput returns it, and a re-run from the gallery is bit-identical', async () => {
  const start = encodePng({ width: 8, height: 8, channels: 4, data: new Uint8Array(8 * 8 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 29) & 0xff)) });
  const img2img: Settings = { ...settings, task: 'img2img', strength: 0.6, steps: 10, seed: 123, width: 8, height: 8 };
  const { jobId } = (await app.service.handle('generate', { modelId: exact8, settings: img2img, initImage: start })) as { jobId: string };
  const done = await waitFor('done', jobId);
  const detail = (await app.service.handle('getGeneration', { id: done.generation.id })) as GenerationDetail;
  expect(detail.inputs).toEqual([{ kind: 'initImage', hash: createHash('sha256').update(start).digest('hex'), bytes: start.length, width: 8, height: 8 }]);
  expect(Buffer.from((await app.service.handle('getInput', { id: done.generation.id, kind: 'initImage' })) as Uint8Array).equals(Buffer.from(start))).toBe(true);
  await expect(app.service.handle('getInput', { id: done.generation.id, kind: 'mask' })).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(/has no mask kept with it/) });
  await expect(app.service.handle('getInput', { id: done.generation.id, kind: 'picture' })).rejects.toThrow(/getInput: kind/);

  const rerun = (await app.service.handle('rerun', { id: done.generation.id })) as { jobId: string };
  const again = await waitFor('done', rerun.jobId);
  expect(again.identicalToParent).toBe(true);
  expect(again.fingerprintChanges).toEqual([]);
  expect(Buffer.from(decodePng(again.image).data).equals(Buffer.from(decodePng(done.image).data))).toBe(true);
  // The re-run keeps the same input (one file for both).
  expect(((await app.service.handle('getGeneration', { id: again.generation.id })) as GenerationDetail).inputs).toEqual(detail.inputs);

  // Inpainting keeps both pictures; its re-run uses them.
  const mask = encodePng({ width: 8, height: 8, channels: 4, data: new Uint8Array(8 * 8 * 4).map((_, i) => (i % 4 === 3 || Math.floor(i / 4) % 8 < 4 ? 255 : 0)) });
  const inpaint = (await app.service.handle('generate', { modelId: exact8, settings: { ...img2img, task: 'inpaint', strength: 1 }, initImage: start, mask })) as { jobId: string };
  const painted = await waitFor('done', inpaint.jobId);
  const repainted = await waitFor('done', ((await app.service.handle('rerun', { id: painted.generation.id })) as { jobId: string }).jobId);
  expect(repainted.identicalToParent).toBe(true);
});

test('a generation kept with its initial noise (the CLI\'s --init-noise) re-runs from that noise, not from its seed', async () => {
  // The noise of seed 5, kept with a generation whose seed is 6: the re-run must make seed 5's picture.
  const plain: Settings = { ...settings, steps: 8, seed: 5, width: 8, height: 8 };
  const made = await waitFor('done', ((await app.service.handle('generate', { modelId: exact8, settings: plain })) as { jobId: string }).jobId);
  const noise = encodeNpy(new TorchGenerator(5).randn([1, 3, 8, 8]), [1, 3, 8, 8]);
  const decoded = decodePng(made.image);
  const original = app.gallery.add({
    settings: { ...plain, seed: 6 }, modelId: exact8, modelName: made.generation.modelName, modelHash: 'x', provider: 'cpu', cost: made.generation.cost,
    durationMs: 1, warnings: [], parentId: null, fingerprint: { ...app.gallery.meta(made.generation.id)!.fingerprint }, image: { width: 8, height: 8, data: decoded.data },
    inputs: { initNoise: noise },
  });
  const again = await waitFor('done', ((await app.service.handle('rerun', { id: original.id })) as { jobId: string }).jobId);
  expect(again.identicalToParent).toBe(true);
  expect(Buffer.from(decodePng(again.image).data).equals(Buffer.from(decoded.data))).toBe(true);
  expect(((await app.service.handle('getGeneration', { id: again.generation.id })) as GenerationDetail).inputs.map((i) => i.kind)).toEqual(['initNoise']);
});

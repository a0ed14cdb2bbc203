/**
 * The studio's main side end to end in plain Node: the real engine in a forked child
 * process, the real gallery, the service; no browser. Needs the build (npm test builds first).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { EventName, GenerationRecord, Settings, StudioEvents } from '../../shared/contract';
import { nodeLauncher } from '../host/engineHost';
import { type StudioApp, createStudioApp, engineEntry } from './app';

const root = path.resolve(__dirname, '../../..');
const model = path.join(root, 'resources/exact/gmm-3x32x32');
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

beforeAll(() => {
  const entry = engineEntry(path.join(root, 'out/main'));
  if (!existsSync(entry)) throw new Error('build first: npm run build');
  app = createStudioApp({
    launcher: nodeLauncher(entry),
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

test('bad requests fail with the field at fault and no job starts', async () => {
  await expect(app.service.handle('generate', { modelId: model, settings: { ...settings, steps: 0 } })).rejects.toThrow(/settings\.steps/);
  await expect(app.service.handle('generate', { modelId: '/nowhere', settings })).rejects.toThrow(/no model with id/);
  await expect(app.service.handle('importModel', { path: '/nowhere' })).rejects.toThrow(/does not exist/);
});

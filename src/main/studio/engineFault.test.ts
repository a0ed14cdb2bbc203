/**
 * Faults of the engine process, with the real engine (forked from the build) and the real
 * gallery: killed with SIGKILL mid-job, the job (and the one queued behind it) fail with a
 * clear message, the next job runs on a fresh engine, and nothing in the gallery is lost.
 * Needs the build (npm run build).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { EventName, Settings, StudioEvents } from '../../shared/contract';
import { EngineHost, nodeLauncher } from './engineHost';
import { encodePng } from '../core/io/png';
import { type StudioApp, createStudioApp, engineEntry } from './app';
import { type EventLog, waitForEvent } from './eventLog.testing';

const root = path.resolve(__dirname, '../../..');
const model = path.join(root, 'resources/exact/gmm-3x32x32');
const entry = engineEntry(path.join(root, 'out/main'));
let app: StudioApp;
const events: EventLog = [];
const settings: Settings = {
  task: 'txt2img', prompt: '', negativePrompt: '', classLabel: null, classifierScale: 0, solver: 'ddim', steps: 5, guidance: 1,
  conditionAt: 'exact', consistencyScale: 0.01, seed: 3, width: 32, height: 32, spacing: 'linspace', clipX0: null, strength: 1,
};

const waitFor = waitForEvent(events, 5, 30_000);

/** The job's one ending: done or failed. */
const ending = (jobId: string) => Promise.race([waitFor('done', jobId).then((p) => ({ done: p })), waitFor('failed', jobId).then((p) => ({ failed: p }))]);

beforeAll(() => {
  if (!existsSync(entry)) throw new Error('build first: npm run build');
  app = createStudioApp({
    launcher: nodeLauncher(entry),
    emit: (event, payload) => void events.push({ event, payload }),
    dataDir: mkdtempSync(path.join(os.tmpdir(), 'split-fault-')),
    providers: ['cpu'],
  });
});
afterAll(() => app?.close());

const generate = async (s: Partial<Settings> = {}) => ((await app.service.handle('generate', { modelId: model, settings: { ...settings, ...s } })) as { jobId: string }).jobId;

test('an engine killed with SIGKILL mid-job: the jobs in it fail clearly, the next runs on a fresh engine, the gallery keeps everything', async () => {
  const first = await waitFor('done', await generate());
  const pid = app.host.enginePid;
  expect(pid).toBeGreaterThan(0);

  const long = await generate({ steps: 1000 });
  const queued = await generate({ seed: 4 });
  await waitFor('progress', long);
  process.kill(pid!, 'SIGKILL');

  for (const jobId of [long, queued]) {
    const failed = await waitFor('failed', jobId);
    expect(failed).toMatchObject({ kind: 'internal', message: expect.stringMatching(/^the engine process stopped unexpectedly \(killed by SIGKILL\); the job was not finished/) });
  }
  expect(events.some((e) => e.event === 'done' && [long, queued].includes((e.payload as { jobId: string }).jobId))).toBe(false);

  const after = await ending(await generate({ seed: 5 }));
  expect(after).toHaveProperty('done');
  expect(app.host.enginePid).not.toBe(pid);

  const listed = (await app.service.handle('listGallery', {})) as { items: { id: number }[]; total: number };
  expect(listed.total).toBe(2);
  expect(listed.items.map((i) => i.id).sort()).toEqual([first.generation.id, (after as { done: StudioEvents['done'] }).done.generation.id].sort());
  for (const { id } of listed.items) expect(existsSync(app.gallery.imageFile(id)!)).toBe(true);
  const db = new Database(path.join(app.dataDir, 'gallery.sqlite'), { readonly: true });
  expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  db.close();
});

test('a kill while a job waits for the engine to start fails it instead of losing it, and a retry works', async () => {
  const host = new EngineHost(nodeLauncher(entry));
  try {
    await host.validate(model, ['cpu']);
    process.kill(host.enginePid!, 'SIGKILL');
    // The exit may land before or after the run is sent; either way the job ends, once.
    const endings: string[] = [];
    const listener = { progress: () => {}, done: () => void endings.push('done'), failed: (m: { message: string }) => void endings.push(m.message) };
    await host.run({ jobId: host.newJobId(), modelDir: model, settings, providers: ['cpu'] }, listener).catch((e: Error) => endings.push(e.message));
    await new Promise((r) => setTimeout(r, 3000));
    expect(endings).toHaveLength(1);
    const retry = await new Promise<string>((resolve) => {
      void host.run({ jobId: host.newJobId(), modelDir: model, settings, providers: ['cpu'] }, { progress: () => {}, done: () => resolve('done'), failed: (m) => resolve(m.message) });
    });
    expect(retry).toBe('done');
  } finally {
    host.stop();
  }
});

test('the engine refuses an input picture larger than the image from its header, before decoding it', async () => {
  const host = new EngineHost(nodeLauncher(entry));
  try {
    // 8000x8000 in the IHDR, one pixel of data: the service refuses it earlier; this is the engine's own bound.
    const png = encodePng({ width: 1, height: 1, channels: 4, data: new Uint8Array(4) });
    const view = new DataView(png.buffer, png.byteOffset);
    view.setUint32(16, 8000);
    view.setUint32(20, 8000);
    // The IHDR's CRC must still match, or the decoder refuses it for that instead.
    const { crc32 } = await import('../core/io/png');
    view.setUint32(29, crc32(png, 12, 29));
    const failed = await new Promise<{ kind: string; message: string }>((resolve) => {
      void host.run(
        { jobId: host.newJobId(), modelDir: model, settings: { ...settings, task: 'img2img', strength: 0.5 }, initImage: png, providers: ['cpu'] },
        { progress: () => {}, done: () => resolve({ kind: 'done', message: '' }), failed: resolve },
      );
    });
    expect(failed).toMatchObject({ kind: 'settings', field: 'initImage', message: expect.stringMatching(/^init image: PNG: image is 8000 x 8000 = 64000000 pixels, more than the limit of 1024/) });
  } finally {
    host.stop();
  }
});

test('a job sent to an engine that died a moment ago is not an uncaught exception, and fails once', async () => {
  const host = new EngineHost(nodeLauncher(entry));
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => void uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  try {
    await host.validate(model, ['cpu']);
    const pid = host.enginePid!;
    process.kill(pid, 'SIGKILL');
    // Wait, without letting the event loop run, until the process is dead (a zombie): Node
    // has not yet seen the exit or the closed channel, so the run is sent into a dead pipe.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readStatus(pid))) {
      // busy wait on purpose
    }
    const ended = new Promise<string>((resolve) => {
      void host.run({ jobId: host.newJobId(), modelDir: model, settings, providers: ['cpu'] }, { progress: () => {}, done: () => resolve('done'), failed: (m) => resolve(m.message) }).catch((e: Error) => resolve(e.message));
    });
    expect(await ended).toMatch(/^the engine process stopped unexpectedly \(killed by SIGKILL\)/);
    await new Promise((r) => setTimeout(r, 200));
    expect(uncaught).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
    host.stop();
  }
});

function readStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

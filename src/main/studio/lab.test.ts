/**
 * The Lab end to end in plain Node: startSweep plans in this process, the real engine (forked
 * from the build) runs the sweep on the exact 8x8 model, progress and the end come back as
 * events, and lab.sqlite keeps what finished. Needs the build (npm run build).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { EventName, OperationOutputs, StudioEvents } from '../../shared/contract';
import { LAB_LIMITS, type LabRequest } from '../../shared/lab';
import { nodeLauncher } from './engineHost';
import { type StudioApp, createStudioApp, engineEntry } from './app';
import { type EventLog, waitForEvent } from './eventLog.testing';

const root = path.resolve(__dirname, '../../..');
const exact8 = path.join(root, 'resources/exact/gmm-3x8x8');
let app: StudioApp;
const events: EventLog = [];
/** Called with each event as it is emitted (synchronously, so that a cancel or a kill follows it at once). */
let onEvent: ((event: EventName, payload: StudioEvents[EventName]) => void) | null = null;

const request: LabRequest = {
  modelId: exact8, solvers: ['ddim', 'dpmpp2m', 'heun'], nfe: [6, 12], spacings: ['linspace'], guidances: [1], classLabel: 1, classifierScales: [0, 10],
  prompt: '', negativePrompt: '', seeds: [3, 4], referenceSteps: 250,
};

const waitFor = waitForEvent(events, 2, 20_000);

const eventsOf = <E extends EventName>(event: E, jobId: string) =>
  events.filter((e) => e.event === event && (e.payload as { jobId: string }).jobId === jobId).map((e) => e.payload as StudioEvents[E]);

/** The sweep's one ending: sweepDone or failed. */
const ending = (jobId: string) => Promise.race([waitFor('sweepDone', jobId).then((p) => ({ done: p })), waitFor('failed', jobId).then((p) => ({ failed: p }))]);

const start = async (over: Partial<LabRequest> = {}) => (await app.service.handle('startSweep', { ...request, ...over })) as OperationOutputs['startSweep'];

beforeAll(() => {
  const entry = engineEntry(path.join(root, 'out/main'));
  if (!existsSync(entry)) throw new Error('build first: npm run build');
  app = createStudioApp({
    launcher: nodeLauncher(entry),
    emit: (event, payload) => {
      events.push({ event, payload });
      onEvent?.(event, payload);
    },
    dataDir: mkdtempSync(path.join(os.tmpdir(), 'split-lab-')),
    providers: ['cpu'],
  });
});
afterAll(() => app?.close());

test('a sweep runs in the engine: progress per reference and run, a picture for the first seed, saved, listed and read back', async () => {
  const started = await start();
  expect(started).toMatchObject({ plannedRuns: 3 * 2 * 2 * 2, skipped: [] });
  const done = await waitFor('sweepDone', started.jobId);
  expect(done).toMatchObject({ complete: true, runs: 24, plannedRuns: 24 });

  const progress = eventsOf('sweepProgress', started.jobId);
  const records = progress.flatMap((p) => (p.record ? [p.record] : []));
  const references = progress.flatMap((p) => (p.reference ? [p.reference] : []));
  expect(records).toHaveLength(24);
  expect(references).toHaveLength(2 * 2); // one per seed and classifier scale
  expect(progress.filter((p) => p.record).map((p) => p.completed)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
  for (let i = 1; i < progress.length; i++) {
    expect(progress[i]!.completed).toBeGreaterThanOrEqual(progress[i - 1]!.completed);
    expect(progress[i]!.elapsedMs).toBeGreaterThanOrEqual(progress[i - 1]!.elapsedMs);
  }
  expect(progress.every((p) => p.plannedRuns === 24)).toBe(true);
  for (const r of records) {
    expect(Number.isFinite(r.rmsError)).toBe(true);
    expect(r.diverged).toBe(r.rmsError! > 1);
    expect(r.nfe).toBeLessThanOrEqual(r.targetNfe!);
    expect(r.classifierCalls > 0).toBe(r.classifierScale > 0);
    expect(r.stepErrors).toHaveLength(r.steps);
    expect(r.stepErrors!.every((e) => e !== null && Number.isFinite(e))).toBe(true);
    // A small PNG, base64, for the first seed's runs only.
    if (r.seed === 3) expect(Buffer.from(r.picture!, 'base64').subarray(1, 4).toString()).toBe('PNG');
    else expect(r.picture).toBeUndefined();
  }
  // Heun's 3 steps (5 calls) are too few on this model; every other run stays within 0.6 RMS of the reference.
  expect(records.filter((r) => r.diverged).map((r) => `${r.solver}-${r.steps}`)).toEqual(['heun-3', 'heun-3', 'heun-3', 'heun-3']);
  expect(Math.max(...records.filter((r) => !r.diverged).map((r) => r.rmsError!))).toBeLessThan(0.6);
  expect(references.map((r) => [r.seed, r.method, r.picture !== undefined])).toEqual([
    [3, 'exact-rk4', true], [3, 'exact-rk4', true], [4, 'exact-rk4', false], [4, 'exact-rk4', false],
  ]);

  const listed = (await app.service.handle('listSweeps', {})) as OperationOutputs['listSweeps'];
  expect(listed[0]).toMatchObject({ id: done.sweepId, runs: 24, plannedRuns: 24, complete: true, diverged: 4, modelName: 'Exact Gaussian mixture 3x8x8' });
  const doc = (await app.service.handle('getSweep', { id: done.sweepId })) as OperationOutputs['getSweep'];
  expect(doc).toMatchObject({ id: done.sweepId, createdAt: listed[0]!.createdAt, complete: true, plannedRuns: 24, model: { kind: 'exact', dir: exact8 } });
  expect(doc.spec).toMatchObject({ solvers: request.solvers, budget: { kind: 'nfe', values: [6, 12] }, classLabel: 1, seeds: [3, 4], conditionAt: 'same-point' });
  expect(doc.runs).toEqual(records);
  expect(doc.references).toEqual(references);
  await expect(app.service.handle('getSweep', { id: done.sweepId + 100 })).rejects.toMatchObject({ kind: 'invalid', message: `there is no sweep ${done.sweepId + 100}` });
}, 30_000);

test('cancel stops the sweep after the run in progress is aborted; what finished is saved as an incomplete sweep', async () => {
  // Long runs (200 to 400 steps each) so that the cancel lands while most of the sweep is still to come.
  const cancelled: unknown[] = [];
  onEvent = (event, payload) => {
    if (event !== 'sweepProgress' || !(payload as StudioEvents['sweepProgress']).record) return;
    onEvent = null;
    void app.service.handle('cancel', { jobId: payload.jobId }).then((answer) => cancelled.push(answer));
  };
  const started = await start({ solvers: ['ddim', 'euler'], nfe: [200, 300, 400], classifierScales: [10], seeds: [5, 6, 7] });
  expect(started.plannedRuns).toBe(18);
  const end = await ending(started.jobId);
  expect(end).toHaveProperty('done');
  const done = (end as { done: StudioEvents['sweepDone'] }).done;
  expect(done.complete).toBe(false);
  expect(done.runs).toBeGreaterThan(0);
  expect(done.runs).toBeLessThan(18);
  expect(cancelled).toEqual([{ cancelled: true }]);
  const records = eventsOf('sweepProgress', started.jobId).flatMap((p) => (p.record ? [p.record] : []));
  expect(records).toHaveLength(done.runs);
  const doc = (await app.service.handle('getSweep', { id: done.sweepId })) as OperationOutputs['getSweep'];
  expect(doc).toMatchObject({ complete: false, plannedRuns: 18 });
  expect(doc.runs).toEqual(records);
  const listed = (await app.service.handle('listSweeps', {})) as OperationOutputs['listSweeps'];
  expect(listed.find((s) => s.id === done.sweepId)).toMatchObject({ complete: false, runs: done.runs, plannedRuns: 18 });
  // Nothing more comes for it, and a cancel after the end finds nothing to stop.
  expect(await app.service.handle('cancel', { jobId: started.jobId })).toEqual({ cancelled: false });
}, 30_000);

test('a cancel before any run finished ends the sweep as cancelled, and nothing is saved', async () => {
  const before = ((await app.service.handle('listSweeps', {})) as OperationOutputs['listSweeps']).length;
  const started = await start({ solvers: ['ddim'], nfe: [400], classifierScales: [10], seeds: [8] });
  await app.service.handle('cancel', { jobId: started.jobId });
  const end = await ending(started.jobId);
  expect(end).toEqual({ failed: { jobId: started.jobId, kind: 'cancelled', message: 'cancelled' } });
  expect(((await app.service.handle('listSweeps', {})) as OperationOutputs['listSweeps']).length).toBe(before);
});

test('refusals come back as invalid call errors, and nothing is started', async () => {
  const sweepEvents = () => events.filter((e) => e.event === 'sweepProgress' || e.event === 'sweepDone').length;
  const seen = sweepEvents();
  const refusals: [Partial<LabRequest>, RegExp][] = [
    [{ solvers: ['heun'], nfe: [4] }, /^a budget of 4 is too few network calls for heun: its fewest steps \(3\) take 5$/],
    [{ guidances: [1, 5] }, /^Exact Gaussian mixture 3x8x8 is an exact model with no unconditional branch, so classifier-free guidance cannot be used/],
    [{ modelId: '/nowhere/model' }, /^no model with id \/nowhere\/model; pick one from the list$/],
    [{ classLabel: 3 }, /^class 3 is out of range: Exact Gaussian mixture 3x8x8 has classes 0\.\.2$/],
    [{ classLabel: null }, /^classifier scales other than 0 need a class/],
    [{ prompt: 'a cat' }, /has no text encoder, so a prompt cannot be used$/],
    // 6 solvers x 8 budgets x 3 scales x 8 seeds = 1,152 runs.
    [
      { solvers: ['ddim', 'dpmpp2m', 'unipc2', 'euler', 'euler-a', 'heun'], nfe: [10, 20, 30, 40, 50, 60, 70, 80], classifierScales: [0, 1, 2], seeds: [0, 1, 2, 3, 4, 5, 6, 7] },
      new RegExp(`^this sweep plans 1152 runs, more than the ${LAB_LIMITS.runs} one sweep may run`),
    ],
    [{ referenceSteps: 501 }, /^startSweep: referenceSteps: /],
  ];
  for (const [over, message] of refusals) {
    await expect(start(over), JSON.stringify(over)).rejects.toMatchObject({ kind: 'invalid', message: expect.stringMatching(message) });
  }
  await new Promise((r) => setTimeout(r, 50));
  expect(sweepEvents()).toBe(seen);
});

test('a network model\'s reference is kept: the same guided ODE in a later sweep reuses it, and the errors are the same', async () => {
  const noto = path.join(root, 'resources/models/noto-emoji-32');
  const small: Partial<LabRequest> = { modelId: noto, solvers: ['ddim'], nfe: [5], guidances: [3], classLabel: null, classifierScales: [0], prompt: 'red heart', seeds: [0], referenceSteps: 20 };
  const first = await start(small);
  expect(await ending(first.jobId)).toHaveProperty('done');
  const second = await start(small);
  expect(await ending(second.jobId)).toHaveProperty('done');
  const referenceOf = (jobId: string) => eventsOf('sweepProgress', jobId).find((p) => p.reference)!.reference!;
  expect(referenceOf(first.jobId).reused).toBeUndefined();
  expect(referenceOf(second.jobId)).toMatchObject({ reused: true, nfe: 60, steps: 20, accuracy: referenceOf(first.jobId).accuracy });
  const errorOf = (jobId: string) => eventsOf('sweepProgress', jobId).find((p) => p.record)!.record!.rmsError;
  expect(errorOf(second.jobId)).toBe(errorOf(first.jobId));
  // another seed is another ODE: computed, not reused
  const third = await start({ ...small, seeds: [1] });
  expect(await ending(third.jobId)).toHaveProperty('done');
  expect(referenceOf(third.jobId).reused).toBeUndefined();
}, 60_000);

test('the engine process dying mid-sweep fails the sweep with the failed event, and the next sweep runs on a fresh engine', async () => {
  const pid = app.host.enginePid!;
  onEvent = (event) => {
    if (event !== 'sweepProgress') return;
    onEvent = null;
    process.kill(pid, 'SIGKILL');
  };
  const started = await start({ solvers: ['ddim', 'euler'], nfe: [400], classifierScales: [10], seeds: [9, 10, 11] });
  const failed = await waitFor('failed', started.jobId);
  expect(failed).toMatchObject({ kind: 'internal', message: expect.stringMatching(/^the engine process stopped unexpectedly \(killed by SIGKILL\)/) });
  expect(eventsOf('sweepDone', started.jobId)).toEqual([]);

  const next = await start({ solvers: ['ddim'], nfe: [6], classifierScales: [0], seeds: [1] });
  expect(await waitFor('sweepDone', next.jobId)).toMatchObject({ complete: true, runs: 1 });
  expect(app.host.enginePid).not.toBe(pid);
}, 30_000);

/**
 * The service's bounds on what callers may make it hold: waiting generations, the input
 * pictures they carry, and pictures larger than the image being made. A fake engine host
 * that never finishes a job stands in for the engine (its queue is what must not grow).
 */
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Settings } from '../../shared/contract';
import { GalleryStore } from '../core/gallery/store';
import type { EngineHost, JobListener } from './engineHost';
import { encodePng } from '../core/io/png';
import { ModelRegistry } from '../core/models/registry';
import { MAX_PENDING_INPUT_BYTES, MAX_PENDING_JOBS, StudioCallError, checkInputSize, createStudioService, pngDimensions } from './service';

const SEED = Number(process.env.FC_SEED ?? 20261130);
const root = path.resolve(__dirname, '../../..');
const model = path.join(root, 'resources/exact/gmm-3x32x32');
const settings: Settings = {
  task: 'txt2img', prompt: '', negativePrompt: '', classLabel: null, classifierScale: 0, solver: 'ddim', steps: 3, guidance: 1,
  conditionAt: 'exact', consistencyScale: 0.01, seed: 1, width: 32, height: 32, spacing: 'linspace', clipX0: null, strength: 1,
};

/** An engine host whose jobs wait until the test ends them. */
function fakeHost() {
  const listeners = new Map<string, JobListener>();
  let n = 0;
  const host = {
    newJobId: () => `job-test-${++n}`,
    async run(job: { jobId: string }, listener: JobListener) {
      listeners.set(job.jobId, listener);
    },
    cancel: () => false,
  };
  const fail = (jobId: string) => {
    listeners.get(jobId)!.failed({ type: 'failed', jobId, kind: 'cancelled', message: 'cancelled' });
    listeners.delete(jobId);
  };
  return { host: host as unknown as EngineHost, listeners, fail };
}

let gallery: GalleryStore;
let registry: ModelRegistry;
beforeAll(() => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'split-limits-'));
  gallery = GalleryStore.open(dir);
  registry = new ModelRegistry(dir);
});
afterAll(() => gallery.close());

const serviceWith = (host: EngineHost) => createStudioService({ registry, host, gallery, emit: () => {}, providers: ['cpu'] });

/** A PNG whose IHDR says width x height, followed by nothing the check reads (`pad` bytes of junk). */
function pngHeaderOnly(width: number, height: number, pad = 0): Uint8Array {
  const real = encodePng({ width: 1, height: 1, channels: 4, data: new Uint8Array(4) });
  const out = new Uint8Array(real.length + pad);
  out.set(real);
  const view = new DataView(out.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return out;
}

describe('the queue of generations is bounded', () => {
  test(`the ${MAX_PENDING_JOBS + 1}th waiting generation is refused; one ending frees a slot`, async () => {
    const { host, listeners, fail } = fakeHost();
    const service = serviceWith(host);
    const ids: string[] = [];
    for (let i = 0; i < MAX_PENDING_JOBS; i++) ids.push(((await service.handle('generate', { modelId: model, settings })) as { jobId: string }).jobId);
    await expect(service.handle('generate', { modelId: model, settings })).rejects.toMatchObject({ kind: 'refused', message: expect.stringMatching(/already waiting or running/) });
    expect(listeners.size).toBe(MAX_PENDING_JOBS);
    fail(ids[0]);
    await expect(service.handle('generate', { modelId: model, settings })).resolves.toMatchObject({ jobId: expect.any(String) });
  });

  test('waiting input pictures are bounded in bytes too', async () => {
    const { host, listeners, fail } = fakeHost();
    const service = serviceWith(host);
    const image = pngHeaderOnly(32, 32, 20 * 1024 * 1024); // 20 MiB, within the frame limit
    const img2img = { modelId: model, settings: { ...settings, task: 'img2img', strength: 0.5 }, initImage: image };
    const fits = Math.floor(MAX_PENDING_INPUT_BYTES / image.length);
    const ids: string[] = [];
    for (let i = 0; i < fits; i++) ids.push(((await service.handle('generate', img2img)) as { jobId: string }).jobId);
    await expect(service.handle('generate', img2img)).rejects.toMatchObject({ kind: 'refused', message: expect.stringMatching(/MiB of input images/) });
    expect(listeners.size).toBe(fits);
    fail(ids[0]);
    await expect(service.handle('generate', img2img)).resolves.toBeTruthy();
  });

  test('a job whose start fails frees its slot', async () => {
    const { host } = fakeHost();
    let refuse = true;
    const run = host.run.bind(host);
    host.run = async (job, listener) => {
      if (refuse) throw new Error('the engine process exited (code 1)');
      return run(job, listener);
    };
    const service = serviceWith(host);
    for (let i = 0; i < MAX_PENDING_JOBS + 2; i++) await expect(service.handle('generate', { modelId: model, settings })).rejects.toThrow(/exited/);
    refuse = false;
    await expect(service.handle('generate', { modelId: model, settings })).resolves.toBeTruthy();
  });
});

describe('an input picture larger than the image being made is refused before the engine sees it', () => {
  test('an 8000x8000 init image (regression: the engine grew ~720 MB before refusing it)', async () => {
    const { host, listeners } = fakeHost();
    const service = serviceWith(host);
    const request = { modelId: model, settings: { ...settings, task: 'img2img', strength: 0.5 }, initImage: pngHeaderOnly(8000, 8000) };
    await expect(service.handle('generate', request)).rejects.toMatchObject({
      kind: 'invalid', field: 'initImage', message: 'the init image is 8000x8000, larger than the 32x32 image being made; scale it down first',
    });
    await expect(service.handle('generate', { ...request, initImage: pngHeaderOnly(32, 32), mask: pngHeaderOnly(32, 33) })).rejects.toMatchObject({ field: 'mask', message: expect.stringMatching(/the mask is 32x33/) });
    expect(listeners.size).toBe(0);
  });

  test('pngDimensions reads the IHDR and nothing else', () => {
    expect(pngDimensions(encodePng({ width: 3, height: 5, channels: 4, data: new Uint8Array(60) }))).toEqual({ width: 3, height: 5 });
    expect(pngDimensions(new Uint8Array([1, 2, 3]))).toBeNull();
    expect(pngDimensions(pngHeaderOnly(0xffffffff, 1))).toEqual({ width: 0xffffffff, height: 1 });
  });

  test(`property: any bytes are accepted or refused as 'invalid', and refused exactly when the IHDR is larger (seed ${SEED})`, () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(fc.nat(), fc.nat(), fc.nat({ max: 16 })).map(([w, h, pad]) => pngHeaderOnly(w, h, pad)),
    );
    const side = fc.integer({ min: 1, max: 4096 });
    fc.assert(
      fc.property(bytes, side, side, (b, width, height) => {
        const size = pngDimensions(b);
        let refused = false;
        try {
          checkInputSize(b, 'initImage', { width, height });
        } catch (error) {
          expect(error).toBeInstanceOf(StudioCallError);
          expect((error as StudioCallError).kind).toBe('invalid');
          refused = true;
        }
        expect(refused).toBe(size !== null && (size.width > width || size.height > height));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

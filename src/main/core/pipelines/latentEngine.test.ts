/**
 * Stable Diffusion folders through the built engine process (out/main/engineProcess.js), the
 * way the studio runs them: txt2img, img2img and inpainting jobs, previews, provider report.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Settings } from '../../../shared/settings';
import { EngineHost, nodeLauncher } from '../../studio/engineHost';
import type { FromEngine, RunJob } from '../../engineProcess/messages';
import { decodePng, encodePng } from '../io/png';

const root = path.resolve(__dirname, '../../../..');
const entry = path.join(root, 'out/main/engineProcess.js');
const fixture = (name: string) => path.join(root, 'e2e/fixtures', name);
let host: EngineHost;

const settings: Settings = {
  task: 'txt2img', prompt: 'a red fox in the snow', negativePrompt: 'blurry', classLabel: null, classifierScale: 0, solver: 'stsp2', steps: 4, guidance: 7.5,
  conditionAt: 'same-point', consistencyScale: 0.01, seed: 5, width: 32, height: 32, spacing: 'leading', clipX0: null, strength: 1,
};

function picture(fill: (x: number, y: number, c: number) => number): Uint8Array {
  const data = new Uint8Array(32 * 32 * 4);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 4; c++) data[4 * (y * 32 + x) + c] = c === 3 ? 255 : fill(x, y, c);
  return encodePng({ width: 32, height: 32, channels: 4, data });
}

function runJob(job: Omit<RunJob, 'type' | 'jobId'>): Promise<{ end: Extract<FromEngine, { type: 'done' | 'failed' }>; previews: Uint8Array[] }> {
  const previews: Uint8Array[] = [];
  return new Promise((resolve, reject) => {
    host
      .run({ ...job, jobId: host.newJobId() }, {
        progress: (m) => previews.push(m.preview),
        done: (m) => resolve({ end: m, previews }),
        failed: (m) => resolve({ end: m, previews }),
      })
      .catch(reject);
  });
}

beforeAll(() => {
  if (!existsSync(entry)) throw new Error('build first: npm run build');
  host = new EngineHost(nodeLauncher(entry));
});
afterAll(() => host.stop());

describe('the engine process runs SD folders for the studio', () => {
  test('txt2img: result, previews at image size, provider and skipped providers with reasons', async () => {
    const { end, previews } = await runJob({ modelDir: fixture('tiny-sd-eps'), settings, providers: ['cuda', 'cpu'] });
    if (end.type !== 'done') throw new Error(end.message);
    expect([end.result.image.width, end.result.image.height]).toEqual([32, 32]);
    expect(end.result.provider).toBe('cpu');
    expect(end.result.skippedProviders.map((s) => s.provider)).toEqual(['cuda']);
    expect(end.result.cost.nfe).toBe(4);
    expect(previews).toHaveLength(4);
    const preview = decodePng(previews[3]);
    expect([preview.width, preview.height]).toEqual([32, 32]);
  });

  test('img2img and inpainting jobs (4- and 9-channel UNets)', async () => {
    const init = picture((x, y, c) => 28 + ((Math.floor(x / 8) * 37 + Math.floor(y / 8) * 71 + c * 50) % 200));
    const mask = picture((x) => (x >= 16 ? 255 : 0));
    const i2i = await runJob({ modelDir: fixture('tiny-sd-eps'), settings: { ...settings, task: 'img2img', strength: 0.5 }, initImage: init, providers: ['cpu'] });
    expect(i2i.end.type, i2i.end.type === 'failed' ? i2i.end.message : '').toBe('done');
    for (const name of ['tiny-sd-eps', 'tiny-sd-inpaint']) {
      const { end } = await runJob({ modelDir: fixture(name), settings: { ...settings, task: 'inpaint' }, initImage: init, mask, providers: ['cpu'] });
      if (end.type !== 'done') throw new Error(end.message);
      const out = decodePng(end.result.image.png).data;
      const original = decodePng(init).data;
      let kept = 0;
      for (let y = 0; y < 32; y++) for (let x = 0; x < 12; x++) for (let c = 0; c < 3; c++) kept = Math.max(kept, Math.abs(out[4 * (y * 32 + x) + c] - original[4 * (y * 32 + x) + c]));
      expect(kept, name).toBeLessThanOrEqual(1);
    }
  });

  test('settings a latent model cannot take fail as settings errors; validation reports free sizes', async () => {
    const { end } = await runJob({ modelDir: fixture('tiny-sd-eps'), settings: { ...settings, task: 'colorize' }, providers: ['cpu'] });
    expect(end).toMatchObject({ type: 'failed', kind: 'settings', message: expect.stringMatching(/needs a pixel-space model/) });
    expect(await host.validate(fixture('tiny-sd-eps'), ['cpu'])).toEqual({ width: null, height: null });
  });
});

/** The pixel pipeline through ONNX Runtime, checked against the closed-form engine runs. */
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Settings } from '../../../shared/settings';
import { SOLVER_IDS } from '../../../shared/solvers';
import { torchRandn } from '../engine/noise/torchRandn';
import { exactModelDir, loadProblem, runOnProblem } from '../engine/testing/convergence';
import { readModelFolder } from '../models/modelFolder';
import { tensorToImage } from './images';
import { stepsToSkip } from './common';
import { openPipeline } from './open';
import type { Pipeline } from './pipeline';

const root = path.resolve(__dirname, '../../../..');
let model8: Pipeline;

const base: Settings = {
  task: 'txt2img', prompt: '', negativePrompt: '', classLabel: null, classifierScale: 0, solver: 'stsp4', steps: 20, guidance: 1,
  conditionAt: 'exact', consistencyScale: 1e-4, seed: 0, width: 8, height: 8, spacing: 'linspace', clipX0: null, strength: 1,
};

beforeAll(async () => {
  model8 = await openPipeline(readModelFolder(exactModelDir('gmm-3x8x8', root)), ['cpu']);
});

test('ONNX runs reproduce the closed-form runs (same solver, same noise)', async () => {
  for (const [solver, scale] of [['stsp4', 10], ['plms4', 2], ['unipc2', 0]] as const) {
    const problem = loadProblem(exactModelDir('gmm-3x8x8', root), scale, 1, 11);
    const closed = await runOnProblem(problem, solver, 15);
    const onnx = await model8.generate({ ...base, solver, steps: 15, classLabel: 0, classifierScale: scale }, { initNoise: problem.initial });
    let worst = 0;
    for (let i = 0; i < onnx.x.length; i++) worst = Math.max(worst, Math.abs(onnx.x[i] - closed.x[i]));
    expect(worst, solver).toBeLessThan(1e-4);
  }
});

test('seeded noise is torch.randn(1, C, H, W) with the seed', async () => {
  const viaSeed = await model8.generate({ ...base, seed: 1234, steps: 5 });
  const viaNoise = await model8.generate({ ...base, seed: 0, steps: 5 }, { initNoise: torchRandn(1234, [1, 3, 8, 8]) });
  expect(Array.from(viaSeed.x)).toEqual(Array.from(viaNoise.x));
});

describe('img2img follows diffusers\' strength semantics', () => {
  test('runs the last int(N * strength) steps', async () => {
    expect(stepsToSkip(20, 0.5)).toBe(10);
    expect(stepsToSkip(20, 1)).toBe(0);
    expect(stepsToSkip(10, 0.25)).toBe(8);
    expect(() => stepsToSkip(10, 0.05)).toThrow(/runs no step/);
    const init = tensorToImage(torchRandn(3, [3, 8, 8]).map((v) => Math.tanh(v)), 3, 8, 8);
    const r = await model8.generate({ ...base, task: 'img2img', solver: 'ddim', steps: 20, strength: 0.3 }, { initImage: init });
    expect(r.cost.nfe).toBe(6);
    expect(r.timesteps).toEqual([263, 210, 158, 105, 53, 0]); // the tail of linspace(0, 999, 20)
  });

  test('a low strength stays close to the init image', async () => {
    const init = tensorToImage(new Float32Array(192).fill(0.2), 3, 8, 8);
    const r = await model8.generate({ ...base, task: 'img2img', solver: 'ddim', steps: 50, strength: 0.04 }, { initImage: init });
    const mean = r.x.reduce((a, b) => a + b, 0) / r.x.length;
    expect(Math.abs(mean - 0.2)).toBeLessThan(0.05);
  });
});

test('inpainting keeps every kept pixel and repaints the rest, with every solver', async () => {
  const known = new Float32Array(192).fill(0.6);
  const init = tensorToImage(known, 3, 8, 8);
  // keep the left half (black in the mask), repaint the right half (white)
  const mask = { width: 8, height: 8, data: new Uint8Array(256).map((_, i) => (i % 4 === 3 ? 255 : (Math.floor(i / 4) % 8) >= 4 ? 255 : 0)) };
  const kept = (p: number) => p % 8 < 4;
  for (const solver of SOLVER_IDS) {
    const r = await model8.generate({ ...base, task: 'inpaint', solver, steps: 20 }, { initImage: init, mask });
    let keptDiff = 0;
    let repaintDiff = 0;
    for (let p = 0; p < 64; p++) {
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(r.image.data[4 * p + c] - init.data[4 * p + c]);
        if (kept(p)) keptDiff = Math.max(keptDiff, d);
        else repaintDiff += d;
      }
    }
    expect(keptDiff, solver).toBe(0);
    expect(repaintDiff / 96, solver).toBeGreaterThan(5); // the right half is redrawn, not copied
    expect(r.image.data.every((v) => Number.isFinite(v))).toBe(true);
  }
});

test('sizes that the model cannot make are refused', async () => {
  await expect(model8.generate({ ...base, width: 16 })).rejects.toThrow(/only makes 8x8 images/);
});

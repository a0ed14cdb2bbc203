/**
 * The latent (Stable Diffusion) pipeline on the tiny SD-shaped fixtures of
 * tools/fixtures/make_sd_fixtures.py: torch references, img2img, both inpainting kinds,
 * every solver with CFG, float16 models, external weights, fixed-size sessions, NaN checks.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Settings } from '../../../shared/settings';
import { SOLVERS, expectedCost, termsOf } from '../../../shared/solvers';
import { torchRandn } from '../engine/noise/torchRandn';
import { readModelFolder } from '../models/modelFolder';
import { type RgbaImage, imageToTensor, tensorToImage } from './images';
import { UNET_NAN_MESSAGE, VAE_BLACK_MESSAGE, VAE_NAN_MESSAGE } from './errors';
import { type LatentPipeline, openLatentPipeline } from './latent';
import { openPipeline } from './open';
import type { PipelineResult } from './pipeline';

const root = path.resolve(__dirname, '../../../..');
const fixtures = path.join(root, 'e2e/fixtures');
const fixture = (name: string) => readModelFolder(path.join(fixtures, name));

interface ReferenceRun {
  fixture: string;
  task: 'txt2img' | 'img2img';
  strength?: number;
  prompt: string;
  negative: string;
  seed: number;
  steps: number;
  guidance: number;
  width: number;
  height: number;
  timesteps: number[];
  cond_ids: number[];
  uncond_ids: number[];
  noise: number[];
  latent: number[];
  image: number[];
}
const references = JSON.parse(readFileSync(path.join(fixtures, 'sd-references.json'), 'utf8')) as { runs: ReferenceRun[] };

const base: Settings = {
  task: 'txt2img', prompt: 'a fox in the snow', negativePrompt: '', classLabel: null, classifierScale: 0, solver: 'ddim', steps: 6, guidance: 7.5,
  conditionAt: 'exact', consistencyScale: 0, seed: 1, width: 32, height: 32, spacing: 'leading', clipX0: null, strength: 1,
};

/** The generator's img2img picture: RGB byte (x, y, c) = (7x + 13y + 50c + 30 floor(x/8)) mod 256. */
function referencePicture(size = 32): RgbaImage {
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) data[4 * (y * size + x) + c] = (x * 7 + y * 13 + c * 50 + Math.floor(x / 8) * 30) % 256;
      data[4 * (y * size + x) + 3] = 255;
    }
  }
  return { width: size, height: size, data };
}

/** 8x8 blocks of flat colour (what this VAE keeps through a round trip), and a mask: right half white = repaint. */
function blockPicture(size = 32): RgbaImage {
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) data[4 * (y * size + x) + c] = 28 + ((Math.floor(x / 8) * 37 + Math.floor(y / 8) * 71 + c * 50) % 200);
      data[4 * (y * size + x) + 3] = 255;
    }
  }
  return { width: size, height: size, data };
}
function halfMask(size = 32): RgbaImage {
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data.fill(x >= size / 2 ? 255 : 0, 4 * (y * size + x), 4 * (y * size + x) + 3), (data[4 * (y * size + x) + 3] = 255);
  return { width: size, height: size, data };
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

const models = new Map<string, Promise<LatentPipeline>>();
const open = (name: string) => {
  let m = models.get(name);
  if (!m) models.set(name, (m = openLatentPipeline(fixture(name), ['cpu'], { threads: 1 })));
  return m;
};

describe('matches the torch references (diffusers DDIM + CFG semantics)', () => {
  test.each(references.runs.map((r) => [`${r.fixture} ${r.task} guidance ${r.guidance}`, r] as const))('%s', async (_, ref) => {
    const model = await open(ref.fixture);
    expect(Array.from(torchRandn(ref.seed, [1, 4, ref.height / 8, ref.width / 8]))).toEqual(ref.noise);
    const r = await model.generate(
      { ...base, task: ref.task, prompt: ref.prompt, negativePrompt: ref.negative, seed: ref.seed, steps: ref.steps, guidance: ref.guidance, width: ref.width, height: ref.height, spacing: model.folder.scheduler.timestepSpacing, strength: ref.strength ?? 1 },
      ref.task === 'img2img' ? { initImage: referencePicture() } : {},
    );
    expect(r.condIds).toEqual(ref.cond_ids);
    expect(r.uncondIds).toEqual(ref.uncond_ids);
    expect(r.timesteps).toEqual(ref.timesteps);
    const fp16 = ref.fixture === 'tiny-sd-fp16';
    const latentDiff = maxAbs(r.x, ref.latent);
    const imageDiff = maxAbs(r.decoded, ref.image);
    // float16 models: values are rounded to float16 at every network boundary, so a 1e-6
    // difference inside can flip a rounding (1 ulp of float16 is 5e-4 at 1, 0.016 at 16) and
    // the flips compound over the steps: 3.8e-6 on one x86 machine, 4.4e-3 on an AVX2-only
    // AMD EPYC (ONNX Runtime picks its float16 kernels by CPU).
    expect(latentDiff).toBeLessThanOrEqual(fp16 ? 1e-2 : 1e-4);
    // (decoded: 4.9e-4 and 2.7e-2 on those two machines, i.e. up to 3.5 of 255 levels)
    expect(imageDiff).toBeLessThanOrEqual(fp16 ? 5e-2 : 1e-4);
    const refBytes = tensorToImage(Float32Array.from(ref.image), 3, ref.width, ref.height).data;
    expect(maxAbs(r.image.data, refBytes)).toBeLessThanOrEqual(fp16 ? 7 : 1);
    console.log(`${ref.fixture} ${ref.task} w=${ref.guidance}: max |latent - torch| = ${latentDiff.toExponential(2)}, max |image - torch| = ${imageDiff.toExponential(2)}`);
  });
});

describe('the folder is read as diffusers does', () => {
  test('no timestep_spacing in an SD scheduler config means "leading"; sizes default from the configs', () => {
    const eps = fixture('tiny-sd-eps');
    expect(eps.kind).toBe('latent');
    expect(eps.scheduler).toMatchObject({ timestepSpacing: 'leading', stepsOffset: 1, setAlphaToOne: false, betaSchedule: 'scaled_linear', predictionType: 'epsilon' });
    expect(eps.defaults).toMatchObject({ width: 512, height: 512 });
    expect(fixture('tiny-sd-v').defaults).toMatchObject({ width: 32, height: 32 }); // unet/config.json sample_size 4
    expect(fixture('tiny-sd-v').scheduler.predictionType).toBe('v_prediction');
  });

  test('input types and ranks come from the models: int32 ids, scalar float timestep, float16 everything', async () => {
    const v = await open('tiny-sd-v');
    expect(v.signature.timestep).toMatchObject({ type: 'float32', shape: [] });
    expect(v.vae.scalingFactor).toBe(0.15);
    const eps = await open('tiny-sd-eps');
    expect(eps.signature.timestep).toMatchObject({ type: 'int64', shape: ['batch'] });
    expect(eps.vae.scalingFactor).toBe(0.18215);
    expect(eps.vae.scalingFactorSource).toMatch(/default/);
    const fp16 = await open('tiny-sd-fp16');
    expect(fp16.signature).toMatchObject({ floatType: 'float16', hiddenType: 'float16', channels: 4 });
    expect(fp16.signature.timestep.type).toBe('float16');
    expect((await open('tiny-sd-inpaint')).signature.channels).toBe(9);
  });
});

describe('img2img and inpainting', () => {
  test('img2img: strength 0.6 of 10 steps runs the last 6, starting from the init image', async () => {
    const model = await open('tiny-sd-eps');
    const r = await model.generate({ ...base, task: 'img2img', steps: 10, strength: 0.6 }, { initImage: referencePicture() });
    expect(r.timesteps).toEqual([501, 401, 301, 201, 101, 1]);
    expect(r.cost.nfe).toBe(6);
  });

  /** Mean |difference| over the left columns x < 8 (fully known: no feathering reaches them), in 0..255 units. */
  const leftMean = (a: ArrayLike<number>, b: ArrayLike<number>, channels: number, scale: number) => {
    let sum = 0;
    let n = 0;
    for (let c = 0; c < channels; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 8; x++, n++) sum += Math.abs(a[c * 1024 + y * 32 + x] - b[c * 1024 + y * 32 + x]);
    return (sum / n) * scale;
  };
  const rightMean = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let sum = 0;
    let n = 0;
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 20; x < 32; x++, n++) sum += Math.abs(a[c * 1024 + y * 32 + x] - b[c * 1024 + y * 32 + x]);
    return (sum / n) * 127.5;
  };
  const imageFloats = (img: RgbaImage) => imageToTensor(img);

  test.each([
    ['4-channel UNet (known region blended back every step)', 'tiny-sd-eps'],
    ['9-channel inpainting UNet', 'tiny-sd-inpaint'],
  ])('%s keeps the unmasked region', async (_, name) => {
    const model = await open(name);
    const init = blockPicture();
    const r: PipelineResult = await model.generate({ ...base, task: 'inpaint', steps: 8, guidance: 5 }, { initImage: init, mask: halfMask() });
    const initT = imageFloats(init);
    const out = imageFloats(r.image);
    const finalUnmasked = leftMean(out, initT, 3, 127.5);
    const decodedUnmasked = leftMean(r.decoded, initT, 3, 127.5);
    const repainted = rightMean(out, initT);
    // Latent cells of column 0 are fully known (repaint weight 0).
    let latentSum = 0;
    for (let c = 0; c < 4; c++) for (let y = 0; y < 4; y++) latentSum += Math.abs(r.x[c * 16 + y * 4] - r.initState![c * 16 + y * 4]);
    const latentUnmasked = latentSum / 16;
    console.log(
      `${name} inpaint: unmasked region (x < 8) mean |final - init| = ${finalUnmasked.toFixed(3)}/255, before paste-back ${decodedUnmasked.toFixed(2)}/255; ` +
        `unmasked latent cells mean |final - init latent| = ${latentUnmasked.toExponential(2)}; repainted region (x >= 20) mean |final - init| = ${repainted.toFixed(1)}/255`,
    );
    expect(finalUnmasked).toBeLessThanOrEqual(0.5);
    expect(repainted).toBeGreaterThan(5); // the masked half was regenerated
    if (name === 'tiny-sd-eps') {
      expect(latentUnmasked).toBeLessThan(1e-6); // the last step blends the clean latent in
      expect(decodedUnmasked).toBeLessThan(3); // this VAE's round trip keeps flat 8x8 blocks to a few levels
    }
    expect(r.masks!.state[0]).toBe(0);
    expect(r.masks!.stateBinary).toEqual(Float32Array.from([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]));
  });

  test('inpainting needs an init image and a mask of the right size; the 9-channel model only inpaints', async () => {
    const eps = await open('tiny-sd-eps');
    await expect(eps.generate({ ...base, task: 'inpaint' }, { initImage: blockPicture() })).rejects.toThrow(/needs the mask/);
    await expect(eps.generate({ ...base, task: 'inpaint' }, { initImage: blockPicture(), mask: halfMask(16) })).rejects.toThrow(/the mask is 16x16, but the image is 32x32/);
    await expect((await open('tiny-sd-inpaint')).generate(base)).rejects.toThrow(/inpainting model/);
  });
});

describe('every solver runs with CFG on latents', () => {
  const cases = SOLVERS.flatMap((s) => (s.family === 'ltsp' || s.family === 'stsp' ? (['exact', 'same-point'] as const).map((at) => [s.id, at] as const) : [[s.id, 'exact'] as const]));
  test.each(cases)('%s (%s)', async (solver, conditionAt) => {
    const model = await open('tiny-sd-eps');
    const r = await model.generate({ ...base, solver, conditionAt, steps: 4, guidance: 7.5 });
    expect(r.cost.nfe).toBe(expectedCost(solver, 4, termsOf('cfg'), conditionAt).nfe);
    expect(r.cost.networkRows).toBe(expectedCost(solver, 4, termsOf('cfg'), conditionAt).networkRows);
    expect(r.shape).toEqual([1, 4, 4, 4]);
    expect(r.x.every(Number.isFinite)).toBe(true);
  });

  test('v_prediction and guidance 0 (unconditional only) run too', async () => {
    const r = await (await open('tiny-sd-v')).generate({ ...base, solver: 'dpmpp2m', guidance: 0, steps: 4 });
    expect(r.x.every(Number.isFinite)).toBe(true);
  });
});

describe('through openPipeline, as the CLI, engine process and studio open models', () => {
  test('openPipeline opens latent folders as latent pipelines; x is the latent; previews are RGB at image size', async () => {
    const model = await openPipeline(fixture('tiny-sd-eps'), ['cpu']);
    expect(model.kind).toBe('latent');
    expect(model.image).toEqual({ channels: 3, width: null, height: null });
    const previews: number[] = [];
    const r = await model.generate({ ...base, steps: 3 }, { onStep: (p) => void previews.push(p.x0.length) });
    expect(r.shape).toEqual([1, 4, 4, 4]);
    expect(r.x).toHaveLength(64);
    expect([r.image.width, r.image.height]).toEqual([32, 32]);
    expect(previews).toEqual([3 * 32 * 32, 3 * 32 * 32, 3 * 32 * 32]);
  });

  test('a prompt over 77 tokens is truncated with a warning naming the dropped words', async () => {
    const long = Array(40).fill('snowy forest').join(' ') + ' and a red fox';
    const r = await (await open('tiny-sd-eps')).generate({ ...base, prompt: long, steps: 3 });
    expect(r.warnings.join('\n')).toMatch(/the prompt is longer than 77 tokens; this part was ignored: ".*and a red fox"/);
  });

  test('tasks and settings a latent model cannot take are refused', async () => {
    const model = await open('tiny-sd-eps');
    await expect(model.generate({ ...base, task: 'colorize' })).rejects.toThrow(/needs a pixel-space model/);
    await expect(model.generate({ ...base, width: 36 })).rejects.toThrow(/multiples of 8/);
    await expect(model.generate({ ...base, clipX0: true })).rejects.toThrow(/never clip/);
    await expect(model.generate({ ...base, classLabel: 1, classifierScale: 2 })).rejects.toThrow(/no classifier/);
  });
});

describe('execution providers', () => {
  test('providers are tried in order; each skipped one is reported with its reason', async () => {
    const model = await openLatentPipeline(fixture('tiny-sd-eps'), ['cuda', 'dml', 'cpu'], { threads: 1 });
    expect(model.provider).toBe('cpu');
    expect(model.skippedProviders.map((s) => s.provider)).toEqual(['cuda', 'dml']);
    for (const s of model.skippedProviders) expect(s.reason.length).toBeGreaterThan(5);
    expect(model.fixedDimensions).toBe(false);
    await expect(openLatentPipeline(fixture('tiny-sd-eps'), ['dml'])).rejects.toThrow(/could not open .*dml:/);
  });

  test('fixed-size providers get one session per resolution, cached, with the same results', async () => {
    const fixed = await openLatentPipeline(fixture('tiny-sd-eps'), ['cpu'], { fixedDimensions: 'always', threads: 1 });
    const free = await open('tiny-sd-eps');
    const a = await fixed.generate({ ...base, steps: 3 });
    await fixed.generate({ ...base, steps: 3, width: 48, height: 48 });
    const c = await fixed.generate({ ...base, steps: 3, guidance: 1 }); // batch 1 shares the 32x32 session
    expect(fixed.unet.fixedSessions.size).toBe(2);
    expect(fixed.vae.decoder.fixedSessions.size).toBe(2);
    expect([...fixed.unet.fixedSessions.keys()]).toEqual([
      '[["channels",4],["height",6],["sequence",77],["width",6]]',
      '[["channels",4],["height",4],["sequence",77],["width",4]]', // most recently used last
    ]);
    await fixed.generate({ ...base, steps: 3, width: 64, height: 64 }); // a third size drops the least recent (48x48)
    expect([...fixed.unet.fixedSessions.keys()].map((k) => JSON.parse(k)[1][1])).toEqual([4, 8]);
    expect(maxAbs(a.x, (await free.generate({ ...base, steps: 3 })).x)).toBeLessThanOrEqual(1e-6);
    expect(c.x.every(Number.isFinite)).toBe(true);
  });
});

describe('weights and precision', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'split-sd-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('external weights (weights.pb next to model.onnx) load; without them the error names the file', async () => {
    const v = await open('tiny-sd-v'); // its UNet and text encoder keep their weights in weights.pb
    expect((await v.generate({ ...base, steps: 3 })).x.every(Number.isFinite)).toBe(true);
    const copy = path.join(dir, 'no-weights');
    cpSync(path.join(fixtures, 'tiny-sd-v'), copy, { recursive: true });
    rmSync(path.join(copy, 'unet', 'weights.pb'));
    await expect(openLatentPipeline(readModelFolder(copy), ['cpu'])).rejects.toThrow(/unet[/\\]model\.onnx/);
  });
});

describe('NaN and all-black outputs are reported, not saved', () => {
  const nanDecoder = (fill: number) => async () => ({ sample: new ort.Tensor('float32', new Float32Array(3 * 32 * 32).fill(fill), [1, 3, 32, 32]) });

  test('a VAE that returns NaN (fp16 overflow) gives the specific error, also through openPipeline', async () => {
    const model = await openPipeline(fixture('tiny-sd-fp16'), ['cpu']);
    const decoder = (model as LatentPipeline).vae.decoder;
    const run = decoder.run.bind(decoder);
    decoder.run = nanDecoder(NaN);
    try {
      await expect(model.generate({ ...base, steps: 3 })).rejects.toThrow(VAE_NAN_MESSAGE);
      decoder.run = nanDecoder(-1);
      await expect(model.generate({ ...base, steps: 3 })).rejects.toThrow(VAE_BLACK_MESSAGE);
    } finally {
      decoder.run = run;
    }
    expect((await model.generate({ ...base, steps: 3 })).image.width).toBe(32);
  });

  test('a UNet that returns infinities gives its own error', async () => {
    const model = await openLatentPipeline(fixture('tiny-sd-eps'), ['cpu'], { threads: 1 });
    model.unet.run = async () => ({ out_sample: new ort.Tensor('float32', new Float32Array(2 * 64).fill(Infinity), [2, 4, 4, 4]) });
    await expect(model.generate({ ...base, steps: 3 })).rejects.toThrow(UNET_NAN_MESSAGE);
  });
});

/**
 * The diffusers-compatible solvers against diffusers' own scheduler classes: euler
 * (EulerDiscreteScheduler), euler-a (EulerAncestralDiscreteScheduler), heun (HeunDiscreteScheduler),
 * dpmpp2m (DPMSolverMultistepScheduler), unipc2 (UniPCMultistepScheduler) and ddim with eta
 * (DDIMScheduler), in their default configurations for the exact model's scheduler_config, on
 * linspace, leading (steps_offset 1), trailing and karras grids, unguided and classifier-guided.
 *
 * Vectors: src/main/core/engine/solvers/vectors/diffusers_vectors.json, written by
 *     DIFFUSERS_SRC=<diffusers checkout>/src /usr/bin/python3 tools/vectors/make_diffusers_vectors.py
 * from diffusers 58eb52c (its docstring lists each class's quirks). The seed's generator gives
 * the initial latents and then every ancestral draw, as in a diffusers pipeline.
 *
 * For every case the engine, through sample() with the closed-form exact model, must
 *  - tell the network exactly diffusers' timesteps, in order (fractional float32 values for the
 *    Euler family; Heun's list repeats each later timestep for its correction call),
 *  - make exactly diffusers' number of network and classifier calls and noise draws,
 *  - end within 1e-4 of diffusers' final latents, relative to their largest value.
 * The CLI (--dump-x0 of the built out/main/cli.js, the ONNX exact model) is held to the same
 * figures for a few cases.
 *
 * DDIM on linspace is the exception to "through sample()": diffusers' DDIMScheduler steps from
 * t to t - T//N whatever the grid, so on a linspace grid (999, 888, ...) it lands on 899 and
 * then evaluates at 888. The engine's ddim keeps the paper's semantics (each step lands on the
 * next grid point), so for those cases the test hands the engine's DDIM solver diffusers'
 * landing levels (ddim_prev_timesteps) to check its eta arithmetic and noise stream there, and
 * checks separately that sample() on linspace lands where the paper says.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeGuidedDenoiser } from '../guidance/denoiser';
import { type NoisePredictor, newCostCounter } from '../model';
import { TorchGenerator } from '../noise/torchRandn';
import type { PlannedStep, SamplingPlan } from '../plan';
import { planFor, sample } from '../sampler';
import { alphasCumprod, parseSchedulerConfig } from '../schedule';
import { closedFormClassifier, closedFormPredictor } from '../testing/closedForm';
import { type DiffusersCase, caseConfig, gridName, loadDiffusersVectors } from '../testing/diffusersVectors';
import { loadGaussianMixture } from '../testing/gaussianMixture';
import { readNpy } from '../../io/npy';
import { sampleDdim } from './ddim';

const ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

const vectors = loadDiffusersVectors();

/** The agreement the issue asks for: max |engine - diffusers| / max |diffusers|. */
const TOLERANCE = 1e-4;
/**
 * And a bound that sees smaller departures (1e-4 would pass a missing init_noise_sigma, ~1.5e-5):
 * max |engine - diffusers| within this many times the case's float32_spread, the change in
 * diffusers' own result when every network output and state is moved by one float32 ulp. The
 * diffusers-grid solvers round as diffusers does and land within 1.3x of it; DDIM keeps the
 * engine's float64 schedule (diffusers' is float32) and lands within 13x.
 */
const SPREAD_FACTOR = (c: DiffusersCase) => (c.solver === 'ddim' ? 16 : 4);

const modelDir = path.join(ROOT, vectors.model);
const gmm = loadGaussianMixture(modelDir);
const table = alphasCumprod(parseSchedulerConfig(vectors.scheduler_config));
const [, channels, height, width] = vectors.shape;
const shape = { channels, height, width };

export function relativeError(actual: ArrayLike<number>, expected: readonly number[]): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

/** Records the timestep of every network call. */
function recording(inner: NoisePredictor, seen: number[]): NoisePredictor {
  return { ...inner, predict: (x, rows, t, branches, out) => (seen.push(t), inner.predict(x, rows, t, branches, out)) };
}

/** The seed's generator after the initial latents, counting what the run draws from it. */
function generatorAfterInitialNoise() {
  const generator = new TorchGenerator(vectors.seed);
  const initial = generator.randn(vectors.shape);
  let draws = 0;
  const noise = { randn: (s: readonly number[]) => (draws++, generator.randn(s)) };
  return { initial, noise, draws: () => draws };
}

const engineSolver = (c: DiffusersCase) => (c.solver === 'ddim' ? 'ddim' : c.solver);
const guidanceOf = (c: DiffusersCase) => (c.classifier_scale > 0 ? { classifier: { scale: c.classifier_scale, labels: [c.label!] } } : {});

export interface Outcome {
  timesteps: number[];
  nfe: number;
  classifierCalls: number;
  draws: number;
  x: Float32Array;
}

/** The engine's run of a case, through sample(). */
async function runEngine(c: DiffusersCase): Promise<Outcome> {
  const { scheduler, spacing } = caseConfig(vectors, c);
  const seen: number[] = [];
  const stream = generatorAfterInitialNoise();
  const result = await sample({
    predictor: recording(closedFormPredictor(gmm, table), seen),
    classifier: closedFormClassifier(gmm, table),
    scheduler,
    shape,
    rows: 1,
    solver: engineSolver(c),
    steps: c.steps,
    spacing,
    eta: c.eta,
    noise: stream.noise,
    guidance: guidanceOf(c),
    initial: stream.initial,
  });
  return { timesteps: seen, nfe: result.cost.nfe, classifierCalls: result.cost.classifierCalls, draws: stream.draws(), x: result.x };
}

/** A paper-grid plan whose steps land where diffusers' DDIMScheduler lands: abar[t - T//N], or 1 below 0. */
function landingPlan(plan: SamplingPlan, prev: readonly number[]): SamplingPlan {
  const steps = plan.steps.map((s, i): PlannedStep => {
    const abarPrev = prev[i] >= 0 ? table[prev[i]] : 1;
    const sbPrev = Math.sqrt(1 - abarPrev) / Math.sqrt(abarPrev);
    return { ...s, abarPrev, sqrtAbarPrev: Math.sqrt(abarPrev), sqrtOneMinusAbarPrev: Math.sqrt(1 - abarPrev), sbPrev, delta: sbPrev - s.sb };
  });
  return { ...plan, steps };
}

/** The engine's DDIM solver on diffusers' DDIM landing levels (the linspace cases). */
async function runDdimOnDiffusersLevels(c: DiffusersCase): Promise<Outcome> {
  const { scheduler, spacing } = caseConfig(vectors, c);
  const plan = landingPlan(planFor(scheduler, c.steps, spacing, 'ddim'), c.ddim_prev_timesteps!);
  const seen: number[] = [];
  const cost = newCostCounter();
  const stream = generatorAfterInitialNoise();
  const counted = recording(closedFormPredictor(gmm, table), seen);
  const model = makeGuidedDenoiser({
    predictor: { ...counted, predict: (...a) => (cost.nfe++, counted.predict(...a)) },
    classifier: { ...closedFormClassifier(gmm, table), gradLogProb: (...a) => (cost.classifierCalls++, closedFormClassifier(gmm, table).gradLogProb(...a)) },
    rows: 1,
    shape,
    conversion: { predictionType: scheduler.predictionType, clipRange: null },
    guidance: guidanceOf(c),
    cost,
  });
  const x = stream.initial;
  await sampleDdim({ plan, model, x, eta: c.eta ?? 0, drawNoise: () => stream.noise.randn(vectors.shape), endStep: () => undefined });
  return { timesteps: seen, nfe: cost.nfe, classifierCalls: cost.classifierCalls, draws: stream.draws(), x };
}

const quirkyDdim = (c: DiffusersCase) => c.solver === 'ddim' && c.spacing === 'linspace';

/** Worst relative error per solver x grid, printed at the end (the report's agreement table). */
const worst = new Map<string, number>();
afterAll(() => {
  const lines = [...worst].map(([k, v]) => `${k.padEnd(22)} ${v.toExponential(2)}`);
  process.stdout.write(`\nmax relative error vs diffusers, per solver x grid:\n${lines.join('\n')}\n`);
});

describe('diffusers vectors', () => {
  it('were made from the current model and the seed\'s generator', () => {
    const digest = createHash('sha256').update(readFileSync(path.join(modelDir, 'gmm.json'))).digest('hex');
    expect(digest, 'gmm.json changed: rerun tools/vectors/make_diffusers_vectors.py').toBe(vectors.model_sha256);
    const generator = new TorchGenerator(vectors.seed);
    expect(Array.from(generator.randn(vectors.shape))).toEqual(vectors.initial_noise);
    for (const draw of vectors.noise_stream) expect(Array.from(generator.randn(vectors.shape))).toEqual(draw);
  });

  it('cover every diffusers-compatible solver on every grid diffusers offers it', () => {
    const grids = new Set(vectors.cases.map(gridName));
    for (const solver of ['euler', 'heun', 'dpmpp2m', 'unipc2']) for (const g of ['linspace', 'leading', 'trailing', 'karras']) expect(grids).toContain(`${solver}/${g}`);
    for (const g of ['linspace', 'leading', 'trailing']) for (const s of ['euler-a', 'ddim-eta0', 'ddim-eta1']) expect(grids).toContain(`${s}/${g}`);
  });

  it.each(vectors.cases.map((c) => [c.id, c] as const))('%s', async (_, c) => {
    const outcome = quirkyDdim(c) ? await runDdimOnDiffusersLevels(c) : await runEngine(c);
    expect(outcome.timesteps).toEqual(c.timesteps.map(Math.fround));
    expect(outcome.nfe).toBe(c.nfe);
    expect(outcome.classifierCalls).toBe(c.classifier_calls);
    expect(outcome.draws).toBe(c.noise_draws);
    const error = relativeError(outcome.x, c.final);
    const key = gridName(c);
    worst.set(key, Math.max(worst.get(key) ?? 0, error));
    expect(error, 'max |engine - diffusers| / max |diffusers|').toBeLessThanOrEqual(TOLERANCE);
    const absolute = error * Math.max(...c.final.map(Math.abs));
    expect(absolute, `max |engine - diffusers| against ${SPREAD_FACTOR(c)} x the float32 spread ${c.float32_spread}`).toBeLessThanOrEqual(SPREAD_FACTOR(c) * c.float32_spread);
  });

  it('ddim on linspace through sample() lands on the next grid point, not at t - T//N', async () => {
    const c = vectors.cases.find((k) => k.id === 'ddim-eta0/linspace/N10/s0')!;
    const plan = planFor(caseConfig(vectors, c).scheduler, 10, 'linspace', 'ddim');
    expect(plan.steps[0].abarPrev).toBe(table[888]);
    expect(c.ddim_prev_timesteps![0]).toBe(899);
    // ... and so it differs from diffusers' DDIM there, by more than the tolerance.
    expect(relativeError((await runEngine(c)).x, c.final)).toBeGreaterThan(TOLERANCE);
  });
});

describe('the CLI agrees with diffusers too (--dump-x0, ONNX exact model)', () => {
  const bin = path.join(ROOT, 'bin/split-studio.js');
  const built = existsSync(path.join(ROOT, 'out/main/cli.js'));
  // Every case on the linspace and karras grids (each solver x {10, 20} steps x {unguided, s = 10},
  // euler-a with the seed), except DDIM on linspace (the paper's semantics, above), and a few on
  // the other grids: about 0.6 s each.
  const picks = [
    ...vectors.cases.filter((c) => (c.spacing === 'linspace' || c.spacing === 'karras') && c.solver !== 'ddim').map((c) => c.id),
    'euler-a/trailing/N10/s10', 'unipc2/trailing/N10/s10', 'ddim-eta1/trailing/N10/s10',
  ];
  it.skipIf(!built).each(picks)('%s', (id) => {
    const c = vectors.cases.find((k) => k.id === id)!;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'split-diffusers-'));
    const args = ['generate', '--model', modelDir, '--solver', engineSolver(c), '--steps', String(c.steps), '--seed', String(vectors.seed), '--spacing', c.spacing];
    if (c.eta !== undefined) args.push('--eta', String(c.eta));
    if (c.classifier_scale > 0) args.push('--class', String(c.label), '--classifier-scale', String(c.classifier_scale));
    const r = spawnSync(process.execPath, [bin, ...args, '--no-gallery', '--out', path.join(dir, 'x.png'), '--dump-x0', path.join(dir, 'x.npy'), '--json'], {
      encoding: 'utf8', timeout: 60_000, env: { ...process.env, SPLIT_STUDIO_HOME: dir },
    });
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.nfe).toBe(c.nfe);
    expect(report.classifierCalls).toBe(c.classifier_calls);
    const grid = c.solver === 'heun' ? c.timesteps.filter((_, i) => i === 0 || i % 2 === 1) : c.timesteps;
    expect(report.timesteps).toEqual(grid.map(Math.fround));
    const x = readNpy(readFileSync(path.join(dir, 'x.npy'))).data;
    const error = relativeError(x, c.final);
    worst.set(`CLI ${id}`, error);
    expect(error).toBeLessThanOrEqual(TOLERANCE);
  });
});

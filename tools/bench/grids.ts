/**
 * `npm run bench:grids -- PLAN.json [--out FILE.jsonl]`: solvers on explicit time grids on the
 * default model under CFG, each run's RMS error against the Richardson reference of its guided
 * ODE (2 DDIM(500) - DDIM(250), the sweep's own; cached under tmp/grid-refs by model hash). The question it
 * answers: which grid, for which step count, makes a solver most accurate (docs/solvers.md,
 * "Split exponential solvers", the truncated-grid rows). A benchmark: it prints, it does not judge.
 *
 * A plan names prompts, seeds and guidance scales, and jobs; a job is a solver, a step count and
 * a grid: a named spacing ("karras"), or a family ending at training timestep tEnd before the
 * last step to sigma 0:
 *   {"family": "power", "rho": 7, "tEnd": 0}      sigmas uniform in sigma^(1/rho) (Karras et al. 2022 eq. 5; rho 0: uniform in log sigma)
 *   {"family": "linspace", "kappa": 1, "tEnd": 45} t_i = tEnd + (999 - tEnd)(1 - i/(N-1))^kappa
 * Whole-number timesteps, sigmas interpolated from the training table (an explicit grid).
 * A split-pc3 job may also carry "splitOptions" (ExpSplitOptions fields, e.g. {"corrector": false}):
 * that variant of the solver runs for the job alone. After the per-job lines it prints, per step
 * count and scale, each solver (variant) on its best grid against the best of DPM-Solver++(2M) and
 * UniPC-2 on theirs: the ratio of mean errors and the prompt x seed pairs it wins.
 * `--sheet FILE.png` also writes the pictures: a row per prompt x seed x scale, the reference
 * first, then each job in the plan's order (4x, nearest neighbour).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../../src/shared/settings';
import { openModel, modelFolder } from '../../src/cli/run';
import { diffusersTables, sigmaToT } from '../../src/main/core/engine/diffusersGrid';
import { torchRandn } from '../../src/main/core/engine/noise/torchRandn';
import { type ExpSplitOptions, SPLIT_PC3 } from '../../src/main/core/engine/solvers/expSplit';
import { richardsonReference } from '../../src/main/core/lab/reference';
import { rmsError } from '../../src/main/core/lab/sweep';
import { type RgbaImage, tensorToImage } from '../../src/main/core/pipelines/images';
import { defaultModelDir } from '../../src/main/core/models/catalog';
import { modelHashes, shortModelHash } from '../../src/main/core/models/modelHashes';
import { tileSheet } from '../docs/tileSheet';

interface Job {
  solver: string;
  steps: number;
  named?: string;
  family?: 'power' | 'linspace';
  rho?: number;
  kappa?: number;
  tEnd?: number;
  splitOptions?: Partial<ExpSplitOptions>;
}
interface Plan {
  prompts: string[];
  seeds: number[];
  guidances: number[];
  jobs: Job[];
}

const argv = process.argv.slice(2);
const planFile = argv.find((a) => !a.startsWith('--'));
if (!planFile) {
  process.stderr.write('usage: npm run bench:grids -- PLAN.json [--out FILE.jsonl] [--sheet FILE.png]\n');
  process.exit(2);
}
const outIndex = argv.indexOf('--out');
const outFile = outIndex >= 0 ? argv[outIndex + 1] : undefined;
const sheetIndex = argv.indexOf('--sheet');
const sheetFile = sheetIndex >= 0 ? argv[sheetIndex + 1] : undefined;
const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;

/** The job's timesteps (descending, whole numbers), or its spacing name. */
function gridOf(job: Job): string | number[] {
  if (job.named) return job.named;
  const n = job.steps;
  const tEnd = job.tEnd ?? 0;
  const ramp = (i: number) => (n === 1 ? 0 : i / (n - 1));
  let ts: number[];
  if (job.family === 'linspace') {
    ts = Array.from({ length: n }, (_, i) => Math.round(tEnd + (T_LAST - tEnd) * (1 - ramp(i)) ** (job.kappa ?? 1)));
  } else {
    const sMax = tables.sigmas[T_LAST];
    const sMin = tables.sigmas[tEnd];
    const rho = job.rho ?? 7;
    const sigma = (r: number) => (rho === 0 ? Math.exp(Math.log(sMax) + r * Math.log(sMin / sMax)) : (sMax ** (1 / rho) + r * (sMin ** (1 / rho) - sMax ** (1 / rho))) ** rho);
    ts = Array.from({ length: n }, (_, i) => Math.round(sigmaToT(sigma(ramp(i)), tables.logSigmas)));
  }
  // Rounding may merge neighbours at the fine end: keep the list strictly descending.
  for (let i = 1; i < ts.length; i++) if (ts[i] >= ts[i - 1]) ts[i] = ts[i - 1] - 1;
  return ts;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const folder = modelFolder(defaultModelDir()!, '');
const model = await openModel(folder, ['cpu']);
const tables = diffusersTables(folder.scheduler);
const T_LAST = folder.scheduler.numTrainTimesteps - 1;
const base = (prompt: string, seed: number, guidance: number): Settings => ({
  task: 'txt2img', prompt, negativePrompt: '', classLabel: null, classifierScale: 0, solver: 'ddim', steps: 20, guidance, conditionAt: 'same-point',
  consistencyScale: 1, seed, width: 32, height: 32, spacing: 'linspace', clipX0: null, strength: 1,
});
// Keyed by the model files' hash: new weights are another ODE.
const cacheDir = path.join('tmp', 'grid-refs', `${folder.name.replace(/\W+/g, '_')}-${shortModelHash(await modelHashes(folder.dir))}`);
mkdirSync(cacheDir, { recursive: true });
const solveReference = richardsonReference(model, 250);
const pairs: { settings: Settings; noise: Float32Array; reference: Float64Array }[] = [];
const sheetRows: RgbaImage[][] = [];
const picture = (x: ArrayLike<number>) => tensorToImage(Float32Array.from(x), 3, 32, 32);
for (const prompt of plan.prompts) {
  for (const seed of plan.seeds) {
    for (const guidance of plan.guidances) {
      const settings = base(prompt, seed, guidance);
      const noise = torchRandn(seed, [1, 3, 32, 32]);
      const file = path.join(cacheDir, `${prompt.replace(/\W+/g, '_')}-${seed}-${guidance}.f64`);
      let reference: Float64Array;
      if (existsSync(file)) {
        reference = new Float64Array(new Uint8Array(readFileSync(file)).buffer);
      } else {
        const solved = await solveReference({ seed, guidance, classifierScale: 0, noise, base: settings });
        reference = Float64Array.from(solved.x);
        writeFileSync(file, new Uint8Array(reference.buffer));
        process.stderr.write(`reference ${prompt} / seed ${seed} / w ${guidance}: accuracy ${solved.accuracy.toExponential(2)}, DDIM-250 error ${(2 * solved.accuracy).toExponential(2)}\n`);
      }
      pairs.push({ settings, noise, reference });
      if (sheetFile) sheetRows.push([picture(reference)]);
    }
  }
}

process.stdout.write(`solver | steps | grid | ${plan.guidances.map((w) => `w = ${w} mean (median)`).join(' | ')} | mean\n`);
const shipped = { ...SPLIT_PC3 };
const results: { job: Job; grid: string; errors: Map<number, number[]> }[] = [];
for (const job of plan.jobs) {
  const spacing = gridOf(job);
  const errors = new Map<number, number[]>();
  // The sampler builds split-pc3 from this object at each run: a variant for this job only.
  for (const key of Object.keys(SPLIT_PC3)) delete (SPLIT_PC3 as unknown as Record<string, unknown>)[key];
  Object.assign(SPLIT_PC3, shipped, job.splitOptions ?? {});
  for (const [i, pair] of pairs.entries()) {
    const result = await model.generate({ ...pair.settings, solver: job.solver, steps: job.steps, spacing: spacing as Settings['spacing'] }, { initNoise: pair.noise });
    const error = result.x.every(Number.isFinite) ? rmsError(result.x, pair.reference) : Infinity;
    errors.set(pair.settings.guidance, [...(errors.get(pair.settings.guidance) ?? []), error]);
    if (sheetFile) sheetRows[i].push(picture(result.x));
  }
  const means = plan.guidances.map((w) => mean(errors.get(w)!));
  const grid = job.named ?? (job.family === 'linspace' ? `linspace^${job.kappa ?? 1} to t=${job.tEnd ?? 0}` : `${job.rho === 0 ? 'log-sigma' : `rho ${job.rho ?? 7}`} to t=${job.tEnd ?? 0}`);
  const label = job.splitOptions ? `${grid} ${JSON.stringify(job.splitOptions)}` : grid;
  process.stdout.write(`${job.solver} | ${job.steps} | ${label} | ${plan.guidances.map((w, i) => `${means[i].toFixed(4)} (${median(errors.get(w)!).toFixed(4)})`).join(' | ')} | ${mean(means).toFixed(4)}\n`);
  if (outFile) appendFileSync(outFile, JSON.stringify({ ...job, label, grid: spacing, errors: Object.fromEntries(errors) }) + '\n');
  results.push({ job, grid, errors });
}

if (sheetFile) writeFileSync(sheetFile, tileSheet(sheetRows, 4));

// The issue's comparison: at each step count and scale, each solver (variant) on its best grid
// against the best of DPM-Solver++(2M) and UniPC-2 on theirs, with the pairs it wins there.
const BASELINES = ['dpmpp2m', 'unipc2'];
const solverName = (job: Job) => (job.splitOptions ? `${job.solver} ${JSON.stringify(job.splitOptions)}` : job.solver);
process.stdout.write(`\nsteps | w | best baseline (grid) | solver | its best grid | error | / best baseline | pairs won\n`);
for (const steps of [...new Set(results.map((r) => r.job.steps))].sort((a, b) => a - b)) {
  const atSteps = results.filter((r) => r.job.steps === steps);
  const baselines = atSteps.filter((r) => BASELINES.includes(r.job.solver));
  if (!baselines.length) continue;
  for (const w of plan.guidances) {
    const best = (list: typeof results) => list.reduce((a, b) => (mean(b.errors.get(w)!) < mean(a.errors.get(w)!) ? b : a));
    const baseline = best(baselines);
    const baselineErrors = baseline.errors.get(w)!;
    for (const name of [...new Set(atSteps.filter((r) => !BASELINES.includes(r.job.solver)).map((r) => solverName(r.job)))]) {
      const ours = best(atSteps.filter((r) => solverName(r.job) === name));
      const errors = ours.errors.get(w)!;
      const won = errors.filter((e, i) => e < baselineErrors[i]).length;
      process.stdout.write(`${steps} | ${w} | ${mean(baselineErrors).toFixed(4)} (${baseline.job.solver} ${baseline.grid}) | ${name} | ${ours.grid} | ${mean(errors).toFixed(4)} | ${(mean(errors) / mean(baselineErrors)).toFixed(2)} | ${won}/${errors.length}\n`);
    }
  }
}

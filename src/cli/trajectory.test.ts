/**
 * `split-studio sweep --trajectory DIR` and `split-studio generate --solver reference`, as users run
 * them (the built CLI): a tiny sweep on the exact 3x8x8 model writes every step's x0 of every run,
 * readable back with the shape of x_T, with each run's result (the x0 `generate --dump-x0` writes; for
 * DDIM the last step's x0) and each reference (what `generate --solver reference` writes), as far
 * apart as the sweep reports.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { readNpy } from '../main/core/io/npy';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/split-studio.js');
const exact8 = path.join(root, 'resources/exact/gmm-3x8x8');
let dir: string;
let home: string;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, SPLIT_STUDIO_HOME: home } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const npy = (file: string) => readNpy(new Uint8Array(readFileSync(path.join(dir, file))));
const rms = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return Math.sqrt(sum / a.length);
};

beforeAll(() => {
  if (!existsSync(path.join(root, 'out/main/cli.js'))) throw new Error('build first: npm run build');
  dir = mkdtempSync(path.join(os.tmpdir(), 'split-trajectory-'));
  home = mkdtempSync(path.join(os.tmpdir(), 'split-trajectory-home-'));
});

interface IndexRun {
  index: number; folder: string; reference: string; final: string; seed: number; classifierScale: number; solver: string; steps: number; finished: boolean; rmsError: number;
  trajectory: { step: number; timestep: number; nfe: number; file: string }[];
}

describe('sweep --trajectory on the exact model', () => {
  let index: { shape: number[]; runs: IndexRun[] };
  let doc: { runs: { solver: string; steps: number; classifierScale: number; rmsError: number }[] };

  beforeAll(() => {
    const r = cli('sweep', '--model', exact8, '--solvers', 'ddim,stsp4', '--steps', '5,8', '--class', '1', '--classifier-scale', '0,4', '--seeds', '0', '--trajectory', 'traj', '--json', 'a.json', '--no-save');
    expect(r.code, r.stderr).toBe(0);
    index = JSON.parse(readFileSync(path.join(dir, 'traj', 'index.json'), 'utf8'));
    doc = JSON.parse(readFileSync(path.join(dir, 'a.json'), 'utf8'));
  });

  test('one folder per run, in the JSON runs order, one x0 file per step with the shape of x_T', () => {
    expect(index.shape).toEqual([1, 3, 8, 8]);
    expect(index.runs.map((r) => r.index)).toEqual(doc.runs.map((_, i) => i));
    for (const [i, run] of index.runs.entries()) {
      expect(run.folder).toBe(`run${String(i).padStart(4, '0')}-seed0-w1-s${run.classifierScale}-${run.solver}-linspace-${run.steps}steps`);
      expect([run.solver, run.steps, run.classifierScale]).toEqual([doc.runs[i].solver, doc.runs[i].steps, doc.runs[i].classifierScale]);
      expect(run.trajectory.map((s) => s.step)).toEqual(Array.from({ length: run.steps }, (_, k) => k + 1));
      expect(run.finished).toBe(true);
      for (const s of run.trajectory) {
        expect(s.file).toBe(`${run.folder}/x0-${String(s.step).padStart(4, '0')}.npy`);
        const a = npy(path.join('traj', s.file));
        expect(a.shape).toEqual([1, 3, 8, 8]);
        expect(a.data.every(Number.isFinite)).toBe(true);
      }
      // The timesteps walk down the grid.
      const ts = run.trajectory.map((s) => s.timestep);
      expect([...ts].sort((a, b) => b - a)).toEqual(ts);
    }
  });

  test("final.npy is the run's result (generate --dump-x0); DDIM's last step's x0 is that result, within float32", () => {
    for (const run of index.runs.filter((r) => r.steps === 5)) {
      const out = `final-${run.index}.npy`;
      const r = cli('generate', '--model', exact8, '--solver', run.solver, '--steps', String(run.steps), '--class', '1', '--classifier-scale', String(run.classifierScale),
        '--seed', '0', '--dump-x0', out, '--out', `final-${run.index}.png`, '--no-gallery');
      expect(r.code, r.stderr).toBe(0);
      const generated = npy(out);
      const final = npy(path.join('traj', run.folder, 'final.npy'));
      expect(final.shape).toEqual([1, 3, 8, 8]);
      expect(final.data).toEqual(generated.data);
      const last = npy(path.join('traj', run.trajectory.at(-1)!.file)).data;
      const within = (a: Float32Array, b: Float32Array) => a.every((v, i) => Math.abs(v - b[i]) <= 1e-6 * Math.max(1, Math.abs(b[i])));
      // DDIM's last update is x0 itself (abar = 1 at the end); STSP-4's combines the last prediction with earlier ones.
      expect(within(last, final.data)).toBe(run.solver === 'ddim');
    }
  });

  test('the reference files: generate --solver reference writes the same, and each result is as far from it as the sweep reports', () => {
    for (const scale of [0, 4]) {
      const r = cli('generate', '--model', exact8, '--solver', 'reference', '--class', '1', '--classifier-scale', String(scale), '--seed', '0', '--dump-x0', `ref-${scale}.npy`, '--out', `ref-${scale}.png`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/reference: closed-form RK4, 2000 steps in float64, [\d.]+ ms; accuracy \d\.\d{3}e-\d+ RMS, the change from halving its steps/);
      expect(r.stdout).toMatch(/not recorded in the gallery/);
      const reference = npy(`ref-${scale}.npy`);
      expect(reference.shape).toEqual([1, 3, 8, 8]);
      expect(npy(path.join('traj', `reference-seed0-w1-s${scale}.npy`)).data).toEqual(reference.data);
      for (const run of index.runs.filter((x) => x.classifierScale === scale)) {
        expect(run.reference).toBe(`reference-seed0-w1-s${scale}.npy`);
        const final = npy(path.join('traj', run.folder, 'final.npy')).data;
        // The reference was rounded to float32 when written: 1e-7 relative, far below any run's error.
        expect(rms(final, reference.data) / run.rmsError).toBeCloseTo(1, 5);
      }
    }
  });

  test('a folder that is not empty is refused before any work', () => {
    mkdirSync(path.join(dir, 'used'));
    writeFileSync(path.join(dir, 'used', 'x'), '');
    const r = cli('sweep', '--model', exact8, '--solvers', 'ddim', '--steps', '5', '--trajectory', 'used', '--no-save');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('split-studio: --trajectory used: the folder is not empty; give a new or empty one\n');
    expect(r.stdout).toBe('');
  });
});

describe('generate --solver reference', () => {
  test('--json: the accuracy, the files, and no gallery record', () => {
    const r = cli('generate', '--model', exact8, '--solver', 'reference', '--class', '2', '--seed', '3', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.generationId).toBeNull();
    expect(report.reference).toMatchObject({ method: 'exact-rk4', steps: 2000 });
    expect(report.reference.accuracy).toBeLessThan(1e-8);
    expect(report.settings).toMatchObject({ seed: 3, classLabel: 2, classifierScale: 5, width: 8, height: 8 });
    expect(report.outputs.image).toBe(path.join(dir, 'split-studio-reference-3.png'));
    expect(existsSync(report.outputs.image)).toBe(true);
    expect(readdirSync(home)).toEqual([]);
  });

  test.each([
    [[], /^split-studio: --solver reference: Noto Emoji 32 is a network model, with no closed form to solve; use `split-studio sweep`, which measures solvers against a Richardson-extrapolated DDIM reference \(docs\/sweep\.md\)$/],
    [['--model', exact8, '--steps', '10'], /^split-studio: --steps does not apply to --solver reference/],
    [['--model', exact8, '--guidance', '3'], /no unconditional branch: --guidance must be 1/],
    [['--model', exact8, '--width', '16'], /^split-studio: --solver reference: Exact Gaussian mixture 3x8x8 is 8x8; its closed form has no other size$/],
  ])('refused: %j', (args, message) => {
    const r = cli('generate', '--solver', 'reference', ...args, '--out', 'refused.png');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
    expect(existsSync(path.join(dir, 'refused.png'))).toBe(false);
  });
});

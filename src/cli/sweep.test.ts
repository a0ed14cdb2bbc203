/**
 * `split-studio sweep` as users run it (the built CLI, out/main/cli.js): bad input is one line
 * and exit 2 before any work, and a small sweep on the exact 3x8x8 model writes a JSON and a CSV
 * that agree, with the engine's counted costs and errors that behave as the mathematics says.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { expectedCost, termsOf } from '../shared/solvers';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/split-studio.js');
const exact8 = path.join(root, 'resources/exact/gmm-3x8x8');
let dir: string;
/** The data folder the sweeps are kept in (never the user's own). */
let home: string;

function cli(command: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, command, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, SPLIT_STUDIO_HOME: home } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const run = (...args: string[]) => cli('sweep', ...args);

beforeAll(() => {
  if (!existsSync(path.join(root, 'out/main/cli.js'))) throw new Error('build first: npm run build');
  dir = mkdtempSync(path.join(os.tmpdir(), 'split-sweep-'));
  home = mkdtempSync(path.join(os.tmpdir(), 'split-sweep-home-'));
});

describe('bad input: one line on stderr, exit 2, no output file', () => {
  const base = ['--model', exact8, '--json', 'bad.json'];
  test.each([
    [['--solvers', 'ddim,rk45', '--steps', '10'], /^split-studio: unknown solver "rk45"; choose from: ddim, /],
    [['--solvers', '', '--steps', '10'], /^split-studio: --solvers is empty/],
    [['--solvers', 'ddim,,plms4', '--steps', '10'], /^split-studio: --solvers has an empty item/],
    [['--solvers', 'ddim', '--steps', ','], /^split-studio: --steps is empty/],
    [['--solvers', 'ddim', '--steps', '10', '--nfe', '10'], /^split-studio: --steps and --nfe both size the runs; give one or the other$/],
    [['--solvers', 'ddim'], /^split-studio: sweep needs --steps N,\.\.\. or --nfe N,\.\.\.$/],
    [['--steps', '10'], /^split-studio: sweep needs --solvers/],
    [['--solvers', 'ddim', '--steps', '10,x'], /^split-studio: --steps must be a number, got "x"$/],
    [['--solvers', 'ddim', '--steps', '10,10'], /^split-studio: --steps lists 10 twice$/],
    [['--solvers', 'heun', '--nfe', '4'], /^split-studio: --nfe 4 is too few network calls for heun: its fewest steps \(3\) take 5$/],
    [['--solvers', 'ddim', '--steps', '10', '--classifier-scale', '5'], /^split-studio: --classifier-scale needs --class K/],
    [['--solvers', 'ddim', '--steps', '10', '--guidance', '3'], /no unconditional branch: --guidance must be 1/],
    [['--solvers', 'plms4', '--steps', '10', '--spacing', 'karras'], /cannot use the karras spacing/],
    [['--solvers', 'ddim', '--steps', '10', '--spacing', 'cosine'], /^split-studio: --spacing must list names from /],
    [['--solvers', 'ddim', '--steps', '10', '--prompt', 'a cat'], /^split-studio: --prompt: Exact Gaussian mixture 3x8x8 has no text encoder/],
  ])('%j', (args, message) => {
    const r = run(...base, ...args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(existsSync(path.join(dir, 'bad.json'))).toBe(false);
  });

  test('--class on a model without a classifier', () => {
    const model = path.join(dir, 'no-classifier');
    cpSync(exact8, model, { recursive: true });
    rmSync(path.join(model, 'classifier'), { recursive: true });
    const r = run('--model', model, '--solvers', 'ddim', '--steps', '10', '--class', '1');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('split-studio: Exact Gaussian mixture 3x8x8 has no classifier, so --class cannot be used\n');
  });
});

interface Run { seed: number; classifierScale: number; solver: string; steps: number; nfe: number; expectedNfe: number; targetNfe: number | null; classifierCalls: number; rmsError: number; psnr: number; diverged: boolean }

describe('a small sweep on the exact model', () => {
  const solvers = ['ddim', 'stsp4', 'plms4', 'heun'];
  let doc: { runs: Run[]; references: { seed: number; accuracy: number }[]; complete: boolean; plannedRuns: number };
  let csv: string[];
  let stdout: string;

  beforeAll(() => {
    const r = run('--model', exact8, '--solvers', solvers.join(','), '--steps', '5,10,20', '--class', '1', '--classifier-scale', '0,10', '--seeds', '0,1', '--csv', 'a.csv', '--json', 'a.json');
    expect(r.code, r.stderr).toBe(0);
    stdout = r.stdout;
    doc = JSON.parse(readFileSync(path.join(dir, 'a.json'), 'utf8'));
    csv = readFileSync(path.join(dir, 'a.csv'), 'utf8').trim().split('\n');
  });

  test('every combination ran once, and stdout has a line for each', () => {
    const keys = doc.runs.map((r) => `${r.seed}/${r.classifierScale}/${r.solver}/${r.steps}`);
    const expected = [0, 1].flatMap((seed) => [0, 10].flatMap((s) => solvers.flatMap((id) => [5, 10, 20].map((n) => `${seed}/${s}/${id}/${n}`))));
    expect(keys.sort()).toEqual(expected.sort());
    expect(doc.complete).toBe(true);
    expect(doc.plannedRuns).toBe(expected.length);
    expect(stdout.split('\n').filter((l) => /^\s+\d/.test(l))).toHaveLength(expected.length);
    // One reference per seed and classifier scale, each far more accurate than any run.
    expect(doc.references).toHaveLength(4);
    for (const ref of doc.references) expect(ref.accuracy).toBeLessThan(1e-8);
  });

  test('the counted network and classifier calls are the catalogue\'s', () => {
    for (const r of doc.runs) {
      const cost = expectedCost(r.solver, r.steps, r.classifierScale > 0 ? termsOf('classifier') : termsOf(), 'same-point');
      expect(r.nfe, `${r.solver} ${r.steps}`).toBe(cost.nfe);
      expect(r.expectedNfe).toBe(cost.nfe);
      expect(r.classifierCalls).toBe(cost.classifierCalls);
    }
  });

  test('DDIM\'s error falls as its steps double (first order: about halves)', () => {
    for (const seed of [0, 1]) {
      for (const scale of [0, 10]) {
        const errors = [5, 10, 20].map((n) => doc.runs.find((r) => r.solver === 'ddim' && r.seed === seed && r.classifierScale === scale && r.steps === n)!.rmsError);
        expect(errors[1]).toBeLessThan(errors[0]);
        expect(errors[2]).toBeLessThan(errors[1]);
        expect(errors[1] / errors[2]).toBeGreaterThan(1.6);
      }
    }
  });

  test('the CSV has the JSON\'s runs, column for column', () => {
    const header = csv[0].split(',');
    expect(header).toContain('rmsError');
    expect(csv).toHaveLength(doc.runs.length + 1);
    for (const [i, line] of csv.slice(1).entries()) {
      const cells = line.split(',');
      const record = doc.runs[i] as unknown as Record<string, unknown>;
      for (const [j, column] of header.entries()) {
        const value = record[column];
        expect(cells[j], `${i} ${column}`).toBe(value === null ? '' : String(value));
      }
    }
  });
});

test('every solver starts from the seed\'s one noise: DDIM at 1000 steps lands on the reference', () => {
  const r = run('--model', exact8, '--solvers', 'ddim,stsp4', '--steps', '50,1000', '--class', '2', '--classifier-scale', '4', '--seeds', '7', '--json', 'd.json');
  expect(r.code, r.stderr).toBe(0);
  const runs: Run[] = JSON.parse(readFileSync(path.join(dir, 'd.json'), 'utf8')).runs;
  const error = (solver: string, steps: number) => runs.find((x) => x.solver === solver && x.steps === steps)!.rmsError;
  // First order: 20 times the steps, about a twentieth of the error, and far below the distance
  // between two seeds' samples (order 1); both solvers converge to the same point.
  expect(error('ddim', 1000)).toBeLessThan(error('ddim', 50) / 10);
  expect(error('ddim', 1000)).toBeLessThan(3e-3);
  expect(error('stsp4', 1000)).toBeLessThan(3e-3);
});

test('--nfe gives each solver the most steps whose calls fit', () => {
  const r = run('--model', exact8, '--solvers', 'ddim,plms4,heun', '--nfe', '9,20', '--json', 'n.json');
  expect(r.code, r.stderr).toBe(0);
  const runs: Run[] = JSON.parse(readFileSync(path.join(dir, 'n.json'), 'utf8')).runs;
  const stepsOf = (solver: string, nfe: number) => runs.find((x) => x.solver === solver && x.targetNfe === nfe)!;
  // DDIM N calls, PLMS N + 1, Heun 2N - 1.
  expect([stepsOf('ddim', 9).steps, stepsOf('plms4', 9).steps, stepsOf('heun', 9).steps]).toEqual([9, 8, 5]);
  expect([stepsOf('ddim', 20).nfe, stepsOf('plms4', 20).nfe, stepsOf('heun', 20).nfe]).toEqual([20, 20, 19]);
});

test('Ctrl+C stops after the run in progress and writes what finished', async () => {
  const child = spawn(process.execPath, [bin, 'sweep', '--model', exact8, '--solvers', 'ddim', '--steps', '200,400,600,800,1000', '--seeds', '0,1,2,3', '--json', 'c.json', '--csv', 'c.csv'], { cwd: dir, env: { ...process.env, SPLIT_STUDIO_HOME: home } });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => {
    child.stdout.on('data', (d) => {
      out += d;
      // The first run's line: interrupt during the second.
      if (/\n\s+0\s.*ddim/.test(out) && !child.killed) child.kill('SIGINT');
    });
    child.on('close', resolve);
  });
  expect(code, err).toBe(130);
  expect(err).toMatch(/stopping after the current run/);
  const doc = JSON.parse(readFileSync(path.join(dir, 'c.json'), 'utf8'));
  expect(doc.complete).toBe(false);
  expect(doc.runs.length).toBeGreaterThanOrEqual(1);
  expect(doc.runs.length).toBeLessThan(doc.plannedRuns);
  expect(readFileSync(path.join(dir, 'c.csv'), 'utf8').trim().split('\n')).toHaveLength(doc.runs.length + 1);
});

describe('kept sweeps', () => {
  test('a sweep is kept in the data folder; sweeps lists it and shows it again, files equal to the run\'s own', () => {
    const r = run('--model', exact8, '--solvers', 'ddim,stsp4', '--steps', '5,8', '--class', '1', '--classifier-scale', '10', '--json', 'kept.json', '--csv', 'kept.csv');
    expect(r.code, r.stderr).toBe(0);
    const id = Number(r.stdout.match(/^# saved as sweep (\d+) /m)?.[1]);
    expect(id).toBeGreaterThan(0);
    const listed = JSON.parse(cli('sweeps', 'list', '--json').stdout) as { id: number; runs: number; complete: boolean; modelName: string }[];
    expect(listed.find((w) => w.id === id)).toMatchObject({ runs: 4, complete: true, modelName: 'Exact Gaussian mixture 3x8x8' });
    const shown = cli('sweeps', 'show', String(id), '--json', 'again.json', '--csv', 'again.csv');
    expect(shown.code, shown.stderr).toBe(0);
    // The same table lines as the run printed (its reference line included), and the same files.
    const lines = (out: string) => out.split('\n').filter((l) => /^\s+\d/.test(l) || l.startsWith('# reference'));
    expect(lines(shown.stdout)).toEqual(lines(r.stdout));
    expect(readFileSync(path.join(dir, 'again.csv'), 'utf8')).toBe(readFileSync(path.join(dir, 'kept.csv'), 'utf8'));
    expect(JSON.parse(readFileSync(path.join(dir, 'again.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(path.join(dir, 'kept.json'), 'utf8')));
    expect(run('--model', exact8, '--solvers', 'ddim', '--steps', '5', '--no-save').stdout).not.toMatch(/saved as sweep/);
    expect(JSON.parse(cli('sweeps', '--json').stdout)).toHaveLength(listed.length);
    expect(cli('sweeps', 'show', '999').stderr).toMatch(/^split-studio: there is no sweep 999 /);
    expect(cli('sweeps', 'show', 'x').code).toBe(2);
  });

  test('a network model\'s reference is kept in the data folder and reused by the next sweep of the same ODE (not with --no-save)', () => {
    const args = ['--solvers', 'ddim', '--steps', '5', '--guidance', '3', '--prompt', 'red heart', '--reference-steps', '10'];
    const referenceLine = (out: string) => out.split('\n').find((l) => l.startsWith('# reference'))!;
    const errorOf = (out: string) => out.split('\n').find((l) => /^\s+0\s.*ddim/.test(l))!.trim().split(/\s+/)[10];
    const first = run(...args);
    expect(first.code, first.stderr).toBe(0);
    expect(referenceLine(first.stdout)).not.toMatch(/reused/);
    const second = run(...args);
    expect(referenceLine(second.stdout)).toMatch(/30 network calls, reused from an earlier sweep/);
    expect(errorOf(second.stdout)).toBe(errorOf(first.stdout));
    expect(referenceLine(run(...args, '--no-save').stdout)).not.toMatch(/reused/);
    expect(referenceLine(run(...args, '--seeds', '1').stdout)).not.toMatch(/reused/);
  });
});

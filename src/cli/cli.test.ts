/**
 * The built command line (out/main/cli.js, made by `npm test`'s build step) run as users run
 * it: exit codes, one-line errors, no partial files, JSON reports.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { SOLVER_IDS } from '../shared/solvers';
import { readNpy } from '../main/io/npy';
import { decodePng, encodePng } from '../main/io/png';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/split-studio.js');
const exact8 = path.join(root, 'resources/exact/gmm-3x8x8');
let dir: string;

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(path.join(root, 'out/main/cli.js'))) throw new Error('build first: npm run build');
  dir = mkdtempSync(path.join(os.tmpdir(), 'split-cli-'));
});

describe('generate on the exact model', () => {
  test('the issue\'s example: stsp4, class 1, classifier scale 10, JSON report', () => {
    const r = run('generate', '--model', exact8, '--class', '1', '--classifier-scale', '10', '--solver', 'stsp4', '--steps', '20', '--seed', '0', '--out', 'x.png', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ nfe: 20, guidanceEvaluations: 40, classifierCalls: 40, provider: 'cpu', outputs: { image: path.join(dir, 'x.png') } });
    expect(report.timesteps).toHaveLength(20);
    expect(report.timings.totalMs).toBeGreaterThan(0);
    const png = decodePng(readFileSync(path.join(dir, 'x.png')));
    expect([png.width, png.height]).toEqual([8, 8]);
  });

  test.each(SOLVER_IDS)('%s runs with classifier guidance and reports its cost', (solver) => {
    const r = run('generate', '--model', exact8, '--class', '2', '--classifier-scale', '4', '--solver', solver, '--steps', '8', '--seed', '3', '--out', `${solver}.png`, '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.nfe).toBe(report.expected.nfe);
    expect(report.classifierCalls).toBe(report.expected.classifierCalls);
  });

  test('--dump-x0 and --init-noise round trip: the same noise gives the same result', () => {
    expect(run('noise', '--seed', '5', '--shape', '1,3,8,8', '--out', 'n.npy').code).toBe(0);
    expect(run('generate', '--model', exact8, '--solver', 'ltsp2', '--steps', '10', '--seed', '5', '--out', 'a.png', '--dump-x0', 'a.npy').code).toBe(0);
    expect(run('generate', '--model', exact8, '--solver', 'ltsp2', '--steps', '10', '--seed', '999', '--init-noise', 'n.npy', '--out', 'b.png', '--dump-x0', 'b.npy').code).toBe(0);
    const a = readNpy(readFileSync(path.join(dir, 'a.npy')));
    const b = readNpy(readFileSync(path.join(dir, 'b.npy')));
    expect(a.shape).toEqual([1, 3, 8, 8]);
    expect(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true);
  });

  test('--timesteps gives an explicit grid', () => {
    const r = run('generate', '--model', exact8, '--solver', 'ddim', '--timesteps', '999,600,300,0', '--seed', '1', '--out', 't.png', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).timesteps).toEqual([999, 600, 300, 0]);
  });

  test('restoration tasks run on a pixel model: inpaint with a mask, colorize, super-resolution', () => {
    const image = { width: 8, height: 8, channels: 4 as const, data: new Uint8Array(8 * 8 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256)) };
    writeFileSync(path.join(dir, 'init.png'), encodePng(image));
    const mask = { ...image, data: new Uint8Array(8 * 8 * 4).map((_, i) => (i % 4 === 3 ? 255 : Math.floor(i / 4) % 8 < 4 ? 255 : 0)) };
    writeFileSync(path.join(dir, 'mask.png'), encodePng(mask));
    const small = { width: 4, height: 4, channels: 4 as const, data: new Uint8Array(4 * 4 * 4).fill(200) };
    writeFileSync(path.join(dir, 'small.png'), encodePng(small));
    for (const args of [
      ['--task', 'inpaint', '--init-image', 'init.png', '--mask', 'mask.png'],
      ['--task', 'colorize', '--init-image', 'init.png'],
      ['--task', 'super-resolution', '--init-image', 'small.png'],
      ['--task', 'img2img', '--init-image', 'init.png', '--strength', '0.5'],
    ]) {
      const r = run('generate', '--model', exact8, '--solver', 'stsp2', '--steps', '10', '--seed', '1', '--out', 'r.png', '--json', ...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  });
});

describe('bad input: exit code 2, one line naming the problem, no output file', () => {
  const cases: [string, string[], RegExp][] = [
    ['missing model folder', ['--model', 'nowhere'], /model folder nowhere: does not exist/],
    ['steps 0', ['--steps', '0'], /--steps must be at least 1/],
    ['absurd steps', ['--steps', '100000'], /--steps must be at most 1000/],
    ['NaN guidance', ['--guidance', 'NaN'], /--guidance must be a number/],
    ['negative classifier scale', ['--class', '1', '--classifier-scale', '-3'], /--classifier-scale must be at least 0/],
    ['unknown solver', ['--solver', 'euler9'], /unknown solver "euler9"/],
    ['class out of range', ['--class', '7', '--classifier-scale', '2'], /--class 7 is out of range/],
    ['unknown flag', ['--stepz', '3'], /unknown option --stepz/],
    ['prompt on a model without a text encoder', ['--prompt', 'a cat'], /has no text encoder, so a prompt cannot be used/],
    ['CFG on an unconditional model', ['--guidance', '3'], /unconditional/],
    ['wrong size', ['--width', '16'], /only makes 8x8 images/],
    ['timesteps not descending', ['--timesteps', '0,500'], /strictly descending/],
    ['unknown provider', ['--provider', 'tpu'], /unknown execution provider "tpu"/],
    ['unreadable PNG', ['--task', 'img2img', '--init-image', 'garbage.png'], /garbage\.png: PNG: /],
    ['init image missing', ['--task', 'img2img', '--init-image', 'absent.png'], /absent\.png: no such file/],
    ['mask of the wrong size', ['--task', 'inpaint', '--init-image', 'init8.png', '--mask', 'mask4.png'], /--mask is 4x4, but the image is 8x8/],
    ['init noise of the wrong shape', ['--init-noise', 'wrong.npy'], /--init-noise has 12 values, expected 192/],
    ['output folder missing', ['--out', 'no/such/dir/x.png'], /folder .* does not exist/],
  ];
  beforeAll(() => {
    writeFileSync(path.join(dir, 'garbage.png'), 'this is not a png');
    writeFileSync(path.join(dir, 'init8.png'), encodePng({ width: 8, height: 8, channels: 4, data: new Uint8Array(256).fill(255) }));
    writeFileSync(path.join(dir, 'mask4.png'), encodePng({ width: 4, height: 4, channels: 4, data: new Uint8Array(64).fill(255) }));
    expect(run('noise', '--seed', '1', '--shape', '1,3,4', '--out', 'wrong.npy').code).toBe(0);
  });
  test.each(cases)('%s', (_name, args, message) => {
    const before = new Set(readdirSync(dir));
    const defaults = [...(args.includes('--model') ? [] : ['--model', exact8]), ...(args.includes('--out') ? [] : ['--out', 'bad.png'])];
    const r = run('generate', ...defaults, ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const after = readdirSync(dir).filter((f) => !before.has(f));
    expect(after).toEqual([]);
  });

  test('a malformed model folder names the file at fault', () => {
    const broken = mkdtempSync(path.join(os.tmpdir(), 'split-broken-'));
    writeFileSync(path.join(broken, 'model_index.json'), '{not json');
    const r = run('generate', '--model', broken, '--out', 'bad.png');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/model_index\.json is not valid JSON/);
  });

  test('noise: bad shape and missing flags', () => {
    expect(run('noise', '--seed', '1', '--shape', '1,0', '--out', 'z.npy').stderr).toMatch(/--shape: 0 is out of range/);
    expect(run('noise', '--shape', '4', '--out', 'z.npy').stderr).toMatch(/needs --seed/);
    expect(run('noise', '--seed', '-1', '--shape', '4', '--out', 'z.npy').code).toBe(2);
    expect(existsSync(path.join(dir, 'z.npy'))).toBe(false);
  });
});

test('noise matches the torch vectors bit for bit (npy bytes after the header)', () => {
  const vectors = path.join(root, 'src/main/engine/noise/vectors');
  const manifest = JSON.parse(readFileSync(path.join(vectors, 'manifest.json'), 'utf8')) as { cases: { seed: string; shape: number[]; file: string }[] };
  const chosen = manifest.cases.filter((c) => c.shape.length > 0 && c.shape.every((d) => d > 0) && Number(c.seed) <= Number.MAX_SAFE_INTEGER);
  expect(chosen.length).toBeGreaterThan(10);
  for (const c of chosen.filter((_, i) => i % 3 === 0)) {
    const r = run('noise', '--seed', c.seed, '--shape', c.shape.join(','), '--out', 'v.npy');
    expect(r.code, r.stderr).toBe(0);
    const mine = readNpy(readFileSync(path.join(dir, 'v.npy')));
    const torch = readNpy(readFileSync(path.join(vectors, c.file)));
    expect(mine.shape).toEqual(torch.shape);
    expect(Buffer.from(mine.data.buffer, mine.data.byteOffset, mine.data.byteLength).equals(Buffer.from(torch.data.buffer, torch.data.byteOffset, torch.data.byteLength)), `seed ${c.seed} shape ${c.shape}`).toBe(true);
  }
});

test('models --json lists the exact models with what they support', () => {
  const r = run('models', '--json');
  expect(r.code).toBe(0);
  const names = JSON.parse(r.stdout).models.map((m: { name: string }) => m.name);
  expect(names).toContain('Exact Gaussian mixture 3x8x8');
  expect(names).toContain('Exact Gaussian mixture 3x32x32');
});

/**
 * The built command line (out/main/cli.js, made by `npm test`'s build step) run as users run
 * it: exit codes, one-line errors, no partial files, JSON reports.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { SOLVER_IDS } from '../shared/solvers';
import { readNpy } from '../main/core/io/npy';
import { decodePng, encodePng, readPngText } from '../main/core/io/png';
import { ENGINE_VERSION, NOISE_GENERATOR } from '../main/core/gallery/fingerprint';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/split-studio.js');
const exact8 = path.join(root, 'resources/exact/gmm-3x8x8');
let dir: string;
/** The data folder (SPLIT_STUDIO_HOME) of every run: never the user's own gallery. */
let home: string;

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, SPLIT_STUDIO_HOME: home } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(path.join(root, 'out/main/cli.js'))) throw new Error('build first: npm run build');
  dir = mkdtempSync(path.join(os.tmpdir(), 'split-cli-'));
  home = mkdtempSync(path.join(os.tmpdir(), 'split-cli-home-'));
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

  test('ancestral noise comes from the seed: euler-a and DDIM with eta repeat with a seed and change with it', () => {
    const final = (name: string) => Buffer.from(readNpy(readFileSync(path.join(dir, name))).data.buffer);
    for (const [solver, extra] of [['euler-a', []], ['ddim', ['--eta', '1']]] as const) {
      for (const [seed, name] of [['4', 'p.npy'], ['4', 'q.npy'], ['5', 'r.npy']]) {
        const r = run('generate', '--model', exact8, '--solver', solver, ...extra, '--spacing', 'trailing', '--steps', '10', '--seed', seed, '--no-gallery', '--out', 'e.png', '--dump-x0', name);
        expect(r.code, r.stderr).toBe(0);
      }
      expect(final('p.npy').equals(final('q.npy')), solver).toBe(true);
      expect(final('p.npy').equals(final('r.npy')), solver).toBe(false);
    }
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
    ['two steps', ['--steps', '2'], /steps: at least 3 \(got 2\)/],
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
    ['mask of the wrong size', ['--task', 'inpaint', '--init-image', 'init8.png', '--mask', 'mask4.png'], /the mask is 4x4, but the image is 8x8/],
    ['init noise of the wrong shape', ['--init-noise', 'wrong.npy'], /the initial noise has 12 values, expected 192/],
    ['output folder missing', ['--out', 'no/such/dir/x.png'], /folder .* does not exist/],
    ['a sigma schedule for a paper solver', ['--solver', 'ddim', '--spacing', 'karras'], /^split-studio: --spacing: DDIM walks the paper's grid .* cannot use the karras spacing/],
    ['eta for a solver without one', ['--solver', 'euler', '--eta', '0.5'], /--eta: eta applies to DDIM only/],
    ['eta out of range', ['--solver', 'ddim', '--eta', '2'], /--eta must be at most 1/],
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

describe('--help and -h: the command\'s own help on stdout, exit 0, nothing run', () => {
  test.each([
    [['generate', '--help'], /^usage: split-studio generate \[options\][\s\S]*--init-image FILE\.png/],
    [['generate', '-h'], /^usage: split-studio generate \[options\]/],
    [['noise', '--help'], /^usage: split-studio noise --seed S --shape/],
    [['models', '-h'], /^usage: split-studio models \[--json\]/],
    [['gallery', 'list', '--help'], /^usage:\n {2}split-studio gallery list \[--search TEXT\]/],
    [['gallery', 'show', '--help'], /^usage:\n {2}split-studio gallery show ID \[--json\]\n$/],
    [['gallery', 'rerun', '-h'], /^usage:\n {2}split-studio gallery rerun ID /],
    [['gallery', 'export', '--help'], /^usage:\n {2}split-studio gallery export ID --out FILE\.png\n$/],
    [['gallery', 'recover', '--help'], /^usage:\n {2}split-studio gallery recover \[--json\]/],
    [['import', '--help'], /^usage:\n {2}split-studio import FILE\.png /],
  ])('%j', (args, help) => {
    const files = new Set(readdirSync(dir));
    const r = run(...args);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(help);
    expect(readdirSync(dir).filter((f) => !files.has(f))).toEqual([]);
  });

  test('generate --help is generate\'s alone, not every command\'s', () => {
    expect(run('generate', '--help').stdout).not.toMatch(/gallery commands|noise options|^commands:/m);
  });

  test('an unknown flag beside --help is still refused', () => {
    const r = run('generate', '--stepz', '--help');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('split-studio: unknown option --stepz\n');
  });
});

test('noise matches the torch vectors bit for bit (npy bytes after the header)', () => {
  const vectors = path.join(root, 'src/main/core/engine/noise/vectors');
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

describe('the gallery from the command line', () => {
  const json = (r: { code: number | null; stdout: string; stderr: string }) => {
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };
  const show = (id: number) => json(run('gallery', 'show', String(id), '--json'));
  /** Rows in the gallery, read straight from the database (no process to start). */
  const count = () => {
    const db = new Database(path.join(home, 'gallery.sqlite'), { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM generations').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  let first: number;

  beforeAll(() => {
    const r = json(run('generate', '--model', exact8, '--solver', 'stsp2', '--steps', '12', '--seed', '21', '--out', 'copy.png', '--json'));
    first = r.generationId;
  });

  test('generate records the run, with the studio\'s fingerprint, and --out is the same PNG as the gallery\'s', () => {
    expect(first).toBeGreaterThan(0);
    const detail = show(first);
    expect(detail).toMatchObject({ id: first, modelId: exact8, solver: 'stsp2', steps: 12, seed: 21, parentId: null, provider: 'cpu', favourite: false, tags: [] });
    const unet = readFileSync(path.join(exact8, 'unet/model.onnx'));
    const unetHash = createHash('sha256').update(unet).digest('hex');
    expect(detail.fingerprint).toMatchObject({ engineVersion: ENGINE_VERSION, noiseGenerator: NOISE_GENERATOR, provider: 'cpu', modelHashes: { 'unet/model.onnx': unetHash } });
    expect(detail.modelHash).toBe(unetHash.slice(0, 10));
    const copy = readFileSync(path.join(dir, 'copy.png'));
    expect(copy.equals(readFileSync(detail.image))).toBe(true);
    const text = readPngText(copy);
    expect(JSON.parse(text['split-studio'])).toEqual(detail.settings);
    expect(text.parameters).toMatch(/Steps: 12, Sampler: /);
  });

  test('--no-gallery records nothing; without --out a recorded run writes no file of its own', () => {
    const before = count();
    const none = json(run('generate', '--model', exact8, '--steps', '4', '--seed', '1', '--no-gallery', '--out', 'solo.png', '--json'));
    expect(none.generationId).toBeNull();
    expect(count()).toBe(before);
    const files = new Set(readdirSync(dir));
    const text = run('generate', '--model', exact8, '--steps', '4', '--seed', '2');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^#\d+ {2}\S+\.png {2}\(stsp4, 4 steps/);
    expect(readdirSync(dir).filter((f) => !files.has(f))).toEqual([]);
    expect(count()).toBe(before + 1);
  });

  test('--batch 3 records three images with seeds S, S+1, S+2, each the same as a run of its seed alone', () => {
    const before = count();
    const r = run('generate', '--model', exact8, '--solver', 'ddim', '--steps', '5', '--seed', '30', '--batch', '3', '--out', 'batch.png', '--json');
    expect(r.code, r.stderr).toBe(0);
    const reports = r.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(reports.map((x) => x.settings.seed)).toEqual([30, 31, 32]);
    expect(count()).toBe(before + 3);
    const ids = reports.map((x) => x.generationId);
    expect(new Set(ids).size).toBe(3);
    for (const [i, seed] of [30, 31, 32].entries()) {
      expect(show(ids[i]).seed).toBe(seed);
      expect(readFileSync(path.join(dir, `batch-${seed}.png`)).equals(readFileSync(show(ids[i]).image))).toBe(true);
    }
    const alone = json(run('generate', '--model', exact8, '--solver', 'ddim', '--steps', '5', '--seed', '31', '--no-gallery', '--out', 'alone31.png', '--json'));
    expect(alone.settings.seed).toBe(31);
    expect(readFileSync(path.join(dir, 'alone31.png')).equals(readFileSync(path.join(dir, 'batch-31.png')))).toBe(true);
    expect(run('generate', '--model', exact8, '--batch', '2', '--dump-x0', 'x.npy').stderr).toMatch(/--dump-x0 writes one file/);
    expect(run('generate', '--model', exact8, '--batch', '65').stderr).toMatch(/--batch must be at most 64/);
  });

  test('list pages, searches and filters; show prints the settings', () => {
    const all = json(run('gallery', 'list', '--json', '--limit', '2'));
    expect(all.items).toHaveLength(2);
    expect(all.items[0].id).toBeGreaterThan(all.items[1].id);
    const next = json(run('gallery', 'list', '--json', '--limit', '2', '--offset', '1'));
    expect(next.items[0].id).toBe(all.items[1].id);
    expect(json(run('gallery', 'list', '--json', '--solver', 'stsp2')).items.map((i: { id: number }) => i.id)).toContain(first);
    expect(json(run('gallery', 'list', '--json', '--search', 'nothingmatchesthis')).total).toBe(0);
    const text = run('gallery', 'list');
    expect(text.stdout).toMatch(new RegExp(`#${first} .*stsp2, 12 steps, seed 21`));
    expect(run('gallery', 'show', String(first)).stdout).toMatch(/settings +txt2img, solver stsp2, 12 steps/);
  });

  test('rerun reproduces bit-identically; rerun with changes records a child with the changes', () => {
    const same = json(run('gallery', 'rerun', String(first), '--json'));
    expect(same).toMatchObject({ parentId: first, changed: [], identical: true, fingerprintChanges: [] });
    expect(readFileSync(same.outputs.image).equals(readFileSync(show(first).image))).toBe(true);

    const changed = json(run('gallery', 'rerun', String(first), '--solver', 'ddim', '--steps', '6', '--seed', '99', '--json'));
    expect(changed).toMatchObject({ parentId: first, changed: ['solver', 'steps', 'seed'], identical: null, nfe: 6 });
    const child = show(changed.generationId);
    expect(child).toMatchObject({ parentId: first, solver: 'ddim', steps: 6, seed: 99, settings: { ...show(first).settings, solver: 'ddim', steps: 6, seed: 99 } });
    expect(show(first).children).toEqual(expect.arrayContaining([same.generationId, changed.generationId]));
    expect(run('gallery', 'rerun', String(first)).stdout).toMatch(/bit-identical to #\d+/);
  });

  test('img2img and --init-noise runs keep their inputs: show lists them, rerun uses them and is bit-identical', () => {
    const start = encodePng({ width: 8, height: 8, channels: 4, data: new Uint8Array(8 * 8 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 53) & 0xff)) });
    writeFileSync(path.join(dir, 'start.png'), start);
    const img2img = json(run('generate', '--model', exact8, '--task', 'img2img', '--init-image', 'start.png', '--strength', '0.5', '--steps', '10', '--seed', '8', '--json'));
    const kept = show(img2img.generationId).inputs;
    expect(kept).toEqual([{ kind: 'initImage', hash: createHash('sha256').update(start).digest('hex'), bytes: start.length, width: 8, height: 8, file: expect.stringMatching(/inputs[\\/][0-9a-f]{64}\.png$/) }]);
    expect(readFileSync(kept[0].file).equals(start)).toBe(true);
    expect(run('gallery', 'show', String(img2img.generationId)).stdout).toMatch(/init image +\S+[0-9a-f]{64}\.png \(8x8 PNG, \d+ bytes\)/);
    const again = json(run('gallery', 'rerun', String(img2img.generationId), '--json'));
    expect(again).toMatchObject({ parentId: img2img.generationId, changed: [], identical: true });
    expect(show(again.generationId).inputs).toEqual(kept);

    // The noise file, not the seed, makes the picture; the re-run has the noise without the file.
    expect(run('noise', '--seed', '77', '--shape', '1,3,8,8', '--out', 'kept.npy').code).toBe(0);
    const noisy = json(run('generate', '--model', exact8, '--steps', '10', '--init-noise', 'kept.npy', '--json'));
    const noise = show(noisy.generationId).inputs;
    expect(noise).toEqual([expect.objectContaining({ kind: 'initNoise', width: null, height: null, file: expect.stringMatching(/\.npy$/) })]);
    expect(readFileSync(noise[0].file).equals(readFileSync(path.join(dir, 'kept.npy')))).toBe(true);
    expect(run('gallery', 'show', String(noisy.generationId)).stdout).toMatch(/init noise +\S+\.npy \(\.npy, \d+ bytes\)/);
    const rerun = json(run('gallery', 'rerun', String(noisy.generationId), '--json'));
    expect(rerun).toMatchObject({ parentId: noisy.generationId, identical: true });
    const reseeded = json(run('gallery', 'rerun', String(noisy.generationId), '--seed', String((noisy.settings.seed + 1) % 2 ** 32), '--json'));
    expect(reseeded.changed).toEqual(['seed']);
    expect(decodePng(readFileSync(reseeded.outputs.image)).data).toEqual(decodePng(readFileSync(rerun.outputs.image)).data); // a deterministic solver: only the noise counts
  });

  test('export writes the full PNG with its metadata', () => {
    const r = run('gallery', 'export', String(first), '--out', 'exported.png');
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'exported.png')).equals(readFileSync(show(first).image))).toBe(true);
  });

  test('import reads this studio\'s own PNG exactly, and --run records a generation with its settings', () => {
    const own = json(run('import', 'copy.png', '--json'));
    expect(own).toMatchObject({ source: 'split-studio', model: { id: exact8 }, warnings: [] });
    expect(own.settings).toEqual(show(first).settings);
    const ran = json(run('import', 'copy.png', '--run', '--json'));
    expect(ran.generation.generationId).toBeGreaterThan(first);
    expect(show(ran.generation.generationId)).toMatchObject({ settings: show(first).settings, parentId: null });
    // Same settings, same model, same engine: the same bytes, metadata included.
    expect(readFileSync(ran.generation.outputs.image).equals(readFileSync(show(first).image))).toBe(true);
  });

  test('import reads an AUTOMATIC1111 PNG: sampler mapped, the model found by name, the rest warned about', () => {
    const parameters = [
      'a red fox in the snow',
      'Negative prompt: blurry',
      'Steps: 9, Sampler: DPM++ 2M Karras, CFG scale: 1, Seed: 4242, Size: 8x8, Model hash: 0123456789, Model: Exact Gaussian mixture 3x8x8, Hires upscale: 2',
    ].join('\n');
    const png = encodePng({ width: 8, height: 8, channels: 4, data: new Uint8Array(256).fill(128) }, { text: { parameters } });
    writeFileSync(path.join(dir, 'a1111.png'), png);
    const read = json(run('import', 'a1111.png', '--json'));
    expect(read).toMatchObject({ source: 'a1111', model: { id: exact8 }, settings: { solver: 'dpmpp2m', spacing: 'karras', steps: 9, seed: 4242, width: 8, height: 8, guidance: 1, prompt: '' } });
    const warnings = read.warnings.join('\n');
    expect(warnings).toMatch(/not the model file that made this PNG/);
    expect(warnings).toMatch(/Hires upscale/);
    expect(warnings).toMatch(/no text encoder; the prompt was dropped/);
    const text = run('import', 'a1111.png');
    expect(text.stdout).toMatch(/settings from AUTOMATIC1111 parameters for Exact Gaussian mixture 3x8x8/);
    expect(text.stderr).toMatch(/^split-studio: warning: /);

    const ran = json(run('import', 'a1111.png', '--run', '--json'));
    expect(show(ran.generation.generationId)).toMatchObject({ solver: 'dpmpp2m', steps: 9, seed: 4242, modelId: exact8 });

    writeFileSync(path.join(dir, 'elsewhere.png'), encodePng({ width: 8, height: 8, channels: 4, data: new Uint8Array(256) }, { text: { parameters: 'a cat\nSteps: 20, Sampler: DPM++ 2M SDE, CFG scale: 7, Seed: 1, Size: 512x512, Model: v1-5-pruned-emaonly' } }));
    const other = json(run('import', 'elsewhere.png', '--model', exact8, '--json'));
    expect(other.model.id).toBe(exact8);
    expect(other.warnings.join('\n')).toMatch(/made with "v1-5-pruned-emaonly"; using Exact Gaussian mixture 3x8x8 as asked[\s\S]*DPM\+\+ 2M SDE" has no counterpart[\s\S]*only makes 8x8 images/);
  });

  test.each([
    ['show of an unknown id', ['gallery', 'show', '9999'], /there is no generation 9999/],
    ['show without an id', ['gallery', 'show'], /needs a generation id/],
    ['a bad id', ['gallery', 'show', '1x'], /"1x" is not a generation id/],
    ['rerun with an unknown solver', ['gallery', 'rerun', '1', '--solver', 'euler9'], /unknown solver "euler9"/],
    ['rerun with steps 0', ['gallery', 'rerun', '1', '--steps', '0'], /--steps must be at least 1/],
    ['export without --out', ['gallery', 'export', '1'], /needs --out/],
    ['export into a missing folder', ['gallery', 'export', '1', '--out', 'no/such/x.png'], /does not exist/],
    ['an unknown gallery command', ['gallery', 'delete', '1'], /unknown gallery command "delete"/],
    ['import of a missing file', ['import', 'absent.png'], /absent\.png: no such file/],
    ['import of a file that is not a PNG', ['import', 'garbage.png'], /not a valid PNG/],
    ['import of a PNG without settings', ['import', 'plain.png'], /has no generation settings/],
    ['import --out without --run', ['import', 'copy.png', '--out', 'y.png'], /--out is used only with --run/],
  ])('%s: exit 2, one line, no new row or file', (_name, args, message) => {
    writeFileSync(path.join(dir, 'garbage.png'), 'this is not a png');
    writeFileSync(path.join(dir, 'plain.png'), encodePng({ width: 2, height: 2, channels: 4, data: new Uint8Array(16) }));
    const rows = count();
    const files = new Set(readdirSync(dir));
    const r = run(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(count()).toBe(rows);
    expect(readdirSync(dir).filter((f) => !files.has(f))).toEqual([]);
  });
});

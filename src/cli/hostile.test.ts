/**
 * Hostile input and faults, through the built command line as users run it: every failure is
 * one line and exit code 2, decided before any work where it can be, with nothing recorded in
 * the gallery and nothing partial on disk; a closed stdout ends the program quietly.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { encodeNpy } from '../main/core/io/npy';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/split-studio.js');
const exact8 = path.join(root, 'resources/exact/gmm-3x8x8');
let dir: string;
let home: string;

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, SPLIT_STUDIO_HOME: home, ...env } });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Rows in the gallery, as `gallery list --json` reports them (0 when there is no gallery yet). */
function galleryTotal(): number {
  if (!existsSync(path.join(home, 'gallery.sqlite'))) return 0;
  const r = run(['gallery', 'list', '--json', '--trash']);
  const live = run(['gallery', 'list', '--json']);
  expect(live.code, live.stderr).toBe(0);
  return JSON.parse(live.stdout).total + JSON.parse(r.stdout).total;
}

/** Exit 2, exactly one line on stderr matching `message`, no stack trace. */
function expectUsageError(r: ReturnType<typeof run>, message: RegExp) {
  expect(r.signal).toBeNull();
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

beforeAll(() => {
  if (!existsSync(path.join(root, 'out/main/cli.js'))) throw new Error('build first: npm run build');
  dir = mkdtempSync(path.join(os.tmpdir(), 'split-hostile-'));
  home = mkdtempSync(path.join(os.tmpdir(), 'split-hostile-home-'));
});

describe('a very long command line', () => {
  // onnxruntime-node segfaulted in a process with a 200 kB argument, before the 2,000-character
  // prompt limit was checked. (Linux caps one argument at 128 kB, so 200 kB is sent as two.)
  test('a 200 kB prompt: exit 2, one line, no model opened, nothing recorded', () => {
    const half = 'a'.repeat(100_000);
    const r = run(['generate', '--model', exact8, '--prompt', half, '--negative', half, '--out', 'long.png']);
    expectUsageError(r, /--prompt must be at most 2000 characters long, got 100000/);
    expect(existsSync(path.join(dir, 'long.png'))).toBe(false);
    expect(galleryTotal()).toBe(0);
  });

  test('a prompt just over the limit is refused before the model is opened, with the limit', () => {
    const r = run(['generate', '--model', exact8, '--prompt=' + 'b'.repeat(2001), '--out', 'long.png']);
    expectUsageError(r, /--prompt must be at most 2000 characters long, got 2001/);
  });

  test('any other huge argument is refused too, for every command', () => {
    expectUsageError(run(['gallery', 'list', '--search', 'c'.repeat(100_000)]), /the value of --search must be at most 16384 characters long/);
    expectUsageError(run(['models', 'd'.repeat(100_000)]), /argument 2 must be at most 16384 characters long/);
  });
});

describe('output paths and write failures', () => {
  beforeAll(() => {
    mkdirSync(path.join(dir, 'folder'), { recursive: true });
  });

  test.each([
    ['--out naming a folder', ['--out', 'folder'], /--out folder: is a folder; give a file name/],
    ['--dump-x0 naming a folder', ['--out', 'ok.png', '--dump-x0', 'folder'], /--dump-x0 folder: is a folder/],
    // /proc accepts no new files, even from root (who passes every permission check).
    ['--out where no file can be created', ['--out', '/proc/split-studio-test.png'], /cannot write --out \/proc\/split-studio-test\.png: /],
    ['--dump-x0 where no file can be created', ['--out', 'ok.png', '--dump-x0', '/proc/split-studio-test.npy'], /cannot write --dump-x0 \/proc\//],
  ])('%s: exit 2, nothing written, nothing recorded', (_name, args, message) => {
    const before = readdirSync(dir).sort();
    expectUsageError(run(['generate', '--model', exact8, '--steps', '4', ...args]), message);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(galleryTotal()).toBe(0);
  });

  test('noise --shape with more than 32 dimensions is refused before any work', () => {
    expectUsageError(run(['noise', '--seed', '1', '--shape', Array(33).fill('1').join(','), '--out', 'n33.npy']), /--shape has 33 dimensions; at most 32/);
    expect(existsSync(path.join(dir, 'n33.npy'))).toBe(false);
    expect(run(['noise', '--seed', '1', '--shape', Array(32).fill('1').join(','), '--out', 'n32.npy']).code).toBe(0);
  });

  test('gallery export to a folder is refused', () => {
    expectUsageError(run(['gallery', 'export', '1', '--out', 'folder']), /--out folder: is a folder/);
  });
});

describe('broken model folders', () => {
  let models: string;
  beforeAll(() => {
    models = mkdtempSync(path.join(os.tmpdir(), 'split-hostile-models-'));
    for (const name of ['bad-classifier', 'bad-unet', 'wrong-inputs']) cpSync(exact8, path.join(models, name), { recursive: true });
    writeFileSync(path.join(models, 'bad-classifier/classifier/model.onnx'), 'not an onnx file');
    writeFileSync(path.join(models, 'bad-unet/unet/model.onnx'), 'not an onnx file');
    // A UNet with inputs this build does not feed (the classifier's: it also takes class_labels).
    cpSync(path.join(exact8, 'classifier/model.onnx'), path.join(models, 'wrong-inputs/unet/model.onnx'));
  });

  test.each([
    ['a broken classifier file (opened on first use, inside the run)', 'bad-classifier', ['--class', '1', '--classifier-scale', '2'], /bad-classifier: could not open .*classifier\/model\.onnx/],
    ['a broken UNet file', 'bad-unet', [], /bad-unet: could not open .*unet\/model\.onnx/],
    ['a UNet with the wrong inputs', 'wrong-inputs', [], /wrong-inputs: .*class_labels/],
  ])('%s: exit 2, one line naming the folder, nothing recorded', (_name, folder, args, message) => {
    expectUsageError(run(['generate', '--model', path.join(models, folder), '--steps', '4', '--out', 'broken.png', ...args]), message);
    expect(existsSync(path.join(dir, 'broken.png'))).toBe(false);
    expect(galleryTotal()).toBe(0);
  });
});

describe('non-finite input noise', () => {
  test.each([
    ['NaN', 5, Number.NaN],
    ['Infinity', 0, Number.POSITIVE_INFINITY],
    ['-Infinity', 191, Number.NEGATIVE_INFINITY],
  ])('%s in --init-noise is refused, naming the file and the first bad index', (name, index, value) => {
    const data = new Float32Array(192).fill(0.5);
    data[index] = value;
    if (index < 150) data[150] = Number.NaN; // a later bad value: the first one is named
    writeFileSync(path.join(dir, `bad-${name}.npy`), encodeNpy(data, [1, 3, 8, 8]));
    expectUsageError(
      run(['generate', '--model', exact8, '--steps', '4', '--init-noise', `bad-${name}.npy`, '--out', 'nan.png']),
      new RegExp(`--init-noise bad-${name}\\.npy: value ${index} is ${name}; noise must be finite`),
    );
    expect(existsSync(path.join(dir, 'nan.png'))).toBe(false);
    expect(galleryTotal()).toBe(0);
  });

  test('a FIFO or a folder as --init-noise is refused without hanging', () => {
    mkdirSync(path.join(dir, 'folder'), { recursive: true });
    expectUsageError(run(['generate', '--model', exact8, '--init-noise', 'folder', '--out', 'f.png']), /--init-noise folder: is a folder, not a file/);
    expectUsageError(run(['generate', '--model', exact8, '--task', 'img2img', '--init-image', '/dev/zero', '--out', 'f.png']), /--init-image \/dev\/zero: is not a regular file/);
    expect(spawnSync('mkfifo', [path.join(dir, 'fifo')]).status).toBe(0);
    expectUsageError(run(['generate', '--model', exact8, '--task', 'inpaint', '--init-image', 'fifo', '--out', 'f.png']), /--init-image fifo: is not a regular file/);
    expectUsageError(run(['generate', '--model', exact8, '--init-noise', 'fifo', '--out', 'f.png']), /--init-noise fifo: is not a regular file/);
    expectUsageError(run(['import', 'fifo']), /import fifo: is not a regular file/);
  });
});

describe('stdout closed early', () => {
  /** Runs the CLI with stdout a pipe that is closed before the CLI writes to it. */
  function closedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, SPLIT_STUDIO_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // what `| head -c 10` does once it has read enough
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
  }

  beforeAll(() => {
    for (const seed of ['1', '2', '3']) expect(run(['generate', '--model', exact8, '--steps', '4', '--seed', seed]).code).toBe(0);
  });

  test.each([
    ['gallery list', ['gallery', 'list']],
    ['models --json', ['models', '--json']],
    ['gallery show', ['gallery', 'show', '1', '--json']],
  ])('%s exits quietly', async (_name, args) => {
    const r = await closedStdout(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  test('through a shell: gallery list | head -1, models --json | head -c 10', () => {
    const env = { ...process.env, SPLIT_STUDIO_HOME: home };
    for (const line of [`"${process.execPath}" "${bin}" gallery list | head -1`, `"${process.execPath}" "${bin}" models --json | head -c 10`]) {
      const r = spawnSync('bash', ['-o', 'pipefail', '-c', `${line} >/dev/null`], { cwd: dir, encoding: 'utf8', env });
      expect(r.stderr, line).toBe('');
      expect(r.status, line).toBe(0);
    }
  });
});

describe('a gallery database emptied or damaged outside the app', () => {
  const images = () => readdirSync(path.join(home, 'images')).sort();
  const snapshot = () => images().map((name) => readFileSync(path.join(home, 'images', name)).toString('base64'));

  test('emptied: refused with the file and what to do; images untouched; recover brings the rows back', () => {
    expect(run(['generate', '--model', exact8, '--steps', '4', '--seed', '77', '--prompt', ''])).toMatchObject({ code: 0 });
    const before = JSON.parse(run(['gallery', 'list', '--json']).stdout);
    expect(before.total).toBeGreaterThan(0);
    const pictures = snapshot();
    writeFileSync(path.join(home, 'gallery.sqlite'), '');
    for (const suffix of ['-wal', '-shm']) if (existsSync(path.join(home, `gallery.sqlite${suffix}`))) writeFileSync(path.join(home, `gallery.sqlite${suffix}`), '');

    const refused = run(['gallery', 'list']);
    expectUsageError(refused, /gallery database .*gallery\.sqlite is empty .*holds \d+ of its images\. Nothing was changed.*split-studio gallery recover/);
    expectUsageError(run(['generate', '--model', exact8, '--steps', '4', '--out', 'refused.png']), /gallery recover/);
    expect(existsSync(path.join(dir, 'refused.png'))).toBe(false);
    expect(readFileSync(path.join(home, 'gallery.sqlite')).length).toBe(0);
    expect(snapshot()).toEqual(pictures);
    expect(readdirSync(path.join(home, 'recovered')).filter((n) => n.endsWith('.png'))).toEqual([]);

    const recovered = run(['gallery', 'recover', '--json']);
    expect(recovered.code, recovered.stderr).toBe(0);
    const report = JSON.parse(recovered.stdout);
    expect(report.recovered).toHaveLength(before.total);
    expect(report.movedAside.length).toBeGreaterThan(0);
    for (const file of report.movedAside) expect(existsSync(file)).toBe(true);
    const after = JSON.parse(run(['gallery', 'list', '--json']).stdout);
    expect(after.total).toBe(before.total);
    const key = (i: { seed: number; solver: string; steps: number; modelId: string }) => `${i.seed} ${i.solver} ${i.steps} ${i.modelId}`;
    expect(after.items.map(key).sort()).toEqual(before.items.map(key).sort());
    expect(snapshot()).toEqual(pictures);
  });

  test('garbage: refused, the file kept byte for byte; recover keeps it aside and rebuilds', () => {
    const total = JSON.parse(run(['gallery', 'list', '--json']).stdout).total;
    const garbage = Buffer.from('SQLite format 2\0 this is not a database at all '.repeat(100));
    writeFileSync(path.join(home, 'gallery.sqlite'), garbage);
    const pictures = snapshot();
    expectUsageError(run(['gallery', 'list']), /gallery database .*gallery\.sqlite cannot be opened: file is not a database.*gallery recover/);
    expect(readFileSync(path.join(home, 'gallery.sqlite')).equals(garbage)).toBe(true);
    expect(snapshot()).toEqual(pictures);
    const r = run(['gallery', 'recover']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`recovered ${total} generation`));
    const kept = r.stdout.match(/kept the damaged database as (\S+)/)![1];
    expect(readFileSync(kept).equals(garbage)).toBe(true);
    expect(JSON.parse(run(['gallery', 'list', '--json']).stdout).total).toBe(total);
  });

  test('recover on a healthy gallery changes nothing', () => {
    expectUsageError(run(['gallery', 'recover']), /opens fine and has \d+ generations; there is nothing to recover/);
  });
});

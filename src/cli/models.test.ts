/**
 * `split-studio models`, `models add` and `models remove` run as users run them (the built
 * out/main/cli.js): the list shares the studio's registry (the data folder's models.json), so
 * an added model shows up in both; models that make pictures come first, then the exact
 * reference models under "For testing solvers".
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { builtinModelDirs } from '../main/core/models/catalog';
import { readModelFolder } from '../main/core/models/modelFolder';
import { ModelRegistry, isForTesting } from '../main/core/models/registry';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/split-studio.js');
const exact8 = path.join(root, 'resources/exact/gmm-3x8x8');
let home: string;
let added: string;

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: path.dirname(added), encoding: 'utf8', timeout: 60_000, env: { ...process.env, SPLIT_STUDIO_HOME: home } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const json = (r: ReturnType<typeof run>) => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

beforeAll(() => {
  if (!existsSync(path.join(root, 'out/main/cli.js'))) throw new Error('build first: npm run build');
  home = mkdtempSync(path.join(os.tmpdir(), 'split-models-home-'));
  added = path.join(mkdtempSync(path.join(os.tmpdir(), 'split-models-')), 'my-mixture');
  cpSync(exact8, added, { recursive: true });
});

describe('split-studio models', () => {
  // One sequence: each step depends on the data folder the previous one left.
  test('lists pictures first and the exact models under their heading; add and remove change the studio\'s list too', () => {
    const builtin = builtinModelDirs();
    const testing = builtin.filter((d) => isForTesting(readModelFolder(d)));
    const pictures = builtin.filter((d) => !testing.includes(d));
    expect(testing.length).toBeGreaterThan(0);
    expect(pictures.length).toBeGreaterThan(0);

    const listed = json(run('models', '--json')).models as { dir: string; forTesting: boolean; builtin: boolean }[];
    expect(listed.map((m) => m.dir)).toEqual([...pictures, ...testing]);
    expect(listed.map((m) => m.forTesting)).toEqual([...pictures.map(() => false), ...testing.map(() => true)]);

    const text = run('models');
    expect(text.code).toBe(0);
    const picturesAt = text.stdout.indexOf('Models that make pictures:');
    const testingAt = text.stdout.indexOf('For testing solvers');
    expect(picturesAt).toBe(0);
    expect(testingAt).toBeGreaterThan(picturesAt);
    for (const dir of pictures) expect(text.stdout.indexOf(dir)).toBeLessThan(testingAt);
    for (const dir of testing) expect(text.stdout.indexOf(dir)).toBeGreaterThan(testingAt);

    // Added by a relative path (from the working folder); the answer describes it as the studio's toast does.
    const add = run('models', 'add', 'my-mixture');
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toBe(`added ${readModelFolder(added).name} (pixel, 8x8, txt2img/img2img/inpaint/colorize/super-resolution)\n   ${added}\n`);
    // The studio's registry on the same data folder sees it.
    expect(new ModelRegistry(home).imported().map((e) => e.dir)).toEqual([added]);
    const withAdded = json(run('models', '--json')).models as { dir: string; builtin: boolean }[];
    expect(withAdded.filter((m) => !m.builtin).map((m) => m.dir)).toEqual([added]);
    const addedText = run('models').stdout;
    expect(addedText).toContain(`${readModelFolder(added).name} (added)\n     ${added}\n`);
    // A copy of an exact model is for testing solvers too: listed under that heading.
    expect(addedText.indexOf(added)).toBeGreaterThan(addedText.indexOf('For testing solvers'));

    const removed = run('models', 'remove', added, '--json');
    expect(json(removed)).toEqual({ removed: { id: added, name: readModelFolder(added).name } });
    expect(new ModelRegistry(home).imported()).toEqual([]);
    expect((json(run('models', '--json')).models as { dir: string }[]).map((m) => m.dir)).toEqual([...pictures, ...testing]);
  });

  test('an added model the studio imported is listed by the CLI', () => {
    const registry = new ModelRegistry(home);
    registry.import(added);
    try {
      expect(run('models').stdout).toContain(`(added)\n     ${added}\n`);
    } finally {
      registry.remove(added);
    }
  });

  test('refusals name what is wrong, exit 2, and change nothing', () => {
    const before = existsSync(path.join(home, 'models.json')) ? readFileSync(path.join(home, 'models.json'), 'utf8') : null;
    const cases: [string[], string][] = [
      [['models', 'add', os.tmpdir()], `split-studio: model folder ${os.tmpdir()}: not a model folder: needs model_index.json\n`],
      [['models', 'add', '/no/such/folder'], 'split-studio: model folder /no/such/folder: does not exist\n'],
      [['models', 'add'], 'split-studio: models add needs a model folder, e.g. split-studio models add ./my-model\n'],
      [['models', 'remove', exact8], `split-studio: ${readModelFolder(exact8).name} is an exact reference model shipped with the studio for testing solvers; it cannot be removed\n`],
      [['models', 'remove', added], `split-studio: ${added} is not an added model (those are the folders added with Add in the studio or split-studio models add)\n`],
      [['models', 'frob'], 'split-studio: unknown models command "frob" (add, remove, list)\n'],
    ];
    for (const [args, stderr] of cases) {
      const r = run(...args);
      expect([r.code, r.stderr, r.stdout], args.join(' ')).toEqual([2, stderr, '']);
    }
    expect(existsSync(path.join(home, 'models.json')) ? readFileSync(path.join(home, 'models.json'), 'utf8') : null).toBe(before);
  });

  test('--help of each models command is its own usage', () => {
    expect(run('models', '--help').stdout).toMatch(/^usage: split-studio models \[--json\][\s\S]*models add DIR[\s\S]*models remove ID/);
    expect(run('models', 'add', '--help').stdout).toBe('usage:\n  split-studio models add DIR [--json]      add a model folder (checked first, as the studio\'s Add does)\n');
    expect(run('models', 'remove', '-h').stdout).toMatch(/^usage:\n {2}split-studio models remove ID \[--json\]/);
    expect(run('--help').stdout).toContain('split-studio models remove ID');
  });
});

/**
 * Stable Diffusion folders from the built command line (out/main/cli.js via bin/split-studio.js,
 * built by `npm test` before vitest): every solver, img2img and both inpainting kinds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SOLVERS } from '../../../shared/solvers';
import { readNpy } from '../io/npy';
import { decodePng, encodePng } from '../io/png';

const root = path.resolve(__dirname, '../../../..');
const bin = path.join(root, 'bin/split-studio.js');
const fixture = (name: string) => path.join(root, 'e2e/fixtures', name);
let dir: string;
let home: string;

function run(...args: string[]) {
  // SPLIT_STUDIO_HOME: a CLI that records generations keeps them out of the user's data folder.
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, SPLIT_STUDIO_HOME: home, SPLIT_STUDIO_THREADS: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const png = (file: string) => decodePng(readFileSync(path.join(dir, file)));

beforeAll(() => {
  if (!existsSync(path.join(root, 'out/main/cli.js'))) throw new Error('build first: npm run build');
  dir = mkdtempSync(path.join(os.tmpdir(), 'split-sd-cli-'));
  home = mkdtempSync(path.join(os.tmpdir(), 'split-sd-cli-home-'));
  // 8x8 blocks of flat colour, and a mask whose right half (white) is repainted.
  const picture = new Uint8Array(32 * 32 * 4);
  const mask = new Uint8Array(32 * 32 * 4);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const p = 4 * (y * 32 + x);
      for (let c = 0; c < 3; c++) picture[p + c] = 28 + ((Math.floor(x / 8) * 37 + Math.floor(y / 8) * 71 + c * 50) % 200);
      mask.fill(x >= 16 ? 255 : 0, p, p + 3);
      picture[p + 3] = mask[p + 3] = 255;
    }
  }
  writeFileSync(path.join(dir, 'init.png'), encodePng({ width: 32, height: 32, channels: 4, data: picture }));
  writeFileSync(path.join(dir, 'mask.png'), encodePng({ width: 32, height: 32, channels: 4, data: mask }));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

const common = ['--prompt', 'a red fox in the snow', '--negative', 'blurry', '--seed', '3', '--width', '32', '--height', '32', '--json'];

describe('generate --model <SD folder> --solver <each>', () => {
  const cases: [string, 'same-point' | 'exact'][] = [...SOLVERS.map((s) => [s.id, 'same-point'] as [string, 'same-point']), ['ltsp2', 'exact'], ['stsp4', 'exact']];
  test.each(cases)('%s (%s), guidance 7.5', (solver, conditionAt) => {
    const out = `${solver}-${conditionAt}.png`;
    const r = run('generate', '--model', fixture('tiny-sd-eps'), '--solver', solver, '--condition-at', conditionAt, '--steps', '3', '--guidance', '7.5', '--out', out, ...common);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.nfe).toBe(report.expected.nfe);
    expect(report.networkRows).toBe(report.expected.networkRows);
    expect(report.provider).toBe('cpu');
    // The folder's leading spacing (steps_offset 1): k*(T//N) + 1 on the paper's and the Euler
    // family's grids, k*(T//(N+1)) + 1 for k = N..1 on DPM-Solver++'s (dpmpp2m, unipc2 and split-pc3 walk it).
    expect(report.timesteps).toEqual(['dpmpp2m', 'unipc2', 'split-pc3'].includes(solver) ? [751, 501, 251] : [667, 334, 1]);
    expect([png(out).width, png(out).height]).toEqual([32, 32]);
  });

  test('--dump-x0 writes the latent before decoding; v_prediction folder with its default size; skipped providers reported', () => {
    const r = run('generate', '--model', fixture('tiny-sd-v'), '--prompt', 'a fox', '--steps', '4', '--guidance', '5', '--provider', 'cuda,cpu', '--out', 'v.png', '--dump-x0', 'v.npy', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.settings).toMatchObject({ width: 32, height: 32, spacing: 'leading' });
    expect(report.skippedProviders.map((s: { provider: string }) => s.provider)).toEqual(['cuda']);
    expect(report.skippedProviders[0].reason.length).toBeGreaterThan(5);
    expect(readNpy(readFileSync(path.join(dir, 'v.npy'))).shape).toEqual([1, 4, 4, 4]);
  });
});

describe('img2img and inpainting from the CLI', () => {
  test('--task img2img --init-image --strength', () => {
    const r = run('generate', '--model', fixture('tiny-sd-eps'), '--task', 'img2img', '--init-image', 'init.png', '--strength', '0.5', '--steps', '6', '--guidance', '7.5', '--out', 'i2i.png', ...common);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).timesteps).toEqual([333, 167, 1]); // leading, 1000 // 6 = 166, steps_offset 1; the last 3 of 6
  });

  test.each([['4-channel', 'tiny-sd-eps'], ['9-channel', 'tiny-sd-inpaint']])('--task inpaint --init-image --mask (%s UNet) keeps the unmasked half', (_, name) => {
    const out = `inpaint-${name}.png`;
    const r = run('generate', '--model', fixture(name), '--task', 'inpaint', '--init-image', 'init.png', '--mask', 'mask.png', '--steps', '5', '--guidance', '5', '--out', out, ...common);
    expect(r.code, r.stderr).toBe(0);
    const result = png(out).data;
    const init = png('init.png').data;
    let kept = 0;
    let changed = 0;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(result[4 * (y * 32 + x) + c] - init[4 * (y * 32 + x) + c]);
          if (x < 12) kept = Math.max(kept, d);
          if (x >= 20) changed += d;
        }
      }
    }
    expect(kept).toBeLessThanOrEqual(1);
    expect(changed / (12 * 32 * 3)).toBeGreaterThan(5);
  });

  test('a pixel-only task on a latent model is refused with exit code 2', () => {
    const r = run('generate', '--model', fixture('tiny-sd-eps'), '--task', 'colorize', '--init-image', 'init.png', '--out', 'c.png', ...common);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/colorize needs a pixel-space model/);
    expect(existsSync(path.join(dir, 'c.png'))).toBe(false);
  });
});

/**
 * The paths a new user takes first, on the embedded default model with its default settings,
 * through the built command line: CFG + classifier guidance, CFG + inpainting, img2img + CFG,
 * colorize and super-resolution. Each must succeed and keep what it must keep.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { decodePng, encodePng } from '../main/core/io/png';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/split-studio.js');
let dir: string;
let home: string;

function generate(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'generate', '--seed', '11', '--json', ...args], {
    cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, SPLIT_STUDIO_HOME: home },
  });
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.status, args.join(' ')).toBe(0);
  return JSON.parse(r.stdout);
}

const rgba = (file: string) => decodePng(readFileSync(path.join(dir, file)));

beforeAll(() => {
  if (!existsSync(path.join(root, 'out/main/cli.js'))) throw new Error('build first: npm run build');
  dir = mkdtempSync(path.join(os.tmpdir(), 'split-paths-'));
  home = mkdtempSync(path.join(os.tmpdir(), 'split-paths-home-'));
  // The picture the tasks start from, and a mask over its middle (white = repaint).
  generate('--prompt', 'red apple on a blue background', '--out', 'start.png');
  const mask = new Uint8Array(32 * 32 * 4);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) mask.fill(x >= 8 && x < 24 && y >= 8 && y < 24 ? 255 : 0, 4 * (y * 32 + x), 4 * (y * 32 + x) + 3).fill(255, 4 * (y * 32 + x) + 3, 4 * (y * 32 + x) + 4);
  writeFileSync(path.join(dir, 'mask.png'), encodePng({ width: 32, height: 32, channels: 4, data: mask }));
});

describe('the default model with default settings', () => {
  test('CFG + classifier guidance: --class alone gets the default scale; both terms are counted', () => {
    const r = generate('--prompt', 'a face', '--class', '0', '--out', 'cls.png');
    expect(r.settings).toMatchObject({ guidance: 5, classLabel: 0, classifierScale: 5, solver: 'split-pc3', steps: 20, spacing: 'karras' });
    // split-pc3: one batch-2 UNet call and one classifier call per step, two terms each.
    expect(r).toMatchObject({ nfe: 20, networkRows: 40, classifierCalls: 20, guidanceEvaluations: 40 });
    expect(r.expected).toEqual({ nfe: 20, networkRows: 40, classifierCalls: 20, guidanceEvaluations: 40 });
  });

  test("a solver that cannot walk the default spacing (karras) gets the scheduler's own", () => {
    expect(generate('--prompt', 'a face', '--solver', 'ddim', '--out', 'ddim.png').settings).toMatchObject({ solver: 'ddim', spacing: 'linspace' });
    expect(generate('--prompt', 'a face', '--solver', 'unipc2', '--out', 'unipc.png').settings).toMatchObject({ solver: 'unipc2', spacing: 'karras' });
  });

  test('CFG + inpainting keeps every pixel outside the mask', () => {
    const r = generate('--prompt', 'grinning face on a blue background', '--task', 'inpaint', '--init-image', 'start.png', '--mask', 'mask.png', '--out', 'inpaint.png');
    expect(r.settings.guidance).toBe(5);
    const start = rgba('start.png');
    const out = rgba('inpaint.png');
    let kept = 0;
    let changed = 0;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(out.data[4 * (y * 32 + x) + c] - start.data[4 * (y * 32 + x) + c]);
          if (x >= 8 && x < 24 && y >= 8 && y < 24) changed += d;
          else kept = Math.max(kept, d);
        }
      }
    }
    expect(kept).toBe(0);
    expect(changed / (16 * 16 * 3)).toBeGreaterThan(5);
  });

  test('img2img + CFG runs the last strength * steps steps', () => {
    const r = generate('--prompt', 'red heart on a green background', '--task', 'img2img', '--init-image', 'start.png', '--strength', '0.6', '--out', 'i2i.png');
    expect(r).toMatchObject({ nfe: 12, networkRows: 24 });
  });

  test('colorize keeps the gray levels; super-resolution keeps the low-resolution picture', () => {
    const start = rgba('start.png');
    const gray = new Uint8Array(start.data.length);
    const luma = (d: Uint8Array, p: number) => 0.299 * d[4 * p] + 0.587 * d[4 * p + 1] + 0.114 * d[4 * p + 2];
    for (let p = 0; p < 1024; p++) gray.fill(Math.round(luma(start.data, p)), 4 * p, 4 * p + 3).fill(255, 4 * p + 3, 4 * p + 4);
    writeFileSync(path.join(dir, 'gray.png'), encodePng({ width: 32, height: 32, channels: 4, data: gray }));
    generate('--task', 'colorize', '--init-image', 'gray.png', '--out', 'colour.png');
    const colour = rgba('colour.png');
    let lumaError = 0;
    for (let p = 0; p < 1024; p++) lumaError += Math.abs(luma(colour.data, p) - gray[4 * p]);
    expect(lumaError / 1024).toBeLessThan(2); // levels; rounding and clipping only

    const low = new Uint8Array(16 * 16 * 4);
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) {
        for (let c = 0; c < 4; c++) {
          let sum = 0;
          for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) sum += start.data[4 * ((2 * y + dy) * 32 + 2 * x + dx) + c];
          low[4 * (y * 16 + x) + c] = Math.round(sum / 4);
        }
      }
    }
    writeFileSync(path.join(dir, 'low.png'), encodePng({ width: 16, height: 16, channels: 4, data: low }));
    generate('--task', 'super-resolution', '--init-image', 'low.png', '--out', 'high.png');
    const high = rgba('high.png');
    let blockError = 0;
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) sum += high.data[4 * ((2 * y + dy) * 32 + 2 * x + dx) + c];
          blockError += Math.abs(sum / 4 - low[4 * (y * 16 + x) + c]);
        }
      }
    }
    expect(blockError / (16 * 16 * 3)).toBeLessThan(2);
  });
});

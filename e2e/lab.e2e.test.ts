/**
 * Browser tests of the solver lab: Debian's Chromium against the served studio, sweeps run in
 * the real engine process on the shipped models (the exact 8x8 Gaussian mixture: milliseconds a
 * run; the default model: its own defaults), saved in the data folder's lab.sqlite.
 */
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ServedStudio, openServedStudio, root } from './servedStudio';

let served: ServedStudio;
let page: Page;
/** The error plot's points of the first sweep, to compare when it is reopened. */
let arenaPoints = 0;
/** Uncaught exceptions in the page (a chart that throws while drawing, say): none is allowed. */
const pageErrors: string[] = [];

/** Pixels of the plot's canvas drawn in its first series' colour (#6ea8fe), give or take anti-aliasing. */
function seriesPixels(testid: string): Promise<number> {
  return page.getByTestId(testid).locator('canvas').evaluate((el) => {
    const canvas = el as unknown as { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 200 && Math.abs(data[i] - 0x6e) < 24 && Math.abs(data[i + 1] - 0xa8) < 24 && Math.abs(data[i + 2] - 0xfe) < 24) n++;
    return n;
  });
}

async function chooseSolvers(ids: string[]): Promise<void> {
  const boxes = page.getByTestId('lab-solvers').locator('input[type="checkbox"]');
  for (const box of await boxes.all()) await box.setChecked(ids.includes((await box.getAttribute('value'))!));
}

const sweepDone = () => page.getByTestId('lab-progress').textContent();

beforeAll(async () => {
  served = await openServedStudio({ width: 1400, height: 1250 });
  page = served.page;
  page.on('pageerror', (e) => pageErrors.push(`${e.message}\n${e.stack}`));
  await page.waitForSelector('[data-testid="generate"]:not([disabled])', { timeout: 30_000 });
  await page.getByTestId('view-lab').click();
}, 60_000);

afterAll(async () => {
  await served?.close();
});

describe.sequential('the solver lab', () => {
  test('an arena of three solvers on the exact model: pictures side by side, the error plot and the stability map drawn with data points, saved', async () => {
    await page.getByTestId('lab-model').selectOption({ label: 'Exact Gaussian mixture 3x8x8 (exact, for testing solvers)' });
    await chooseSolvers(['ddim', 'plms4', 'stsp4']);
    await page.getByTestId('lab-nfe').fill('8, 12, 20');
    await page.getByTestId('lab-guidance').fill('0, 10, 20');
    await page.getByTestId('lab-seeds').fill('0, 1');
    await page.getByTestId('lab-run').click();
    // 3 solvers x 3 budgets x 3 scales x 2 seeds
    await expect.poll(sweepDone, { timeout: 60_000 }).toMatch(/54 \/ 54 runs .*done, saved/);

    const entries = page.getByTestId('arena-entry');
    expect(await entries.count()).toBe(3);
    expect((await entries.evaluateAll((els) => els.map((e) => e.getAttribute('data-solver')))).sort()).toEqual(['ddim', 'plms4', 'stsp4']);
    // each solver's picture (the first seed) and its error over both seeds, mean ± spread
    expect(await page.getByTestId('lab-arena').locator('img').count()).toBe(4);
    for (const text of await page.getByTestId('arena-error').allTextContents()) expect(text).toMatch(/error \d\.\d\de-\d+ ± \d\.\d\de-\d+/);

    // at the strongest scale, a point for each solver and budget whose runs did not all diverge
    // (PLMS-4 blows up at 8 calls under s = 20), as many as the stability map's converged cells in that row
    const converged = await page.locator('[data-testid="stability-map"] tbody tr:first-child [data-testid="stability-cell"]').evaluateAll((els) => els.filter((e) => e.getAttribute('data-state') !== 'diverged' || !/✕ 2\/2|^✕$/.test(e.textContent ?? '')).length);
    arenaPoints = Number(await page.getByTestId('lab-error-plot').getAttribute('data-points'));
    expect(arenaPoints).toBeGreaterThanOrEqual(6);
    expect(arenaPoints).toBe(converged);
    expect(await seriesPixels('lab-error-plot')).toBeGreaterThan(50);
    expect(Number(await page.getByTestId('lab-step-plot').getAttribute('data-points'))).toBeGreaterThan(10);

    // one map per solver, scale x budget: 9 cells each
    const maps = page.getByTestId('stability-map');
    expect(await maps.count()).toBe(3);
    expect(await page.getByTestId('stability-cell').count()).toBe(27);
    const states = (solver: string) => page.locator(`[data-testid="stability-map"][data-solver="${solver}"] [data-testid="stability-cell"]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    expect((await states('ddim')).every((s) => s === 'converged')).toBe(true);
    expect(await states('plms4')).toContain('converged');

    // the step budget: a row per solver
    expect(await page.getByTestId('suggestion-row').count()).toBe(3);
    await expect.poll(() => page.getByTestId('saved-sweep').count()).toBe(1);
    const shot = process.env.SPLIT_STUDIO_SCREENSHOT ? path.join(root, 'docs/lab.png') : path.join(os.tmpdir(), 'split-studio-lab.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 90_000);

  test('the default model with the Lab defaults: three solvers, the reference and every budget', async () => {
    await page.getByTestId('lab-model').selectOption({ label: 'Noto Emoji 32' });
    expect(await page.getByTestId('lab-prompt').inputValue()).toBe('red apple on a blue background');
    await page.getByTestId('lab-run').click();
    await expect.poll(sweepDone, { timeout: 120_000 }).toMatch(/12 \/ 12 runs .*done, saved/);
    expect(await page.getByTestId('arena-entry').count()).toBe(3);
    expect(await page.getByTestId('lab-error-plot').getAttribute('data-points')).toBe('12');
    await expect.poll(() => page.getByTestId('saved-sweep').count()).toBe(2);
  }, 150_000);

  test('cancel stops a sweep part way and keeps what finished; a saved sweep reopens', async () => {
    await page.getByTestId('lab-seeds').fill('0, 1, 2, 3, 4, 5, 6, 7');
    await page.getByTestId('lab-nfe').fill('10, 20, 40, 80, 160');
    await page.getByTestId('lab-run').click();
    await expect.poll(sweepDone, { timeout: 60_000 }).toMatch(/[1-9]\d* \/ 120 runs/);
    await page.getByTestId('lab-cancel').click();
    await expect.poll(sweepDone, { timeout: 30_000 }).toMatch(/cancelled, the finished runs are saved/);
    await expect.poll(() => page.getByTestId('saved-sweep').count()).toBe(3);
    const newest = page.getByTestId('saved-sweep').first();
    expect(await newest.textContent()).toMatch(/of 120 runs/);

    // the exact-model sweep, reopened: its three solvers and 54 runs are back
    await page.getByTestId('saved-sweep').last().click();
    await expect.poll(() => page.getByTestId('lab-title').textContent()).toMatch(/Sweep #1 · Exact Gaussian mixture 3x8x8/);
    expect(await page.getByTestId('arena-entry').count()).toBe(3);
    expect(await page.getByTestId('stability-cell').count()).toBe(27);
    expect(Number(await page.getByTestId('lab-error-plot').getAttribute('data-points'))).toBe(arenaPoints);
    expect(await seriesPixels('lab-error-plot')).toBeGreaterThan(50);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});

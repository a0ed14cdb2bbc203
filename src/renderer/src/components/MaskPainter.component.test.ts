/**
 * The mask painter in Chromium (src/renderer/src/testing/chromium.node.ts): real pointer
 * strokes on its canvas, and the mask checked as Generate would send it, the PNG from the
 * form's mask exporter (white = repaint, on black).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { decodePng } from '../../../main/core/io/png';
import { type HarnessPage, openHarness } from '../testing/chromium.node';
import type { HarnessGlobal } from '../testing/harnessApi';

const SIZE = 32;
let harness: HarnessPage;
let page: Page;

beforeAll(async () => {
  harness = await openHarness();
  page = harness.page;
}, 60_000);

afterAll(async () => {
  await harness?.close();
});

beforeEach(async () => {
  harness.errors.length = 0;
  await page.evaluate((size) => (globalThis as unknown as HarnessGlobal).harness.mountMaskPainter({ width: size, height: size }), SIZE);
});

interface Mask {
  /** Red channel (the mask is gray), row-major SIZE x SIZE. */
  at(x: number, y: number): number;
  white: number;
  /** Pixels strictly between black and white (soft edges). */
  soft: number;
}

/** The mask Generate would send, or null when the painter says nothing is painted. */
async function exportedMask(): Promise<Mask | null> {
  const bytes = await page.evaluate(() => (globalThis as unknown as HarnessGlobal).harness.exportMask());
  if (bytes === null) return null;
  const png = decodePng(Uint8Array.from(bytes));
  expect([png.width, png.height]).toEqual([SIZE, SIZE]);
  const red = Array.from({ length: SIZE * SIZE }, (_, i) => png.data[4 * i]);
  for (let i = 0; i < SIZE * SIZE; i++) expect(png.data[4 * i + 3]).toBe(255);
  return {
    at: (x, y) => red[y * SIZE + x],
    white: red.filter((v) => v === 255).length,
    soft: red.filter((v) => v > 0 && v < 255).length,
  };
}

/** Screen position of the centre of picture pixel (x, y). */
async function screen(x: number, y: number): Promise<{ x: number; y: number }> {
  const box = (await page.getByTestId('mask-canvas').boundingBox())!;
  return { x: box.x + ((x + 0.5) * box.width) / SIZE, y: box.y + ((y + 0.5) * box.height) / SIZE };
}

/** A stroke through picture pixels (a dot when only one is given). */
async function stroke(...points: [number, number][]): Promise<void> {
  const [first, ...rest] = points;
  const start = await screen(...first!);
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  for (const p of rest) {
    const to = await screen(...p);
    await page.mouse.move(to.x, to.y, { steps: 8 });
  }
  await page.mouse.up();
}

async function setRange(testid: string, value: number): Promise<void> {
  await page.getByTestId(testid).evaluate((el, v) => {
    const input = el as unknown as { value: string; dispatchEvent(event: Event): boolean };
    input.value = String(v);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

describe('mask painter', () => {
  test('with nothing painted there is no mask to send and nothing to undo', async () => {
    expect(await exportedMask()).toBeNull();
    expect(await page.getByTestId('mask-undo').isDisabled()).toBe(true);
    expect(harness.errors).toEqual([]);
  });

  test('a stroke paints the pixels under it white; the rest of the mask stays black', async () => {
    await stroke([6, 16], [26, 16]);
    const mask = (await exportedMask())!;
    expect(mask).not.toBeNull();
    for (const x of [6, 12, 16, 20, 26]) expect(mask.at(x, 16), `pixel (${x}, 16)`).toBe(255);
    for (const [x, y] of [[16, 4], [16, 28], [1, 16], [31, 16], [0, 0]] as const) expect(mask.at(x, y), `pixel (${x}, ${y})`).toBe(0);
    // brush 4 (a 32-pixel picture starts at side / 8): a band about 4 pixels high and 24 long
    expect(mask.white).toBeGreaterThan(20 * 3);
    expect(mask.white).toBeLessThan(26 * 6);
    expect(harness.errors).toEqual([]);
  });

  test('the brush slider sets the width of what is painted', async () => {
    expect(await page.getByTestId('mask-brush').inputValue()).toBe('4');
    await stroke([16, 16]);
    const small = (await exportedMask())!.white;
    await page.getByTestId('mask-clear').click();
    await setRange('mask-brush', 12);
    await expect.poll(() => page.locator('label[for="brush"] output').textContent()).toBe('12px');
    await stroke([16, 16]);
    const large = (await exportedMask())!.white;
    // a dot of diameter 4 covers about 13 pixels, one of diameter 12 about 113 (fewer fully
    // white: the antialiased rim is gray)
    expect(small).toBeGreaterThan(4);
    expect(small).toBeLessThan(25);
    expect(large).toBeGreaterThan(70);
    expect(large).toBeLessThan(140);
    expect(large).toBeGreaterThan(4 * small);
  });

  test('the eraser takes paint away where it passes', async () => {
    await stroke([4, 16], [28, 16]);
    await page.getByTestId('mask-eraser').click();
    expect(await page.getByTestId('mask-eraser').getAttribute('aria-pressed')).toBe('true');
    await stroke([16, 4], [16, 28]);
    const mask = (await exportedMask())!;
    expect(mask.at(16, 16)).toBe(0);
    expect(mask.at(8, 16)).toBe(255);
    expect(mask.at(24, 16)).toBe(255);
  });

  test('invert swaps painted and unpainted pixels', async () => {
    await page.getByTestId('mask-invert').click();
    expect((await exportedMask())!.white).toBe(SIZE * SIZE);
    await page.getByTestId('mask-clear').click();
    await stroke([8, 8]);
    await page.getByTestId('mask-invert').click();
    const mask = (await exportedMask())!;
    expect(mask.at(8, 8)).toBe(0);
    expect(mask.at(24, 24)).toBe(255);
    expect(mask.white).toBeGreaterThan(SIZE * SIZE - 25);
  });

  test('clear empties the mask; undo (button or Ctrl+Z) steps back through the changes', async () => {
    await stroke([6, 16], [26, 16]);
    await page.getByTestId('mask-clear').click();
    expect(await exportedMask()).toBeNull();
    await page.getByTestId('mask-undo').click();
    expect((await exportedMask())!.at(16, 16)).toBe(255);
    await page.getByTestId('mask-canvas').focus();
    await page.keyboard.press('Control+z');
    expect(await exportedMask()).toBeNull();
    expect(await page.getByTestId('mask-undo').isDisabled()).toBe(true);
  });

  test('feather blurs the edge of the exported mask', async () => {
    await stroke([6, 16], [26, 16]);
    const sharp = (await exportedMask())!;
    await setRange('mask-feather', 3);
    await expect.poll(() => page.locator('label[for="feather"] output').textContent()).toBe('3px');
    const soft = (await exportedMask())!;
    expect(soft.soft).toBeGreaterThan(sharp.soft + 40);
    expect(soft.at(16, 10)).toBeGreaterThan(0);
    expect(sharp.at(16, 10)).toBe(0);
  });
});

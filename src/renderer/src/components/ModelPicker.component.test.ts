/**
 * The model picker in Chromium (src/renderer/src/testing/chromium.node.ts), inside a real
 * Studio whose API is a fake over a few models: the two groups (pictures, then the exact
 * reference models for testing solvers), the licence behind a disclosure, adding a folder
 * (selected, with a toast describing it, or the folder's error beside the field) and removing
 * an added model only after a confirm step.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ModelSummary } from '../../../shared/contract';
import { type HarnessPage, openHarness } from '../testing/chromium.node';
import type { FakeModelsApi, HarnessGlobal } from '../testing/harnessApi';

const EMOJI: ModelSummary = {
  id: '/app/resources/models/emoji',
  name: 'Emoji',
  kind: 'pixel',
  license: 'model weights: Apache-2.0; training data: Noto Color Emoji (Apache-2.0)',
  width: 32,
  height: 32,
  hasText: true,
  classLabels: null,
  tasks: ['txt2img', 'img2img', 'inpaint', 'colorize', 'super-resolution'],
  defaults: { solver: 'stsp4', steps: 20, guidance: 5 },
  spacing: 'linspace',
  builtin: true,
  forTesting: false,
};
const EXACT: ModelSummary = {
  ...EMOJI,
  id: '/app/resources/exact/gmm-3x8x8',
  name: 'Exact Gaussian mixture 3x8x8',
  license: undefined,
  width: 8,
  height: 8,
  hasText: false,
  classLabels: ['a', 'b', 'c'],
  forTesting: true,
};
const ADDED: ModelSummary = { ...EMOJI, id: '/home/me/models/flowers', name: 'Flowers', builtin: false, license: undefined };
const NEW_FOLDER: ModelSummary = {
  ...EMOJI,
  id: '/home/me/models/tiny-sd',
  name: 'Tiny SD',
  kind: 'latent',
  width: 64,
  height: 64,
  tasks: ['txt2img', 'img2img', 'inpaint'],
  builtin: false,
  license: undefined,
};
const SETUP: FakeModelsApi = {
  installed: [EMOJI, EXACT, ADDED],
  addable: [NEW_FOLDER],
  importError: 'model folder /home/me/empty: not a model folder: needs model_index.json',
  generationsKept: 3,
};

let harness: HarnessPage;
let page: Page;

beforeAll(async () => {
  harness = await openHarness();
  page = harness.page;
}, 60_000);

afterAll(async () => {
  await harness?.close();
});

async function mount(setup: FakeModelsApi = SETUP): Promise<void> {
  harness.errors.length = 0;
  await page.evaluate((s) => (globalThis as unknown as HarnessGlobal).harness.mountModelPicker(s), setup);
}

const state = () => page.evaluate(() => (globalThis as unknown as HarnessGlobal).harness.modelPickerState());
const select = () => page.getByTestId('model-select');
/** The picker's groups as [label, option values] in the order shown. */
const groups = () =>
  select().locator('optgroup').evaluateAll((gs) =>
    gs.map((g) => {
      const group = g as unknown as { label: string; querySelectorAll(s: string): ArrayLike<{ value: string }> };
      return [group.label, Array.from(group.querySelectorAll('option'), (o) => o.value)] as const;
    }),
  );

describe('model picker', () => {
  test('lists the models that make pictures first and the exact reference models under their own heading', async () => {
    await mount();
    expect(await groups()).toEqual([
      ['Models that make pictures', [EMOJI.id, ADDED.id]],
      ['For testing solvers', [EXACT.id]],
    ]);
    expect(await select().inputValue()).toBe(EMOJI.id);
    await select().selectOption(EXACT.id);
    expect(await page.getByTestId('model-info').textContent()).toContain('exact reference for testing solvers');
    expect(harness.errors).toEqual([]);
  });

  test('the licence is behind a closed disclosure until asked for', async () => {
    await mount();
    const licence = page.getByTestId('model-licence');
    expect(await licence.evaluate((d) => (d as unknown as { open: boolean }).open)).toBe(false);
    const text = licence.locator('p');
    expect(await text.isVisible()).toBe(false);
    await licence.locator('summary').click();
    expect(await text.isVisible()).toBe(true);
    expect(await text.textContent()).toBe(EMOJI.license);
    // A model without a licence shows no disclosure at all.
    await select().selectOption(ADDED.id);
    expect(await licence.count()).toBe(0);
  });

  test('adding a folder selects the new model and says what it is; a bad folder gets its own error beside the field', async () => {
    await mount();
    await page.getByTestId('model-path').fill('/home/me/empty');
    await page.getByTestId('import-model').click();
    await expect.poll(() => page.getByTestId('import-error').textContent()).toBe(SETUP.importError);
    expect(await page.getByTestId('model-path').getAttribute('aria-invalid')).toBe('true');
    expect((await state()).selectedId).toBe(EMOJI.id);

    await page.getByTestId('model-path').fill(`  ${NEW_FOLDER.id} `);
    await page.getByTestId('import-model').click();
    await expect.poll(async () => (await state()).selectedId).toBe(NEW_FOLDER.id);
    expect(await select().inputValue()).toBe(NEW_FOLDER.id);
    const { calls, toasts } = await state();
    expect(calls.filter((c) => c.op === 'importModel').map((c) => c.input)).toEqual([{ path: '/home/me/empty' }, { path: NEW_FOLDER.id }]);
    expect(toasts).toEqual(['Added Tiny SD (latent, 64x64, txt2img/img2img/inpaint)']);
    expect(await page.getByTestId('import-error').count()).toBe(0);
    expect(await page.getByTestId('model-path').inputValue()).toBe('');
    expect(harness.errors).toEqual([]);
  });

  test('built-in models offer no Remove; an added one is removed only after the confirm step', async () => {
    await mount();
    expect(await page.getByTestId('remove-model').count()).toBe(0);
    await select().selectOption(EXACT.id);
    expect(await page.getByTestId('remove-model').count()).toBe(0);

    await select().selectOption(ADDED.id);
    await page.getByTestId('remove-model').click();
    expect(await page.getByTestId('remove-confirm').textContent()).toContain('Remove Flowers from the list?');
    await page.getByTestId('remove-model-cancel').click();
    expect(await page.getByTestId('remove-confirm').count()).toBe(0);
    expect((await state()).calls.some((c) => c.op === 'removeModel')).toBe(false);

    await page.getByTestId('remove-model').click();
    await page.getByTestId('remove-model-confirm').click();
    await expect.poll(async () => (await state()).listed).toEqual([EMOJI.id, EXACT.id]);
    const after = await state();
    expect(after.calls.filter((c) => c.op === 'removeModel').map((c) => c.input)).toEqual([{ id: ADDED.id }]);
    // The selection moves to the first model that makes pictures, and the form with it.
    expect(after.selectedId).toBe(EMOJI.id);
    expect(await select().inputValue()).toBe(EMOJI.id);
    expect(after.toasts).toEqual(['Removed Flowers; its 3 generations stay in the gallery']);
    expect(await page.getByTestId('remove-confirm').count()).toBe(0);
    expect(await groups()).toEqual([
      ['Models that make pictures', [EMOJI.id]],
      ['For testing solvers', [EXACT.id]],
    ]);
    expect(harness.errors).toEqual([]);
  });

  test('a refused removal shows the service\'s reason beside the picker and keeps the model', async () => {
    const reason = '/home/me/models/flowers is not an added model (those are the folders added with Add in the studio or split-studio models add)';
    await mount({ ...SETUP, removeError: reason });
    await select().selectOption(ADDED.id);
    await page.getByTestId('remove-model').click();
    await page.getByTestId('remove-model-confirm').click();
    await expect.poll(() => page.getByTestId('remove-error').textContent()).toBe(reason);
    const after = await state();
    expect(after.listed).toContain(ADDED.id);
    expect(after.selectedId).toBe(ADDED.id);
    expect(after.toasts).toEqual([]);
    // The confirm stays open for another try or Cancel; choosing another model clears the error.
    expect(await page.getByTestId('remove-confirm').count()).toBe(1);
    await select().selectOption(EMOJI.id);
    expect(await page.getByTestId('remove-error').count()).toBe(0);
    expect(harness.errors).toEqual([]);
  });

  test('a model list asked for before an add or remove answers after it without undoing them', async () => {
    await mount({ ...SETUP, listDelayMs: 400 });
    await page.evaluate(() => (globalThis as unknown as HarnessGlobal).harness.reloadModels());
    await page.getByTestId('model-path').fill(NEW_FOLDER.id);
    await page.getByTestId('import-model').click();
    await select().selectOption(ADDED.id);
    await page.getByTestId('remove-model').click();
    await page.getByTestId('remove-model-confirm').click();
    // Both edits answered while the reload was still waiting; then the stale list arrives.
    await expect.poll(async () => (await state()).calls.filter((c) => c.op === 'listModels').length).toBe(2);
    await expect.poll(async () => (await state()).toasts.length).toBe(2);
    await page.waitForTimeout(600);
    const after = await state();
    expect(after.listed).toEqual([EMOJI.id, EXACT.id, NEW_FOLDER.id]);
    expect(after.selectedId).toBe(EMOJI.id);
    expect(await groups()).toEqual([
      ['Models that make pictures', [EMOJI.id, NEW_FOLDER.id]],
      ['For testing solvers', [EXACT.id]],
    ]);
    expect(harness.errors).toEqual([]);
  });
});

/**
 * The sampler controls in Chromium (src/renderer/src/testing/chromium.node.ts): what the user
 * sees change when they pick a solver, steps, guidance or condition placement, with a real
 * FormState behind the component. The NFE figures are the catalogue's exact costs
 * (src/shared/solvers.ts), which the engine's own counts are held to in sampler.test.ts.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ModelSummary, Settings } from '../../../shared/contract';
import { SOLVERS, solverInfo } from '../../../shared/solvers';
import { type HarnessPage, openHarness } from '../testing/chromium.node';
import type { HarnessGlobal } from '../testing/harnessApi';

/** A text-conditioned model like the default one (CFG available, 8 classes). */
const TEXT_MODEL: ModelSummary = {
  id: '/models/text',
  name: 'Text model',
  kind: 'pixel',
  width: 32,
  height: 32,
  hasText: true,
  classLabels: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
  tasks: ['txt2img', 'img2img', 'inpaint', 'colorize', 'super-resolution'],
  defaults: { solver: 'stsp4', steps: 20, guidance: 5 },
  spacing: 'linspace',
  builtin: true,
};

/** A class-conditional model without a text encoder (no CFG), like the exact reference models. */
const CLASS_MODEL: ModelSummary = {
  ...TEXT_MODEL,
  id: '/models/classes',
  name: 'Class model',
  hasText: false,
  classLabels: ['stripes', 'rings', 'checks'],
  defaults: { solver: 'ddim', steps: 20, guidance: 1 },
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

async function mountFor(model: ModelSummary | null, settings: Partial<Settings> = {}): Promise<void> {
  harness.errors.length = 0;
  await page.evaluate(([m, s]) => (globalThis as unknown as HarnessGlobal).harness.mountSolverControls(m, s), [model, settings] as const);
}

const values = () => page.evaluate(() => (globalThis as unknown as HarnessGlobal).harness.values());
const setValues = (settings: Partial<Settings>) => page.evaluate((s) => (globalThis as unknown as HarnessGlobal).harness.setValues(s), settings);
const cost = () => page.getByTestId('cost').locator('strong').textContent();
const costDetail = () => page.getByTestId('cost').locator('span').textContent();
const hint = () => page.locator('#solver-hint').textContent();
const chooseSolver = (id: string) => page.getByTestId('solver-select').selectOption(id);

async function setRange(testid: string, value: number): Promise<void> {
  await page.getByTestId(testid).evaluate((el, v) => {
    const input = el as unknown as { value: string; dispatchEvent(event: Event): boolean };
    input.value = String(v);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

describe('sampler controls', () => {
  test('offer every solver of the catalogue and describe the chosen one', async () => {
    await mountFor(TEXT_MODEL);
    const options = await page.getByTestId('solver-select').locator('option').allTextContents();
    expect(options).toEqual(SOLVERS.map((s) => s.label));
    expect(await page.getByTestId('solver-select').inputValue()).toBe('stsp4');
    expect(await hint()).toBe(solverInfo('stsp4').description);
    await chooseSolver('dpmpp2m');
    expect(await hint()).toBe(solverInfo('dpmpp2m').description);
    expect((await values()).solver).toBe('dpmpp2m');
    expect(harness.errors).toEqual([]);
  });

  test('the cost line follows the solver: PLMS pays one extra call, exact splitting pays per condition', async () => {
    await mountFor(TEXT_MODEL, { conditionAt: 'same-point' });
    expect(await costDetail()).toBe('20 steps · classifier-free guidance');
    // CFG: every guided evaluation is one call with a conditional and an unconditional row
    await chooseSolver('ddim');
    expect(await cost()).toBe('NFE 20 · 40 network rows');
    await chooseSolver('plms4');
    expect(await cost()).toBe('NFE 21 · 42 network rows');
    await chooseSolver('stsp4');
    expect(await cost()).toBe('NFE 20 · 40 network rows');
    await page.getByTestId('condition-at').selectOption('exact');
    expect((await values()).conditionAt).toBe('exact');
    // STSP exact: a CFG pair for each half condition step plus the unconditional diffusion call
    expect(await cost()).toBe('NFE 60 · 100 network rows');
    await chooseSolver('ltsp2');
    expect(await cost()).toBe('NFE 40 · 60 network rows');
  });

  test('the steps slider sets the step count and the NFE with it', async () => {
    await mountFor(TEXT_MODEL);
    await chooseSolver('ddim');
    await setRange('steps', 30);
    expect(await page.locator('output[for="steps"]').textContent()).toBe('30');
    expect(await cost()).toBe('NFE 30 · 60 network rows');
    expect(await costDetail()).toBe('30 steps · classifier-free guidance');
    expect((await values()).steps).toBe(30);
  });

  test('condition placement is offered only for splitting solvers with a network-based condition', async () => {
    await mountFor(TEXT_MODEL);
    const conditionAt = page.getByTestId('condition-at');
    await chooseSolver('ddim');
    expect(await conditionAt.isDisabled()).toBe(true);
    await chooseSolver('ltsp4');
    expect(await conditionAt.isDisabled()).toBe(false);
    // guidance 1 is the prompt alone: no condition term, nothing to place
    await setRange('guidance', 1);
    expect(await page.locator('output[for="guidance"]').textContent()).toBe('1');
    expect(await conditionAt.isDisabled()).toBe(true);
    expect(await cost()).toBe('NFE 20');
    expect(await costDetail()).toBe('20 steps · no guidance');
  });

  test('without a text encoder the guidance slider is off, and classifier guidance is counted per solver', async () => {
    await mountFor(CLASS_MODEL);
    expect(await page.getByTestId('guidance').isDisabled()).toBe(true);
    expect(await page.locator('#guidance-hint').textContent()).toMatch(/No text encoder/);
    expect(await cost()).toBe('NFE 20');
    await setValues({ classLabel: 1, classifierScale: 4 });
    expect(await costDetail()).toBe('20 steps · classifier guidance');
    expect(await cost()).toBe('NFE 20 · 20 classifier calls');
    await chooseSolver('stsp2');
    expect(await cost()).toBe('NFE 20 · 40 classifier calls');
    await chooseSolver('plms2');
    expect(await cost()).toBe('NFE 21 · 21 classifier calls');
    // the classifier needs no network call of the denoiser: placement does not apply
    await chooseSolver('ltsp2');
    expect(await page.getByTestId('condition-at').isDisabled()).toBe(true);
  });

  test('explicit timesteps (a gallery run) fix the step count; picking a spacing replaces them', async () => {
    await mountFor(CLASS_MODEL);
    await setValues({ spacing: [999, 600, 300, 100, 0] });
    expect(await page.getByTestId('steps').isDisabled()).toBe(true);
    expect(await page.locator('output[for="steps"]').textContent()).toBe('5');
    expect(await page.getByTestId('spacing-select').inputValue()).toBe('explicit');
    expect(await cost()).toBe('NFE 5');
    await page.getByTestId('spacing-select').selectOption('trailing');
    expect((await values()).spacing).toBe('trailing');
    expect(await page.getByTestId('steps').isDisabled()).toBe(false);
    expect(await cost()).toBe('NFE 20');
  });
});

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

/** A model whose scheduler says leading, like Stable Diffusion's folders. */
const LEADING_MODEL: ModelSummary = { ...TEXT_MODEL, id: '/models/leading', name: 'Leading model', spacing: 'leading', defaults: { solver: 'euler', steps: 20, guidance: 5 } };

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
const spacingOptions = () => page.getByTestId('spacing-select').locator('option:not([disabled])').allTextContents();
/** The picker's groups as [label, option texts] in the order shown. */
const solverGroups = () =>
  page.getByTestId('solver-select').locator('optgroup').evaluateAll((groups) =>
    groups.map((g) => {
      const group = g as unknown as { label: string; querySelectorAll(s: string): ArrayLike<{ value: string; textContent: string | null }> };
      return [group.label, Array.from(group.querySelectorAll('option'), (o) => `${o.value}: ${o.textContent}`)] as const;
    }),
  );

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
    const ids = await page.getByTestId('solver-select').locator('option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
    expect([...ids].sort()).toEqual(SOLVERS.map((s) => s.id).sort());
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

  test("groups the paper's solvers apart from the classical samplers, each with its NFE per step and grid", async () => {
    await mountFor(TEXT_MODEL);
    const paper = ['ddim', 'plms1', 'plms2', 'plms3', 'plms4', 'ltsp1', 'ltsp2', 'ltsp3', 'ltsp4', 'stsp1', 'stsp2', 'stsp3', 'stsp4'];
    expect(await solverGroups()).toEqual([
      ['Guided-sampling solvers (the paper)', paper.map((id) => `${id}: ${solverInfo(id).label} · 1 NFE/step`)],
      ['Classical samplers', ['euler: Euler · 1 NFE/step', 'euler-a: Euler a · 1 NFE/step', 'heun: Heun · 2 NFE/step', 'dpmpp2m: DPM++ 2M · 1 NFE/step', 'unipc2: UniPC · 1 NFE/step']],
      ['Beyond the paper (ours)', ['split-pc3: Split PC-3 · 1 NFE/step']],
    ]);
    const facts = page.getByTestId('solver-facts');
    expect(await facts.textContent()).toMatch(/^\s*NFE per step: 1 \(3 with CFG, exact placement\) · split-diffusion's grid for the model's timestep_spacing\s*$/);
    await chooseSolver('heun');
    expect(await hint()).toBe(solverInfo('heun').description);
    expect(await facts.textContent()).toMatch(/NFE per step: 2 \(1 on the last step, an Euler step to sigma 0\) · diffusers' EulerDiscreteScheduler grid\s*$/);
    expect(await facts.getAttribute('title')).toBe(solverInfo('heun').gridNote);
    expect(harness.errors).toEqual([]);
  });

  test("Heun's cost is 2N - 1 network calls: two per step, one on the last", async () => {
    await mountFor(TEXT_MODEL);
    await chooseSolver('heun');
    expect(await cost()).toBe('NFE 39 · 78 network rows');
    await setRange('steps', 30);
    expect(await cost()).toBe('NFE 59 · 118 network rows');
    await setRange('guidance', 1);
    expect(await cost()).toBe('NFE 59');
    await chooseSolver('euler');
    expect(await cost()).toBe('NFE 30');
  });

  test('the spacing offers what the solver can use; a solver that cannot use the current one moves it and says so', async () => {
    await mountFor(TEXT_MODEL);
    await chooseSolver('ddim');
    expect(await spacingOptions()).toEqual(['linspace', 'leading', 'trailing']);
    await chooseSolver('dpmpp2m');
    expect(await spacingOptions()).toEqual(['linspace', 'leading', 'trailing', 'karras', 'logsnr']);
    await page.getByTestId('spacing-select').selectOption('karras');
    expect((await values()).spacing).toBe('karras');
    // another classical sampler keeps karras, silently
    await chooseSolver('euler-a');
    expect((await values()).spacing).toBe('karras');
    expect(await page.getByTestId('spacing-note').count()).toBe(0);
    // the paper's solvers walk whole training timesteps: back to the model's own spacing, with a note
    await chooseSolver('plms2');
    expect((await values()).spacing).toBe('linspace');
    expect(await page.getByTestId('spacing-select').inputValue()).toBe('linspace');
    expect(await page.getByTestId('spacing-note').textContent()).toBe('PLMS-2 steps on whole training timesteps and cannot use the karras spacing; spacing karras → linspace');
    // picking a spacing by hand ends the note
    await page.getByTestId('spacing-select').selectOption('trailing');
    expect(await page.getByTestId('spacing-note').count()).toBe(0);
    expect(harness.errors).toEqual([]);
  });

  test("the move goes to the model's own spacing (leading for Stable Diffusion's folders)", async () => {
    await mountFor(LEADING_MODEL, { spacing: 'logsnr' });
    expect(await page.getByTestId('spacing-select').inputValue()).toBe('logsnr');
    await chooseSolver('stsp2');
    expect((await values()).spacing).toBe('leading');
    expect(await page.getByTestId('spacing-note').textContent()).toMatch(/cannot use the logsnr spacing; spacing logsnr → leading$/);
  });

  test('DDIM alone has an eta slider (0 to 1, from 0); eta > 0 and ancestral samplers say the noise stream matters', async () => {
    await mountFor(TEXT_MODEL);
    const eta = page.getByTestId('eta');
    const noiseNote = page.getByTestId('stochastic-note');
    expect(await eta.count()).toBe(0);
    await chooseSolver('ddim');
    expect(await eta.count()).toBe(1);
    expect([await eta.getAttribute('min'), await eta.getAttribute('max'), await eta.inputValue()]).toEqual(['0', '1', '0']);
    expect(await noiseNote.count()).toBe(0);
    expect((await values()).eta).toBe(0);
    await setRange('eta', 0.35);
    expect(await page.locator('output[for="eta"]').textContent()).toBe('0.35');
    expect((await values()).eta).toBe(0.35);
    expect(await noiseNote.textContent()).toMatch(/depends on the seed’s whole noise stream/);
    // another solver: no slider, and the run carries no eta (it has none); DDIM again keeps the value
    await chooseSolver('euler');
    expect(await eta.count()).toBe(0);
    expect(await noiseNote.count()).toBe(0);
    expect((await values()).eta).toBeUndefined();
    await chooseSolver('euler-a');
    expect(await noiseNote.textContent()).toMatch(/^\s*Stochastic: fresh noise from the seed’s generator at every step/);
    await chooseSolver('ddim');
    expect(await eta.inputValue()).toBe('0.35');
    expect(harness.errors).toEqual([]);
  });
});

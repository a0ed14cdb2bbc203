import type { ModelSummary, Settings } from '../../../shared/contract';
import { spacingForSolver } from '../../../shared/modelSettings';
import { DEFAULT_CLASSIFIER_SCALE, MAX_SEED, type SpacingName } from '../../../shared/settings';
import { SOLVERS } from '../../../shared/solvers';
import { type Png, pngUrl } from '../lib/images';
import { type SeedControl, reuseLast, rollDice, seedForRun, typedSeed } from './seedLogic';
import {
  type FieldName, baseSettings, conditionAtRelevant, defaultsFor, estimateCost, fitToModel, guidanceLabel, guidanceTerms,
  initImageSize, superResolutionFactors,
} from './settingsLogic';

export interface InitImage {
  bytes: Png;
  url: string;
  width: number;
  height: number;
}

/** The settings form: values, per-model defaults (remembered per model), seed, init image, field errors. */
export class FormState {
  values = $state<Settings>(baseSettings());
  seedLocked = $state(false);
  lastSeed = $state<number | null>(null);
  srFactor = $state(2);
  /** Images per Generate, seeds s, s+1, ... (AUTOMATIC1111's batch count). */
  batchCount = $state(1);
  initFile = $state.raw<File | null>(null);
  initImage = $state.raw<InitImage | null>(null);
  errors = $state<Partial<Record<FieldName | 'run', string>>>({});
  /** What the form changed on its own, said beside the control it changed (a spacing the new solver cannot use). */
  notes = $state<Partial<Record<FieldName, string>>>({});
  /** The seed field holds text that is not a seed: Generate is blocked until it is fixed (never silently replaced). */
  seedInvalid = $state<string | null>(null);
  /** Set by the mask painter while it is shown: the mask as PNG bytes, or null when nothing is painted. */
  maskExporter: (() => Promise<Png | null>) | null = null;
  /** A kept mask (white = repaint) for the mask painter to paint in ("Use settings" of an inpainting run); it takes it. */
  maskToLoad = $state.raw<Png | null>(null);

  guidance = $derived(guidanceLabel(guidanceTerms(this.values)));
  estimate = $derived(estimateCost(this.values));
  conditionRelevant = $derived(conditionAtRelevant(this.values));
  factors = $derived(superResolutionFactors(this.values.width, this.values.height));
  initSize = $derived(initImageSize(this.values, this.srFactor));

  #memo = new Map<string, Settings>();
  #modelId: string | null = null;

  /** Switches to a model: its remembered settings or its defaults, keeping prompts and seed. */
  applyModel(model: ModelSummary | null): void {
    if (this.#modelId) this.#memo.set(this.#modelId, $state.snapshot(this.values) as Settings);
    this.#modelId = model?.id ?? null;
    if (!model) return;
    const current = $state.snapshot(this.values) as Settings;
    const remembered = this.#memo.get(model.id);
    const next = remembered ? { ...remembered, prompt: current.prompt, negativePrompt: current.negativePrompt, seed: current.seed } : defaultsFor(model, current);
    this.values = next;
    this.#fitFactor();
    this.errors = {};
    this.notes = {};
  }

  /** "Use settings" from the gallery: the run's settings, fitted to the model, seed locked. */
  loadSettings(settings: Settings, model: ModelSummary): void {
    this.values = fitToModel(structuredClone(settings), model);
    this.seedLocked = true;
    this.#fitFactor();
    this.errors = {};
    this.notes = {};
  }

  /**
   * Picks a solver; a named spacing it cannot use (karras or logsnr for the paper's solvers)
   * moves to the model's own spacing, and the spacing's note says so.
   */
  chooseSolver(id: string, modelSpacing: SpacingName = 'linspace'): void {
    this.values.solver = id;
    delete this.errors.solver;
    const fitted = spacingForSolver(id, this.values.spacing, modelSpacing);
    if (fitted.change === null) {
      delete this.notes.spacing;
      return;
    }
    this.values.spacing = fitted.spacing;
    this.notes.spacing = fitted.change;
    delete this.errors.spacing;
  }

  chooseSpacing(spacing: SpacingName): void {
    this.values.spacing = spacing;
    delete this.notes.spacing;
    delete this.errors.spacing;
  }

  #fitFactor(): void {
    const factors = superResolutionFactors(this.values.width, this.values.height);
    if (!factors.includes(this.srFactor)) this.srFactor = factors.includes(4) ? 4 : (factors[0] ?? 2);
  }

  get seed(): SeedControl {
    return { value: this.values.seed, locked: this.seedLocked, last: this.lastSeed };
  }

  set seed(control: SeedControl) {
    this.values.seed = control.value;
    this.seedLocked = control.locked;
    this.lastSeed = control.last;
  }

  /** The seed for the next run (a fresh one unless locked), shown in the field. */
  takeSeedForRun(): number {
    this.seed = seedForRun(this.seed);
    return this.values.seed;
  }

  /** Picking a class while the scale is 0 would do nothing: start it at the default scale. */
  classChosen(): void {
    if (this.values.classLabel !== null && this.values.classifierScale === 0) this.values.classifierScale = DEFAULT_CLASSIFIER_SCALE;
  }

  rollDice(): void {
    this.seed = rollDice(this.seed);
    this.#seedValid();
  }

  reuseLast(): void {
    this.seed = reuseLast(this.seed);
    if (this.seedInvalid !== null && this.lastSeed !== null) this.#seedValid();
  }

  #seedValid(): void {
    this.seedInvalid = null;
    delete this.errors.seed;
  }

  /** A typed seed; false (and a field error) when it is not a whole number in range. */
  typeSeed(value: unknown): boolean {
    const next = typedSeed(this.seed, value, MAX_SEED);
    if (!next) {
      this.seedInvalid = `a seed is a whole number from 0 to ${MAX_SEED}`;
      this.errors.seed = this.seedInvalid;
      return false;
    }
    this.#seedValid();
    this.seed = next;
    return true;
  }

  setInitImage(image: InitImage | null): void {
    if (this.initImage) URL.revokeObjectURL(this.initImage.url);
    this.initImage = image;
  }

  async convertInit(convert: (file: File, width: number, height: number) => Promise<Png>): Promise<void> {
    const file = this.initFile;
    const { width, height } = this.initSize;
    if (!file) return this.setInitImage(null);
    try {
      const bytes = await convert(file, width, height);
      // A newer file or size may have arrived while this one converted.
      if (file !== this.initFile || width !== this.initSize.width || height !== this.initSize.height) return;
      this.setInitImage({ bytes, url: pngUrl(bytes), width, height });
      delete this.errors.initImage;
    } catch (error) {
      this.setInitImage(null);
      this.errors.initImage = (error as Error).message;
    }
  }

  /** A copy fit to send (plain data, no proxies), or the first problem found. */
  snapshot(): Settings {
    const values = $state.snapshot(this.values) as Settings;
    // The eta slider is shown for DDIM only: a value left from it must not reach (and be
    // refused by) another solver.
    if (SOLVERS.find((s) => s.id === values.solver)?.family !== 'ddim') delete values.eta;
    // The strength slider is shown for img2img only: a value left from it must not change
    // (or, for txt2img, refuse) a run of another task.
    return values.task === 'img2img' ? values : { ...values, strength: 1 };
  }
}

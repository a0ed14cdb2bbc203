import { batchSeeds } from '../../../shared/batch';
import type { GenerationDetail, GenerationRecord, GenerationSummary, ImportedSettings, Settings, StudioApi } from '../../../shared/contract';
import { modelLine } from '../../../shared/modelDescription';
import { MAX_IMPORT_PNG_BYTES } from '../../../shared/settings';
import { type Png, downloadPng } from '../lib/images';
import { type Connection, type ConnectionStatus, DisconnectedError, connectionOf, toCallError } from '../transport';
import { FormState } from './form.svelte';
import { GalleryState, exportName } from './gallery.svelte';
import { BatchRun } from './batch.svelte';
import { type JobPhase, JobState } from './job.svelte';
import { ModelsState } from './models.svelte';
import { type KeyValueStorage, defaultStorage, readForm, readPrompts, withPrompt, writeForm, writePrompts } from './remembered';
import { fitToModel, needsInitImage, numberProblems, TASK_LABELS, tasksFor } from './settingsLogic';
import { ToastState } from './toasts.svelte';

/** The whole studio: the API and the state classes, and the actions that span them. */
export class Studio {
  readonly models: ModelsState;
  readonly form = new FormState();
  readonly job: JobState;
  readonly gallery: GalleryState;
  readonly toasts = new ToastState();
  readonly connection: Connection | null;
  connectionStatus = $state<ConnectionStatus>('open');
  connectionDetail = $state('');
  /** The batch being made or last made (batch count > 1): its images as they come. */
  batch = $state.raw<BatchRun | null>(null);
  /** Recent prompts, newest first (remembered between launches). */
  prompts = $state.raw<string[]>([]);
  readonly #api: StudioApi;
  readonly #storage: KeyValueStorage | null;
  /** The remembered form is applied once, on the first load (a reconnection must not undo edits). */
  #restored = false;

  constructor(api: StudioApi, storage: KeyValueStorage | null = defaultStorage()) {
    this.#api = api;
    this.#storage = storage;
    this.prompts = readPrompts(storage);
    this.models = new ModelsState(api);
    this.job = new JobState(api);
    this.gallery = new GalleryState(api);
    this.connection = connectionOf(api);
    this.job.onFinished = (record) => {
      this.form.lastSeed = record.seed;
    };
    // A run the engine refused ('settings'): the message goes next to the control of the field it names.
    this.job.onRefused = (message, field) => {
      if (field) this.form.errors[field] = message;
    };
  }

  /** Subscribes and loads; returns the cleanup. */
  start(): () => void {
    const offJob = this.job.listen();
    // Any finished image (also from another window) belongs in the gallery.
    const offDone = this.#api.on('done', () => void this.gallery.refresh());
    let offConnection = () => {};
    if (this.connection) {
      let was: ConnectionStatus | null = null;
      const sync = (status: ConnectionStatus) => {
        this.connectionStatus = status;
        this.connectionDetail = this.connection!.detail;
        if (status === 'closed' || status === 'refused') this.job.lose('the connection to the studio was lost; the job’s result, if any, will be in the gallery');
        // (Re)load on every (re)connection, also when the socket opened before this subscription.
        if (status === 'open' && was !== 'open') void this.load();
        was = status;
      };
      offConnection = this.connection.onChange(sync);
      sync(this.connection.status);
    } else {
      void this.load();
    }
    const offRemember = $effect.root(() => {
      $effect(() => this.#remember());
    });
    return () => {
      offJob();
      offDone();
      offConnection();
      offRemember();
    };
  }

  async load(): Promise<void> {
    await this.models.load();
    if (!this.#restored) this.#restore();
    else this.form.applyModel(this.models.selected);
    void this.gallery.refresh();
  }

  /** The form as it was left: its model when still installed, settings fitted to it. */
  #restore(): void {
    this.#restored = true;
    const saved = readForm(this.#storage);
    const model = saved ? this.models.byId(saved.modelId) : null;
    if (saved && model) this.models.selectedId = model.id;
    this.form.applyModel(this.models.selected);
    if (!saved || !model) return;
    this.form.values = fitToModel(saved.settings, model);
    this.form.seedLocked = saved.seedLocked;
    this.form.batchCount = saved.batchCount;
  }

  /** Saves the form whenever it changes (an effect: reads everything it saves first). */
  #remember(): void {
    const settings = $state.snapshot(this.form.values) as Settings;
    const modelId = this.models.selectedId;
    const { seedLocked, batchCount } = this.form;
    if (!this.#restored || !modelId) return;
    writeForm(this.#storage, { modelId, settings, seedLocked, batchCount });
  }

  selectModel(id: string): void {
    this.models.selectedId = id;
    this.form.applyModel(this.models.selected);
  }

  async importModel(path: string): Promise<boolean> {
    const model = await this.models.import(path);
    if (!model) return false;
    this.selectModel(model.id);
    this.toasts.push('info', `Added ${modelLine(model)}`);
    return true;
  }

  /** Forgets an added model (the picker asked first); the form follows if it was the selected one. */
  async removeModel(id: string): Promise<boolean> {
    const result = await this.models.remove(id);
    if (!result) return false;
    if (result.reselected) this.form.applyModel(this.models.selected);
    const { name, generationsKept: kept } = result.removed;
    this.toasts.push('info', `Removed ${name}${kept > 0 ? `; its ${kept === 1 ? 'generation stays' : `${kept} generations stay`} in the gallery` : ''}`);
    return true;
  }

  async generate(): Promise<void> {
    if (this.job.busy || this.batch?.running) return;
    const model = this.models.selected;
    const form = this.form;
    form.errors = form.seedInvalid === null ? {} : { seed: form.seedInvalid };
    if (form.seedInvalid !== null) return;
    if (!model) {
      this.toasts.push('error', 'choose a model first');
      return;
    }
    const problems = numberProblems(form.values);
    if (Object.keys(problems).length > 0) {
      form.errors = problems;
      return;
    }
    if (!form.estimate.ok) {
      form.errors.strength = form.estimate.message;
      return;
    }
    const task = form.values.task;
    let initImage: Png | undefined;
    let mask: Png | undefined;
    if (needsInitImage(task)) {
      const init = form.initImage;
      if (!init) {
        form.errors.initImage = `${TASK_LABELS[task]} starts from a picture: choose one`;
        return;
      }
      initImage = init.bytes;
    }
    if (task === 'inpaint') {
      try {
        mask = (await form.maskExporter?.()) ?? undefined;
      } catch (error) {
        form.errors.mask = (error as Error).message;
        return;
      }
      if (!mask) {
        form.errors.mask = 'paint the area to repaint (white) on the picture';
        return;
      }
    }
    const seed = form.takeSeedForRun();
    let seeds: number[];
    try {
      seeds = batchSeeds(seed, form.batchCount);
    } catch (error) {
      form.errors.run = (error as Error).message;
      return;
    }
    const settings = form.snapshot();
    this.prompts = withPrompt(this.prompts, settings.prompt);
    writePrompts(this.#storage, this.prompts);
    this.batch?.dispose();
    this.batch = null;
    const run = (s: Settings, label: string) => this.#runOne(label, 'generate', () => this.#api.generate({ modelId: model.id, settings: s, initImage, mask }));
    if (seeds.length === 1) {
      await run(settings, `seed ${seed}`);
      return;
    }
    // A batch: one job per seed, one after another, each recorded; a cancel or failure ends it.
    const batch = new BatchRun(seeds);
    this.batch = batch;
    for (const [i, s] of seeds.entries()) {
      batch.current = i;
      if ((await run({ ...settings, seed: s }, `image ${i + 1} of ${seeds.length} · seed ${s}`)) !== 'done' || !this.job.result) break;
      batch.add(this.job.result.record, this.job.result.png);
    }
    batch.finish();
  }

  /** Starts one job and waits for its end. */
  async #runOne(label: string, what: string, start: () => Promise<{ jobId: string }>): Promise<JobPhase> {
    this.job.begin(label);
    try {
      const { jobId } = await start();
      this.job.attach(jobId);
    } catch (error) {
      this.#callFailed(error, what);
      return 'failed';
    }
    return this.job.settled();
  }

  /**
   * "Send to img2img / inpainting": the generation's picture becomes the init image, its
   * settings (not its seed lock) go into the form, and the form switches task.
   */
  async sendTo(record: GenerationSummary & { settings?: Settings }, task: 'img2img' | 'inpaint'): Promise<boolean> {
    const model = this.models.byId(record.modelId);
    if (!model) {
      this.toasts.push('error', `${record.modelName} is not installed; add its folder to work on #${record.id}`);
      return false;
    }
    if (!tasksFor(model).includes(task)) {
      this.toasts.push('error', `${model.name} cannot do ${TASK_LABELS[task].toLowerCase()}`);
      return false;
    }
    let bytes: Uint8Array;
    try {
      bytes = await this.#api.getImage({ id: record.id, thumbnail: false });
    } catch (error) {
      this.toasts.error(error, `send #${record.id}`);
      return false;
    }
    if (this.models.selectedId !== model.id) this.selectModel(model.id);
    if (record.settings) {
      this.form.loadSettings(record.settings, model);
      this.form.seedLocked = false;
    }
    this.form.values.task = task;
    // Starting at strength 1 would ignore the picture: img2img starts from a moderate change.
    if (task === 'img2img' && this.form.values.strength >= 1) this.form.values.strength = 0.6;
    this.form.initFile = new File([bytes as Uint8Array<ArrayBuffer>], `generation-${record.id}.png`, { type: 'image/png' });
    this.toasts.push('info', `#${record.id} sent to ${TASK_LABELS[task].toLowerCase()}`);
    return true;
  }

  /** Re-runs a generation as it was, or with `changes` (another solver, steps, seed, guidance); the result is its child. */
  async rerun(record: GenerationRecord, changes?: Partial<Settings>): Promise<void> {
    if (this.job.busy || this.batch?.running) return;
    const changed = changes && Object.keys(changes).length > 0;
    this.batch?.dispose();
    this.batch = null;
    await this.#runOne(changed ? `re-run of #${record.id} with changes` : `re-run of #${record.id}`, 're-run', () => this.#api.rerun(changed ? { id: record.id, changes } : { id: record.id }));
  }

  /**
   * A PNG dropped on the window: its settings (this studio's or AUTOMATIC1111's) go into the
   * form, on the model the PNG names when it is installed, else on the current one.
   */
  async importPng(file: File): Promise<boolean> {
    if (file.type !== 'image/png' && !/\.png$/i.test(file.name)) {
      this.toasts.push('error', `${file.name}: only PNG files carry generation settings`);
      return false;
    }
    if (file.size > MAX_IMPORT_PNG_BYTES) {
      this.toasts.push('error', `${file.name} is larger than ${MAX_IMPORT_PNG_BYTES / 1024 / 1024} MiB`);
      return false;
    }
    let imported: ImportedSettings;
    try {
      const png = new Uint8Array(await file.arrayBuffer());
      imported = await this.#api.importPng({ png, ...(this.models.selectedId ? { modelId: this.models.selectedId } : {}) });
    } catch (error) {
      this.toasts.error(error, file.name);
      return false;
    }
    const warnings = [...imported.warnings];
    let model = imported.modelId ? this.models.byId(imported.modelId) : null;
    if (!model) {
      model = this.models.selected;
      if (!model) {
        this.toasts.push('error', `${file.name}: no model to load these settings into`);
        return false;
      }
      if (imported.modelId) warnings.push(`${imported.modelName ?? imported.modelId} is not available; the settings were loaded for ${model.name}`);
    }
    if (this.models.selectedId !== model.id) this.selectModel(model.id);
    this.form.loadSettings(imported.settings, model);
    const from = imported.source === 'a1111' ? 'AUTOMATIC1111 parameters' : 'Split Studio metadata';
    this.toasts.push('info', `loaded the settings of ${file.name} (${from}) for ${model.name}`);
    if (warnings.length > 0) this.toasts.push('warn', warnings.join('\n'), 15_000);
    return true;
  }

  /** Favourite from the result (the gallery detail has its own toggle); true when it took. */
  async setFavourite(record: GenerationSummary, favourite: boolean): Promise<boolean> {
    try {
      await this.#api.setFavourite({ id: record.id, favourite });
    } catch (error) {
      this.toasts.error(error, 'favourite');
      return false;
    }
    if (this.gallery.selected?.id === record.id) void this.gallery.select(record.id);
    if (this.gallery.filters.favourite) void this.gallery.refresh();
    this.toasts.push('info', favourite ? `#${record.id} added to favourites` : `#${record.id} removed from favourites`);
    return true;
  }

  /** Downloads a generation's PNG (its settings inside). */
  async exportImage(record: GenerationSummary): Promise<void> {
    try {
      const bytes = await this.#api.getImage({ id: record.id, thumbnail: false });
      const name = exportName(record);
      downloadPng(bytes, name);
      this.toasts.push('info', `exported ${name}`);
    } catch (error) {
      this.toasts.error(error, 'export');
    }
  }

  /** Copies a generation's settings as JSON (what "Use settings" and a PNG import read). */
  async copySettings(record: GenerationRecord): Promise<void> {
    try {
      await navigator.clipboard.writeText(JSON.stringify({ model: record.modelName, ...record.settings }, null, 2));
      this.toasts.push('info', `copied the settings of #${record.id}`);
    } catch (error) {
      this.toasts.push('error', `could not copy to the clipboard: ${(error as Error).message}`);
    }
  }

  /** "Use settings": the run's settings, and the pictures kept with it that its task starts from, go into the form. */
  async useSettings(record: GenerationRecord & Partial<Pick<GenerationDetail, 'inputs'>>): Promise<void> {
    const model = this.models.byId(record.modelId);
    if (!model) {
      this.toasts.push('error', `${record.modelName} is not installed; add its folder to use these settings`);
      return;
    }
    if (this.models.selectedId !== model.id) this.selectModel(model.id);
    this.form.loadSettings(record.settings, model);
    const { task, width } = record.settings;
    const init = needsInitImage(task) ? record.inputs?.find((i) => i.kind === 'initImage') : undefined;
    const mask = task === 'inpaint' ? record.inputs?.find((i) => i.kind === 'mask') : undefined;
    try {
      if (init) {
        const bytes = await this.#api.getInput({ id: record.id, kind: 'initImage' });
        // A super-resolution input is smaller than the image by the run's factor.
        if (task === 'super-resolution' && init.width) this.form.srFactor = width / init.width;
        this.form.initFile = new File([bytes as Png], `generation-${record.id}-start.png`, { type: 'image/png' });
      }
      if (mask) this.form.maskToLoad = (await this.#api.getInput({ id: record.id, kind: 'mask' })) as Png;
    } catch (error) {
      this.toasts.error(error, `the pictures of #${record.id}`);
    }
    const pictures = [init && 'starting picture', mask && 'mask'].filter(Boolean).join(' and ');
    this.toasts.push('info', `loaded the settings of #${record.id}${pictures ? ` and its ${pictures}` : ''}`);
  }

  /** 'invalid' goes next to its control (or the Generate button); anything else to a toast too. */
  #callFailed(error: unknown, what: string): void {
    const e = toCallError(error);
    if (error instanceof DisconnectedError) {
      this.job.fail(e);
      return;
    }
    this.job.fail(e);
    if (e.kind === 'invalid') {
      this.form.errors[e.field ?? 'run'] = e.message;
    } else {
      this.toasts.error(e, what);
    }
  }
}

import type { GenerationRecord, ImportedSettings, Settings, StudioApi } from '../../../shared/contract';
import { modelLine } from '../../../shared/modelDescription';
import { MAX_IMPORT_PNG_BYTES } from '../../../shared/settings';
import type { Png } from '../lib/images';
import { type Connection, type ConnectionStatus, DisconnectedError, connectionOf, toCallError } from '../transport';
import { FormState } from './form.svelte';
import { GalleryState } from './gallery.svelte';
import { JobState } from './job.svelte';
import { ModelsState } from './models.svelte';
import { needsInitImage, numberProblems, TASK_LABELS } from './settingsLogic';
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
  readonly #api: StudioApi;

  constructor(api: StudioApi) {
    this.#api = api;
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
    return () => {
      offJob();
      offDone();
      offConnection();
    };
  }

  async load(): Promise<void> {
    await this.models.load();
    this.form.applyModel(this.models.selected);
    void this.gallery.refresh();
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
    if (this.job.busy) return;
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
    const settings = form.snapshot();
    this.job.begin(`seed ${seed}`);
    try {
      const { jobId } = await this.#api.generate({ modelId: model.id, settings, initImage, mask });
      this.job.attach(jobId);
    } catch (error) {
      this.#callFailed(error, 'generate');
    }
  }

  /** Re-runs a generation as it was, or with `changes` (another solver, steps, seed, guidance); the result is its child. */
  async rerun(record: GenerationRecord, changes?: Partial<Settings>): Promise<void> {
    if (this.job.busy) return;
    const changed = changes && Object.keys(changes).length > 0;
    this.job.begin(changed ? `re-run of #${record.id} with changes` : `re-run of #${record.id}`);
    try {
      const { jobId } = await this.#api.rerun(changed ? { id: record.id, changes } : { id: record.id });
      this.job.attach(jobId);
    } catch (error) {
      this.#callFailed(error, 're-run');
    }
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

  useSettings(record: GenerationRecord): void {
    const model = this.models.byId(record.modelId);
    if (!model) {
      this.toasts.push('error', `${record.modelName} is not installed; add its folder to use these settings`);
      return;
    }
    if (this.models.selectedId !== model.id) this.selectModel(model.id);
    this.form.loadSettings(record.settings, model);
    this.toasts.push('info', `loaded the settings of #${record.id}`);
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

import type { ModelSummary, StudioApi } from '../../../shared/contract';
import { DisconnectedError, toCallError } from '../transport';

/** The installed models and the one the form is for. */
export class ModelsState {
  list = $state.raw<ModelSummary[]>([]);
  selectedId = $state<string | null>(null);
  selected = $derived(this.list.find((m) => m.id === this.selectedId) ?? null);
  loading = $state(false);
  loadError = $state<string | null>(null);
  importing = $state(false);
  importError = $state<string | null>(null);
  readonly #api: StudioApi;

  constructor(api: StudioApi) {
    this.#api = api;
  }

  async load(): Promise<void> {
    this.loading = true;
    this.loadError = null;
    try {
      this.list = await this.#api.listModels({});
      if (!this.list.some((m) => m.id === this.selectedId)) this.selectedId = this.list[0]?.id ?? null;
    } catch (error) {
      // A closed connection is the banner's to report.
      if (!(error instanceof DisconnectedError)) this.loadError = toCallError(error).message;
    } finally {
      this.loading = false;
    }
  }

  /** Adds a model folder; on failure keeps the folder's specific error for the field. */
  async import(path: string): Promise<ModelSummary | null> {
    const trimmed = path.trim();
    if (!trimmed) {
      this.importError = 'type the path of a model folder';
      return null;
    }
    this.importing = true;
    this.importError = null;
    try {
      const model = await this.#api.importModel({ path: trimmed });
      this.list = [...this.list.filter((m) => m.id !== model.id), model];
      return model;
    } catch (error) {
      this.importError = toCallError(error).message;
      return null;
    } finally {
      this.importing = false;
    }
  }

  byId(id: string): ModelSummary | null {
    return this.list.find((m) => m.id === id) ?? null;
  }
}

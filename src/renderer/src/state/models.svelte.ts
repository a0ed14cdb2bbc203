import type { ModelSummary, OperationOutputs, StudioApi } from '../../../shared/contract';
import { groupModels } from '../../../shared/modelDescription';
import { DisconnectedError, toCallError } from '../transport';

/** The installed models and the one the form is for. */
export class ModelsState {
  list = $state.raw<ModelSummary[]>([]);
  selectedId = $state<string | null>(null);
  selected = $derived(this.list.find((m) => m.id === this.selectedId) ?? null);
  /** The picker's two groups: models that make pictures, then the exact reference models (for testing solvers). */
  groups = $derived(groupModels(this.list));
  loading = $state(false);
  loadError = $state<string | null>(null);
  importing = $state(false);
  importError = $state<string | null>(null);
  removing = $state(false);
  removeError = $state<string | null>(null);
  readonly #api: StudioApi;
  /**
   * Every add and remove, in order: a list asked for before one of them answers after it (the
   * first list waits for the engine to check every model, seconds at startup), so a load
   * replays the edits made since it started instead of undoing them.
   */
  readonly #edits: ({ add: ModelSummary } | { remove: string })[] = [];

  constructor(api: StudioApi) {
    this.#api = api;
  }

  async load(): Promise<void> {
    this.loading = true;
    this.loadError = null;
    try {
      const since = this.#edits.length;
      let list = await this.#api.listModels({});
      for (const edit of this.#edits.slice(since)) list = 'add' in edit ? [...list.filter((m) => m.id !== edit.add.id), edit.add] : list.filter((m) => m.id !== edit.remove);
      this.list = list;
      if (!this.list.some((m) => m.id === this.selectedId)) this.selectedId = this.#firstId();
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
      this.#edits.push({ add: model });
      this.list = [...this.list.filter((m) => m.id !== model.id), model];
      return model;
    } catch (error) {
      this.importError = toCallError(error).message;
      return null;
    } finally {
      this.importing = false;
    }
  }

  /**
   * Forgets an added model. When it was the selected one, the selection moves to the first
   * model that makes pictures (`reselected` says so: the form must follow). On failure the
   * service's message (a built-in model, one no longer listed) is kept for the picker.
   */
  async remove(id: string): Promise<{ removed: OperationOutputs['removeModel']; reselected: boolean } | null> {
    this.removing = true;
    this.removeError = null;
    try {
      const removed = await this.#api.removeModel({ id });
      this.#edits.push({ remove: removed.id });
      this.list = this.list.filter((m) => m.id !== removed.id);
      const reselected = this.selectedId === removed.id;
      if (reselected) this.selectedId = this.#firstId();
      return { removed, reselected };
    } catch (error) {
      this.removeError = toCallError(error).message;
      return null;
    } finally {
      this.removing = false;
    }
  }

  /** A model that makes pictures, else any: what the picker starts on. */
  #firstId(): string | null {
    const { pictures, testing } = groupModels(this.list);
    return (pictures[0] ?? testing[0])?.id ?? null;
  }

  byId(id: string): ModelSummary | null {
    return this.list.find((m) => m.id === id) ?? null;
  }
}

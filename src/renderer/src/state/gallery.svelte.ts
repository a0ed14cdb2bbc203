import type { GenerationDetail, GenerationSummary, InputKind, OperationInput, StudioApi } from '../../../shared/contract';
import type { Task } from '../../../shared/settings';
import { downloadPng, pngUrl } from '../lib/images';
import { DisconnectedError, toCallError } from '../transport';
import { pagesCovering } from './virtualGrid';

const THUMB_CACHE = 600;

/** The gallery's filters; '' means any. */
export interface GalleryFilters {
  modelId: string;
  solver: string;
  task: Task | '';
  favourite: boolean;
  /** The trash view instead of the gallery. */
  trash: boolean;
}

export const NO_FILTERS: GalleryFilters = { modelId: '', solver: '', task: '', favourite: false, trash: false };

/** The listGallery query for a search and filters (empty ones left out). */
function listQuery(search: string, f: GalleryFilters, offset: number, limit: number): OperationInput<'listGallery'> {
  return {
    search: search.trim() || undefined,
    offset,
    limit,
    ...(f.modelId ? { modelId: f.modelId } : {}),
    ...(f.solver ? { solver: f.solver } : {}),
    ...(f.task ? { task: f.task } : {}),
    ...(f.favourite ? { favourite: true } : {}),
    ...(f.trash ? { trash: true } : {}),
  };
}

/** The file name an exported generation gets: its id and the seed that makes it again. */
export const exportName = (g: Pick<GenerationSummary, 'id' | 'seed'>) => `split-studio-${g.id}-${g.seed}.png`;

/** "a, b  ,c" -> ["a", "b", "c"]: the tag editor's text as tags. */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(',').map((t) => t.trim().replace(/\s+/g, ' ')).filter(Boolean))];
}

/**
 * The gallery: a search and filters, pages of summaries loaded by offset as the grid needs
 * them, a cache of thumbnail Blob URLs, and the selected generation's full record with the
 * edits it allows (favourite, tags, trash, restore).
 */
export class GalleryState {
  search = $state('');
  filters = $state<GalleryFilters>({ ...NO_FILTERS });
  total = $state(0);
  /** Bumped when pages arrive, so readers of itemAt() update. */
  version = $state(0);
  thumbVersion = $state(0);
  loading = $state(false);
  error = $state<string | null>(null);
  selected = $state.raw<GenerationDetail | null>(null);
  selectedUrl = $state<string | null>(null);
  selectedLoading = $state(false);
  /** The id last asked for by select(), also while it loads (so key repeat steps on from it). */
  selectedId = $state<number | null>(null);
  /** Thumbnails per grid row, as the grid last laid them out (ArrowUp/ArrowDown move by a row). */
  columns = $state(1);
  readonly pageSize = 60;

  readonly #api: StudioApi;
  #pages = new Map<number, GenerationSummary[]>();
  #inflight = new Set<number>();
  #query = 0;
  #range: [number, number] = [0, 0];
  #thumbs = new Map<number, string>();
  #thumbInflight = new Set<number>();
  #searchTimer: ReturnType<typeof setTimeout> | undefined;
  #selectQuery = 0;

  constructor(api: StudioApi) {
    this.#api = api;
  }

  itemAt(index: number): GenerationSummary | undefined {
    void this.version;
    return this.#pages.get(Math.floor(index / this.pageSize))?.[index % this.pageSize];
  }

  /** Reloads from the first page (after a search or a new image); other pages load again as needed. */
  async refresh(): Promise<void> {
    const query = ++this.#query;
    this.#inflight.clear();
    this.loading = true;
    try {
      const first = await this.#api.listGallery(listQuery(this.search, this.filters, 0, this.pageSize));
      if (query !== this.#query) return;
      this.#pages = new Map([[0, first.items]]);
      this.total = first.total;
      this.error = null;
      this.version++;
      this.ensure(...this.#range);
    } catch (error) {
      if (query === this.#query && !(error instanceof DisconnectedError)) this.error = toCallError(error).message;
    } finally {
      if (query === this.#query) this.loading = false;
    }
  }

  /** The grid shows items [start, end): load the pages that hold them. */
  ensure(start: number, end: number): void {
    this.#range = [start, end];
    for (const page of pagesCovering(start, Math.min(end, this.total), this.pageSize)) {
      if (this.#pages.has(page) || this.#inflight.has(page)) continue;
      void this.#loadPage(page);
    }
  }

  async #loadPage(page: number): Promise<void> {
    const query = this.#query;
    this.#inflight.add(page);
    try {
      const res = await this.#api.listGallery(listQuery(this.search, this.filters, page * this.pageSize, this.pageSize));
      if (query !== this.#query) return;
      this.#pages.set(page, res.items);
      this.total = res.total;
      this.version++;
    } catch (error) {
      if (query === this.#query && !(error instanceof DisconnectedError)) this.error = toCallError(error).message;
    } finally {
      this.#inflight.delete(page);
    }
  }

  setSearch(text: string, delayMs = 250): void {
    this.search = text;
    clearTimeout(this.#searchTimer);
    this.#searchTimer = setTimeout(() => void this.refresh(), delayMs);
  }

  /** Changes filters and reloads from the first page. */
  setFilters(change: Partial<GalleryFilters>): void {
    this.filters = { ...this.filters, ...change };
    void this.refresh();
  }

  get filtered(): boolean {
    const f = this.filters;
    return Boolean(f.modelId || f.solver || f.task || f.favourite);
  }

  thumbUrl(id: number): string | undefined {
    void this.thumbVersion;
    return this.#thumbs.get(id);
  }

  /** Fetches a thumbnail once (when it scrolls into view); old URLs are revoked past the cache size. */
  async loadThumb(id: number): Promise<void> {
    if (this.#thumbs.has(id) || this.#thumbInflight.has(id)) return;
    this.#thumbInflight.add(id);
    try {
      const bytes = await this.#api.getImage({ id, thumbnail: true });
      this.#thumbs.set(id, pngUrl(bytes));
      while (this.#thumbs.size > THUMB_CACHE) {
        const [oldId, oldUrl] = this.#thumbs.entries().next().value!;
        this.#thumbs.delete(oldId);
        URL.revokeObjectURL(oldUrl);
      }
      this.thumbVersion++;
    } catch (error) {
      console.warn(`split-studio: thumbnail ${id}: ${toCallError(error).message}`);
    } finally {
      this.#thumbInflight.delete(id);
    }
  }

  /** Where a generation is in the current order, among the pages loaded so far; -1 if not there. */
  indexOf(id: number): number {
    void this.version;
    for (const [page, items] of this.#pages) {
      const i = items.findIndex((item) => item.id === id);
      if (i >= 0) return page * this.pageSize + i;
    }
    return -1;
  }

  /** The summary at an index of the current order, loading its page first when needed. */
  async itemLoaded(index: number): Promise<GenerationSummary | undefined> {
    const page = Math.floor(index / this.pageSize);
    if (!this.#pages.has(page)) await this.#loadPage(page);
    return this.itemAt(index);
  }

  /** Brings back a trashed generation by id (the undo of a Delete, after the selection moved on). */
  async restoreId(id: number): Promise<void> {
    const updated = await this.#api.restoreGeneration({ id });
    if (this.selected?.id === id) this.selected = updated;
    await this.refresh();
  }

  async select(id: number | null): Promise<void> {
    const query = ++this.#selectQuery;
    this.selectedId = id;
    if (this.selectedUrl) URL.revokeObjectURL(this.selectedUrl);
    this.selectedUrl = null;
    this.selected = null;
    if (id === null) return;
    this.selectedLoading = true;
    try {
      const record = await this.#api.getGeneration({ id });
      if (query !== this.#selectQuery) return;
      this.selected = record;
      // A row whose file is gone still shows its settings.
      if (record.missing) return;
      const image = await this.#api.getImage({ id, thumbnail: false });
      if (query !== this.#selectQuery) return;
      this.selectedUrl = pngUrl(image);
    } catch (error) {
      if (query === this.#selectQuery) this.error = toCallError(error).message;
    } finally {
      if (query === this.#selectQuery) this.selectedLoading = false;
    }
  }

  /**
   * Runs an edit of the selected generation; the answer (the updated record) replaces it, and
   * the grid reloads when the edit changes what the list shows. Errors are thrown to the caller.
   */
  async #edit(run: (id: number) => Promise<GenerationDetail>, relist: boolean): Promise<GenerationDetail | null> {
    const current = this.selected;
    if (!current) return null;
    const updated = await run(current.id);
    if (this.selected?.id === updated.id) this.selected = updated;
    if (relist) void this.refresh();
    return updated;
  }

  toggleFavourite(): Promise<GenerationDetail | null> {
    const favourite = !this.selected?.favourite;
    return this.#edit((id) => this.#api.setFavourite({ id, favourite }), this.filters.favourite);
  }

  setTags(tags: string[]): Promise<GenerationDetail | null> {
    return this.#edit((id) => this.#api.setTags({ id, tags }), this.search.trim() !== '');
  }

  trash(): Promise<GenerationDetail | null> {
    return this.#edit((id) => this.#api.trashGeneration({ id }), true);
  }

  restore(): Promise<GenerationDetail | null> {
    return this.#edit((id) => this.#api.restoreGeneration({ id }), true);
  }

  /** Deletes everything in the trash for good; how many generations, and the bytes of files freed (images, thumbnails, inputs no one else uses). */
  async emptyTrash(): Promise<{ deleted: number; freedBytes: number }> {
    const answer = await this.#api.emptyTrash({});
    if (this.selected?.deletedAt) void this.select(null);
    void this.refresh();
    return answer;
  }

  /** One of the inputs kept with a generation (its starting picture, mask or initial noise), as bytes. */
  input(id: number, kind: InputKind): Promise<Uint8Array> {
    return this.#api.getInput({ id, kind });
  }

  /** Where the selected image is; `shown` when the desktop app opened the file manager on it. */
  showFile(): Promise<{ shown: boolean; path: string }> | null {
    const current = this.selected;
    return current ? this.#api.showFile({ id: current.id }) : null;
  }

  /** The full PNG of the selected generation (metadata chunks included), as a download. */
  async exportPng(): Promise<string | null> {
    const current = this.selected;
    if (!current) return null;
    const bytes = await this.#api.getImage({ id: current.id, thumbnail: false });
    const name = exportName(current);
    downloadPng(bytes, name);
    return name;
  }
}

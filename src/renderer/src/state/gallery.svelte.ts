import type { GenerationRecord, GenerationSummary, StudioApi } from '../../../shared/contract';
import { pngUrl } from '../lib/images';
import { DisconnectedError, toCallError } from '../transport';
import { pagesCovering } from './virtualGrid';

const THUMB_CACHE = 600;

/**
 * The gallery: a search, pages of summaries loaded by offset as the grid needs them,
 * a cache of thumbnail Blob URLs, and the selected generation's full record.
 */
export class GalleryState {
  search = $state('');
  total = $state(0);
  /** Bumped when pages arrive, so readers of itemAt() update. */
  version = $state(0);
  thumbVersion = $state(0);
  loading = $state(false);
  error = $state<string | null>(null);
  selected = $state.raw<GenerationRecord | null>(null);
  selectedUrl = $state<string | null>(null);
  selectedLoading = $state(false);
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
      const first = await this.#api.listGallery({ search: this.search.trim() || undefined, offset: 0, limit: this.pageSize });
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
      const res = await this.#api.listGallery({ search: this.search.trim() || undefined, offset: page * this.pageSize, limit: this.pageSize });
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

  async select(id: number | null): Promise<void> {
    const query = ++this.#selectQuery;
    if (this.selectedUrl) URL.revokeObjectURL(this.selectedUrl);
    this.selectedUrl = null;
    this.selected = null;
    if (id === null) return;
    this.selectedLoading = true;
    try {
      const [record, image] = await Promise.all([this.#api.getGeneration({ id }), this.#api.getImage({ id, thumbnail: false })]);
      if (query !== this.#selectQuery) return;
      this.selected = record;
      this.selectedUrl = pngUrl(image);
    } catch (error) {
      if (query === this.#selectQuery) this.error = toCallError(error).message;
    } finally {
      if (query === this.#selectQuery) this.selectedLoading = false;
    }
  }
}

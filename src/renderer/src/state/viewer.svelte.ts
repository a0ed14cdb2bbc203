import type { GalleryState } from './gallery.svelte';
import { stepIndex, type Zoom } from './viewerLogic';

/**
 * The image viewer: open or not, and its zoom. What it shows is the gallery's selection, so
 * stepping in the viewer and moving the selection in the grid are one thing, and the detail
 * panel, the grid's highlight and the viewer never disagree about which picture is current.
 */
export class ViewerState {
  open = $state(false);
  zoom = $state<Zoom>('fit');
  readonly #gallery: GalleryState;

  constructor(gallery: GalleryState) {
    this.#gallery = gallery;
  }

  /** Opens on a generation (a result or a gallery item), selecting it in the gallery. */
  show(id: number): void {
    this.zoom = 'fit';
    this.open = true;
    if (this.#gallery.selectedId !== id || (!this.#gallery.selected && !this.#gallery.selectedLoading)) void this.#gallery.select(id);
  }

  close(): void {
    this.open = false;
  }

  /**
   * Moves the selection `delta` places in the gallery's current order (search, filters and
   * trash view as the grid shows them); stops at the ends. Answers whether it moved.
   */
  async step(delta: number): Promise<boolean> {
    const g = this.#gallery;
    const current = g.selectedId;
    const index = stepIndex(current === null ? -1 : g.indexOf(current), delta, g.total);
    if (index === null) return false;
    const item = await g.itemLoaded(index);
    // Another step or a click got there first while the page loaded.
    if (!item || g.selectedId !== current) return false;
    void g.select(item.id);
    return true;
  }
}

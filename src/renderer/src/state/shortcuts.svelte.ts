import { isField, type KeyAction, keyAction } from './keyboard';
import type { Studio } from './studio.svelte';
import { UndoStack } from './undoStack';
import { ViewerState } from './viewer.svelte';
import { stepScale } from './viewerLogic';

/**
 * Runs the keyboard's actions (state/keyboard.ts decides which) and the gallery actions they
 * share with buttons: moving the selection, and Delete with its undo (a toast button or
 * Ctrl+Z; the ids trashed this session are kept in an UndoStack).
 */
export class Shortcuts {
  readonly viewer: ViewerState;
  /** The viewer's current scale, as its component last computed it (the + and - keys start from it). */
  scale = 1;
  readonly #studio: Studio;
  readonly #trashed = new UndoStack<number>(20);
  /** Ids brought back by a toast's Undo, so that Ctrl+Z skips them on the stack. */
  readonly #restored = new Set<number>();

  constructor(studio: Studio) {
    this.#studio = studio;
    this.viewer = new ViewerState(studio.gallery);
  }

  /** The window's keydown. Keys a control already handled (the mask painter's Ctrl+Z) are left alone. */
  keydown(e: KeyboardEvent): void {
    if (e.defaultPrevented || e.isComposing) return;
    const { gallery, job } = this.#studio;
    const target = e.target instanceof Element ? (e.target as HTMLInputElement) : null;
    const action = keyAction(e, {
      inField: isField(target),
      viewerOpen: this.viewer.open,
      detailOpen: gallery.selectedId !== null,
      jobBusy: job.busy,
    });
    if (!action) return;
    e.preventDefault();
    this.run(action);
  }

  run(action: KeyAction): void {
    const { gallery, job } = this.#studio;
    const v = this.viewer;
    switch (action) {
      case 'generate':
        return void this.#studio.generate();
      case 'close-viewer':
        return v.close();
      case 'close-detail':
        return void gallery.select(null);
      case 'cancel-job':
        return job.cancel();
      case 'select-prev':
      case 'select-next':
        return void v.step(action === 'select-next' ? 1 : -1);
      case 'select-up':
      case 'select-down':
        return void v.step((action === 'select-down' ? 1 : -1) * Math.max(1, gallery.columns));
      case 'trash':
        return void this.trashSelected();
      case 'undo-trash':
        return void this.undoTrash();
      case 'zoom-fit':
        v.zoom = 'fit';
        return;
      case 'zoom-1':
      case 'zoom-2':
      case 'zoom-4':
        v.zoom = Number(action.slice(5));
        return;
      case 'zoom-in':
      case 'zoom-out':
        v.zoom = stepScale(this.scale, action === 'zoom-in' ? 1 : -1);
        return;
    }
  }

  /**
   * Moves the selected generation to the trash; the selection (and the viewer) goes on to the
   * one that takes its place, and a toast offers the undo. In the trash view Delete does
   * nothing: deleting for good is the Empty trash button's, which asks first.
   */
  async trashSelected(): Promise<void> {
    const { gallery, toasts } = this.#studio;
    const record = gallery.selected;
    if (!record || record.deletedAt !== null) return;
    const index = gallery.indexOf(record.id);
    try {
      await gallery.trash();
      await gallery.refresh();
    } catch (error) {
      toasts.error(error, 'delete');
      return;
    }
    this.#trashed.push(record.id);
    this.#restored.delete(record.id);
    toasts.push('info', `#${record.id} moved to the trash`, 8000, { label: 'Undo', run: () => void this.undoTrash(record.id) });
    // Still on it (no click elsewhere meanwhile): go on to the picture now at its place.
    if (gallery.selectedId !== record.id) return;
    const next = gallery.total > 0 && index >= 0 ? await gallery.itemLoaded(Math.min(index, gallery.total - 1)) : undefined;
    if (next) {
      void gallery.select(next.id);
    } else {
      this.viewer.close();
      void gallery.select(null);
    }
  }

  /** Restores a trashed generation (the last one Deleted when none is named) and selects it again. */
  async undoTrash(id?: number): Promise<void> {
    const { gallery, toasts } = this.#studio;
    let target = id;
    while (target === undefined || (id === undefined && this.#restored.has(target))) {
      target = this.#trashed.pop();
      if (target === undefined) return;
    }
    try {
      await gallery.restoreId(target);
    } catch (error) {
      toasts.error(error, 'undo delete');
      return;
    }
    this.#restored.add(target);
    toasts.push('info', `#${target} restored`);
    void gallery.select(target);
  }
}

import { type Panels, PANELS_KEY, readPanels, writePanels } from './layoutLogic';

/** The storage the panels are kept in (window.localStorage; absent or throwing in odd embeddings). */
export type PanelStorage = Pick<Storage, 'getItem' | 'setItem'>;

function storageOrNull(): PanelStorage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    // A page with storage disabled throws on the mere access.
    return null;
  }
}

/** The side panels' collapse toggles, remembered so a small screen stays arranged as it was left. */
export class LayoutState {
  settingsCollapsed = $state(false);
  galleryCollapsed = $state(false);
  readonly #storage: PanelStorage | null;

  constructor(storage: PanelStorage | null = storageOrNull()) {
    this.#storage = storage;
    let stored: string | null = null;
    try {
      stored = storage?.getItem(PANELS_KEY) ?? null;
    } catch {
      stored = null;
    }
    const p = readPanels(stored);
    this.settingsCollapsed = p.settingsCollapsed;
    this.galleryCollapsed = p.galleryCollapsed;
  }

  toggle(panel: 'settings' | 'gallery'): void {
    if (panel === 'settings') this.settingsCollapsed = !this.settingsCollapsed;
    else this.galleryCollapsed = !this.galleryCollapsed;
    const p: Panels = { settingsCollapsed: this.settingsCollapsed, galleryCollapsed: this.galleryCollapsed };
    try {
      this.#storage?.setItem(PANELS_KEY, writePanels(p));
    } catch {
      // Full or refused storage: the layout still changes, it is just not remembered.
    }
  }
}

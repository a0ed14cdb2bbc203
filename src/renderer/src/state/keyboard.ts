/**
 * The studio's keyboard shortcuts as a pure mapping from a key press and what is on screen to
 * one action. App.svelte's window keydown asks it and runs the answer; nothing here touches
 * the DOM, so every rule is unit-tested.
 */

export type KeyAction =
  | 'generate'
  | 'close-viewer'
  | 'close-detail'
  | 'cancel-job'
  | 'select-prev'
  | 'select-next'
  | 'select-up'
  | 'select-down'
  | 'trash'
  | 'undo-trash'
  | 'zoom-fit'
  | 'zoom-1'
  | 'zoom-2'
  | 'zoom-4'
  | 'zoom-in'
  | 'zoom-out';

/** The parts of a KeyboardEvent the mapping reads. */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

export interface KeyContext {
  /** Focus is where typing or arrow keys mean something of their own (text, number, slider, select). */
  inField: boolean;
  viewerOpen: boolean;
  /** The gallery's detail panel shows a generation (a selection). */
  detailOpen: boolean;
  jobBusy: boolean;
}

const VIEWER_KEYS: Record<string, KeyAction> = { '0': 'zoom-fit', '1': 'zoom-1', '2': 'zoom-2', '4': 'zoom-4', '+': 'zoom-in', '=': 'zoom-in', '-': 'zoom-out' };

export function keyAction(e: KeyPress, c: KeyContext): KeyAction | null {
  const command = e.ctrlKey || e.metaKey;
  // These two work from inside text fields too: Ctrl+Enter is how a prompt is submitted, and
  // Escape never means anything to a text field that the studio would take away.
  if (e.key === 'Enter' && command) return 'generate';
  if (e.key === 'Escape' && !command && !e.altKey) {
    // The thing on top closes first; a running job is cancelled only when nothing covers it.
    if (c.viewerOpen) return 'close-viewer';
    if (c.detailOpen) return 'close-detail';
    return c.jobBusy ? 'cancel-job' : null;
  }
  if (c.inField || e.altKey) return null;
  if (command) return e.key.toLowerCase() === 'z' && !e.shiftKey ? 'undo-trash' : null;
  switch (e.key) {
    case 'ArrowLeft':
      return 'select-prev';
    case 'ArrowRight':
      return 'select-next';
    // In the viewer up and down have no neighbour to go to; in the grid they move a row.
    case 'ArrowUp':
      return c.viewerOpen ? null : 'select-up';
    case 'ArrowDown':
      return c.viewerOpen ? null : 'select-down';
    case 'Delete':
      return c.detailOpen || c.viewerOpen ? 'trash' : null;
  }
  return c.viewerOpen ? (VIEWER_KEYS[e.key] ?? null) : null;
}

/** The parts of an event target the field check reads (an Element, or a plain object in tests). */
export interface TargetLike {
  tagName?: string;
  type?: string;
  isContentEditable?: boolean;
}

/** Input types whose keys are not the studio's: all but buttons, checkboxes and radios. */
const KEYLESS_INPUTS = new Set(['button', 'submit', 'reset', 'checkbox', 'radio', 'file', 'color', 'image']);

/** Whether keys typed at this target belong to it: text, numbers, sliders, selects, editable text. */
export function isField(target: TargetLike | null): boolean {
  if (!target) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName?.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && !KEYLESS_INPUTS.has((target.type ?? 'text').toLowerCase());
}

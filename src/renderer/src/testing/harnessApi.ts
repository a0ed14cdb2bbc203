/**
 * What the component-test page offers the tests (src/renderer/src/testing/harness.ts runs in
 * Chromium; the tests, Node code, reach it through page.evaluate). Plain data only, no DOM and
 * no Node: both type-checked programs read this file.
 */
import type { ModelSummary, Settings } from '../../../shared/contract';

export interface HarnessApi {
  /** Mounts the mask painter for a picture of this size (the form's width and height). */
  mountMaskPainter(size: { width: number; height: number }): void;
  /** What Generate would send as the mask: PNG bytes, or null when nothing is painted. */
  exportMask(): Promise<number[] | null>;
  /** Mounts the sampler controls for `model`, starting from its defaults plus `settings`. */
  mountSolverControls(model: ModelSummary | null, settings?: Partial<Settings>): void;
  /** Mounts the model picker of a real Studio whose API is a fake over `setup`'s models (the picker's own props, wired as App wires them). */
  mountModelPicker(setup: FakeModelsApi): Promise<void>;
  /** Starts reloading the model list (as a reconnection does) without waiting for it. */
  reloadModels(): void;
  /** What the picker's studio did: the API calls made since mounting, its toasts, the selected model and the listed ids. */
  modelPickerState(): { calls: { op: string; input: unknown }[]; toasts: string[]; selectedId: string | null; listed: string[] };
  /** The form's current settings (what a run would use). */
  values(): Settings;
  /** Changes settings from outside the component (as other panels or the gallery do). */
  setValues(settings: Partial<Settings>): void;
}

/** The fake API's models: listed at first, added by importModel (keyed by id = path), and the answers it gives. */
export interface FakeModelsApi {
  installed: ModelSummary[];
  addable: ModelSummary[];
  /** The message importModel fails with for any other path. */
  importError: string;
  /** What removeModel answers as the generations kept. */
  generationsKept: number;
  /** When set, removeModel fails with this message (as the service refuses a model it does not list). */
  removeError?: string;
  /** listModels answers this late, with the list as it was when asked (the engine checks every model first). */
  listDelayMs?: number;
}

/** Where the page keeps it: `(globalThis as unknown as HarnessGlobal).harness`. */
export interface HarnessGlobal {
  harness: HarnessApi;
}

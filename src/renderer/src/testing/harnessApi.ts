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
  /** The form's current settings (what a run would use). */
  values(): Settings;
  /** Changes settings from outside the component (as other panels or the gallery do). */
  setValues(settings: Partial<Settings>): void;
}

/** Where the page keeps it: `(globalThis as unknown as HarnessGlobal).harness`. */
export interface HarnessGlobal {
  harness: HarnessApi;
}

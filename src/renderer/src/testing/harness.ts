/**
 * The component-test page: mounts one real component (compiled by the Svelte plugin for the
 * browser) with a real FormState and exposes HarnessApi on globalThis. Built and loaded into
 * Debian's Chromium by ./chromium.ts; never part of the app.
 */
import { flushSync, mount, unmount } from 'svelte';
import type { ModelSummary, Settings } from '../../../shared/contract';
import MaskPainter from '../components/MaskPainter.svelte';
import SolverControls from '../components/SolverControls.svelte';
import { FormState } from '../state/form.svelte';
import type { HarnessApi, HarnessGlobal } from './harnessApi';

let form = new FormState();
let mounted: Record<string, unknown> | null = null;

function target(): HTMLElement {
  if (mounted) unmount(mounted);
  mounted = null;
  const root = document.getElementById('root')!;
  root.replaceChildren();
  form = new FormState();
  return root;
}

const harness: HarnessApi = {
  mountMaskPainter(size) {
    const root = target();
    form.values.width = size.width;
    form.values.height = size.height;
    form.values.task = 'inpaint';
    mounted = mount(MaskPainter, { target: root, props: { form } });
    flushSync();
  },
  async exportMask() {
    if (!form.maskExporter) throw new Error('the mask painter did not register its exporter');
    const png = await form.maskExporter();
    return png ? Array.from(png) : null;
  },
  mountSolverControls(model: ModelSummary | null, settings: Partial<Settings> = {}) {
    const root = target();
    form.applyModel(model);
    Object.assign(form.values, settings);
    mounted = mount(SolverControls, { target: root, props: { form, model } });
    flushSync();
  },
  values() {
    return form.snapshot();
  },
  setValues(settings) {
    Object.assign(form.values, settings);
    flushSync();
  },
};

(globalThis as unknown as HarnessGlobal).harness = harness;

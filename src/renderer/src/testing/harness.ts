/**
 * The component-test page: mounts one real component (compiled by the Svelte plugin for the
 * browser) with a real FormState and exposes HarnessApi on globalThis. Built and loaded into
 * Debian's Chromium by ./chromium.ts; never part of the app.
 */
import { flushSync, mount, unmount } from 'svelte';
import type { ModelSummary, Settings, StudioApi } from '../../../shared/contract';
import MaskPainter from '../components/MaskPainter.svelte';
import ModelPicker from '../components/ModelPicker.svelte';
import SolverControls from '../components/SolverControls.svelte';
import { FormState } from '../state/form.svelte';
import { Studio } from '../state/studio.svelte';
import type { FakeModelsApi, HarnessApi, HarnessGlobal } from './harnessApi';

let form = new FormState();
let mounted: Record<string, unknown> | null = null;
let studio: Studio | null = null;
let calls: { op: string; input: unknown }[] = [];

/**
 * A studio API with only the model operations, over an in-page list: what the service answers
 * (its messages included) is the service's own tests' business; here it is what the picker
 * sends and shows. Any other operation is a test mistake and throws.
 */
function fakeApi(setup: FakeModelsApi): StudioApi {
  let list = [...setup.installed];
  const ops: Record<string, (input: never) => Promise<unknown>> = {
    listModels: async () => {
      const asked = list;
      await new Promise((resolve) => setTimeout(resolve, setup.listDelayMs ?? 0));
      return asked;
    },
    importModel: async ({ path }: { path: string }) => {
      const model = setup.addable.find((m) => m.id === path);
      if (!model) throw new Error(setup.importError);
      list = [...list.filter((m) => m.id !== model.id), model];
      return model;
    },
    removeModel: async ({ id }: { id: string }) => {
      if (setup.removeError) throw new Error(setup.removeError);
      const model = list.find((m) => m.id === id);
      if (!model || model.builtin) throw new Error(`${model?.name ?? id} is built into the studio and cannot be removed; only added models can be`);
      list = list.filter((m) => m.id !== id);
      return { id, name: model.name, generationsKept: setup.generationsKept };
    },
  };
  return new Proxy({} as StudioApi, {
    get: (_, op: string) => async (input: unknown) => {
      calls.push({ op, input });
      const handler = ops[op];
      if (!handler) throw new Error(`the model picker test's API has no ${op}`);
      return handler(input as never);
    },
  });
}

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
  async mountModelPicker(setup) {
    const root = target();
    calls = [];
    studio = new Studio(fakeApi(setup));
    await studio.models.load();
    form = studio.form;
    form.applyModel(studio.models.selected);
    const s = studio;
    mounted = mount(ModelPicker, {
      target: root,
      props: { models: s.models, onSelect: (id: string) => s.selectModel(id), onImport: (path: string) => s.importModel(path), onRemove: (id: string) => s.removeModel(id) },
    });
    flushSync();
  },
  reloadModels() {
    if (!studio) throw new Error('mount the model picker first');
    void studio.models.load();
  },
  modelPickerState() {
    if (!studio) throw new Error('mount the model picker first');
    return { calls, toasts: studio.toasts.items.map((t) => t.message), selectedId: studio.models.selectedId, listed: studio.models.list.map((m) => m.id) };
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

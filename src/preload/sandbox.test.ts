/**
 * Runs the *built* preload (out/preload/index.cjs) the way Electron runs it in a sandboxed
 * renderer: as a classic script (no ES modules) wrapped in a function whose `require` offers
 * only `electron`, `events`, `timers` and `url`, in a context without Node's globals. The
 * window is created with `sandbox: true`, so a preload that imports anything else, or is an
 * ES module, never exposes the API and the desktop studio cannot reach its engine.
 * `npm test` builds first; run `npm run build` before running this file alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, test } from 'vitest';
import { readCallErrorText } from '../shared/callErrorText';
import { OPERATIONS } from '../shared/contract';
import { EVENT_CHANNEL, channelFor } from '../shared/operations';

const builtPreload = path.resolve(__dirname, '../../out/preload/index.cjs');
/** What a sandboxed preload's `require` offers (Electron's sandbox documentation). */
const SANDBOX_MODULES = ['electron', 'events', 'timers', 'url'];

type Listener = (event: unknown, message: unknown) => void;

/** Loads the built preload in a sandbox-like context with a recording fake of `electron`. */
function loadPreload(answer: (channel: string, input: unknown) => unknown = () => ({ ok: true, value: null })) {
  if (!existsSync(builtPreload)) {
    throw new Error(`${path.relative(process.cwd(), builtPreload)} is missing: run \`npm run build\` first (\`npm test\` does)`);
  }
  const exposed: { key: string; api: Record<string, unknown> }[] = [];
  const invoked: { channel: string; input: unknown }[] = [];
  const listeners = new Map<string, Set<Listener>>();
  const required: string[] = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: Record<string, unknown>) => void exposed.push({ key, api }) },
    ipcRenderer: {
      invoke: async (channel: string, input: unknown) => (invoked.push({ channel, input }), answer(channel, input)),
      on: (channel: string, listener: Listener) => void (listeners.get(channel) ?? listeners.set(channel, new Set()).get(channel)!).add(listener),
      removeListener: (channel: string, listener: Listener) => void listeners.get(channel)?.delete(listener),
    },
  };
  const sandboxRequire = (name: string): unknown => {
    required.push(name);
    switch (name) {
      case 'electron': return electron;
      case 'events': return {};
      case 'timers': return {};
      case 'url': return {};
      default: throw new Error(`module not found: ${name} (a sandboxed preload can require only ${SANDBOX_MODULES.join(', ')})`);
    }
  };
  const module = { exports: {} as Record<string, unknown> };
  // A fresh context: no require, process, Buffer or import() from Node; Electron hands the
  // preload a small process object, which this file must not need.
  const context = vm.createContext({ console });
  const source = readFileSync(builtPreload, 'utf8');
  const wrapper = vm.runInContext(`(function (require, process, Buffer, global, setImmediate, clearImmediate, exports, module) {${source}\n})`, context, {
    filename: builtPreload,
  }) as (...args: unknown[]) => void;
  wrapper(sandboxRequire, { env: {}, platform: process.platform }, undefined, context, undefined, undefined, module.exports, module);
  const emit = (message: unknown) => [...(listeners.get(EVENT_CHANNEL) ?? [])].forEach((l) => l({}, message));
  return { exposed, invoked, listeners, required, emit };
}

describe('the built preload in a sandboxed renderer', () => {
  test('runs, requires only electron, and exposes one named function per operation of the contract plus on()', () => {
    const { exposed, required } = loadPreload();
    expect(required.every((name) => SANDBOX_MODULES.includes(name))).toBe(true);
    expect(required).toContain('electron');
    expect(exposed.map((e) => e.key)).toEqual(['splitStudio']);
    const api = exposed[0].api;
    expect(Object.keys(api).sort()).toEqual([...OPERATIONS, 'on'].sort());
    for (const name of Object.keys(api)) expect(typeof api[name], name).toBe('function');
  });

  test('the file is a single classic script that bundles no schema library', () => {
    const source = readFileSync(builtPreload, 'utf8');
    expect(source).not.toMatch(/^\s*(import|export)\s/m);
    // zod's classes (ZodError, $ZodObject, ...) and its size (hundreds of kB) stay in main.
    expect(source).not.toMatch(/Zod(Error|Object|Type)/);
    expect(source.length).toBeLessThan(16_000);
  });

  test("the desktop window is sandboxed and loads this file (the built main process names it)", () => {
    const main = readFileSync(path.resolve(__dirname, '../../out/main/index.js'), 'utf8');
    expect(main).toContain('"../preload/index.cjs"');
    expect(main).toMatch(/sandbox: true/);
    expect(main).toMatch(/contextIsolation: true/);
  });

  test('an operation forwards its input to ipcRenderer.invoke on its own channel and answers the value', async () => {
    const { exposed, invoked } = loadPreload((channel) => ({ ok: true, value: { jobId: 'job-7', channel } }));
    const api = exposed[0].api as Record<string, (input: unknown) => Promise<unknown>>;
    const input = { modelId: 'm', settings: { steps: 20 } };
    expect(await api.generate(input)).toEqual({ jobId: 'job-7', channel: 'studio:generate' });
    expect(invoked).toEqual([{ channel: 'studio:generate', input }]);
    for (const op of OPERATIONS) await api[op]({});
    expect(invoked.slice(1).map((c) => c.channel)).toEqual(OPERATIONS.map(channelFor));
  });

  test("main's refusal becomes a rejection whose message carries the error kind, and the field when it names one", async () => {
    const refusals = [{ kind: 'invalid', message: 'jobId: expected string' }, { kind: 'invalid', field: 'modelId', message: 'no model with id m' }] as const;
    const { exposed } = loadPreload((_channel, input) => ({ ok: false, error: refusals[(input as { which: number }).which] }));
    const api = exposed[0].api as Record<string, (input: unknown) => Promise<unknown>>;
    const messages = await Promise.all([0, 1].map((which) => api.cancel({ which }).then(() => null, (e: Error) => e.message)));
    expect(messages).toEqual(['[invalid] jobId: expected string', '[invalid:modelId] no model with id m']);
    expect(messages.map((m) => readCallErrorText(m!))).toEqual(refusals);
  });

  test('on(event) delivers only that event from the event channel until unsubscribed', () => {
    const { exposed, emit, listeners } = loadPreload();
    const on = exposed[0].api.on as (event: string, listener: (payload: unknown) => void) => () => void;
    const seen: unknown[] = [];
    const off = on('done', (payload) => seen.push(payload));
    emit({ event: 'progress', payload: { step: 1 } });
    emit({ event: 'done', payload: { jobId: 'job-1' } });
    off();
    emit({ event: 'done', payload: { jobId: 'job-2' } });
    expect(seen).toEqual([{ jobId: 'job-1' }]);
    expect(listeners.get(EVENT_CHANNEL)?.size).toBe(0);
  });
});
